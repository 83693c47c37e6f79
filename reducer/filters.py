"""``ee.Filter``: immutable predicates on element properties, dates and geometries.

A filter is built for free and evaluated on a whole table at once by the collections::

    keep = f._mask(table, geometry)

``table`` is a :class:`pandas.DataFrame` with one column per property (dates as epoch
milliseconds in ``system:time_start``; ``system:index`` as a column when ids matter) and
``geometry`` a :class:`geopandas.GeoSeries` with a CRS (image footprints or feature geometries),
or None. The result is a numpy bool array, one value per row.

Null semantics, as Earth Engine: a comparison with a missing property (no column) or a null
value (None, NaN) is False, for ``neq`` too; ``Not`` of it is True. A bounds filter is False
for a null geometry, and for every row when ``geometry`` is None.

Examples
--------
>>> import pandas as pd
>>> table = pd.DataFrame({"cloud": [5.0, 50.0, None], "name": ["a1", "b2", "a3"]})
>>> Filter.lt("cloud", 10)._mask(table)
array([ True, False, False])
>>> Filter.And(Filter.stringStartsWith("name", "a"), Filter.lt("cloud", 10).Not())._mask(table)
array([False, False,  True])
>>> Filter.eq("missing", 1)._mask(table)
array([False, False, False])
"""

from __future__ import annotations

import math
import numbers
import operator
import re
from collections.abc import Callable, Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd

from .dates import Date, to_millis
from .errors import ArgumentError, CRSError
from .geometry import Geometry, as_geometry
from .values import ComputedObject, unwrap

__all__ = ["Filter", "filter_mask"]

_UNSET: Any = object()
TIME = "system:time_start"

CalendarField = Literal[
    "year", "month", "week", "day_of_year", "day_of_month", "day_of_week", "hour", "minute", "second"
]
CALENDAR_FIELDS = (
    "year",
    "month",
    "week",
    "day_of_year",
    "day_of_month",
    "day_of_week",
    "hour",
    "minute",
    "second",
)

MaskFn = Callable[[pd.DataFrame, Any], np.ndarray]
# a join condition: (primary table, primary geometries, secondary table, secondary geometries) ->
# ((n_primary, n_secondary) bools, the measure per pair or None)
PairFn = Callable[[pd.DataFrame, Any, pd.DataFrame, Any], tuple[np.ndarray, np.ndarray | None]]


# -- value helpers ----------------------------------------------------------------------------


def _resolve(v: Any) -> Any:
    """Evaluate computed values (a Date becomes milliseconds), recursively in lists."""
    if isinstance(v, ComputedObject):
        v = unwrap(v)
    if isinstance(v, list | tuple):
        return [_resolve(x) for x in v]
    if isinstance(v, np.generic):
        return v.item()
    return v


def _is_null(v: Any) -> bool:
    if v is None or v is pd.NA or v is pd.NaT:
        return True
    return isinstance(v, float | np.floating) and math.isnan(v)


def _is_num(v: Any) -> bool:
    return isinstance(v, numbers.Real | np.number) and not isinstance(v, bool | np.bool_)


def _column(table: pd.DataFrame, name: str) -> tuple[np.ndarray | None, bool]:
    """The column as an array (None when missing) and whether it holds times (as ms floats)."""
    if name == "system:index" and name not in table.columns and table.index.name == "system:index":
        return np.asarray(table.index.astype(str), dtype=object), False
    if name not in table.columns:
        return None, False
    col = table[name]
    if isinstance(col, pd.DataFrame):  # duplicate column names: the first one
        col = col.iloc[:, 0]
    if pd.api.types.is_datetime64_any_dtype(col.dtype):
        naive = col.dt.tz_convert("UTC").dt.tz_localize(None) if getattr(col.dt, "tz", None) is not None else col
        stamps = naive.to_numpy(dtype="datetime64[ms]")
        values = stamps.astype("int64").astype("float64")
        values[np.isnat(stamps)] = np.nan
        return values, True
    if pd.api.types.is_bool_dtype(col.dtype):
        return col.to_numpy(dtype=object), name == TIME
    if pd.api.types.is_numeric_dtype(col.dtype):
        return col.to_numpy(dtype="float64", na_value=np.nan), name == TIME
    values = col.to_numpy(dtype=object)
    if any(isinstance(v, ComputedObject) for v in values):  # e.g. ee.Date properties: compare their values
        is_time = name == TIME or any(isinstance(v, Date) for v in values)
        values = np.array([unwrap(v) if isinstance(v, ComputedObject) else v for v in values], dtype=object)
        return values, is_time
    return values, name == TIME


def _times(col: np.ndarray) -> np.ndarray:
    """A time column as float milliseconds (NaN where null or not a number)."""
    if col.dtype == np.float64:
        return col
    return pd.to_numeric(pd.Series(col, dtype=object), errors="coerce").to_numpy(dtype="float64", na_value=np.nan)


def _time_value(v: Any) -> Any:
    """A value compared with a time column: dates and date strings become milliseconds."""
    if v is None or _is_num(v):
        return v
    if isinstance(v, list):
        return [_time_value(x) for x in v]
    try:
        return to_millis(v)
    except Exception:  # not a date: compare as is (and fail to match)
        return v


def _cmp(op: Callable[[Any, Any], bool], a: Any, b: Any) -> bool:
    if _is_null(a) or _is_null(b):
        return False
    if isinstance(a, bool | np.bool_) != isinstance(b, bool | np.bool_):
        if not (_is_num(a) or _is_num(b)):
            return False
    if (_is_num(a) or isinstance(a, bool | np.bool_)) != (_is_num(b) or isinstance(b, bool | np.bool_)):
        return False  # a number never equals or orders with a string
    try:
        return bool(op(a, b))
    except TypeError:
        return False


def _str_op(kind: str) -> Callable[[Any, Any], bool]:
    def fn(a: Any, b: Any) -> bool:
        if not isinstance(a, str) or not isinstance(b, str):
            return False
        if kind == "contains":
            return b in a
        return a.startswith(b) if kind == "starts_with" else a.endswith(b)

    return fn


