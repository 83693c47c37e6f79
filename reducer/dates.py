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
from datetime import datetime, timedelta
from typing import Any

from ._time import DEFAULT_FORMAT, format_millis, from_wall_clock, parse_millis, pattern_tokens, to_millis, wall_clock
from .arguments import resolve_class
from .errors import ArgumentError, DateError
from .values import ComputedObject, Number, String, Thunk, unwrap

__all__ = ["Date", "to_millis", "date_from_name"]

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


def _norm_unit(unit: Any, where: str, allowed: tuple[str, ...] = UNITS) -> str:
    u = str(unwrap(unit)).strip().lower()
    if u.endswith("s") and u[:-1] in UNIT_MILLIS:
        u = u[:-1]
    if u not in allowed:
        raise ArgumentError(f"{where}: unknown unit {unit!r}. Give one of {list(allowed)!r}.")
    return u


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


@resolve_class("Date", evaluate=False, aliases={"__init__": {"date": "value", "opt_tz": "tz"}})
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
            thunk = value._value_thunk()
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
            return f"ee.Date({format_millis(value, DEFAULT_FORMAT + '.SSS')!r})"
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
                return from_wall_clock(datetime(y, m, d), timeZone)
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
        return Date._lazy(lambda: parse_millis(str(unwrap(format)), str(unwrap(date)), timeZone))

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
            pattern_tokens(str(format))  # raise on a bad pattern now
        return String._lazy(lambda: format_millis(self._evaluate(), pattern or str(unwrap(format)), timeZone))

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
            dt = wall_clock(self._evaluate(), timeZone)
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
            dt = wall_clock(self._evaluate(), timeZone)
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
            dt = wall_clock(self._evaluate(), timeZone)
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
            return from_wall_clock(_advance_local(wall_clock(ms, timeZone), d, u), timeZone)

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
            dt = wall_clock(ms, timeZone)
            fields = {"year": year, "month": month, "day": day, "hour": hour, "minute": minute}
            new = {k: int(unwrap(v)) for k, v in fields.items() if v is not None}
            try:
                dt = dt.replace(**new)
                if second is not None:
                    s = float(unwrap(second))
                    dt = dt.replace(second=0, microsecond=0) + timedelta(seconds=s)
            except ValueError as exc:
                raise DateError(f"Date.update({new!r}): not a date ({exc}).") from None
            return from_wall_clock(dt, timeZone)

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
        return from_wall_clock(datetime(year, int(m), int(d)))
    except ValueError:
        return None


def _ydoy(y: str, doy: str) -> int | None:
    year, day = int(y), int(doy)
    if not NAME_YEARS[0] <= year <= NAME_YEARS[1]:
        return None
    if not 1 <= day <= (366 if calendar.isleap(year) else 365):
        return None
    return from_wall_clock(datetime(year, 1, 1) + timedelta(days=day - 1))


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
