"""Instants: milliseconds since 1970-01-01T00:00:00Z <-> datetimes, ISO strings and Joda-Time patterns.

A leaf module: it imports only the standard library, numpy and :mod:`reducer.errors`, so both
:mod:`reducer.values` (``getInfo`` of a ``datetime``) and :mod:`reducer.dates` (``ee.Date``) build
on it without importing each other. Computed objects are recognised by their ``_evaluate`` method
(every ``ee`` object has one), not by their class.

Joda-Time pattern letters, as Earth Engine uses them: ``yyyy`` year, ``MM`` month, ``dd`` day of
month, ``DDD`` day of year, ``HH`` hour, ``mm`` minute, ``ss`` second, ``SSS`` milliseconds,
``MMM`` month name, ``EEE`` weekday name, ``w`` ISO week, ``Z`` offset, and literal text in single
quotes (``'T'``).

Examples
--------
>>> to_millis("2024-06-01")
1717200000000
>>> format_millis(1717200000000, "yyyy-DDD'T'HH")
'2024-153T00'
>>> parse_millis("dd MMM yyyy", "01 Jun 2024")
1717200000000
>>> wall_clock(0, "Asia/Kolkata")
datetime.datetime(1970, 1, 1, 5, 30)
"""

from __future__ import annotations

import calendar
import math
import re
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any

import numpy as np

from .errors import ArgumentError, DateError

__all__ = [
    "EPOCH",
    "DEFAULT_FORMAT",
    "zone",
    "wall_clock",
    "from_wall_clock",
    "to_millis",
    "pattern_tokens",
    "format_millis",
    "parse_millis",
]

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)

_ACCEPTED = (
    "Give an ISO string such as '2024-06-01', '2024-06-01T12:30:00Z', '2024', '2024-06' or '2024-153' "
    "(year and day of year), a datetime/date/pandas Timestamp/numpy datetime64, "
    "or milliseconds since 1970-01-01 as a number"
)


def _evaluated(x: Any) -> Any:
    """The value of a computed object (anything with an ``_evaluate`` method), else ``x`` itself."""
    evaluate = getattr(x, "_evaluate", None)
    return evaluate() if callable(evaluate) else x


def zone(tz: Any) -> tzinfo:
    """The time zone named by ``tz`` (an IANA name, a ``tzinfo``, or None for UTC).

    Examples
    --------
    >>> zone(None), zone("Europe/Paris")
    (datetime.timezone.utc, zoneinfo.ZoneInfo(key='Europe/Paris'))
    """
    tz = _evaluated(tz)
    if tz is None or (isinstance(tz, str) and tz.upper() in ("UTC", "Z", "GMT", "ETC/UTC")):
        return UTC
    if isinstance(tz, tzinfo):
        return tz
    from zoneinfo import ZoneInfo

    try:
        return ZoneInfo(str(tz))
    except (KeyError, ValueError, OSError):
        raise DateError(
            f"unknown time zone {tz!r}. Give an IANA name such as 'UTC' or 'America/Los_Angeles'."
        ) from None


def wall_clock(ms: int, tz: Any = None) -> datetime:
    """``ms`` as a naive datetime on the wall clock of ``tz`` (UTC by default)."""
    return (EPOCH + timedelta(milliseconds=ms)).astimezone(zone(tz)).replace(tzinfo=None)


def from_wall_clock(dt: datetime, tz: Any = None) -> int:
    """Milliseconds of a naive wall-clock datetime in ``tz``."""
    return (dt.replace(tzinfo=zone(tz)) - EPOCH) // _MS


# -- to_millis --------------------------------------------------------------------------------

_ISO = re.compile(
    r"""\s*(?P<y>[+-]?\d{4})
    (?:-(?P<m>\d{1,2})(?:-(?P<d>\d{1,2}))?|-(?P<doy>\d{3}))?
    (?:[T\s](?P<H>\d{1,2})(?::(?P<M>\d{2})(?::(?P<S>\d{2})(?:[.,](?P<f>\d+))?)?)?)?
    \s*(?P<tz>Z|z|[+-]\d{2}(?::?\d{2})?)?\s*""",
    re.VERBOSE,
)