def _contains(container: Any, element: Any) -> bool:
    if _is_null(element) or not isinstance(container, list | tuple | np.ndarray):
        return False
    return any(_cmp(operator.eq, x, element) for x in list(container))


_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "eq": operator.eq,
    "neq": operator.ne,
    "lt": operator.lt,
    "lte": operator.le,
    "gt": operator.gt,
    "gte": operator.ge,
}


def _binary_mask(kind: str, left: tuple[str, Any], right: tuple[str, Any]) -> MaskFn:
    """A mask function comparing two operands, each ``('field', name)`` or ``('value', v)``."""
    if kind == "neq":  # Earth Engine: "passes unless the two operands are equals" (null included)
        eq = _binary_mask("eq", left, right)
        return lambda table, geometry: ~eq(table, geometry)

    def fn(table: pd.DataFrame, geometry: Any) -> np.ndarray:
        n = len(table)
        sides, time = [], False
        for side, x in (left, right):
            if side == "field":
                col, is_time = _column(table, x)
                if col is None and kind == "eq":  # a missing property reads as null, and null equals null
                    col = np.full(n, None, dtype=object)
                if col is None:
                    return np.zeros(n, dtype=bool)
                time = time or is_time
                sides.append(("array", col))
            else:
                sides.append(("scalar", _resolve(x)))
        if time:
            sides = [(s, v if s == "array" else _time_value(v)) for s, v in sides]
        (ka, a), (kb, b) = sides
        if kind == "eq":
            nulls = [
                pd.isna(pd.Series(v, dtype=object)).to_numpy() if k == "array" else np.full(n, _is_null(v))
                for k, v in sides
            ]
            both_null = nulls[0] & nulls[1]
            if (ka == "scalar" and _is_null(a)) or (kb == "scalar" and _is_null(b)):
                return both_null
            if both_null.any():  # two null fields: equal
                return both_null | _compare(n, ka, a, kb, b)
        return _compare(n, ka, a, kb, b)

    def _compare(n: int, ka: str, a: Any, kb: str, b: Any) -> np.ndarray:
        sides = [(ka, a), (kb, b)]
        if kind in _OPS:
            op = _OPS[kind]
            numeric = all((k == "array" and v.dtype == np.float64) or (k == "scalar" and _is_num(v)) for k, v in sides)
            if numeric:
                aa, bb = np.asarray(a, dtype="float64"), np.asarray(b, dtype="float64")
                with np.errstate(invalid="ignore"):
                    out = op(aa, bb) & ~np.isnan(aa) & ~np.isnan(bb)
                return np.broadcast_to(out, (n,)).copy()
            pair = lambda x, y: _cmp(op, x, y)  # noqa: E731
        elif kind in ("contains", "starts_with", "ends_with"):
            pair = _str_op(kind)
        elif kind == "list_contains":
            pair = _contains
        else:  # pragma: no cover - guarded by the constructors
            raise AssertionError(kind)
        aa = a if ka == "array" else [a] * n
        bb = b if kb == "array" else [b] * n
        return np.fromiter((pair(x, y) for x, y in zip(aa, bb, strict=True)), dtype=bool, count=n)

    return fn


def _calendar_values(ms: np.ndarray, field: str) -> np.ndarray:
    valid = ~np.isnan(ms)
    out = np.full(ms.shape, np.nan)
    if not valid.any():
        return out
    t = pd.DatetimeIndex(ms[valid].astype("int64").astype("datetime64[ms]"))
    values = {
        "year": lambda: t.year,
        "month": lambda: t.month,
        "week": lambda: t.isocalendar().week.to_numpy(),
        "day_of_year": lambda: t.day_of_year,
        "day_of_month": lambda: t.day,
        "day_of_week": lambda: t.day_of_week + 1,
        "hour": lambda: t.hour,
        "minute": lambda: t.minute,
        "second": lambda: t.second,
    }[field]()
    out[valid] = np.asarray(values, dtype="float64")
    return out


# -- Filter -----------------------------------------------------------------------------------


