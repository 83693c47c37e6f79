"""Computed values: the :class:`ComputedObject` base and ``ee.Number``/``String``/``List``/``Dictionary``.

Every object of the Earth Engine facade is a :class:`ComputedObject`: immutable, built for free,
and evaluated only by :meth:`ComputedObject.getInfo` (or by the engine through ``_evaluate``).
A value built from another computed value wraps a thunk, a zero-argument function that is
called at most once (:class:`Thunk`).

Conventions for subclasses (images, collections, features):

- ``_evaluate()`` returns the object's value as plain Python (a number, a string, a list, a
  dict, ...; collections may return richer internal values);
- ``_info(value)`` turns that value into what ``getInfo()`` returns (by default :func:`to_info`);
- ``ComputedObject._lazy(thunk)`` builds an instance whose value is ``thunk()``.

Examples
--------
>>> Number(2).add(3).multiply(10).getInfo()
50
>>> List([3, 1, 2]).sort().getInfo()
[1, 2, 3]
>>> Dictionary({"b": 2, "a": 1}).keys().getInfo()
['a', 'b']
"""

from __future__ import annotations

import math
import numbers
import re
import threading
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np

from ._time import to_millis
from .errors import ArgumentError
from .stats.segments import python_value

__all__ = [
    "ComputedObject",
    "Thunk",
    "Number",
    "String",
    "List",
    "Dictionary",
    "to_info",
    "to_json_value",
    "parse_set_args",
    "unwrap",
    "wrap",
    "plain_value",
    "UNSET",
]

UNSET = object()
"""The marker for "no value known yet" (see :meth:`ComputedObject._known`)."""
_UNSET = UNSET


class Thunk:
    """A zero-argument function evaluated at most once, safely across threads.

    Examples
    --------
    >>> calls = []
    >>> t = Thunk(lambda: calls.append(1) or 42)
    >>> t.done
    False
    >>> t(), t(), len(calls)
    (42, 42, 1)
    """

    __slots__ = ("_fn", "_value", "_lock", "done")

    def __init__(self, fn: Callable[[], Any]):
        self._fn = fn
        self._value: Any = None
        self._lock = threading.Lock()
        self.done = False

    @classmethod
    def of(cls, value: Any) -> Thunk:
        """A thunk that is already evaluated to ``value``."""
        t = cls(_no_fn)
        t._value = value
        t._fn = None
        t.done = True
        return t

    def __call__(self) -> Any:
        """The value, computed on the first call."""
        if self.done:
            return self._value
        with self._lock:
            if not self.done:
                self._value = self._fn()
                self._fn = None  # free the closure
                self.done = True
        return self._value

    def peek(self, default: Any = None) -> Any:
        """The value if already evaluated, else ``default``; never evaluates."""
        return self._value if self.done else default


def _no_fn() -> Any:  # pragma: no cover - a placeholder, never called
    raise AssertionError("an evaluated Thunk has no function")


class ComputedObject:
    """Base of every Earth Engine object: immutable, lazy, evaluated by ``getInfo()`` only.

    ``ComputedObject._lazy(thunk)`` is also the generic "object of unknown type" that Earth
    Engine returns from ``Feature.get`` or ``List.get``: cast it with ``Number(...)``,
    ``String(...)`` and so on, as in Earth Engine.

    Examples
    --------
    >>> v = ComputedObject._lazy(lambda: {"a": np.float64("nan"), "b": np.int64(3)})
    >>> v.getInfo()
    {'a': None, 'b': 3}
    >>> Number(v.getInfo()["b"]).getInfo()
    3
    """

    __slots__ = ("_thunk",)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable; its methods return new objects")

    @classmethod
    def _lazy(cls, thunk: Callable[[], Any]) -> Any:
        """An instance whose value is ``thunk()``, computed at most once on first use."""
        obj = cls.__new__(cls)
        object.__setattr__(obj, "_thunk", Thunk(thunk))
        return obj

    @classmethod
    def _of(cls, value: Any) -> Any:
        """An instance whose (already known) value is ``value``; no checks."""
        obj = cls.__new__(cls)
        object.__setattr__(obj, "_thunk", Thunk.of(value))
        return obj

    def _value_thunk(self) -> Thunk:
        """The :class:`Thunk` that gives this object's value (shared by a copy of the object)."""
        thunk = getattr(self, "_thunk", None)
        return thunk if isinstance(thunk, Thunk) else Thunk(self._evaluate)

    def _evaluate(self) -> Any:
        """The object's value as plain Python. Subclasses override this or use ``_lazy``."""
        thunk = getattr(self, "_thunk", None)
        if thunk is None:
            raise NotImplementedError(f"{type(self).__name__} does not implement _evaluate()")
        return thunk()

    def _info(self, value: Any) -> Any:
        """Turn the evaluated value into what ``getInfo()`` returns."""
        return to_info(value)

    def getInfo(self) -> Any:
        """Evaluate and return the value as JSON-like Python (dicts, lists, numbers, strings, None)."""
        return self._info(self._evaluate())

    def aside(self, func: Callable[..., Any], *args: Any) -> Any:
        """Call ``func(self, *args)`` for its side effect and return ``self`` (as Earth Engine)."""
        func(self, *args)
        return self

    def _known(self) -> Any:
        thunk = getattr(self, "_thunk", None)
        return thunk.peek(_UNSET) if isinstance(thunk, Thunk) else _UNSET

    def __repr__(self) -> str:
        value = self._known()
        name = type(self).__name__
        if value is _UNSET:
            return f"ee.{name}(<lazy>)"
        return f"ee.{name}({value!r})"


# -- conversions ------------------------------------------------------------------------------


