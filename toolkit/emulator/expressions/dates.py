""".NET's ``DateTime`` kinds and ``DateTimeOffset``, on Python datetimes.

A DateTime here is an aware datetime at UTC offset 0 whose tzinfo names its ``DateTimeKind``: ``UTC`` (Utc),
``LOCAL`` (Local) or ``UNSPECIFIED``. So dates of any kind compare and subtract as .NET's do (by their ticks,
whatever the kind), and arithmetic keeps the kind, as in .NET. Local time is UTC: the emulator takes APIM's
gateway hosts to keep their clocks on UTC (an assumption, as for the en-US culture), so a Local and a Utc date of
the same clock are the same instant. A ``DateTimeOffset`` is a `CsDateTimeOffset` with offset 0 (the emulator
makes no other).

Where the kind shows: the "K" and "o" formats (Utc "Z", Local "+00:00", Unspecified nothing), Newtonsoft's JSON
text of a date, ``Kind``, and ``DateTime.Parse``, which converts a text with a zone ("Z", "+02:00") to local time
and gives a text without one the Unspecified kind.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta, timezone

from .cstypes import CsDateTimeOffset
from .errors import CsError

__all__ = ["LOCAL", "UNSPECIFIED", "CsDateTimeOffset", "from_unix_time", "kind", "now", "offset_now", "offset_part",
           "parse", "to_local", "to_offset", "to_universal", "unix_time", "with_kind", "zone_suffix"]

LOCAL = timezone(timedelta(0), "Local")
UNSPECIFIED = timezone(timedelta(0), "Unspecified")
UNIX_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ZERO_OFFSET = "+00:00"  # every DateTimeOffset's, and local time's
_UNIX_SECONDS = (-62_135_596_800, 253_402_300_799)  # DateTimeOffset.MinValue and MaxValue


def kind(value: datetime) -> str:
    """The ``DateTimeKind`` of a DateTime: "Utc", "Local" or "Unspecified" (a naive datetime is Unspecified).

    By the tzinfo's name, not its identity: a deep copy (a policy variable's) keeps the name."""
    if value.tzinfo is None:
        return "Unspecified"
    name = value.tzinfo.tzname(None)
    return name if name in ("Local", "Unspecified") else "Utc"  # the tzinfo names the kind; UTC's is "UTC"


def zone_suffix(value: datetime) -> str:
    """The "K" format specifier: a DateTimeOffset's offset; a DateTime's "Z" (Utc), "+00:00" (Local) or ""."""
    if type(value) is CsDateTimeOffset:
        return _ZERO_OFFSET
    return {"Utc": "Z", "Local": _ZERO_OFFSET, "Unspecified": ""}[kind(value)]


def with_kind(value: datetime, kind_name: str) -> datetime:
    """The same clock reading as a DateTime of kind ``kind_name`` (``DateTime.SpecifyKind``)."""
    zone = {"Utc": UTC, "Local": LOCAL, "Unspecified": UNSPECIFIED}[kind_name]
    return datetime(value.year, value.month, value.day, value.hour, value.minute, value.second, value.microsecond,
                    tzinfo=zone)


def parse(text: str, failure: str, *, utc_stays_utc: bool = False) -> datetime:
    """``DateTime.Parse`` of ISO 8601 text: with a zone ("Z", "+02:00") the same instant in local time (kind Local),
    without one kind Unspecified. ``failure``: the FormatException's message (also for a date that its offset
    moves out of years 1 to 9999).

    ``utc_stays_utc``: Newtonsoft's reading of a JSON date (DateTimeZoneHandling.RoundtripKind, its default): a
    "Z" date is kind Utc; an offset still converts to local time."""
    try:
        value = datetime.fromisoformat(text.strip())  # Python 3.11 reads "Z" and every ISO 8601 form .NET writes
        if value.tzinfo is None:
            return value.replace(tzinfo=UNSPECIFIED)
        if utc_stays_utc and text.strip().endswith("Z"):  # fromisoformat has refused a lower-case "z" already
            return value.astimezone(UTC)
        return value.astimezone(LOCAL)
    except (ValueError, OverflowError):
        raise CsError(failure) from None


def now(kind_name: str) -> datetime:
    """``DateTime.UtcNow`` ("Utc") or ``DateTime.Now`` ("Local")."""
    return datetime.now(UTC if kind_name == "Utc" else LOCAL)


def offset_now() -> CsDateTimeOffset:
    """``DateTimeOffset.UtcNow`` and ``DateTimeOffset.Now`` (local time is UTC)."""
    return CsDateTimeOffset.now(UTC)


def to_offset(value: datetime) -> CsDateTimeOffset:
    """C#'s implicit conversion of a DateTime to a DateTimeOffset (a DateTimeOffset is itself): the same clock at
    offset 0 (local time, and an Unspecified date taken as local, are UTC)."""
    if type(value) is CsDateTimeOffset:
        return value
    return CsDateTimeOffset(value.year, value.month, value.day, value.hour, value.minute, value.second,
                            value.microsecond, tzinfo=UTC)


def to_universal(value: datetime) -> datetime:
    """``ToUniversalTime()``: a DateTime of kind Utc (an Unspecified one is taken as local time, as .NET does: the
    same clock, local time being UTC), or the DateTimeOffset itself (at offset 0 already)."""
    return value if type(value) is CsDateTimeOffset else with_kind(value, "Utc")


def to_local(value: datetime) -> datetime:
    """``ToLocalTime()``: a DateTime of kind Local (an Unspecified one is taken as UTC, as .NET does), or the
    DateTimeOffset itself."""
    return value if type(value) is CsDateTimeOffset else with_kind(value, "Local")


def offset_part(value: datetime, part: str) -> datetime | timedelta:
    """A DateTimeOffset's ``UtcDateTime``, ``LocalDateTime``, ``DateTime`` (Unspecified) or ``Offset``."""
    if type(value) is not CsDateTimeOffset:
        raise CsError(f"'System.DateTime' does not contain a definition for '{part}'")
    if part == "Offset":
        return timedelta(0)
    return with_kind(value, {"UtcDateTime": "Utc", "LocalDateTime": "Local", "DateTime": "Unspecified"}[part])


def unix_time(value: datetime, unit: timedelta) -> int:
    """``ToUnixTimeSeconds()`` / ``ToUnixTimeMilliseconds()`` of a DateTimeOffset: whole units since 1970, rounded
    down (a date before 1970 gives the unit before, as .NET's tick division does)."""
    if type(value) is not CsDateTimeOffset:
        method = "ToUnixTimeSeconds" if unit == timedelta(seconds=1) else "ToUnixTimeMilliseconds"
        raise CsError(f"'System.DateTime' does not contain a definition for '{method}'")
    return math.floor((value - UNIX_EPOCH) / unit)


def from_unix_time(amount: int, unit: timedelta) -> CsDateTimeOffset:
    """``DateTimeOffset.FromUnixTimeSeconds`` / ``FromUnixTimeMilliseconds``: a DateTimeOffset at offset 0."""
    per_second = timedelta(seconds=1) // unit
    low, high = _UNIX_SECONDS[0] * per_second, (_UNIX_SECONDS[1] + 1) * per_second - 1
    if not low <= amount <= high:
        raise CsError(f"Valid values are between {low} and {high}, inclusive. "
                      f"(Parameter '{'seconds' if per_second == 1 else 'milliseconds'}')")
    instant = UNIX_EPOCH + amount * unit
    return CsDateTimeOffset(instant.year, instant.month, instant.day, instant.hour, instant.minute, instant.second,
                            instant.microsecond, tzinfo=UTC)