class Filter(ComputedObject):
    """``ee.Filter``: an immutable predicate; combine with ``And``, ``Or`` and ``Not``.

    Build filters with the static constructors (``Filter.eq``, ``Filter.date``,
    ``Filter.bounds``, ...). Collections apply them with ``filter(...)``; ``getInfo()`` gives a
    description.

    Examples
    --------
    >>> f = Filter.Or(Filter.eq("a", 1), Filter.inList("b", ["x", "y"]))
    >>> f
    ee.Filter.Or(ee.Filter.eq('a', 1), ee.Filter.inList('b', ['x', 'y']))
    >>> f._mask(pd.DataFrame({"a": [1, 2, 3], "b": ["z", "y", None]}))
    array([ True,  True, False])
    """

    __slots__ = ("_fn", "_name", "_args", "_pair")

    def __init__(self, *args: Any, **kwargs: Any):
        raise ArgumentError(
            "ee.Filter(...) cannot be built directly. Use a constructor such as "
            "ee.Filter.eq('name', value), ee.Filter.date(start, end) or ee.Filter.bounds(geometry)."
        )

    @classmethod
    def _make(cls, name: str, args: tuple, fn: MaskFn, pair: PairFn | None = None) -> Filter:
        obj = cls.__new__(cls)
        object.__setattr__(obj, "_pair", pair)
        object.__setattr__(obj, "_fn", fn)
        object.__setattr__(obj, "_name", name)
        object.__setattr__(obj, "_args", args)
        return obj

    def __repr__(self) -> str:
        return f"ee.Filter.{self._name}({', '.join(repr(a) for a in self._args)})"

    def _evaluate(self) -> dict:
        return {"type": "Filter", "name": self._name, "args": [_describe(a) for a in self._args]}

    def _mask(self, table: pd.DataFrame, geometry: Any = None) -> np.ndarray:  # see filter_mask
        """One bool per row of ``table`` (and of ``geometry``, a GeoSeries with a CRS, or None)."""
        out = np.asarray(self._fn(table, geometry), dtype=bool)
        if out.shape != (len(table),):
            out = np.broadcast_to(out, (len(table),)).copy()
        return out

    # -- comparisons ----------------------------------------------------------------------------
    @staticmethod
    def _binary(
        kind: str,
        where: str,
        name: Any,
        value: Any,
        leftField: Any,
        rightValue: Any,
        rightField: Any,
        leftValue: Any,
    ) -> Filter:
        lf = leftField if leftField is not None else name
        rv = rightValue if rightValue is not _UNSET else value
        left, right = _operands(
            where,
            lf,
            rv,
            rightField,
            leftValue,
            missing_left=f"missing the property name. Use Filter.{where}('name', value).",
            missing_right=f"missing the value. Use Filter.{where}('name', value).",
        )
        if kind == "in_list":  # the right operand, a list, contains the left one
            fn, shown = _binary_mask("list_contains", right, left), (left[1], right[1])
            pair = _binary_pair("list_contains", right, left, primary_index=1)
        else:
            fn, shown = _binary_mask(kind, left, right), (left[1], right[1])
            pair = _binary_pair(kind, left, right, primary_index=0)
        return Filter._make(where, shown, fn, pair)

    @staticmethod
    def eq(
        name: Any = None,
        value: Any = _UNSET,
        *,
        leftField: Any = None,
        rightValue: Any = _UNSET,
        rightField: Any = None,
        leftValue: Any = _UNSET,
    ) -> Filter:
        """Passes when property ``name`` equals ``value`` (numbers compare by value: 1 == 1.0).

        As in Earth Engine, null equals null: ``eq('a', None)`` passes where ``a`` is null or missing.

        Examples
        --------
        >>> Filter.eq("a", 1)._mask(pd.DataFrame({"a": [1.0, 2.0]}))
        array([ True, False])
        >>> Filter.eq("a", None)._mask(pd.DataFrame({"a": [1.0, None]}))
        array([False,  True])
        >>> Filter.eq(leftField="a", rightField="b")._mask(pd.DataFrame({"a": [1, 2], "b": [1, 3]}))
        array([ True, False])
        """
        return Filter._binary("eq", "eq", name, value, leftField, rightValue, rightField, leftValue)

    @staticmethod
    def neq(
        name: Any = None,
        value: Any = _UNSET,
        *,
        leftField: Any = None,
        rightValue: Any = _UNSET,
        rightField: Any = None,
        leftValue: Any = _UNSET,
    ) -> Filter:
        """Passes unless property ``name`` equals ``value``: ``Not(eq(name, value))``, as Earth Engine documents it.

        A null or missing property differs from every value but null: ``neq('a', None)`` keeps the
        features whose ``a`` is set, ``neq('a', 1)`` keeps those where ``a`` is null too.

        Examples
        --------
        >>> Filter.neq("a", 1)._mask(pd.DataFrame({"a": [1, 2, None]}))
        array([False,  True,  True])
        >>> Filter.neq("a", None)._mask(pd.DataFrame({"a": [1, 2, None]}))
        array([ True,  True, False])
        """
        return Filter._binary("neq", "neq", name, value, leftField, rightValue, rightField, leftValue)

    @staticmethod
    def lt(
        name: Any = None,
        value: Any = _UNSET,
        *,
        leftField: Any = None,
        rightValue: Any = _UNSET,
        rightField: Any = None,
        leftValue: Any = _UNSET,
    ) -> Filter:
        """Passes when property ``name`` < ``value`` (dates compare as instants)."""
        return Filter._binary("lt", "lt", name, value, leftField, rightValue, rightField, leftValue)

    @staticmethod
    def lte(
        name: Any = None,
        value: Any = _UNSET,
        *,
        leftField: Any = None,
        rightValue: Any = _UNSET,
        rightField: Any = None,
        leftValue: Any = _UNSET,
    ) -> Filter:
        """Passes when property ``name`` <= ``value``."""
        return Filter._binary("lte", "lte", name, value, leftField, rightValue, rightField, leftValue)

    @staticmethod
    def gt(
        name: Any = None,
        value: Any = _UNSET,
        *,
        leftField: Any = None,
        rightValue: Any = _UNSET,
        rightField: Any = None,
        leftValue: Any = _UNSET,
    ) -> Filter:
        """Passes when property ``name`` > ``value``.

        Examples
        --------
        >>> t = pd.DataFrame({"system:time_start": [0.0, 86_400_000.0]})
        >>> Filter.gt("system:time_start", Date("1970-01-01T12:00"))._mask(t)
        array([False,  True])
        """
        return Filter._binary("gt", "gt", name, value, leftField, rightValue, rightField, leftValue)

    @staticmethod
    def gte(
        name: Any = None,
        value: Any = _UNSET,
        *,
        leftField: Any = None,
        rightValue: Any = _UNSET,
        rightField: Any = None,
        leftValue: Any = _UNSET,
    ) -> Filter:
        """Passes when property ``name`` >= ``value``."""
        return Filter._binary("gte", "gte", name, value, leftField, rightValue, rightField, leftValue)

    @staticmethod
    def stringContains(
        leftField: Any = None,
        rightValue: Any = _UNSET,
        *,
        rightField: Any = None,
        leftValue: Any = _UNSET,
    ) -> Filter:
        """Passes when the string property contains ``rightValue`` (case-sensitive).

        Examples
        --------
        >>> Filter.stringContains("id", "T32")._mask(pd.DataFrame({"id": ["S2_T32TQM", "S2_T33", 5]}))
        array([ True, False, False])
        """
        return Filter._binary("contains", "stringContains", leftField, rightValue, None, _UNSET, rightField, leftValue)

    @staticmethod
    def stringStartsWith(
        leftField: Any = None,
        rightValue: Any = _UNSET,
        *,
        rightField: Any = None,
        leftValue: Any = _UNSET,
    ) -> Filter:
        """Passes when the string property starts with ``rightValue``."""
        return Filter._binary(
            "starts_with", "stringStartsWith", leftField, rightValue, None, _UNSET, rightField, leftValue
        )

    @staticmethod
    def stringEndsWith(
        leftField: Any = None,
        rightValue: Any = _UNSET,
        *,
        rightField: Any = None,
        leftValue: Any = _UNSET,
    ) -> Filter:
        """Passes when the string property ends with ``rightValue``."""
        return Filter._binary("ends_with", "stringEndsWith", leftField, rightValue, None, _UNSET, rightField, leftValue)

    @staticmethod
    def inList(
        leftField: Any = None,
        rightValue: Any = _UNSET,
        *,
        rightField: Any = None,
        leftValue: Any = _UNSET,
    ) -> Filter:
        """Passes when the property's value is one of the list ``rightValue``.

        Examples
        --------
        >>> Filter.inList("tile", ["A", "B"])._mask(pd.DataFrame({"tile": ["A", "C", None]}))
        array([ True, False, False])
        """
        return Filter._binary("in_list", "inList", leftField, rightValue, None, _UNSET, rightField, leftValue)

    @staticmethod
    def listContains(
        leftField: Any = None,
        rightValue: Any = _UNSET,
        *,
        rightField: Any = None,
        leftValue: Any = _UNSET,
    ) -> Filter:
        """Passes when the property, a list, contains ``rightValue``.

        Examples
        --------
        >>> Filter.listContains("tags", "x")._mask(pd.DataFrame({"tags": [["x", "y"], ["z"]]}))
        array([ True, False])
        """
        return Filter._binary(
            "list_contains", "listContains", leftField, rightValue, None, _UNSET, rightField, leftValue
        )

    @staticmethod
    def rangeContains(field: Any, minValue: Any, maxValue: Any) -> Filter:
        """Passes when ``minValue <= field <= maxValue`` (both ends inclusive).

        Examples
        --------
        >>> Filter.rangeContains("v", 1, 2)._mask(pd.DataFrame({"v": [0.5, 1, 2, 2.5]}))
        array([False,  True,  True, False])
        """
        lo = Filter._binary("gte", "gte", field, minValue, None, _UNSET, None, _UNSET)
        hi = Filter._binary("lte", "lte", field, maxValue, None, _UNSET, None, _UNSET)
        return Filter._make("rangeContains", (field, minValue, maxValue), _and_fn([lo, hi]))

    @staticmethod
    def notNull(properties: Any) -> Filter:
        """Passes when every named property is present and not null.

        Examples
        --------
        >>> Filter.notNull(["a", "b"])._mask(pd.DataFrame({"a": [1, None, 3], "b": ["x", "y", None]}))
        array([ True, False, False])
        >>> Filter.notNull(["missing"])._mask(pd.DataFrame({"a": [1]}))
        array([False])
        """
        props = unwrap(properties)
        names = [props] if isinstance(props, str) else [str(unwrap(p)) for p in props]

        def fn(table: pd.DataFrame, geometry: Any) -> np.ndarray:
            out = np.ones(len(table), dtype=bool)
            for name in names:
                col, _ = _column(table, name)
                if col is None:
                    return np.zeros(len(table), dtype=bool)
                out &= ~pd.isna(pd.Series(col, dtype=object)).to_numpy()
            return out

        return Filter._make("notNull", (names,), fn)

    @staticmethod
    def always() -> Filter:
        """Passes everything."""
        return Filter._make("always", (), lambda t, g: np.ones(len(t), dtype=bool))

    @staticmethod
    def never() -> Filter:
        """Passes nothing."""
        return Filter._make("never", (), lambda t, g: np.zeros(len(t), dtype=bool))

    @staticmethod
    def metadata(name: str, operator: str, value: Any) -> Filter:
        """A comparison named by an Earth Engine operator string.

        ``operator`` is one of ``equals``, ``not_equals``, ``less_than``, ``greater_than``,
        ``not_less_than`` (>=), ``not_greater_than`` (<=), ``starts_with``, ``ends_with``,
        ``not_starts_with``, ``not_ends_with``, ``contains``, ``not_contains``.

        Examples
        --------
        >>> Filter.metadata("cloud", "not_greater_than", 10)
        ee.Filter.lte('cloud', 10)
        >>> Filter.metadata("cloud", "below", 10)
        Traceback (most recent call last):
        ...
        reducer.errors.ArgumentError: Filter.metadata: unknown operator 'below'. Give one of ...
        """
        op = str(unwrap(operator)).lower()
        makers: dict[str, Callable[[], Filter]] = {
            "equals": lambda: Filter.eq(name, value),
            "not_equals": lambda: Filter.neq(name, value),
            "less_than": lambda: Filter.lt(name, value),
            "greater_than": lambda: Filter.gt(name, value),
            "not_less_than": lambda: Filter.gte(name, value),
            "not_greater_than": lambda: Filter.lte(name, value),
            "starts_with": lambda: Filter.stringStartsWith(name, value),
            "ends_with": lambda: Filter.stringEndsWith(name, value),
            "not_starts_with": lambda: Filter.stringStartsWith(name, value).Not(),
            "not_ends_with": lambda: Filter.stringEndsWith(name, value).Not(),
            "contains": lambda: Filter.stringContains(name, value),
            "not_contains": lambda: Filter.stringContains(name, value).Not(),
        }
        if op not in makers:
            raise ArgumentError(f"Filter.metadata: unknown operator {operator!r}. Give one of {list(makers)!r}.")
        return makers[op]()

    # -- time -----------------------------------------------------------------------------------
    @staticmethod
    def date(start: Any, end: Any = None) -> Filter:
        """Passes when ``start <= system:time_start < end``; without ``end``, the 1 ms at ``start``.

        Examples
        --------
        >>> t = pd.DataFrame({"system:time_start": [to_millis("2024-01-01"), to_millis("2024-02-01")]})
        >>> Filter.date("2024-01-01", "2024-02-01")._mask(t)
        array([ True, False])
        >>> Filter.date("2024-02-01")._mask(t)
        array([False,  True])
        >>> Filter.date("2024-02-30")
        Traceback (most recent call last):
        ...
        reducer.errors.DateError: cannot read '2024-02-30' as a date (day is out of range for month). ...
        """
        s = start if isinstance(start, ComputedObject) else to_millis(start)
        e = end if end is None or isinstance(end, ComputedObject) else to_millis(end)

        def fn(table: pd.DataFrame, geometry: Any) -> np.ndarray:
            col, _ = _column(table, TIME)
            if col is None:
                return np.zeros(len(table), dtype=bool)
            t = _times(col)
            lo = float(to_millis(s))
            hi = lo + 1 if e is None else float(to_millis(e))
            with np.errstate(invalid="ignore"):
                return (t >= lo) & (t < hi)

        return Filter._make("date", (start,) if end is None else (start, end), fn)

    @staticmethod
    def calendarRange(start: Any, end: Any = None, field: CalendarField = "day_of_year") -> Filter:
        """Passes when a calendar field of ``system:time_start`` (UTC) is in ``[start, end]``.

        ``field`` is one of ``year``, ``month``, ``week`` (ISO), ``day_of_year``,
        ``day_of_month``, ``day_of_week`` (Monday is 1), ``hour``, ``minute``, ``second``;
        months and days are 1-based. Both ends are inclusive; ``end`` defaults to ``start``.
        When ``end < start`` the range wraps: ``value >= start or value <= end``.

        Examples
        --------
        >>> months = [Date(f"2024-{m:02d}-15").millis().getInfo() for m in (1, 6, 11, 12)]
        >>> t = pd.DataFrame({"system:time_start": months})
        >>> Filter.calendarRange(6, 8, "month")._mask(t)
        array([False,  True, False, False])
        >>> Filter.calendarRange(11, 1, "month")._mask(t)  # November to January
        array([ True, False,  True,  True])
        """
        f = str(unwrap(field))
        if f not in CALENDAR_FIELDS:
            raise ArgumentError(
                f"Filter.calendarRange: unknown field {field!r}. Give one of {list(CALENDAR_FIELDS)!r}."
            )

        def fn(table: pd.DataFrame, geometry: Any) -> np.ndarray:
            col, _ = _column(table, TIME)
            if col is None:
                return np.zeros(len(table), dtype=bool)
            v = _calendar_values(_times(col), f)
            lo = float(_resolve(start))
            hi = lo if end is None else float(_resolve(end))
            with np.errstate(invalid="ignore"):
                if hi < lo:
                    return (v >= lo) | (v <= hi)
                return (v >= lo) & (v <= hi)

        return Filter._make("calendarRange", (start, end, f), fn)

    @staticmethod
    def dayOfYear(start: Any, end: Any) -> Filter:
        """``calendarRange(start, end, 'day_of_year')``."""
        return Filter.calendarRange(start, end, "day_of_year")

    # -- space ----------------------------------------------------------------------------------
    @staticmethod
    def bounds(geometry: Any, errorMargin: Any = None) -> Filter:
        """Passes when the element's geometry intersects ``geometry``.

        ``geometry`` is a Geometry, a Feature, a FeatureCollection (its union), a shapely
        geometry (EPSG:4326) or a GeoJSON dict; it is transformed to the elements' CRS.

        Examples
        --------
        >>> import geopandas as gpd, shapely
        >>> footprints = gpd.GeoSeries([shapely.box(0, 0, 1, 1), shapely.box(5, 5, 6, 6), None], crs=4326)
        >>> from reducer.geometry import Geometry
        >>> Filter.bounds(Geometry.Point([0.5, 0.5]))._mask(pd.DataFrame(index=range(3)), footprints)
        array([ True, False, False])
        """
        g = as_geometry(geometry)

        def fn(table: pd.DataFrame, geoms: Any) -> np.ndarray:
            n = len(table)
            if geoms is None or n == 0:
                return np.zeros(n, dtype=bool)
            crs = getattr(geoms, "crs", None)
            if crs is None:
                raise CRSError(
                    "Filter.bounds: the element geometries have no CRS. Set it with gdf.set_crs('EPSG:4326')."
                )
            import shapely

            shape = g.to_shapely(crs)
            if shape is None:
                return np.zeros(n, dtype=bool)
            shapely.prepare(shape)
            values = np.asarray(getattr(geoms, "values", geoms), dtype=object)
            return np.asarray(shapely.intersects(shape, values), dtype=bool)

        return Filter._make("bounds", (geometry,), fn)

    # -- logic ----------------------------------------------------------------------------------
    @staticmethod
    def And(*filters: Any) -> Filter:
        """Passes when every filter passes (``And(f1, f2)`` or ``And([f1, f2])``)."""
        fs = _filters(filters, "And")
        return Filter._make("And", tuple(fs), _and_fn(fs), _logic_pair(fs, "And"))

    @staticmethod
    def Or(*filters: Any) -> Filter:
        """Passes when any filter passes (``Or(f1, f2)`` or ``Or([f1, f2])``).

        Examples
        --------
        >>> Filter.Or()._mask(pd.DataFrame(index=range(2)))
        array([False, False])
        """
        fs = _filters(filters, "Or")

        def fn(table: pd.DataFrame, geometry: Any) -> np.ndarray:
            out = np.zeros(len(table), dtype=bool)
            for f in fs:
                out |= f._mask(table, geometry)
            return out

        return Filter._make("Or", tuple(fs), fn, _logic_pair(fs, "Or"))

    def Not(self) -> Filter:
        """Passes when this filter does not."""
        return Filter._make("Not", (self,), lambda t, g: ~self._mask(t, g), _logic_pair([self], "Not"))

    # -- Earth Engine's long names (the join conditions' spelling) ----------------------------------
    equals = eq
    notEquals = neq
    lessThan = lt
    lessThanOrEquals = lte
    greaterThan = gt
    greaterThanOrEquals = gte

    @staticmethod
    def maxDifference(
        difference: Any,
        leftField: Any = None,
        rightValue: Any = _UNSET,
        rightField: Any = None,
        leftValue: Any = _UNSET,
    ) -> Filter:
        """Passes when the two numeric operands differ by at most ``difference``.

        As a join condition (``leftField`` of the primary element, ``rightField`` of the secondary)
        the measure is the absolute difference: ``saveBest`` keeps the closest match, and
        ``measureKey`` stores it. Times compare in milliseconds.

        Examples
        --------
        >>> Filter.maxDifference(2, "t", 10)._mask(pd.DataFrame({"t": [7, 8, 12, 13, None]}))
        array([False,  True,  True, False, False])
        """
        d = float(unwrap(difference))
        left, right = _operands("maxDifference", leftField, rightValue, rightField, leftValue)

        def measure(a: np.ndarray, b: np.ndarray) -> np.ndarray:
            with np.errstate(invalid="ignore"):
                return np.abs(_floats(a) - _floats(b))

        return _measured_filter("maxDifference", (difference, left[1], right[1]), left, right, measure, d)

    @staticmethod
    def withinDistance(
        distance: Any,
        leftField: Any = None,
        rightValue: Any = _UNSET,
        rightField: Any = None,
        leftValue: Any = _UNSET,
        maxError: Any = None,
    ) -> Filter:
        """Passes when the two geometries are within ``distance`` metres of each other.

        The operands are geometries: ``'.geo'`` names an element's geometry (an image's footprint);
        a value is an ``ee.Geometry``. Distances are measured in an azimuthal equidistant projection
        centred on the left geometry, exact for points and to well under ``maxError`` (0.1 m in Earth
        Engine) for the short distances joins use. As a join condition the measure is the distance.

        Examples
        --------
        >>> import geopandas as gpd, shapely
        >>> from reducer.geometry import Geometry
        >>> pts = gpd.GeoSeries([shapely.Point(0, 0), shapely.Point(0.01, 0)], crs="EPSG:4326")
        >>> Filter.withinDistance(1000, ".geo", Geometry.Point([0, 0.005]))._mask(pd.DataFrame(index=range(2)), pts)
        array([ True, False])
        """
        d = float(unwrap(distance))
        left, right = _operands("withinDistance", leftField, rightValue, rightField, leftValue)
        for side in (left, right):
            if side[0] == "field" and side[1] != ".geo":
                raise ArgumentError(
                    f"Filter.withinDistance: field {side[1]!r} is not a geometry; use '.geo' for an element's geometry."
                )
        return _measured_filter("withinDistance", (distance, left[1], right[1]), left, right, _distances, d)