def to_info(x: Any, sort_keys: bool = False) -> Any:
    """Convert ``x`` to JSON-like Python, as ``getInfo()`` returns it.

    Computed objects are evaluated with their ``getInfo()``; numpy scalars and arrays become
    Python numbers and lists; NaN, ``pd.NA`` and ``NaT`` become None; tuples become lists;
    shapely geometries become GeoJSON dicts. With ``sort_keys`` dict keys are sorted, as Earth
    Engine returns them.

    Examples
    --------
    >>> to_info({"b": np.float32(1.5), "a": [np.int64(2), float("nan")], "c": (1, 2)})
    {'b': 1.5, 'a': [2, None], 'c': [1, 2]}
    >>> to_info({"b": 1, "a": 2}, sort_keys=True)
    {'a': 2, 'b': 1}
    >>> to_info(Number(3))
    3
    """
    if x is None or isinstance(x, str | bool):
        return x
    if isinstance(x, int):
        return int(x)
    if isinstance(x, float):  # np.float64 is a float too
        return None if math.isnan(x) else float(x)
    if isinstance(x, np.bool_):
        return bool(x)
    if isinstance(x, np.integer):
        return int(x)
    if isinstance(x, np.floating):
        return None if np.isnan(x) else float(x)
    if isinstance(x, ComputedObject) or (hasattr(x, "getInfo") and callable(x.getInfo)):
        return x.getInfo()
    if isinstance(x, Mapping):
        items = ((str(k), to_info(v, sort_keys)) for k, v in x.items())
        return dict(sorted(items)) if sort_keys else dict(items)
    if isinstance(x, np.ndarray):
        return [to_info(v, sort_keys) for v in x.tolist()] if x.ndim else to_info(x.item(), sort_keys)
    if isinstance(x, list | tuple | set | frozenset):
        return [to_info(v, sort_keys) for v in x]
    if isinstance(x, np.datetime64):
        if np.isnat(x):
            return None
        return {"type": "Date", "value": int(x.astype("datetime64[ms]").astype("int64"))}
    if type(x).__name__ in ("NAType", "NaTType"):
        return None
    if hasattr(x, "__geo_interface__"):
        return to_info(x.__geo_interface__, sort_keys)
    if hasattr(x, "timestamp") and hasattr(x, "tzinfo"):  # datetime, pandas Timestamp
        return {"type": "Date", "value": to_millis(x)}
    if isinstance(x, numbers.Number):
        return to_info(float(x)) if isinstance(x, numbers.Real) else x
    return x


def to_json_value(v: Any, integer: bool | None = None, sort_keys: bool = False) -> Any:
    """A computed value as plain JSON-like Python, with the rule reducer outputs follow.

    The one rule for turning a reducer's output (a NumPy or Python scalar, NaN, a histogram dict,
    a list, a computed object) into what ``getInfo()`` and exported tables show.

    Parameters
    ----------
    v
        The value.
    integer
        For a number: True gives a Python ``int`` (rounded to the nearest, as :func:`round`; the
        output type of an integer statistic such as ``count``), False a Python ``float``, None
        (the default) keeps the number's kind (an integer stays an ``int``, a float a ``float``).
    sort_keys
        Sort dict keys, as Earth Engine returns them.

    Returns
    -------
    Any
        None for None and for a NaN or infinite number; a Python ``int``, ``float`` or ``bool``
        for a number (or an ``ee.Number``); anything else converted by :func:`to_info`
        (recursively: NumPy scalars become Python numbers, NaN becomes None, tuples become
        lists, computed objects are evaluated). Inside lists and dicts infinities are kept, as
        ``getInfo()`` keeps them.

    Examples
    --------
    >>> to_json_value(np.float32(2.5)), to_json_value(np.float64(2.75), integer=True), to_json_value(np.int64(3))
    (2.5, 3, 3)
    >>> to_json_value(float("nan")), to_json_value(np.inf), to_json_value(None)
    (None, None, None)
    >>> to_json_value({"b": [np.int64(1), float("nan")], "a": (1, 2)}, sort_keys=True)
    {'a': [1, 2], 'b': [1, None]}
    >>> to_json_value(Number(4).divide(2), integer=True)
    2
    """
    if v is None:
        return None
    if isinstance(v, bool | np.bool_):
        return bool(v)
    if isinstance(v, int | np.integer):
        return float(v) if integer is False else int(v)
    if isinstance(v, float | np.floating):
        return python_value(v, bool(integer))  # the statistics core's rule for one number
    if isinstance(v, Number):
        return to_json_value(v._evaluate(), integer, sort_keys)
    return to_info(v, sort_keys)


def unwrap(x: Any) -> Any:
    """The Python value of ``x``: computed objects are evaluated, anything else is returned as is.

    Examples
    --------
    >>> unwrap(Number(2).add(1)), unwrap("a")
    (3, 'a')
    """
    if isinstance(x, ComputedObject):
        return x._evaluate()
    return x


def wrap(x: Any) -> Any:
    """Wrap a Python value in the matching ``ee`` type (computed objects are returned as they are).

    Examples
    --------
    >>> wrap(1), wrap("a"), wrap([1]), wrap({"a": 1})
    (ee.Number(1), ee.String('a'), ee.List([1]), ee.Dictionary({'a': 1}))
    """
    if isinstance(x, ComputedObject):
        return x
    if isinstance(x, bool | np.bool_) or _is_number(x):
        return Number(x)
    if isinstance(x, str):
        return String(x)
    if isinstance(x, list | tuple):
        return List(x)
    if isinstance(x, Mapping):
        return Dictionary(x)
    return ComputedObject._of(x)


