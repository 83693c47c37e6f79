"""``ee.DateRange``: a half-open interval of instants, ``[start, end)`` in milliseconds.

Evaluated as a ``(start, end)`` pair of milliseconds; an unbounded end is ``+inf`` (start ``-inf``),
as ``ee.DateRange.unbounded()``. ``getInfo()`` gives Earth Engine's ``{'type': 'DateRange', 'dates':
[start, end]}``. ``filterDate(range)`` on collections takes one.

Examples
--------
>>> r = DateRange("2024-01-01", "2024-02-01")
>>> r.getInfo()
{'type': 'DateRange', 'dates': [1704067200000, 1706745600000]}
>>> r.contains("2024-01-15").getInfo(), r.contains("2024-02-01").getInfo()
(True, False)
>>> r.start().format("yyyy-MM-dd").getInfo()
'2024-01-01'
"""

from __future__ import annotations

import math
from typing import Any

from ._time import to_millis
from .dates import Date
from .errors import DateError
from .values import UNSET, ComputedObject, Number, Thunk

__all__ = ["DateRange"]


def _ms(x: Any, tz: Any) -> float:
    if isinstance(x, Date):
        return float(x._evaluate())
    return float(to_millis(x, tz))


def _range_of(x: Any) -> tuple[float, float]:
    """The ``(start, end)`` of a DateRange, or of an instant (a 1 ms range)."""
    if isinstance(x, DateRange):
        return x._evaluate()
    t = _ms(x, None)
    return (t, t + 1)


class DateRange(ComputedObject):
    """``ee.DateRange(start, end=None, timeZone=None)``: ``[start, end)``; without ``end``, the 1 ms at ``start``.

    Parameters
    ----------
    start, end
        Dates, milliseconds or strings (anything ``ee.Date`` takes).
    timeZone
        The time zone of strings without an offset (UTC by default).

    Examples
    --------
    >>> DateRange("2024-01-01").getInfo()["dates"]
    [1704067200000, 1704067200001]
    >>> DateRange("2024-02-01", "2024-01-01")
    Traceback (most recent call last):
    ...
    reducer.errors.DateError: ee.DateRange: the end 1704067200000 comes before the start 1706745600000. ...
    """

    __slots__ = ()

    def __init__(self, start: Any, end: Any = None, timeZone: Any = None):
        if isinstance(start, DateRange) and end is None:
            object.__setattr__(self, "_thunk", start._value_thunk())
            return

        def run() -> tuple[float, float]:
            s = _ms(start, timeZone)
            e = s + 1 if end is None else _ms(end, timeZone)
            if e < s:
                raise DateError(
                    f"ee.DateRange: the end {int(e)} comes before the start {int(s)}. Give the earlier date first."
                )
            return (s, e)

        lazy = any(isinstance(x, ComputedObject) and x._known() is UNSET for x in (start, end))
        thunk = Thunk(run)
        if not lazy:
            thunk()
        object.__setattr__(self, "_thunk", thunk)

    def _info(self, value: Any) -> dict:
        return {"type": "DateRange", "dates": [_int_or_inf(v) for v in value]}

    def __repr__(self) -> str:
        value = self._known()
        if isinstance(value, tuple):
            return f"ee.DateRange({_int_or_inf(value[0])}, {_int_or_inf(value[1])})"
        return "ee.DateRange(<lazy>)"

    @staticmethod
    def unbounded() -> DateRange:
        """The range of all instants.

        Examples
        --------
        >>> DateRange.unbounded().isUnbounded().getInfo()
        True
        """
        return DateRange._of((-math.inf, math.inf))

    def start(self) -> Date:
        """The (inclusive) start, as an ``ee.Date``."""
        return Date._lazy(lambda: _finite(self._evaluate()[0], "start"))

    def end(self) -> Date:
        """The (exclusive) end, as an ``ee.Date``."""
        return Date._lazy(lambda: _finite(self._evaluate()[1], "end"))

    def contains(self, other: Any) -> Number:
        """True if ``other`` (a date or a DateRange) lies inside this range."""

        def run() -> bool:
            s, e = self._evaluate()
            os_, oe = _range_of(other)
            return s <= os_ and oe <= e

        return Number._lazy(run)

    def intersects(self, other: Any) -> Number:
        """True if the ranges share an instant.

        Examples
        --------
        >>> DateRange("2024-01-01", "2024-02-01").intersects(DateRange("2024-01-31", "2024-03-01")).getInfo()
        True
        """

        def run() -> bool:
            s, e = self._evaluate()
            os_, oe = _range_of(other)
            return max(s, os_) < min(e, oe)

        return Number._lazy(run)

    def intersection(self, other: Any) -> DateRange:
        """The instants in both ranges (an empty range, start == end, when they do not meet)."""

        def run() -> tuple[float, float]:
            s, e = self._evaluate()
            os_, oe = _range_of(other)
            lo, hi = max(s, os_), min(e, oe)
            return (lo, max(lo, hi))

        return DateRange._lazy(run)

    def union(self, other: Any) -> DateRange:
        """The smallest range that holds both ranges.

        Examples
        --------
        >>> DateRange("2024-01-01", "2024-01-02").union(DateRange("2024-03-01", "2024-03-02")).end().format(
        ...     "yyyy-MM-dd").getInfo()
        '2024-03-02'
        """

        def run() -> tuple[float, float]:
            s, e = self._evaluate()
            os_, oe = _range_of(other)
            return (min(s, os_), max(e, oe))

        return DateRange._lazy(run)

    def isEmpty(self) -> Number:
        """True if the range holds no instant (start == end)."""
        return Number._lazy(lambda: (v := self._evaluate())[0] >= v[1])

    def isUnbounded(self) -> Number:
        """True if the range is unbounded at either end."""
        return Number._lazy(lambda: any(math.isinf(v) for v in self._evaluate()))


def _int_or_inf(v: float) -> int | float:
    return v if math.isinf(v) else int(v)


def _finite(v: float, which: str) -> int:
    if math.isinf(v):
        raise DateError(f"DateRange.{which}: the range is unbounded at its {which}; it has no {which} date.")
    return int(v)