def _and_fn(fs: Sequence[Filter]) -> MaskFn:
    def fn(table: pd.DataFrame, geometry: Any) -> np.ndarray:
        out = np.ones(len(table), dtype=bool)
        for f in fs:
            out &= f._mask(table, geometry)
        return out

    return fn


def _filters(args: tuple, where: str) -> list[Filter]:
    items = list(args[0]) if len(args) == 1 and isinstance(args[0], list | tuple) else list(args)
    for f in items:
        if not isinstance(f, Filter):
            raise ArgumentError(f"Filter.{where}: expected ee.Filter objects, got {f!r}.")
    return items


def _describe(a: Any) -> Any:
    if isinstance(a, Filter):
        return a._evaluate()
    if isinstance(a, Date):
        return {"type": "Date", "value": a._evaluate()}
    if isinstance(a, ComputedObject):
        return repr(a)
    return a


# -- join conditions ---------------------------------------------------------------------------


def _operands(
    where: str,
    leftField: Any,
    rightValue: Any,
    rightField: Any,
    leftValue: Any,
    missing_left: str = "missing the left operand. Give leftField='name' (or leftValue=).",
    missing_right: str = "missing the right operand. Give rightField='name' or rightValue=.",
) -> tuple[tuple[str, Any], tuple[str, Any]]:
    """The two operands of a comparison filter, each ``("field", name)`` or ``("value", value)``."""
    if leftField is not None and leftValue is not _UNSET:
        raise ArgumentError(f"Filter.{where}: give leftField or leftValue, not both.")
    if rightValue is not _UNSET and rightField is not None:
        raise ArgumentError(f"Filter.{where}: give rightValue or rightField, not both.")
    if leftField is None and leftValue is _UNSET:
        raise ArgumentError(f"Filter.{where}: {missing_left}")
    if rightValue is _UNSET and rightField is None:
        raise ArgumentError(f"Filter.{where}: {missing_right}")
    left = ("field", str(unwrap(leftField))) if leftField is not None else ("value", leftValue)
    right = ("field", str(unwrap(rightField))) if rightField is not None else ("value", rightValue)
    return left, right


