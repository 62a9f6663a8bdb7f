""".NET formatting of dates, time spans and numbers (``ToString(format)``)."""

from __future__ import annotations

import decimal
import math
import re
from datetime import datetime, timedelta

from .cstypes import CsLong
from .dates import zone_suffix
from .errors import CsError, emulator_limit


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


_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December")
_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")  # datetime.weekday() order
# The standard date formats as the en-US culture writes them (the emulator formats dates and numbers as en-US).
_STANDARD_DATE = {
    "d": "M/d/yyyy", "D": "dddd, MMMM d, yyyy", "f": "dddd, MMMM d, yyyy h:mm tt",
    "F": "dddd, MMMM d, yyyy h:mm:ss tt", "g": "M/d/yyyy h:mm tt", "G": "M/d/yyyy h:mm:ss tt", "m": "MMMM d",
    "M": "MMMM d", "o": "yyyy-MM-ddTHH:mm:ss.fffffffK", "O": "yyyy-MM-ddTHH:mm:ss.fffffffK",
    "r": "ddd, dd MMM yyyy HH:mm:ss 'GMT'", "R": "ddd, dd MMM yyyy HH:mm:ss 'GMT'", "s": "yyyy-MM-ddTHH:mm:ss",
    "t": "h:mm tt", "T": "h:mm:ss tt", "u": "yyyy-MM-dd HH:mm:ssZ", "U": "dddd, MMMM d, yyyy h:mm:ss tt",
    "y": "MMMM yyyy", "Y": "MMMM yyyy",
}
# A run of one specifier letter is one token (.NET reads "HHH" as "HH": two digits at most); quoted text and a
# backslash-escaped character are literal; "%" makes the next character a specifier of its own ("%h" is "h", also
# within a longer pattern; "%%" and a trailing "%" are format errors).
_DATE_TOKENS = re.compile(r"%.|y+|M+|d+|H+|h+|m+|s+|f+|F+|t+|z+|K|'[^']*'|\"[^\"]*\"|\\.|.", re.S)
_CAPPED = {"H": 2, "h": 2, "m": 2, "s": 2, "t": 2, "z": 3, "M": 4, "d": 4}  # longer runs mean the longest form
_FORMAT_EXCEPTION = "Input string was not in a correct format."


def format_datetime(value: datetime, fmt: str) -> str:
    """.NET ``DateTime.ToString(format)`` as en-US writes it: a one-letter format is a standard one (an unknown
    letter is a FormatException), anything longer a custom pattern (yyyy, MMM, dddd, HH, fff, FFF, tt, zzz, %h,
    'quoted' and \\escaped text ...)."""
    if len(fmt) == 1:
        if fmt not in _STANDARD_DATE:
            raise CsError(_FORMAT_EXCEPTION)
        fmt = _STANDARD_DATE[fmt]
    out: list[str] = []
    for token in _DATE_TOKENS.findall(fmt):
        if token[0] in "'\"" and (len(token) < 2 or token[-1] != token[0]) or token in ("\\", "%", "%%"):
            raise CsError(_FORMAT_EXCEPTION)  # an unterminated quote, a trailing backslash or percent, "%%"
        if token[0] == "%":  # "%d": the one specifier, not the standard format "d"
            token = token[1]
        if token[0] in "fF" and len(token) > 7:
            raise CsError(_FORMAT_EXCEPTION)
        token = token[: _CAPPED[token[0]]] if token[0] in _CAPPED else token
        if token[0] == "F":  # trailing zeros dropped; a zero fraction also drops the "." before it (as .NET does)
            digits = _fraction(value)[: len(token)].rstrip("0")
            if not digits and out and out[-1] == ".":
                out.pop()
            out.append(digits)
        else:
            out.append(_date_part(value, token))
    return "".join(out)


def _fraction(v: datetime) -> str:
    return f"{v.microsecond:06}0"  # seven digits: .NET's ticks; Python keeps microseconds