def parse_set_args(args: tuple[Any, ...], where: str, evaluate: bool = False) -> dict[str, Any]:
    """The properties given to an Earth Engine ``set``: ``(key, value)``, ``(k1, v1, k2, v2, ...)`` or ``(dict,)``.

    Parameters
    ----------
    args
        The positional arguments of ``set``. A single argument must be a dict (or an ``ee``
        object that evaluates to one, such as an ``ee.Dictionary``); otherwise they are key,
        value pairs. No arguments set nothing, as in Earth Engine's Python client.
    where
        The method's name, for the error message (e.g. ``"Feature.set"``).
    evaluate
        Evaluate ``ee`` objects among the values (with :func:`unwrap`); by default values are
        returned as given.

    Returns
    -------
    dict[str, Any]
        The properties, in the order given; keys are strings (``ee.String`` keys are evaluated).

    Raises
    ------
    ArgumentError
        If the arguments are neither key, value pairs nor a single dictionary.

    Examples
    --------
    >>> parse_set_args(("a", 1, String("b"), 2), "Feature.set")
    {'a': 1, 'b': 2}
    >>> parse_set_args((Dictionary({"a": Number(1)}),), "Image.set", evaluate=True)
    {'a': 1}
    >>> parse_set_args(("a", 1, "b"), "Image.set")
    Traceback (most recent call last):
    ...
    reducer.errors.ArgumentError: Image.set: expected key, value pairs or a dictionary, got ('a', 1, 'b').
    """
    if len(args) == 1:
        props = unwrap(args[0])
        if isinstance(props, Mapping):
            pairs = [(str(k), v) for k, v in props.items()]
            return {k: unwrap(v) for k, v in pairs} if evaluate else dict(pairs)
    if len(args) % 2:
        raise ArgumentError(f"{where}: expected key, value pairs or a dictionary, got {args!r}.")
    pairs = [(str(unwrap(args[i])), args[i + 1]) for i in range(0, len(args), 2)]
    return {k: unwrap(v) for k, v in pairs} if evaluate else dict(pairs)


def plain_value(x: Any) -> Any:
    """Evaluate the value wrappers, keep other computed objects (features, dates) as objects."""
    if isinstance(x, Number | String | List | Dictionary) or type(x) is ComputedObject:
        return x._evaluate()
    return x


def _is_number(x: Any) -> bool:
    return isinstance(x, numbers.Real | np.number) and not isinstance(x, bool | np.bool_)


def _py_number(x: Any) -> int | float:
    if isinstance(x, bool | np.bool_):
        return int(x)
    if isinstance(x, numbers.Integral | np.integer):
        return int(x)
    return float(x)


def _lazy_checked(cls: type, value: Any, check: Callable[[Any], Any]) -> Any:
    """``cls`` over ``value``: checked now when known, else when evaluated.

    A computed object that evaluates to null stays null: ``ee.Number(f.get('missing'))`` is a cast, as
    in Earth Engine, and gives None (``ee.Number(None)`` itself is an error).
    """
    if isinstance(value, cls):
        return value._thunk
    if isinstance(value, ComputedObject):
        return Thunk(lambda: None if (v := plain_value(value)) is None else check(v))
    return Thunk.of(check(value))


# -- Number -----------------------------------------------------------------------------------


def _check_number(x: Any) -> int | float:
    if isinstance(x, Number):
        x = x._evaluate()
    if isinstance(x, bool | np.bool_) or _is_number(x):
        return _py_number(x)
    raise ArgumentError(
        f"ee.Number: expected a number, got {x!r}. Give an int or a float (use ee.Number.parse for strings)."
    )


def _num(x: Any) -> int | float:
    return _check_number(plain_value(x))


class Number(ComputedObject):
    """``ee.Number``: a number, possibly computed.

    Parameters
    ----------
    number
        An int, a float, a numpy number, or a computed object that evaluates to a number.

    Examples
    --------
    >>> Number(7).divide(2).getInfo()
    3.5
    >>> Number(1).divide(0).getInfo()  # Earth Engine returns 0 for a division by zero
    0
    >>> Number(2.5).round().getInfo(), Number(-7.5).int().getInfo()
    (3, -7)
    >>> Number(3).gt(2).getInfo()
    1
    >>> Number("3")
    Traceback (most recent call last):
    ...
    reducer.errors.ArgumentError: ee.Number: expected a number, got '3'. ...
    """

    __slots__ = ()

    def __init__(self, number: Any):
        object.__setattr__(self, "_thunk", _lazy_checked(Number, number, _check_number))

    def _unary(self, fn: Callable[[Any], Any]) -> Number:
        return Number._lazy(lambda: fn(self._evaluate()))

    def _binary(self, other: Any, fn: Callable[[Any, Any], Any]) -> Number:
        if not isinstance(other, ComputedObject):
            _check_number(other)
        return Number._lazy(lambda: fn(self._evaluate(), _num(other)))

    @staticmethod
    def parse(input: Any, radix: int = 10) -> Number:
        """Parse a string into a number.

        Examples
        --------
        >>> Number.parse("2.5").getInfo(), Number.parse("ff", 16).getInfo()
        (2.5, 255)
        """

        def run() -> int | float:
            s = str(plain_value(input)).strip()
            try:
                if int(radix) != 10:
                    return int(s, int(radix))
                return int(s) if re.fullmatch(r"[+-]?\d+", s) else float(s)
            except ValueError:
                raise ArgumentError(f"ee.Number.parse: cannot read {s!r} as a number in base {radix}.") from None

        return Number._lazy(run)

    def add(self, right: Any) -> Number:
        """``self + right``."""
        return self._binary(right, lambda a, b: a + b)

    def subtract(self, right: Any) -> Number:
        """``self - right``."""
        return self._binary(right, lambda a, b: a - b)

    def multiply(self, right: Any) -> Number:
        """``self * right``."""
        return self._binary(right, lambda a, b: a * b)

    def divide(self, right: Any) -> Number:
        """``self / right`` (true division); 0 when ``right`` is 0, as Earth Engine."""
        return self._binary(right, lambda a, b: 0 if b == 0 else a / b)

    def mod(self, right: Any) -> Number:
        """Remainder of ``self / right`` with the sign of ``self`` (Java's ``%``)."""
        return self._binary(right, _mod)

    def pow(self, right: Any) -> Number:
        """``self ** right``."""
        return self._binary(right, lambda a, b: float("nan") if a < 0 and not float(b).is_integer() else a**b)

    def min(self, right: Any) -> Number:
        """The smaller of ``self`` and ``right``."""
        return self._binary(right, min)

    def max(self, right: Any) -> Number:
        """The larger of ``self`` and ``right``."""
        return self._binary(right, max)

    def eq(self, right: Any) -> Number:
        """1 if ``self == right`` else 0."""
        return self._binary(right, lambda a, b: int(a == b))

    def neq(self, right: Any) -> Number:
        """1 if ``self != right`` else 0."""
        return self._binary(right, lambda a, b: int(a != b))

    def lt(self, right: Any) -> Number:
        """1 if ``self < right`` else 0."""
        return self._binary(right, lambda a, b: int(a < b))

    def lte(self, right: Any) -> Number:
        """1 if ``self <= right`` else 0."""
        return self._binary(right, lambda a, b: int(a <= b))

    def gt(self, right: Any) -> Number:
        """1 if ``self > right`` else 0."""
        return self._binary(right, lambda a, b: int(a > b))

    def gte(self, right: Any) -> Number:
        """1 if ``self >= right`` else 0."""
        return self._binary(right, lambda a, b: int(a >= b))

    def sqrt(self) -> Number:
        """Square root (NaN, hence None in ``getInfo``, for negative numbers)."""
        return self._unary(lambda a: math.sqrt(a) if a >= 0 else float("nan"))

    def abs(self) -> Number:
        """Absolute value."""
        return self._unary(abs)

    def round(self) -> Number:
        """The nearest integer, halves rounded up (Java's ``Math.round``): 2.5 -> 3, -2.5 -> -2."""
        return self._unary(lambda a: _finite_int(math.floor(a + 0.5), a))

    def floor(self) -> Number:
        """The largest integer <= ``self``."""
        return self._unary(lambda a: _finite_int(math.floor(a), a))

    def ceil(self) -> Number:
        """The smallest integer >= ``self``."""
        return self._unary(lambda a: _finite_int(math.ceil(a), a))

    def int(self) -> Number:
        """Cast to a signed 32-bit integer, truncating toward zero (wraps around on overflow)."""
        return self._unary(_to_int32)

    def toInt(self) -> Number:
        """Same as :meth:`int`."""
        return self.int()

    def float(self) -> Number:
        """Cast to a float."""
        return self._unary(float)

    def toFloat(self) -> Number:
        """Same as :meth:`float`."""
        return self.float()

    def format(self, pattern: str = "%s") -> String:
        """Format with a printf-style ``pattern`` (Java's ``String.format``).

        Examples
        --------
        >>> Number(3.14159).format("%.2f").getInfo(), Number(42).format("%05d").getInfo()
        ('3.14', '00042')
        >>> Number(1234567).format("%,d").getInfo()
        '1,234,567'
        """
        return String._lazy(lambda: _printf(plain_value(pattern), self._evaluate()))