def _floats(x: Any) -> np.ndarray:
    arr = np.asarray(x, dtype=object)
    flat = pd.to_numeric(pd.Series(arr.ravel(), dtype=object), errors="coerce")
    return flat.to_numpy(dtype="float64", na_value=np.nan).reshape(arr.shape)


def _operand_values(op: tuple[str, Any], table: pd.DataFrame, geoms: Any, times: bool) -> Any:
    """An operand's values on a table: a column (len n), the geometries (``'.geo'``) or a scalar."""
    kind, x = op
    n = len(table)
    if kind == "field":
        if x == ".geo":
            if geoms is None:
                return np.full(n, None, dtype=object)
            if getattr(geoms, "crs", None) is not None:
                geoms = geoms.to_crs("EPSG:4326")
            return np.asarray(getattr(geoms, "values", geoms), dtype=object)
        col, _ = _column(table, x)
        return np.full(n, None, dtype=object) if col is None else col
    if isinstance(x, Geometry) or type(x).__module__.startswith("shapely"):
        return as_geometry(x).to_shapely("EPSG:4326")
    v = _resolve(x)
    return _time_value(v) if times else v


def _is_time_field(op: tuple[str, Any], table: pd.DataFrame) -> bool:
    return op[0] == "field" and op[1] != ".geo" and _column(table, op[1])[1]