def _date_part(v: datetime, token: str) -> str:
    head = token[0]
    if head == "y":
        return f"{v.year % 100:0{len(token)}}" if len(token) <= 2 else f"{v.year:0{len(token)}}"
    if head == "M" and len(token) >= 3:
        return _MONTHS[v.month - 1] if len(token) >= 4 else _MONTHS[v.month - 1][:3]
    if head == "d" and len(token) >= 3:
        return _DAYS[v.weekday()] if len(token) >= 4 else _DAYS[v.weekday()][:3]
    parts = {
        "MM": f"{v.month:02}", "M": str(v.month), "dd": f"{v.day:02}", "d": str(v.day), "HH": f"{v.hour:02}",
        "H": str(v.hour), "hh": f"{(v.hour % 12) or 12:02}", "h": str((v.hour % 12) or 12), "mm": f"{v.minute:02}",
        "m": str(v.minute), "ss": f"{v.second:02}", "s": str(v.second), "tt": "AM" if v.hour < 12 else "PM",
        "t": "A" if v.hour < 12 else "P", "zzz": "+00:00", "zz": "+00", "z": "+0",
        "K": zone_suffix(v),
    }
    if token in parts:
        return parts[token]
    if head == "f":
        return _fraction(v)[: len(token)]
    if head in "'\"":
        return token[1:-1]
    if head == "\\":
        return token[1:]
    return token


def _fixed(value: float, digits: int, *, grouped: bool) -> str:
    """``value`` with ``digits`` decimals, F/N as .NET Core writes them: from the double's exact value, an exact tie
    to the even digit ((2.5).ToString("F0") is "2", as Python's format does); a long keeps every digit."""
    if isinstance(value, int):
        exact = decimal.Decimal(value)
        return f"{exact:,.{digits}f}" if grouped else f"{exact:.{digits}f}"
    return f"{value:,.{digits}f}" if grouped else f"{value:.{digits}f}"


def _custom_fixed(value: float, digits: int) -> str:
    """A "0.00" custom pattern: .NET first keeps 15 significant digits of a double, then rounds half away from
    zero ((1.005).ToString("0.00") is "1.01", (2.5).ToString("0") is "3")."""
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if value != value else ("∞" if value > 0 else "-∞")
    shown = decimal.Decimal(value) if isinstance(value, int) else decimal.Decimal(f"{value:.15g}")
    context = decimal.Context(prec=max(28, len(str(abs(int(shown)))) + digits + 2))
    return f"{shown.quantize(decimal.Decimal(1).scaleb(-digits), rounding=decimal.ROUND_HALF_UP, context=context):f}"


def format_number(value: float, fmt: str) -> str:
    """Numeric ToString(format): "N0"/"F2"/"D3"/"X8"/"0.00"-style patterns that policies use; any other format
    (currency, percent, scientific, custom "#" patterns) is refused as the emulator's limit."""
    m = re.fullmatch(r"([FfNnDd])(\d*)", fmt)
    if m:
        kind, digits = m.group(1).upper(), int(m.group(2) or (0 if m.group(1) in "Dd" else 2))
        if kind == "D":  # the digits are a minimum for the number without its sign: (-42).ToString("D5") = -00042
            return ("-" if int(value) < 0 else "") + f"{abs(int(value)):0{digits}d}"
        return _fixed(value, digits, grouped=kind == "N")
    if re.fullmatch(r"[Xx]\d*", fmt):  # hexadecimal: integers only; a negative one is its two's complement
        if not isinstance(value, int):
            raise CsError("Format specifier was invalid.")
        digits = int(fmt[1:] or 0)
        width = 64 if type(value) is CsLong else 32  # a long's two's complement has 64 bits
        text = f"{value & (2**width - 1) if value < 0 else value:0{digits}X}"
        return text if fmt[0] == "X" else text.lower()
    m = re.fullmatch(r"0*\.?(0*)", fmt)
    if m:
        return _custom_fixed(value, len(m.group(1)))
    raise CsError(emulator_limit(f"the numeric format {fmt!r}"))

