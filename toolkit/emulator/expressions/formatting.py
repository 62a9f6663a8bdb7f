""".NET formatting of dates, time spans and numbers (``ToString(format)``)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from .errors import CsError


def timespan_text(span: timedelta) -> str:
    """``TimeSpan.ToString()``: [-][d.]hh:mm:ss[.fffffff]."""
    total = span.total_seconds()
    sign = "-" if total < 0 else ""
    total = abs(total)
    days, rest = divmod(int(total), 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    fraction = round((total - int(total)) * 10_000_000)
    text = f"{sign}{days}.{hours:02}:{minutes:02}:{seconds:02}" if days else f"{sign}{hours:02}:{minutes:02}:{seconds:02}"
    return text + (f".{fraction:07}" if fraction else "")


_DATE_TOKENS = re.compile(r"yyyy|yy|MM|M|dd|d|HH|H|hh|h|mm|m|ss|s|fffffff|ffffff|fff|ff|f|tt|zzz|'[^']*'|\\.|.", re.S)


def format_datetime(value: datetime, fmt: str) -> str:
    """.NET DateTime formatting: standard "o", "s", "u", "G", "d" and custom yyyy/MM/dd/HH/mm/ss/fff patterns."""
    standard = {"o": "yyyy-MM-ddTHH:mm:ss.fffffffK", "O": "yyyy-MM-ddTHH:mm:ss.fffffffK",
                "s": "yyyy-MM-ddTHH:mm:ss", "u": "yyyy-MM-dd HH:mm:ssZ", "G": "M/d/yyyy h:mm:ss tt",
                "d": "M/d/yyyy", "R": "ddd, dd MMM yyyy HH:mm:ss 'GMT'", "r": "ddd, dd MMM yyyy HH:mm:ss 'GMT'"}
    if fmt in ("R", "r"):
        return value.strftime("%a, %d %b %Y %H:%M:%S GMT")
    pattern = standard.get(fmt, fmt)
    out = []
    for token in _DATE_TOKENS.findall(pattern.replace("K", "\x00")):
        out.append(_date_part(value, token))
    return "".join(out).replace("\x00", "Z" if value.tzinfo is not None else "")


def _date_part(v: datetime, token: str) -> str:
    micro = f"{v.microsecond:06}0"
    parts = {
        "yyyy": f"{v.year:04}", "yy": f"{v.year % 100:02}", "MM": f"{v.month:02}", "M": str(v.month),
        "dd": f"{v.day:02}", "d": str(v.day), "HH": f"{v.hour:02}", "H": str(v.hour),
        "hh": f"{(v.hour % 12) or 12:02}", "h": str((v.hour % 12) or 12), "mm": f"{v.minute:02}", "m": str(v.minute),
        "ss": f"{v.second:02}", "s": str(v.second), "tt": "AM" if v.hour < 12 else "PM", "zzz": "+00:00",
    }
    if token in parts:
        return parts[token]
    if token.startswith("f"):
        return micro[: len(token)]
    if token.startswith("'"):
        return token[1:-1]
    if token.startswith("\\"):
        return token[1:]
    return token


def format_number(value: float, fmt: str) -> str:
    """Numeric ToString(format): "N0"/"F2"/"D3"/"0.00"-style patterns that policies use."""
    m = re.fullmatch(r"([FfNnDd])(\d*)", fmt)
    if m:
        kind, digits = m.group(1).upper(), int(m.group(2) or (0 if m.group(1) in "Dd" else 2))
        if kind == "D":  # the digits are a minimum for the number without its sign: (-42).ToString("D5") = -00042
            return ("-" if int(value) < 0 else "") + f"{abs(int(value)):0{digits}d}"
        return f"{value:,.{digits}f}" if kind == "N" else f"{value:.{digits}f}"
    m = re.fullmatch(r"0*\.?(0*)", fmt)
    if m:
        return f"{value:.{len(m.group(1))}f}"
    raise CsError(f"format '{fmt}' is not supported")