def _mod(a: int | float, b: int | float) -> int | float:
    if b == 0:
        return 0
    if isinstance(a, float) or isinstance(b, float):
        return math.fmod(a, b)
    r = abs(a) % abs(b)
    return -r if a < 0 else r


def _finite_int(value: float, original: float) -> int | float:
    if isinstance(original, float) and not math.isfinite(original):
        return original
    return int(value)


def _to_int32(a: int | float) -> int:
    if isinstance(a, float):
        if math.isnan(a):
            return 0
        if math.isinf(a):
            return 2**31 - 1 if a > 0 else -(2**31)
        if abs(a) >= 2**31:  # Java's (int) cast of a double saturates
            return 2**31 - 1 if a > 0 else -(2**31)
        a = int(a)
    return (a + 2**31) % 2**32 - 2**31


_PRINTF = re.compile(
    r"^(?P<pre>[^%]*)%(?P<flags>[#\-+ 0,(]*)(?P<width>\d+)?(?:\.(?P<prec>\d+))?"
    r"(?P<conv>[sdoxXeEfgGaA])(?P<post>[^%]*)$"
)


def _printf(pattern: str, value: int | float) -> str:
    m = _PRINTF.match(str(pattern))
    if m is None:
        raise ArgumentError(
            f"Number.format: {pattern!r} is not a printf pattern with exactly one conversion. "
            "Give something like '%s', '%.2f', '%05d' or '%,d'."
        )
    flags, width, prec, conv = m["flags"], m["width"] or "", m["prec"], m["conv"]
    if conv == "s":
        body = str(value)
        if prec is not None:
            body = body[: int(prec)]
        body = body.rjust(int(width)) if width and "-" not in flags else body.ljust(int(width or 0))
    elif conv in "aA":
        body = float(value).hex()
        body = body.upper() if conv == "A" else body
    else:
        if conv in "doxX":
            if isinstance(value, float) and not value.is_integer():
                raise ArgumentError(
                    f"Number.format: {pattern!r} needs an integer, got {value!r}. Use '%.0f' or .int()."
                )
            value = int(value)
        spec_flags = flags.replace("(", "").replace("#", "#" if conv in "oxX" else "")
        fill_align = ""
        if "-" in spec_flags:
            fill_align = "<"
        elif "0" in spec_flags:
            fill_align = "0"
        sign = "+" if "+" in spec_flags else (" " if " " in spec_flags else "")
        alt = "#" if "#" in spec_flags else ""
        group = "," if "," in spec_flags else ""
        precision = f".{prec}" if prec is not None and conv not in "doxX" else ""
        py_conv = {"d": "d", "o": "o", "x": "x", "X": "X", "e": "e", "E": "E", "f": "f", "g": "g", "G": "G"}[conv]
        if fill_align == "0":
            spec = f"{sign}{alt}0{width}{group}{precision}{py_conv}"
        else:
            spec = f"{fill_align}{sign}{alt}{width}{group}{precision}{py_conv}"
        body = format(value, spec)
        if "(" in flags and value < 0:
            body = "(" + body.replace("-", "", 1) + ")"
    return f"{m['pre']}{body}{m['post']}"


# -- String -----------------------------------------------------------------------------------