def _measured_filter(
    name: str,
    shown: tuple,
    left: tuple[str, Any],
    right: tuple[str, Any],
    measure: Callable[[Any, Any], np.ndarray],
    limit: float,
) -> Filter:
    """A filter passing where ``measure(left, right) <= limit``; as a join condition the measure is kept."""

    def fn(table: pd.DataFrame, geometry: Any) -> np.ndarray:
        times = _is_time_field(left, table) or _is_time_field(right, table)
        a = _operand_values(left, table, geometry, times)
        b = _operand_values(right, table, geometry, times)
        m = np.broadcast_to(measure(a, b), (len(table),))
        with np.errstate(invalid="ignore"):
            return np.asarray(m <= limit) & ~np.isnan(m)

    def pair(pt: pd.DataFrame, pg: Any, st: pd.DataFrame, sg: Any) -> tuple[np.ndarray, np.ndarray | None]:
        times = _is_time_field(left, pt) or _is_time_field(right, st)
        a = _operand_values(left, pt, pg, times)
        b = _operand_values(right, st, sg, times)
        a = a[:, None] if np.ndim(a) == 1 else a
        b = b[None, :] if np.ndim(b) == 1 else b
        m = np.broadcast_to(measure(a, b), (len(pt), len(st))).astype("float64")
        with np.errstate(invalid="ignore"):
            return (m <= limit) & ~np.isnan(m), m

    return Filter._make(name, shown, fn, pair)


