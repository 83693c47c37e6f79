"""``ee.Date``: an instant in milliseconds since 1970-01-01T00:00:00Z, and date parsing helpers.

A :class:`Date` evaluates to an ``int`` of milliseconds (so ``unwrap(date)`` compares with the
``system:time_start`` of an image), and ``getInfo()`` returns ``{'type': 'Date', 'value': millis}``
as Earth Engine does. Calendar arithmetic is done in UTC unless a ``timeZone`` is given.

Formatting and parsing use Joda-Time patterns, as Earth Engine does: ``yyyy`` year, ``MM`` month,
``dd`` day of month, ``DDD`` day of year (``DD`` pads it to 2 digits), ``HH`` hour, ``mm``
minute, ``ss`` second, ``SSS`` milliseconds, ``MMM`` month name, ``EEE`` weekday name, ``w`` ISO
week, ``Z`` offset, and literal text in single quotes (``'T'``).

Examples
--------
>>> Date("2024-01-31").advance(1, "month").format("yyyy-MM-dd").getInfo()
'2024-02-29'
>>> Date("2024-06-01").getInfo()
{'type': 'Date', 'value': 1717200000000}
>>> date_from_name("S2A_MSIL2A_20240601T101031_R022.tif")
1717200000000
"""

from __future__ import annotations

import calendar
import math
import re
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any

import numpy as np

from .errors import ArgumentError, DateError
from .values import ComputedObject, Number, String, Thunk, unwrap

__all__ = ["Date", "to_millis", "date_from_name"]

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)
_DAY_MS = 86_400_000
# Average unit lengths, as Joda-Time (and so Earth Engine) define them for Date.difference.
UNIT_MILLIS: dict[str, float] = {
    "second": 1_000,
    "minute": 60_000,
    "hour": 3_600_000,
    "day": _DAY_MS,
    "week": 7 * _DAY_MS,
    "month": 365.2425 / 12 * _DAY_MS,
    "year": 365.2425 * _DAY_MS,
}
UNITS = ("year", "month", "week", "day", "hour", "minute", "second")

_ACCEPTED = (
    "Give an ISO string such as '2024-06-01', '2024-06-01T12:30:00Z', '2024', '2024-06' or '2024-153' "
    "(year and day of year), a datetime/date/pandas Timestamp/numpy datetime64, "
    "or milliseconds since 1970-01-01 as a number"
)


def _norm_unit(unit: Any, where: str, allowed: tuple[str, ...] = UNITS) -> str:
    u = str(unwrap(unit)).strip().lower()
    if u.endswith("s") and u[:-1] in UNIT_MILLIS:
        u = u[:-1]
    if u not in allowed:
        raise ArgumentError(f"{where}: unknown unit {unit!r}. Give one of {list(allowed)!r}.")
    return u


def _zone(tz: Any) -> tzinfo:
    tz = unwrap(tz)
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


def _local(ms: int, tz: Any = None) -> datetime:
    """``ms`` as a naive datetime on the wall clock of ``tz`` (UTC by default)."""
    return (EPOCH + timedelta(milliseconds=ms)).astimezone(_zone(tz)).replace(tzinfo=None)


def _from_local(dt: datetime, tz: Any = None) -> int:
    """Milliseconds of a naive wall-clock datetime in ``tz``."""
    return (dt.replace(tzinfo=_zone(tz)) - EPOCH) // _MS


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
            return _from_local(dt, UTC)
        sign = -1 if off[0] == "-" else 1
        digits = off[1:].replace(":", "")
        minutes = int(digits[:2]) * 60 + int(digits[2:4] or 0)
        return _from_local(dt - sign * timedelta(minutes=minutes), UTC)
    return _from_local(dt, tz)