def _check_string(x: Any) -> str:
    if isinstance(x, String):
        x = x._evaluate()
    if isinstance(x, str):
        return x
    raise ArgumentError(f"ee.String: expected a string, got {x!r}. Convert it first, e.g. ee.Number(x).format().")


def _str(x: Any) -> str:
    return _check_string(plain_value(x))


class String(ComputedObject):
    """``ee.String``: a string, possibly computed.

    Examples
    --------
    >>> String("abc").cat("def").slice(2, -1).getInfo()
    'cde'
    >>> String("a").compareTo("b").getInfo(), String("").length().getInfo()
    (-1, 0)
    """

    __slots__ = ()

    def __init__(self, string: Any):
        object.__setattr__(self, "_thunk", _lazy_checked(String, string, _check_string))

    def _op(self, fn: Callable[[str], Any], cls: type | None = None) -> Any:
        return (cls or String)._lazy(lambda: fn(self._evaluate()))

    def cat(self, string2: Any) -> String:
        """The concatenation of ``self`` and ``string2``."""
        return self._op(lambda s: s + _str(string2))

    def length(self) -> Number:
        """The number of characters."""
        return self._op(len, Number)

    def slice(self, start: Any, end: Any = None) -> String:
        """Characters ``start`` (inclusive) to ``end`` (exclusive); negative indices count from the end."""
        return self._op(lambda s: s[int(_num(start)) : None if end is None else int(_num(end))])

    def compareTo(self, string2: Any) -> Number:
        """-1, 0 or 1 as ``self`` sorts before, equal to or after ``string2``."""
        return self._op(lambda s: (s > (o := _str(string2))) - (s < o), Number)

    def equals(self, target: Any) -> Number:
        """True if ``target`` is an equal string (a Boolean, as Earth Engine)."""
        return self._op(lambda s: s == plain_value(target), Number)

    def toUpperCase(self) -> String:
        """Upper case."""
        return self._op(str.upper)

    def toLowerCase(self) -> String:
        """Lower case."""
        return self._op(str.lower)

    def trim(self) -> String:
        """Without leading and trailing whitespace."""
        return self._op(str.strip)

    def index(self, pattern: Any) -> Number:
        """The first index of ``pattern``, or -1."""
        return self._op(lambda s: s.find(_str(pattern)), Number)

    def split(self, regex: Any, flags: str = "") -> List:
        """Split on a regular expression."""
        return self._op(lambda s: re.split(_str(regex), s, flags=_re_flags(flags)), List)

    def replace(self, regex: Any, replacement: Any, flags: str = "") -> String:
        """Replace the first match of ``regex`` (all matches with ``flags='g'``)."""

        def run(s: str) -> str:
            count = 0 if "g" in flags else 1
            repl = re.sub(r"\$(\d)", r"\\\1", _str(replacement))
            return re.sub(_str(regex), repl, s, count=count, flags=_re_flags(flags))

        return self._op(run)


def _re_flags(flags: str) -> int:
    return re.IGNORECASE if "i" in flags else 0


# -- List -------------------------------------------------------------------------------------


def _check_list(x: Any) -> list:
    if isinstance(x, List):
        x = x._evaluate()
    if isinstance(x, np.ndarray):
        return x.tolist()
    if isinstance(x, list | tuple):
        return list(x)
    raise ArgumentError(f"ee.List: expected a list, got {x!r}. Give a Python list or tuple.")


def _lst(x: Any) -> list:
    return _check_list(plain_value(x))


def _sort_key(x: Any) -> tuple:
    x = plain_value(x)
    if x is None:
        return (2, 0)
    if isinstance(x, str):
        return (1, x)
    if _is_number(x) or isinstance(x, bool):
        return (0, x)
    return (3, repr(x))