def _distances(a: Any, b: Any) -> np.ndarray:
    """Metres between geometries (EPSG:4326, broadcast), in an azimuthal equidistant projection on each left one."""
    import shapely
    from pyproj import CRS, Transformer

    A, B = np.broadcast_arrays(np.asarray(a, dtype=object), np.asarray(b, dtype=object))
    out = np.full(A.shape, np.nan)
    flat_a, flat_b = A.ravel(), B.ravel()
    flat_out = out.reshape(-1)
    groups: dict[int, list[int]] = {}
    for k, g in enumerate(flat_a):
        groups.setdefault(id(g), []).append(k)
    for ks in groups.values():
        g = flat_a[ks[0]]
        if g is None or not isinstance(g, shapely.Geometry) or g.is_empty:
            continue
        c = g.centroid
        aeqd = CRS.from_proj4(f"+proj=aeqd +lat_0={c.y} +lon_0={c.x} +datum=WGS84 +units=m")
        tr = Transformer.from_crs("EPSG:4326", aeqd, always_xy=True)

        def to_local(geom: Any, tr: Any = tr) -> Any:
            return shapely.transform(geom, lambda xy: np.column_stack(tr.transform(xy[:, 0], xy[:, 1])))

        others = np.asarray([flat_b[k] for k in ks], dtype=object)
        ok = np.array([isinstance(o, shapely.Geometry) and not o.is_empty for o in others], dtype=bool)
        if ok.any():
            local = to_local(g)
            vals = np.full(len(ks), np.nan)
            vals[ok] = shapely.distance(local, np.asarray([to_local(o) for o in others[ok]], dtype=object))
            flat_out[ks] = vals
    return out


def _binary_pair(kind: str, a: tuple[str, Any], b: tuple[str, Any], primary_index: int) -> PairFn:
    """A comparison as a join condition: the operand ``primary_index`` reads the primary element."""
    ops = (a, b)

    def pair(pt: pd.DataFrame, pg: Any, st: pd.DataFrame, sg: Any) -> tuple[np.ndarray, np.ndarray | None]:
        n_p, n_s = len(pt), len(st)
        p_op, s_op = ops[primary_index], ops[1 - primary_index]
        if p_op[0] != "field":  # nothing read from the primary element
            row = _binary_mask(kind, a, b)(st, sg)
            return np.broadcast_to(row[None, :], (n_p, n_s)).copy(), None
        if s_op[0] != "field":  # nothing read from the secondary element
            col = _binary_mask(kind, a, b)(pt, pg)
            return np.broadcast_to(col[:, None], (n_p, n_s)).copy(), None
        values, _ = _column(pt, p_op[1])
        if values is None:
            values = np.full(n_p, None, dtype=object)
        out = np.zeros((n_p, n_s), dtype=bool)
        cache: dict[Any, np.ndarray] = {}
        for i, v in enumerate(values):
            v = v.item() if isinstance(v, np.generic) else v
            if _is_null(v):
                v = None
            key = (type(v).__name__, repr(v))
            if key not in cache:
                sub = [("value", v) if k == primary_index else ops[k] for k in range(2)]
                cache[key] = _binary_mask(kind, sub[0], sub[1])(st, sg)
            out[i] = cache[key]
        return out, None

    return pair


def _logic_pair(fs: Sequence[Filter], kind: str) -> PairFn | None:
    pairs = [f._pair for f in fs]
    if any(p is None for p in pairs):
        return None

    def pair(pt: pd.DataFrame, pg: Any, st: pd.DataFrame, sg: Any) -> tuple[np.ndarray, np.ndarray | None]:
        results = [p(pt, pg, st, sg) for p in pairs]  # type: ignore[misc]
        measure = next((m for _, m in results if m is not None), None)
        shape = (len(pt), len(st))
        if kind == "Not":
            return ~results[0][0], None
        if kind == "And":
            out = np.ones(shape, dtype=bool)
            for m, _ in results:
                out &= m
        else:
            out = np.zeros(shape, dtype=bool)
            for m, _ in results:
                out |= m
        return out, measure

    return pair


def join_pairs(
    condition: Filter, primary: pd.DataFrame, primary_geoms: Any, secondary: pd.DataFrame, secondary_geoms: Any
) -> tuple[np.ndarray, np.ndarray | None]:
    """Which (primary, secondary) pairs pass a join condition, and the measure of each pair (or None).

    ``leftField`` reads the primary element, ``rightField`` the secondary one (``'.geo'`` is the
    geometry). The measure is the difference for ``maxDifference`` and the distance in metres for
    ``withinDistance``.

    Examples
    --------
    >>> p = pd.DataFrame({"system:index": ["a", "b"]})
    >>> s = pd.DataFrame({"system:index": ["b", "c", "a"]})
    >>> ok, measure = join_pairs(Filter.equals(leftField="system:index", rightField="system:index"), p, None, s, None)
    >>> ok.astype(int).tolist(), measure
    ([[0, 0, 1], [1, 0, 0]], None)
    """
    return check_join_condition(condition)(primary, primary_geoms, secondary, secondary_geoms)