def _bad_date(value: Any, why: str = "") -> DateError:
    return DateError(f"cannot read {value!r} as a date{why}. {_ACCEPTED}.")


def _parse_iso(s: str, tz: Any = None) -> int:
    m = _ISO.fullmatch(s)
    if m is None:
        raise _bad_date(s)
    try:
        year = int(m["y"])
        if m["doy"] is not None:
            doy = int(m["doy"])
            if not 1 <= doy <= (366 if calendar.isleap(year) else 365):
                raise ValueError(f"day of year {doy} is out of range")
            dt = datetime(year, 1, 1) + timedelta(days=doy - 1)
        else:
            dt = datetime(year, int(m["m"] or 1), int(m["d"] or 1))
        frac = (m["f"] or "0")[:6].ljust(6, "0")
        dt = dt.replace(hour=int(m["H"] or 0), minute=int(m["M"] or 0), second=int(m["S"] or 0), microsecond=int(frac))
    except ValueError as exc:
        raise _bad_date(s, f" ({exc})") from None
    if m["tz"] is not None:
        off = m["tz"]
        if off in "Zz":
            return from_wall_clock(dt, UTC)
        sign = -1 if off[0] == "-" else 1
        digits = off[1:].replace(":", "")
        minutes = int(digits[:2]) * 60 + int(digits[2:4] or 0)
        return from_wall_clock(dt - sign * timedelta(minutes=minutes), UTC)
    return from_wall_clock(dt, tz)


def to_millis(value: Any, tz: Any = None) -> int:
    """Milliseconds since 1970-01-01T00:00:00Z of anything ``ee.Date`` accepts.

    Parameters
    ----------
    value
        An ``ee.Date`` (or any computed object that evaluates to one of these); an ISO string
        (``'2024-06-01'``, ``'2024-06-01T12:30:00Z'``, ``'2024'``, ``'2024-06'``, ``'2024-153'``);
        a ``datetime``, ``date``, pandas ``Timestamp`` or numpy ``datetime64``; or a number of
        milliseconds.
    tz
        Time zone of strings and naive datetimes without an offset; UTC by default.

    Raises
    ------
    DateError
        If ``value`` is none of these.

    Examples
    --------
    >>> to_millis("1970-01-02"), to_millis(86_400_000.0), to_millis(np.datetime64("1970-01-01T00:00:01"))
    (86400000, 86400000, 1000)
    >>> to_millis("2024-01-01T01:00", tz="Europe/Paris")
    1704067200000
    >>> to_millis("2024-13-01")
    Traceback (most recent call last):
    ...
    reducer.errors.DateError: cannot read '2024-13-01' as a date (month must be in 1..12). Give an ISO ...
    """
    if callable(getattr(value, "_evaluate", None)):  # an ee.Date (its value is millis) or another ee object
        return to_millis(value._evaluate(), tz)
    if value is None or isinstance(value, bool | np.bool_):
        raise _bad_date(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        if not math.isfinite(value):
            raise _bad_date(value)
        return int(round(float(value)))
    if isinstance(value, str):
        return _parse_iso(value, tz)
    if isinstance(value, np.ndarray) and value.size == 1:
        value = value.reshape(()) if value.dtype.kind == "M" else value.item()
        if not isinstance(value, np.ndarray):
            return to_millis(value, tz)
    if isinstance(value, np.datetime64 | np.ndarray) and np.asarray(value).dtype.kind == "M":
        if np.isnat(value):
            raise _bad_date(value)
        return int(np.asarray(value).astype("datetime64[ms]").astype("int64"))
    if type(value).__name__ == "NaTType":
        raise _bad_date(value)
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=zone(tz))
        return (value - EPOCH) // _MS
    if isinstance(value, date):
        return from_wall_clock(datetime(value.year, value.month, value.day), tz)
    raise _bad_date(value)


# -- Joda patterns ----------------------------------------------------------------------------