class List(ComputedObject):
    """``ee.List``: a list, possibly computed. Elements may be plain values or computed objects.

    Examples
    --------
    >>> lst = List([1, [2, 3], 4])
    >>> lst.flatten().getInfo(), lst.get(-1).getInfo(), lst.size().getInfo()
    ([1, 2, 3, 4], 4, 3)
    >>> List([1, 2, 3]).map(lambda x: Number(x).multiply(2)).getInfo()
    [2, 4, 6]
    >>> List([]).reverse().getInfo()
    []
    """

    __slots__ = ()

    def __init__(self, list: Any):  # noqa: A002 - Earth Engine's argument name
        object.__setattr__(self, "_thunk", _lazy_checked(List, list, _check_list))

    def _op(self, fn: Callable[[list], Any], cls: type | None = None) -> Any:
        return (cls or List)._lazy(lambda: fn(self._evaluate()))

    @staticmethod
    def sequence(start: Any, end: Any = None, step: Any = 1, count: Any = None) -> List:
        """Numbers from ``start`` to ``end`` (inclusive) by ``step``, or ``count`` numbers.

        Examples
        --------
        >>> List.sequence(1, 5, 2).getInfo(), List.sequence(0, None, 5, 3).getInfo()
        ([1, 3, 5], [0, 5, 10])
        """

        def run() -> list:
            a, s = _num(start), _num(step)
            if s == 0:
                raise ArgumentError("List.sequence: step is 0. Give a non-zero step.")
            if count is not None:
                return [a + i * s for i in range(int(_num(count)))]
            if end is None:
                raise ArgumentError("List.sequence: give end or count.")
            b = _num(end)
            n = int(math.floor((b - a) / s + 1e-9)) + 1
            return [a + i * s for i in range(max(n, 0))]

        return List._lazy(run)

    @staticmethod
    def repeat(value: Any, count: Any) -> List:
        """``value`` repeated ``count`` times."""
        return List._lazy(lambda: [plain_value(value)] * int(_num(count)))

    def get(self, index: Any) -> ComputedObject:
        """The element at ``index`` (negative counts from the end); cast it with ``ee.Number(...)`` etc."""

        def run() -> Any:
            values, i = self._evaluate(), int(_num(index))
            if not -len(values) <= i < len(values):
                raise ArgumentError(
                    f"List.get: index {i} is out of range for a list of {len(values)} elements. "
                    "Check the index or the list's size()."
                )
            return values[i]

        return ComputedObject._lazy(run)

    def getNumber(self, index: Any) -> Number:
        """The element at ``index`` as a Number."""
        return Number(self.get(index))

    def getString(self, index: Any) -> String:
        """The element at ``index`` as a String."""
        return String(self.get(index))

    def length(self) -> Number:
        """The number of elements."""
        return self._op(len, Number)

    def size(self) -> Number:
        """The number of elements."""
        return self.length()

    def add(self, element: Any) -> List:
        """A new list with ``element`` appended."""
        return self._op(lambda v: [*v, plain_value(element)])

    def cat(self, other: Any) -> List:
        """The concatenation with ``other``."""
        return self._op(lambda v: [*v, *_lst(other)])

    def map(self, baseAlgorithm: Callable[[Any], Any], dropNulls: bool = False) -> List:
        """Apply ``baseAlgorithm`` to each element (given as an ``ee`` object) when evaluated."""

        def run(values: list) -> list:
            out = [plain_value(baseAlgorithm(wrap(v))) for v in values]
            return [v for v in out if v is not None] if dropNulls else out

        return self._op(run)

    def slice(self, start: Any, end: Any = None, step: Any = None) -> List:
        """Elements ``start`` (inclusive) to ``end`` (exclusive); negative indices count from the end."""
        return self._op(
            lambda v: v[
                int(_num(start)) : None if end is None else int(_num(end)) : None if step is None else int(_num(step))
            ]
        )

    def sort(self, keys: Any = None) -> List:
        """Sorted ascending (numbers before strings); by ``keys`` when given."""

        def run(values: list) -> list:
            if keys is None:
                return sorted(values, key=_sort_key)
            k = _lst(keys)
            if len(k) != len(values):
                raise ArgumentError(f"List.sort: keys has {len(k)} elements but the list has {len(values)}.")
            order = sorted(range(len(values)), key=lambda i: _sort_key(k[i]))
            return [values[i] for i in order]

        return self._op(run)

    def reverse(self) -> List:
        """The list in reverse order."""
        return self._op(lambda v: v[::-1])

    def contains(self, element: Any) -> Number:
        """True if ``element`` is in the list (a Boolean, as Earth Engine)."""
        return self._op(lambda v: plain_value(element) in [plain_value(x) for x in v], Number)

    def indexOf(self, element: Any) -> Number:
        """The first index of ``element``, or -1."""

        def run(values: list) -> int:
            target = plain_value(element)
            return next((i for i, x in enumerate(values) if plain_value(x) == target), -1)

        return self._op(run, Number)

    def distinct(self) -> List:
        """The list without duplicates, first occurrences kept."""

        def run(values: list) -> list:
            out: list = []
            for v in values:
                if v not in out:
                    out.append(v)
            return out

        return self._op(run)

    def flatten(self) -> List:
        """Sublists flattened, recursively."""
        return self._op(lambda v: list(_flatten(v)))

    def join(self, separator: str = "") -> String:
        """The elements as strings, joined by ``separator``."""
        return self._op(lambda v: _str(separator).join(str(to_info(x)) for x in v), String)

    def zip(self, other: Any) -> List:
        """Pairs of elements, as long as the shorter list."""
        return self._op(lambda v: [list(p) for p in zip(v, _lst(other), strict=False)])

    def unzip(self) -> List:
        """The transpose of a list of lists, as long as the shortest inner list.

        Examples
        --------
        >>> List([[1, "a"], [2, "b", "x"]]).unzip().getInfo()
        [[1, 2], ['a', 'b']]
        """
        return self._op(lambda v: [list(p) for p in zip(*[_lst(x) for x in v], strict=False)])

    def iterate(self, function: Callable[[Any, Any], Any], first: Any) -> ComputedObject:
        """Fold ``function(element, previous)`` over the list, starting from ``first`` (lazy).

        Examples
        --------
        >>> List([1, 2, 3]).iterate(lambda x, acc: Number(acc).add(x), 10).getInfo()
        16
        """

        def run() -> Any:
            acc = first
            for v in self._evaluate():
                acc = function(wrap(v), acc)
            return plain_value(acc)

        return ComputedObject._lazy(run)

    def reduce(self, reducer: Any) -> ComputedObject:
        """Apply an ``ee.Reducer``: its output for a single-output reducer, else ``{output: value}``.

        Examples
        --------
        >>> from reducer.reducers import Reducer
        >>> List([1, 2, 3, 4]).reduce(Reducer.sum()).getInfo()
        10
        """
        if not callable(getattr(reducer, "reduce_list", None)):
            raise ArgumentError(f"List.reduce: expected an ee.Reducer such as ee.Reducer.sum(), got {reducer!r}.")
        return ComputedObject._lazy(lambda: reducer.reduce_list([plain_value(v) for v in self._evaluate()]))

    def containsAll(self, other: Any) -> Number:
        """True if every element of ``other`` is in the list."""
        return self._op(lambda v: all(x in [plain_value(y) for y in v] for x in map(plain_value, _lst(other))), Number)

    def equals(self, other: Any) -> Number:
        """True if ``other`` has the same elements in the same order."""
        return self._op(lambda v: to_info(v) == to_info(_lst(other)), Number)

    def frequency(self, element: Any) -> Number:
        """How many elements equal ``element``."""
        return self._op(lambda v: sum(1 for x in v if plain_value(x) == plain_value(element)), Number)

    def indexOfSublist(self, target: Any) -> Number:
        """The first index where ``target`` starts in the list, or -1.

        Examples
        --------
        >>> lst = List([1, 2, 3, 2, 3])
        >>> lst.indexOfSublist([2, 3]).getInfo(), lst.lastIndexOfSubList([2, 3]).getInfo()
        (1, 3)
        """
        return self._op(lambda v: _sublist(v, _lst(target), last=False), Number)

    def lastIndexOfSubList(self, target: Any) -> Number:
        """The last index where ``target`` starts in the list, or -1."""
        return self._op(lambda v: _sublist(v, _lst(target), last=True), Number)

    def insert(self, index: Any, element: Any) -> List:
        """``element`` inserted at ``index`` (negative counts from the end)."""

        def run(v: list) -> list:
            i = _index(len(v), int(_num(index)), "List.insert", end_ok=True)
            return [*v[:i], plain_value(element), *v[i:]]

        return self._op(run)

    def set(self, index: Any, element: Any) -> List:
        """The element at ``index`` replaced by ``element`` (negative counts from the end)."""

        def run(v: list) -> list:
            i = _index(len(v), int(_num(index)), "List.set")
            return [*v[:i], plain_value(element), *v[i + 1 :]]

        return self._op(run)

    def remove(self, element: Any) -> List:
        """Without the first occurrence of ``element``."""

        def run(v: list) -> list:
            target = plain_value(element)
            i = next((k for k, x in enumerate(v) if plain_value(x) == target), None)
            return v if i is None else [*v[:i], *v[i + 1 :]]

        return self._op(run)

    def removeAll(self, other: Any) -> List:
        """Without every element that is in ``other``."""
        return self._op(lambda v: [x for x in v if plain_value(x) not in [plain_value(o) for o in _lst(other)]])

    def replace(self, oldval: Any, newval: Any) -> List:
        """The first occurrence of ``oldval`` replaced by ``newval``."""

        def run(v: list) -> list:
            old = plain_value(oldval)
            i = next((k for k, x in enumerate(v) if plain_value(x) == old), None)
            return v if i is None else [*v[:i], plain_value(newval), *v[i + 1 :]]

        return self._op(run)

    def replaceAll(self, oldval: Any, newval: Any) -> List:
        """Every occurrence of ``oldval`` replaced by ``newval``.

        Examples
        --------
        >>> List([1, 2, 1]).replaceAll(1, 0).getInfo(), List([1, 2, 1]).replace(1, 0).getInfo()
        ([0, 2, 0], [0, 2, 1])
        """
        old = plain_value(oldval)
        return self._op(lambda v: [plain_value(newval) if plain_value(x) == old else x for x in v])

    def rotate(self, distance: Any) -> List:
        """The elements rotated ``distance`` places to the right (left when negative).

        Examples
        --------
        >>> List([1, 2, 3, 4]).rotate(1).getInfo(), List([1, 2, 3, 4]).rotate(-1).getInfo()
        ([4, 1, 2, 3], [2, 3, 4, 1])
        """

        def run(v: list) -> list:
            if not v:
                return v
            d = int(_num(distance)) % len(v)
            return v[len(v) - d :] + v[: len(v) - d]

        return self._op(run)

    def splice(self, start: Any, count: Any, other: Any = None) -> List:
        """``count`` elements removed from ``start`` and the elements of ``other`` inserted there.

        Examples
        --------
        >>> List([1, 2, 3, 4]).splice(1, 2, ["a"]).getInfo()
        [1, 'a', 4]
        """

        def run(v: list) -> list:
            i = _index(len(v), int(_num(start)), "List.splice", end_ok=True)
            return [*v[:i], *(_lst(other) if other is not None else []), *v[i + int(_num(count)) :]]

        return self._op(run)

    def swap(self, pos1: Any, pos2: Any) -> List:
        """The elements at ``pos1`` and ``pos2`` swapped (negative counts from the end)."""

        def run(v: list) -> list:
            i, j = _index(len(v), int(_num(pos1)), "List.swap"), _index(len(v), int(_num(pos2)), "List.swap")
            out = list(v)
            out[i], out[j] = out[j], out[i]
            return out

        return self._op(run)

    def shuffle(self, seed: Any = None) -> List:
        """The elements in a random order, the same for the same ``seed`` (``seed=False``: a new order each time).

        The permutation is numpy's (``default_rng(seed).permutation``), not Earth Engine's: the same
        seed gives a different order than in Earth Engine.
        """

        def run(v: list) -> list:
            s = plain_value(seed)
            rng = np.random.default_rng(None if s is False else int(_num(s)) if s is not None else 0)
            return [v[i] for i in rng.permutation(len(v))]

        return self._op(run)