def to_millis(value: Any, tz: Any = None) -> int:
    """Milliseconds since 1970-01-01T00:00:00Z of anything :class:`Date` accepts.

    Parameters
    ----------
    value
        A :class:`Date`; an ISO string (``'2024-06-01'``, ``'2024-06-01T12:30:00Z'``, ``'2024'``,
        ``'2024-06'``, ``'2024-153'``); a ``datetime``, ``date``, pandas ``Timestamp`` or numpy
        ``datetime64``; or a number of milliseconds.
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
    if isinstance(value, Date):
        return value._evaluate()
    if isinstance(value, ComputedObject):
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
            value = value.replace(tzinfo=_zone(tz))
        return (value - EPOCH) // _MS
    if isinstance(value, date):
        return _from_local(datetime(value.year, value.month, value.day), tz)
    raise _bad_date(value)


# -- Joda patterns ----------------------------------------------------------------------------

_PATTERN_LETTERS = set("GCYxweEyDMdaKhHkmsSzZ")
_NUMERIC = set("CYxweyDMdKhHkmsS")
_MONTHS = [calendar.month_name[i] for i in range(1, 13)]
_DAYS = [calendar.day_name[i] for i in range(7)]
DEFAULT_FORMAT = "yyyy-MM-dd'T'HH:mm:ss"


def _tokens(pattern: str) -> list[tuple[str, str, int]]:
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


def _joda_format(ms: int, pattern: str, tz: Any = None) -> str:
    zone = _zone(tz)
    aware = (EPOCH + timedelta(milliseconds=ms)).astimezone(zone)
    dt = aware.replace(tzinfo=None)
    iso = dt.isocalendar()
    parts = []
    for kind, c, count in _tokens(pattern):
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
            parts.append(str(getattr(zone, "key", None) or aware.tzname()) if count >= 4 else str(aware.tzname()))
        elif c == "Z":
            off = aware.utcoffset() or timedelta(0)
            minutes = int(off.total_seconds() // 60)
            sign = "-" if minutes < 0 else "+"
            hh, mm = divmod(abs(minutes), 60)
            if count >= 3:
                parts.append(str(getattr(zone, "key", None) or "UTC"))
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


def _joda_parse(pattern: str, text: str, tz: Any = None) -> int:
    tokens = _tokens(pattern)
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
            return _from_local(dt, UTC)
        if off[0] in "+-":
            digits = off[1:].replace(":", "")
            sign = -1 if off[0] == "-" else 1
            return _from_local(dt - sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:])), UTC)
        return _from_local(dt, off)
    return _from_local(dt, tz)


# -- calendar arithmetic ----------------------------------------------------------------------


def _add_months(dt: datetime, months: int) -> datetime:
    """``dt`` plus whole ``months``, the day clamped to the month's end (Joda's ``plusMonths``)."""
    total = dt.year * 12 + (dt.month - 1) + months
    year, month = divmod(total, 12)
    day = min(dt.day, calendar.monthrange(year, month + 1)[1])
    return dt.replace(year=year, month=month + 1, day=day)


def _truncate(dt: datetime, unit: str) -> datetime:
    """The start of the ``unit`` that contains ``dt`` (weeks start on Monday)."""
    if unit == "year":
        return datetime(dt.year, 1, 1)
    if unit == "month":
        return datetime(dt.year, dt.month, 1)
    if unit == "week":
        return datetime(dt.year, dt.month, dt.day) - timedelta(days=dt.weekday())
    if unit == "day":
        return datetime(dt.year, dt.month, dt.day)
    if unit == "hour":
        return dt.replace(minute=0, second=0, microsecond=0)
    if unit == "minute":
        return dt.replace(second=0, microsecond=0)
    return dt.replace(microsecond=0)


def _advance_local(dt: datetime, delta: float, unit: str) -> datetime:
    if unit in ("year", "month"):
        months = delta * 12 if unit == "year" else delta
        whole = math.trunc(months)
        out = _add_months(dt, whole)
        frac = months - whole
        if frac:
            step = _add_months(out, 1 if frac > 0 else -1) - out
            out = out + abs(frac) * step
        return out
    return dt + timedelta(milliseconds=delta * UNIT_MILLIS[unit])


# -- Date -------------------------------------------------------------------------------------


class Date(ComputedObject):
    """``ee.Date``: an instant, evaluated as milliseconds since 1970-01-01T00:00:00Z.

    Parameters
    ----------
    value
        Anything :func:`to_millis` accepts: a Date, an ISO string (``'2024'``, ``'2024-06'``,
        ``'2024-06-01'``, ``'2024-153'``, ``'2024-06-01T12:00:00Z'``), a datetime, a date, a pandas
        Timestamp, a numpy datetime64, or milliseconds.
    tz
        Time zone of a string or naive datetime without an offset (UTC by default).

    Examples
    --------
    >>> d = Date("2024-03-15T12:30:00")
    >>> d.millis().getInfo()
    1710505800000
    >>> d.format().getInfo(), d.format("DDD").getInfo()
    ('2024-03-15T12:30:00', '075')
    >>> d.get("month").getInfo(), d.getRelative("day", "year").getInfo()
    (3, 74)
    >>> Date("1970-01-01").difference(Date("1970-01-08"), "week").getInfo()
    -1.0
    >>> Date("not a date")
    Traceback (most recent call last):
    ...
    reducer.errors.DateError: cannot read 'not a date' as a date. Give an ISO string such as ...
    """

    __slots__ = ()

    def __init__(self, value: Any, tz: Any = None):
        if isinstance(value, Date) and tz is None:
            thunk = value._thunk
        elif isinstance(value, ComputedObject):
            thunk = Thunk(lambda: to_millis(value, tz))
        else:
            thunk = Thunk.of(to_millis(value, tz))
        object.__setattr__(self, "_thunk", thunk)

    def _info(self, value: Any) -> dict:
        return {"type": "Date", "value": int(value)}

    def __repr__(self) -> str:
        value = self._known()
        if isinstance(value, int):
            return f"ee.Date({_joda_format(value, DEFAULT_FORMAT + '.SSS')!r})"
        return "ee.Date(<lazy>)"

    def _date(self, fn: Any) -> Date:
        return Date._lazy(lambda: int(fn(self._evaluate())))

    # -- constructors ---------------------------------------------------------------------------
    @staticmethod
    def fromYMD(year: Any, month: Any, day: Any, timeZone: Any = None) -> Date:
        """The date at midnight of ``year``-``month``-``day``.

        Examples
        --------
        >>> Date.fromYMD(2024, 2, 29).format("yyyy-MM-dd").getInfo()
        '2024-02-29'
        """

        def run() -> int:
            y, m, d = (int(unwrap(v)) for v in (year, month, day))
            try:
                return _from_local(datetime(y, m, d), timeZone)
            except ValueError as exc:
                raise DateError(f"Date.fromYMD({y}, {m}, {d}): not a date ({exc}).") from None

        return Date._lazy(run)

    @staticmethod
    def parse(format: Any, date: Any, timeZone: Any = None) -> Date:  # noqa: A002 - Earth Engine's name
        """Parse ``date`` with the Joda-Time pattern ``format``.

        Examples
        --------
        >>> Date.parse("yyyyMMdd", "20240601").format().getInfo()
        '2024-06-01T00:00:00'
        >>> Date.parse("yyyy-DDD HH:mm", "2024-153 06:30").format().getInfo()
        '2024-06-01T06:30:00'
        >>> Date.parse("dd MMM yyyy", "01 Jun 2024").millis().getInfo()
        1717200000000
        """
        return Date._lazy(lambda: _joda_parse(str(unwrap(format)), str(unwrap(date)), timeZone))

    @staticmethod
    def unitRatio(numerator: str, denominator: str) -> Number:
        """The ratio of the average lengths of two units, e.g. ``unitRatio('day', 'minute')`` is 1440.

        Examples
        --------
        >>> Date.unitRatio("day", "minute").getInfo()
        1440.0
        """
        a = _norm_unit(numerator, "Date.unitRatio")
        b = _norm_unit(denominator, "Date.unitRatio")
        return Number(UNIT_MILLIS[a] / UNIT_MILLIS[b])

    # -- accessors ------------------------------------------------------------------------------
    def millis(self) -> Number:
        """Milliseconds since 1970-01-01T00:00:00Z."""
        return Number._lazy(self._evaluate)

    def format(self, format: Any = None, timeZone: Any = None) -> String:  # noqa: A002 - Earth Engine's name
        """The date as text, with a Joda-Time pattern (ISO ``yyyy-MM-dd'T'HH:mm:ss`` by default).

        Examples
        --------
        >>> d = Date("2024-06-01T08:05:09.250Z")
        >>> d.format("yyyy/MM/dd HH:mm:ss.SSS").getInfo()
        '2024/06/01 08:05:09.250'
        >>> d.format("YYYY-MM-DD").getInfo()  # DD is the day of the year in Joda-Time
        '2024-06-153'
        >>> d.format("EEE, d MMMM yy 'at' h a").getInfo()
        'Sat, 1 June 24 at 8 AM'
        >>> d.format("HH:mm Z", "Asia/Kolkata").getInfo()
        '13:35 +0530'
        """
        pattern = DEFAULT_FORMAT if format is None else None
        if pattern is None and not isinstance(format, ComputedObject):
            _tokens(str(format))  # raise on a bad pattern now
        return String._lazy(lambda: _joda_format(self._evaluate(), pattern or str(unwrap(format)), timeZone))

    def get(self, unit: str, timeZone: Any = None) -> Number:
        """One calendar field: ``year``, ``month`` (1-12), ``week`` (ISO, 1-53), ``day`` (1-31), ...

        ``hour`` (0-23), ``minute`` and ``second`` (0-59) are the other units.

        Examples
        --------
        >>> Date("2024-12-30").get("week").getInfo(), Date("2024-12-30").get("day").getInfo()
        (1, 30)
        """
        u = _norm_unit(unit, "Date.get")

        def run() -> int:
            dt = _local(self._evaluate(), timeZone)
            if u == "week":
                return dt.isocalendar().week
            return getattr(dt, u)

        return Number._lazy(run)

    def getRelative(self, unit: str, inUnit: str, timeZone: Any = None) -> Number:
        """The 0-based ``unit`` of this date within ``inUnit``: whole units since the start of ``inUnit``.

        ``getRelative('day', 'year')`` is the day of the year minus 1 (0..365);
        ``getRelative('month', 'year')`` is the month minus 1; ``getRelative('day', 'week')`` is 0
        on Monday. Weeks start on Monday.

        Examples
        --------
        >>> Date("2024-12-31").getRelative("day", "year").getInfo()
        365
        >>> Date("2024-06-01").getRelative("week", "month").getInfo()
        0
        """
        u = _norm_unit(unit, "Date.getRelative")
        outer = _norm_unit(inUnit, "Date.getRelative")
        if UNITS.index(outer) >= UNITS.index(u):
            raise ArgumentError(
                f"Date.getRelative: unit {unit!r} must be smaller than inUnit {inUnit!r}, "
                "e.g. getRelative('day', 'year')."
            )

        def run() -> int:
            dt = _local(self._evaluate(), timeZone)
            start = _truncate(dt, outer)
            if u == "month":
                return (dt.year - start.year) * 12 + dt.month - start.month
            return int((dt - start) // timedelta(milliseconds=UNIT_MILLIS[u]))

        return Number._lazy(run)

    def getFraction(self, unit: str, timeZone: Any = None) -> Number:
        """The elapsed fraction (0 to 1) of the ``unit`` that contains this date.

        Examples
        --------
        >>> Date("2023-07-02T12:00").getFraction("year").getInfo()
        0.5
        """
        u = _norm_unit(unit, "Date.getFraction")

        def run() -> float:
            dt = _local(self._evaluate(), timeZone)
            start = _truncate(dt, u)
            end = _advance_local(start, 1, u)
            return (dt - start) / (end - start)

        return Number._lazy(run)

    def difference(self, start: Any, unit: str) -> Number:
        """``self - start`` in ``unit``, fractional, using the unit's average length.

        A year is 365.2425 days and a month a twelfth of that, as in Joda-Time.

        Examples
        --------
        >>> Date("2020-01-15").difference(Date("2020-01-01"), "days").getInfo()
        14.0
        """
        u = _norm_unit(unit, "Date.difference")
        other = start if isinstance(start, Date) else Date(start)
        return Number._lazy(lambda: (self._evaluate() - other._evaluate()) / UNIT_MILLIS[u])

    # -- arithmetic -----------------------------------------------------------------------------
    def advance(self, delta: Any, unit: str, timeZone: Any = None) -> Date:
        """The date ``delta`` units later; months and years keep the day, clamped to the month's end.

        Days and weeks move the wall clock of ``timeZone``; hours, minutes and seconds are exact.
        A fractional month or year adds that fraction of the following month or year.

        Examples
        --------
        >>> Date("2023-01-31").advance(1, "month").format("yyyy-MM-dd").getInfo()
        '2023-02-28'
        >>> Date("2024-02-29").advance(-1, "year").format("yyyy-MM-dd").getInfo()
        '2023-02-28'
        >>> Date("2024-01-01").advance(1.5, "day").format().getInfo()
        '2024-01-02T12:00:00'
        """
        u = _norm_unit(unit, "Date.advance")

        def run(ms: int) -> int:
            d = float(unwrap(delta))
            if u in ("hour", "minute", "second"):
                return ms + round(d * UNIT_MILLIS[u])
            return _from_local(_advance_local(_local(ms, timeZone), d, u), timeZone)

        return self._date(run)

    def update(
        self,
        year: Any = None,
        month: Any = None,
        day: Any = None,
        hour: Any = None,
        minute: Any = None,
        second: Any = None,
        timeZone: Any = None,
    ) -> Date:
        """A date with the given calendar fields replaced.

        Examples
        --------
        >>> Date("2024-06-15T10:00").update(month=2, day=29).format().getInfo()
        '2024-02-29T10:00:00'
        """

        def run(ms: int) -> int:
            dt = _local(ms, timeZone)
            fields = {"year": year, "month": month, "day": day, "hour": hour, "minute": minute}
            new = {k: int(unwrap(v)) for k, v in fields.items() if v is not None}
            try:
                dt = dt.replace(**new)
                if second is not None:
                    s = float(unwrap(second))
                    dt = dt.replace(second=0, microsecond=0) + timedelta(seconds=s)
            except ValueError as exc:
                raise DateError(f"Date.update({new!r}): not a date ({exc}).") from None
            return _from_local(dt, timeZone)

        return self._date(run)


# -- dates in file names ----------------------------------------------------------------------

_SEPARATED = re.compile(r"(?<!\d)(\d{4})([-_])(\d{2})\2(\d{2})(?!\d)")
_COMPACT8 = re.compile(r"(?<!\d)(\d{4})(\d{2})(\d{2})(?!\d)")
_COMPACT7 = re.compile(r"(?<!\d)(\d{4})(\d{3})(?!\d)")
NAME_YEARS = (1900, 2100)


def _ymd(y: str, m: str, d: str) -> int | None:
    year = int(y)
    if not NAME_YEARS[0] <= year <= NAME_YEARS[1]:
        return None
    try:
        return _from_local(datetime(year, int(m), int(d)))
    except ValueError:
        return None


def _ydoy(y: str, doy: str) -> int | None:
    year, day = int(y), int(doy)
    if not NAME_YEARS[0] <= year <= NAME_YEARS[1]:
        return None
    if not 1 <= day <= (366 if calendar.isleap(year) else 365):
        return None
    return _from_local(datetime(year, 1, 1) + timedelta(days=day - 1))


def date_from_name(name: str) -> int | None:
    """The date (UTC midnight, in milliseconds) written in a file name, or None.

    The name's last path component is searched, most specific pattern first:

    1. ``YYYY-MM-DD`` or ``YYYY_MM_DD`` (the same separator twice);
    2. ``YYYYMMDD``, a run of exactly 8 digits;
    3. ``YYYYDDD``, a run of exactly 7 digits: a year and a day of the year (001-366).

    Within a pattern the leftmost valid match wins (Landsat names carry the acquisition date
    before the processing date). A match must be a real calendar date with a year in
    1900..2100: month 13, day 32 or day of year 367 are skipped. Digits that belong to a longer
    run of digits (a 12-digit id, a ``YYYYMMDDhhmmss`` stamp) never match, and neither do
    separated dates glued to more digits.

    Examples
    --------
    >>> from datetime import datetime, timezone
    >>> def show(ms):
    ...     return None if ms is None else datetime.fromtimestamp(ms / 1000, timezone.utc).date().isoformat()
    >>> show(date_from_name("ndvi_2024-06-01.tif")), show(date_from_name("ndvi_2024_06_01.tif"))
    ('2024-06-01', '2024-06-01')
    >>> show(date_from_name("LC08_L2SP_190024_20240601_20240610_02_T1.TIF"))
    '2024-06-01'
    >>> show(date_from_name("MOD13Q1.A2024153.h18v04.tif"))  # year and day of year
    '2024-06-01'
    >>> show(date_from_name("tile_20241301.tif")), show(date_from_name("scene_202406011234.tif"))
    (None, None)
    >>> show(date_from_name("2023367_and_2024001.tif"))  # day 367 is skipped
    '2024-01-01'
    """
    base = re.split(r"[\\/]", str(name))[-1]
    for m in _SEPARATED.finditer(base):
        ms = _ymd(m[1], m[3], m[4])
        if ms is not None:
            return ms
    for m in _COMPACT8.finditer(base):
        ms = _ymd(m[1], m[2], m[3])
        if ms is not None:
            return ms
    for m in _COMPACT7.finditer(base):
        ms = _ydoy(m[1], m[2])
        if ms is not None:
            return ms
    return None