_PATTERN_LETTERS = set("GCYxweEyDMdaKhHkmsSzZ")
_NUMERIC = set("CYxweyDMdKhHkmsS")
_MONTHS = [calendar.month_name[i] for i in range(1, 13)]
_DAYS = [calendar.day_name[i] for i in range(7)]
DEFAULT_FORMAT = "yyyy-MM-dd'T'HH:mm:ss"


def pattern_tokens(pattern: str) -> list[tuple[str, str, int]]:
    """Split a Joda pattern into ``('lit', text, 0)`` and ``('field', letter, count)`` tokens."""
    out: list[tuple[str, str, int]] = []
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        if c == "'":
            if i + 1 < n and pattern[i + 1] == "'":
                out.append(("lit", "'", 0))
                i += 2
                continue
            j, text = i + 1, []
            while j < n:
                if pattern[j] == "'":
                    if j + 1 < n and pattern[j + 1] == "'":
                        text.append("'")
                        j += 2
                        continue
                    break
                text.append(pattern[j])
                j += 1
            if j >= n:
                raise ArgumentError(f"date pattern {pattern!r} has an unclosed quote. Close literal text: 'T'.")
            out.append(("lit", "".join(text), 0))
            i = j + 1
        elif c.isascii() and c.isalpha():
            if c not in _PATTERN_LETTERS:
                raise ArgumentError(
                    f"date pattern {pattern!r}: {c!r} is not a Joda-Time pattern letter. "
                    "Quote literal text (e.g. \"yyyy-MM-dd'T'HH\"); "
                    f"letters are {''.join(sorted(_PATTERN_LETTERS))}."
                )
            j = i
            while j < n and pattern[j] == c:
                j += 1
            out.append(("field", c, j - i))
            i = j
        else:
            out.append(("lit", c, 0))
            i += 1
    return out