def _index(n: int, i: int, where: str, end_ok: bool = False) -> int:
    """``i`` as an index into a list of ``n`` (negative from the end); ``end_ok`` allows ``n`` (insert at the end)."""
    k = i + n if i < 0 else i
    if not 0 <= k < n + (1 if end_ok else 0):
        raise ArgumentError(f"{where}: index {i} is out of range for a list of {n} positions. Check the index.")
    return k


def _sublist(values: list, target: list, last: bool) -> int:
    v, t = to_info(values), to_info(target)
    starts = range(len(v) - len(t), -1, -1) if last else range(len(v) - len(t) + 1)
    return next((i for i in starts if v[i : i + len(t)] == t), -1)


def _flatten(values: Iterable) -> Iterable:
    for v in values:
        v = plain_value(v)
        if isinstance(v, list | tuple):
            yield from _flatten(v)
        else:
            yield v


# -- Dictionary -------------------------------------------------------------------------------


def _check_dict(x: Any) -> dict:
    if isinstance(x, Dictionary):
        x = x._evaluate()
    if x is None:
        return {}
    if isinstance(x, Mapping):
        return {str(k): v for k, v in sorted(x.items(), key=lambda kv: str(kv[0]))}
    raise ArgumentError(f"ee.Dictionary: expected a dict, got {x!r}. Give a Python dict.")


def _dct(x: Any) -> dict:
    return _check_dict(plain_value(x))