def check_join_condition(condition: Any) -> PairFn:
    """The pair function of a join condition; raises :class:`~reducer.errors.ArgumentError` for other filters.

    Examples
    --------
    >>> check_join_condition(Filter.notNull(["a"]))
    Traceback (most recent call last):
    ...
    reducer.errors.ArgumentError: Join.apply: ee.Filter.notNull(['a']) cannot be a join condition. ...
    """
    if not isinstance(condition, Filter):
        raise ArgumentError(f"Join.apply: the condition must be an ee.Filter, got {condition!r}.")
    if condition._pair is None:
        raise ArgumentError(
            f"Join.apply: {condition!r} cannot be a join condition. Use ee.Filter.equals, notEquals, "
            "lessThan, lessThanOrEquals, greaterThan, greaterThanOrEquals, maxDifference or withinDistance "
            "with leftField (the primary element) and rightField (the secondary), or And/Or/Not of them."
        )
    return condition._pair


# -- string filters ------------------------------------------------------------------------------

_TOKEN = re.compile(
    r"""\s*(?:
      (?P<num>-?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)
    | (?P<str>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
    | (?P<op>==|!=|<=|>=|<|>|&&|\|\||!|\(|\))
    | (?P<name>[A-Za-z_][\w:.\-]*)
    )""",
    re.VERBOSE,
)
_FLIP = {"==": "==", "!=": "!=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}


def _tokens(text: str) -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            raise ArgumentError(
                f"filter string {text!r}: cannot read {text[pos : pos + 20]!r} (at character {pos}). Write comparisons "
                "such as 'name == \"x\" || pop > 10' with ==, !=, <, <=, >, >=, &&, ||, ! and parentheses."
            )
        kind = m.lastgroup
        raw = m.group(kind)  # type: ignore[arg-type]
        if kind == "num":
            value: Any = float(raw) if any(c in raw for c in ".eE") else int(raw)
            out.append(("value", value))
        elif kind == "str":
            out.append(("value", re.sub(r"\\(.)", r"\1", raw[1:-1])))
        elif kind == "name" and raw in ("true", "false", "null"):
            out.append(("value", {"true": True, "false": False, "null": None}[raw]))
        elif kind == "name":
            out.append(("field", raw))
        else:
            out.append(("op", raw))
        pos = m.end()
    return out


def parse_filter(text: str) -> Filter:
    """An ``ee.Filter`` from Earth Engine's filter string, parsed by hand (never evaluated as Python).

    Comparisons ``==``, ``!=``, ``<``, ``<=``, ``>``, ``>=`` between a property (a bare name such as
    ``pop`` or ``system:index``) and a number, a quoted string, ``true``, ``false`` or ``null``, or
    between two properties; combined with ``&&``, ``||``, ``!`` and parentheses.

    Examples
    --------
    >>> t = pd.DataFrame({"name": ["x", "y", "z"], "pop": [5, 20, 1]})
    >>> parse_filter('name == "x" || pop > 10')._mask(t)
    array([ True,  True, False])
    >>> parse_filter("!(pop <= 4) && name != 'y'")._mask(t)
    array([ True, False, False])
    >>> parse_filter("pop >")
    Traceback (most recent call last):
    ...
    reducer.errors.ArgumentError: filter string 'pop >': expected a value or a property name at the end. ...
    """
    toks = _tokens(str(text))
    pos = 0

    def fail(expected: str) -> ArgumentError:
        where = f"at {toks[pos][1]!r}" if pos < len(toks) else "at the end"
        return ArgumentError(
            f"filter string {text!r}: expected {expected} {where}. Write comparisons such as "
            "'name == \"x\" || pop > 10'."
        )

    def peek(value: str) -> bool:
        return pos < len(toks) and toks[pos] == ("op", value)

    def or_() -> Filter:
        nonlocal pos
        parts = [and_()]
        while peek("||"):
            pos += 1
            parts.append(and_())
        return parts[0] if len(parts) == 1 else Filter.Or(*parts)

    def and_() -> Filter:
        nonlocal pos
        parts = [not_()]
        while peek("&&"):
            pos += 1
            parts.append(not_())
        return parts[0] if len(parts) == 1 else Filter.And(*parts)

    def not_() -> Filter:
        nonlocal pos
        if peek("!"):
            pos += 1
            return not_().Not()
        if peek("("):
            pos += 1
            inner = or_()
            if not peek(")"):
                raise fail("')'")
            pos += 1
            return inner
        return comparison()

    def operand() -> tuple[str, Any]:
        nonlocal pos
        if pos >= len(toks) or toks[pos][0] == "op":
            raise fail("a value or a property name")
        tok = toks[pos]
        pos += 1
        return tok

    def comparison() -> Filter:
        nonlocal pos
        left = operand()
        if pos >= len(toks) or toks[pos][0] != "op" or toks[pos][1] not in _FLIP:
            raise fail("a comparison (==, !=, <, <=, >, >=)")
        op = toks[pos][1]
        pos += 1
        right = operand()
        if left[0] == "value" and right[0] == "field":
            left, right, op = right, left, _FLIP[op]
        make = {"==": Filter.eq, "!=": Filter.neq, "<": Filter.lt, "<=": Filter.lte, ">": Filter.gt, ">=": Filter.gte}[
            op
        ]
        if left[0] == "value":
            return make(leftValue=left[1], rightValue=right[1])
        if right[0] == "field":
            return make(leftField=left[1], rightField=right[1])
        return make(leftField=left[1], rightValue=right[1])

    result = or_()
    if pos != len(toks):
        raise fail("'&&', '||' or the end")
    return result


def filter_mask(f: Filter, table: pd.DataFrame, geometry: Any = None) -> np.ndarray:
    """One bool per row of ``table``: whether the row passes ``f`` (``geometry``: a GeoSeries with a CRS, or None).

    Examples
    --------
    >>> filter_mask(Filter.gt("a", 1), pd.DataFrame({"a": [1, 2, 3]})).tolist()
    [False, True, True]
    """
    return f._mask(table, geometry)