def format_millis(ms: int, pattern: str, tz: Any = None) -> str:
    """The instant ``ms`` as text, with the Joda-Time ``pattern``, on the wall clock of ``tz`` (UTC)."""
    tzone = zone(tz)
    aware = (EPOCH + timedelta(milliseconds=ms)).astimezone(tzone)
    dt = aware.replace(tzinfo=None)
    iso = dt.isocalendar()
    parts = []
    for kind, c, count in pattern_tokens(pattern):
        if kind == "lit":
            parts.append(c)
            continue
        if c in "yYx":
            year = iso.year if c == "x" else dt.year
            parts.append(f"{year % 100:02d}" if count == 2 else f"{year:0{count}d}")
        elif c == "M" and count >= 3:
            name = _MONTHS[dt.month - 1]
            parts.append(name if count >= 4 else name[:3])
        elif c == "E":
            name = _DAYS[dt.weekday()]
            parts.append(name if count >= 4 else name[:3])
        elif c == "S":
            digits = f"{dt.microsecond // 1000:03d}"
            parts.append(digits[:count] if count <= 3 else digits.ljust(count, "0"))
        elif c == "G":
            parts.append("AD")
        elif c == "a":
            parts.append("AM" if dt.hour < 12 else "PM")
        elif c == "z":
            parts.append(str(getattr(tzone, "key", None) or aware.tzname()) if count >= 4 else str(aware.tzname()))
        elif c == "Z":
            off = aware.utcoffset() or timedelta(0)
            minutes = int(off.total_seconds() // 60)
            sign = "-" if minutes < 0 else "+"
            hh, mm = divmod(abs(minutes), 60)
            if count >= 3:
                parts.append(str(getattr(tzone, "key", None) or "UTC"))
            else:
                parts.append(f"{sign}{hh:02d}:{mm:02d}" if count == 2 else f"{sign}{hh:02d}{mm:02d}")
        else:
            value = {
                "C": dt.year // 100,
                "w": iso.week,
                "e": iso.weekday,
                "D": dt.timetuple().tm_yday,
                "M": dt.month,
                "d": dt.day,
                "K": dt.hour % 12,
                "h": dt.hour % 12 or 12,
                "H": dt.hour,
                "k": dt.hour or 24,
                "m": dt.minute,
                "s": dt.second,
            }[c]
            parts.append(f"{value:0{count}d}")
    return "".join(parts)


def parse_millis(pattern: str, text: str, tz: Any = None) -> int:
    """Milliseconds of ``text`` read with the Joda-Time ``pattern``; ``tz`` (UTC) unless it has an offset."""
    tokens = pattern_tokens(pattern)
    regex = []
    for k, (kind, c, count) in enumerate(tokens):
        if kind == "lit":
            regex.append(re.escape(c))
            continue
        group = f"(?P<{c}{k}>"
        nxt = tokens[k + 1] if k + 1 < len(tokens) else None
        fixed = nxt is not None and nxt[0] == "field" and nxt[1] in _NUMERIC and not (nxt[1] == "M" and nxt[2] >= 3)
        if c == "M" and count >= 3:
            regex.append(group + "|".join(_MONTHS + [m[:3] for m in _MONTHS]) + ")")
        elif c == "E":
            regex.append(group + "|".join(_DAYS + [d[:3] for d in _DAYS]) + ")")
        elif c == "a":
            regex.append(group + "AM|PM)")
        elif c == "G":
            regex.append(group + "AD|CE)")
        elif c == "Z":
            regex.append(group + r"Z|[+-]\d{2}:?\d{2}|[A-Za-z_/]+)")
        elif c == "z":
            regex.append(group + r"[A-Za-z_/+\-0-9]+)")
        elif c in "yYx" and count == 2:
            regex.append(group + r"\d{2})")
        elif fixed:
            regex.append(group + rf"\d{{{count}}})")
        elif c in "yYx":
            regex.append(group + r"[+-]?\d{1,9})")
        else:
            regex.append(group + r"\d{1,9})")
    m = re.fullmatch("".join(regex), text.strip(), flags=re.IGNORECASE)
    if m is None:
        raise DateError(f"Date.parse: {text!r} does not match the pattern {pattern!r}. Check the pattern's fields.")
    f: dict[str, str] = {}
    counts: dict[str, int] = {}
    for name, value in m.groupdict().items():
        f[name[0]] = value
        counts[name[0]] = tokens[int(name[1:])][2]
    try:
        ykey = next((c for c in "yYx" if c in f), None)
        year = int(f[ykey]) if ykey else 1970
        if ykey and counts[ykey] == 2:
            year += 2000 if year < 50 else 1900  # two-digit years: 1950..2049
        if "w" in f or ("e" in f and "d" not in f and "D" not in f):
            dt = datetime.fromisocalendar(year, int(f.get("w", 1)), int(f.get("e", 1)))
        elif "D" in f:
            doy = int(f["D"])
            if not 1 <= doy <= (366 if calendar.isleap(year) else 365):
                raise ValueError(f"day of year {doy} is out of range for {year}")
            dt = datetime(year, 1, 1) + timedelta(days=doy - 1)
        else:
            if "M" in f and not f["M"].isdigit():
                month = next(i + 1 for i, n in enumerate(_MONTHS) if n.lower().startswith(f["M"].lower()[:3]))
            else:
                month = int(f.get("M", 1))
            dt = datetime(year, month, int(f.get("d", 1)))
        hour = (
            int(f.get("H") or f.get("k") or 0) % 24
            if ("H" in f or "k" in f)
            else int(f.get("h") or f.get("K") or 0) % 12
        )
        if "a" in f and f["a"].upper() == "PM" and not ("H" in f or "k" in f):
            hour += 12
        frac = (f.get("S") or "0")[:6].ljust(6, "0")
        dt = dt.replace(hour=hour, minute=int(f.get("m", 0)), second=int(f.get("s", 0)), microsecond=int(frac))
    except ValueError as exc:
        raise DateError(f"Date.parse: {text!r} with pattern {pattern!r} is not a valid date ({exc}).") from None
    off = f.get("Z")
    if off is not None:
        if off.upper() == "Z":
            return from_wall_clock(dt, UTC)
        if off[0] in "+-":
            digits = off[1:].replace(":", "")
            sign = -1 if off[0] == "-" else 1
            return from_wall_clock(dt - sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:])), UTC)
        return from_wall_clock(dt, off)
    return from_wall_clock(dt, tz)