class Dictionary(ComputedObject):
    """``ee.Dictionary``: string keys to values, kept sorted by key as Earth Engine returns them.

    Examples
    --------
    >>> d = Dictionary({"b": 2, "a": 1})
    >>> d.getInfo()
    {'a': 1, 'b': 2}
    >>> d.set("c", 3).combine({"a": 10}).values().getInfo()
    [10, 2, 3]
    >>> d.get("z", 0).getInfo()
    0
    """

    __slots__ = ()

    def __init__(self, input: Any = None):  # noqa: A002 - Earth Engine's argument name
        object.__setattr__(self, "_thunk", _lazy_checked(Dictionary, input, _check_dict))

    def _op(self, fn: Callable[[dict], Any], cls: type | None = None) -> Any:
        return (cls or Dictionary)._lazy(lambda: fn(self._evaluate()))

    def _info(self, value: Any) -> Any:
        return to_info(value, sort_keys=True)

    @staticmethod
    def fromLists(keys: Any, values: Any) -> Dictionary:
        """A dictionary from a list of keys and a list of values."""

        def run() -> dict:
            k, v = _lst(keys), _lst(values)
            if len(k) != len(v):
                raise ArgumentError(f"Dictionary.fromLists: {len(k)} keys but {len(v)} values.")
            return _check_dict(dict(zip([_str(x) for x in k], v, strict=True)))

        return Dictionary._lazy(run)

    def get(self, key: Any, defaultValue: Any = None) -> ComputedObject:
        """The value at ``key``; ``defaultValue`` when absent (an error when absent and no default)."""

        def run() -> Any:
            d, k = self._evaluate(), _str(key)
            if k in d:
                return d[k]
            if defaultValue is not None:
                return plain_value(defaultValue)
            raise ArgumentError(
                f"Dictionary.get: key {k!r} not found; keys are {sorted(d)!r}. Give a defaultValue or check the key."
            )

        return ComputedObject._lazy(run)

    def getNumber(self, key: Any) -> Number:
        """The value at ``key`` as a Number."""
        return Number(self.get(key))

    def getString(self, key: Any) -> String:
        """The value at ``key`` as a String."""
        return String(self.get(key))

    def keys(self) -> List:
        """The keys, sorted."""
        return self._op(lambda d: list(d), List)

    def values(self, keys: Any = None) -> List:
        """The values, in key order (or for ``keys``)."""
        if keys is None:
            return self._op(lambda d: list(d.values()), List)
        return self._op(lambda d: [d[_str(k)] for k in _lst(keys)], List)

    def contains(self, key: Any) -> Number:
        """True if ``key`` is present (a Boolean, as Earth Engine)."""
        return self._op(lambda d: _str(key) in d, Number)

    def set(self, key: Any, value: Any) -> Dictionary:
        """A new dictionary with ``key`` set to ``value``."""
        return self._op(lambda d: _check_dict({**d, _str(key): plain_value(value)}))

    def size(self) -> Number:
        """The number of entries."""
        return self._op(len, Number)

    def combine(self, second: Any, overwrite: bool = True) -> Dictionary:
        """Both dictionaries; on duplicate keys ``second`` wins unless ``overwrite`` is False.

        A null value is ignored where the other dictionary has a value for its key, and kept where
        it has none, so that the keys of a ``reduceRegion`` without valid pixels survive (and a
        ``rename`` after it works), as in Earth Engine.

        Examples
        --------
        >>> Dictionary({"a": None}).combine({"b": 1}).getInfo()
        {'a': None, 'b': 1}
        >>> Dictionary({"a": 1}).combine({"a": None}).getInfo()
        {'a': 1}
        """

        def run(d: dict) -> dict:
            other = _dct(second)
            first, last = (d, other) if overwrite else (other, d)
            out = dict(first)
            for k, v in last.items():  # a null never replaces a value; a key with a null is kept
                if v is not None or k not in out:
                    out[k] = v
            return _check_dict(out)

        return self._op(run)

    def select(self, selectors: Any, ignoreMissing: bool = False) -> Dictionary:
        """Only the keys named or matched (full regex match) by ``selectors``."""

        def run(d: dict) -> dict:
            sel = [_str(s) for s in (_lst(selectors) if not isinstance(plain_value(selectors), str) else [selectors])]
            out = {}
            for s in sel:
                hits = [k for k in d if k == s or re.fullmatch(s, k)]
                if not hits and not ignoreMissing:
                    raise ArgumentError(f"Dictionary.select: {s!r} matches no key of {sorted(d)!r}.")
                out.update({k: d[k] for k in hits})
            return _check_dict(out)

        return self._op(run)

    def remove(self, selectors: Any, ignoreMissing: bool = False) -> Dictionary:
        """Without the keys in ``selectors``."""

        def run(d: dict) -> dict:
            sel = [_str(s) for s in _lst(selectors)]
            missing = [s for s in sel if s not in d]
            if missing and not ignoreMissing:
                raise ArgumentError(f"Dictionary.remove: keys {missing!r} not found; keys are {sorted(d)!r}.")
            return {k: v for k, v in d.items() if k not in sel}

        return self._op(run)

    def rename(self, from_: Any, to: Any, overwrite: bool = False) -> Dictionary:
        """Keys in ``from_`` renamed to the matching names in ``to``."""

        def run(d: dict) -> dict:
            src, dst = [_str(s) for s in _lst(from_)], [_str(s) for s in _lst(to)]
            if len(src) != len(dst):
                raise ArgumentError(f"Dictionary.rename: {len(src)} names to rename but {len(dst)} new names.")
            out = {k: v for k, v in d.items() if k not in src}
            for a, b in zip(src, dst, strict=True):
                if a not in d:
                    raise ArgumentError(f"Dictionary.rename: key {a!r} not found; keys are {sorted(d)!r}.")
                if b in out and not overwrite:
                    raise ArgumentError(f"Dictionary.rename: key {b!r} exists; pass overwrite=True.")
                out[b] = d[a]
            return _check_dict(out)

        return self._op(run)

    def map(self, baseAlgorithm: Callable[[Any, Any], Any]) -> Dictionary:
        """``baseAlgorithm(key, value)`` for each entry, when evaluated."""
        return self._op(lambda d: {k: plain_value(baseAlgorithm(String(k), wrap(v))) for k, v in d.items()})
