"""The one place computed arguments are resolved: every public facade call goes through :func:`resolve_arguments`.

In Earth Engine every argument may be a computed object: ``col.toList(col.size())``,
``reduceRegion(scale=img.projection().nominalScale())``, ``select(ee.List(a), ee.List(b))``,
``copyProperties(src, src.propertyNames())``. The facades decorate their public methods with
:func:`resolve_arguments` (or a whole class with :func:`resolve_class`), so that no method needs to
know which of its arguments may be computed:

- Earth Engine's keyword names are accepted (the Python client's ``opt_`` prefix dropped, and the
  aliases a class declares, e.g. ``ee.Feature(geom=...)``), and an unknown keyword raises Earth
  Engine's error (:class:`~reducer.errors.ArgumentError`);
- computed *values* (``ee.Number``, ``ee.String``, ``ee.List``, ``ee.Dictionary`` and the untyped
  objects that ``get`` returns), also inside lists and dicts, become plain Python (:func:`resolve`);
  images, features, geometries, collections, dates and functions are passed as they are. Values
  that come from metadata (sizes, property names, band names, scales) are resolved without reading a
  pixel. With ``evaluate=False`` (lazy methods, which evaluate their arguments when they are
  evaluated themselves) only values already known are substituted;
- a reducer given by name (``img.reduceRegion('first', point, 30)``) becomes ``ee.Reducer.first()``,
  as Earth Engine's client promotes it (:func:`register_promotion`; ``reducers`` registers it).

Examples
--------
>>> from reducer.values import List, Number
>>> @resolve_arguments("Example.scaled")
... def scaled(self, factor, names=None):
...     return factor * 2, names
>>> scaled(None, Number(3).add(1), opt_names=List(["a"]))
(8, ['a'])
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from .errors import ArgumentError
from .values import ComputedObject, Dictionary, List, Number, String, Thunk

__all__ = ["resolve", "resolve_arguments", "resolve_class", "register_promotion"]

F = TypeVar("F", bound=Callable[..., Any])
C = TypeVar("C", bound=type)

_VALUE_TYPES = (Number, String, List, Dictionary)


def _is_value(x: Any) -> bool:
    """True for a computed value (not an image, feature, geometry, collection or date)."""
    return isinstance(x, _VALUE_TYPES) or type(x) is ComputedObject


def _known_value(x: ComputedObject) -> Any:
    thunk = x._value_thunk()
    return thunk() if isinstance(thunk, Thunk) and thunk.done else x


def resolve(value: Any, evaluate: bool = True) -> Any:
    """``value`` with its computed values as plain Python, recursively in lists, tuples and dicts.

    Parameters
    ----------
    value
        Any argument.
    evaluate
        Evaluate computed values (True), or substitute only those already evaluated (False).

    Returns
    -------
    Any
        Plain Python for ``ee.Number``/``String``/``List``/``Dictionary`` and the untyped objects
        ``get`` returns (an image stored in a property comes back as the ``ee.Image``); other ``ee``
        objects and anything else as given.

    Examples
    --------
    >>> from reducer.values import Dictionary, List, Number
    >>> resolve([Number(1).add(1), {"k": List(["a"])}])
    [2, {'k': ['a']}]
    >>> resolve(Number(2).add(1), evaluate=False)  # not evaluated yet: kept
    ee.Number(<lazy>)
    >>> resolve(Number(5), evaluate=False)
    5
    """
    if _is_value(value):
        inner = value._evaluate() if evaluate else _known_value(value)
        if inner is value:
            return value
        return resolve(inner, evaluate)
    if isinstance(value, list):
        return [resolve(v, evaluate) for v in value]
    if isinstance(value, tuple):
        return tuple(resolve(v, evaluate) for v in value)
    if isinstance(value, dict):
        return {resolve(k, evaluate): resolve(v, evaluate) for k, v in value.items()}
    return value


def register_promotion(type_name: str, promote: Callable[[Any, str], Any]) -> None:
    """Promote arguments of type ``type_name`` with ``promote(value, where)``.

    An argument is of that type when its parameter is named so (lower-cased, ``reducer``) or
    annotated so (``reducer: Reducer``).

    Modules above this one register their types (``reducers`` registers ``Reducer``, so that a reducer
    given by name becomes the reducer), without this module importing them.
    """
    _PROMOTIONS[type_name] = promote


_PROMOTIONS: dict[str, Callable[[Any, str], Any]] = {}


def _promotion(name: str, param: inspect.Parameter) -> Callable[[Any, str], Any] | None:
    annotation = param.annotation
    first = annotation.split("|")[0].strip() if isinstance(annotation, str) else ""
    for type_name, promote in _PROMOTIONS.items():
        if name == type_name.lower() or first == type_name:
            return promote
    return None


def resolve_arguments(
    where: str, aliases: Mapping[str, str] | None = None, evaluate: bool = True, keep: tuple[str, ...] = ()
) -> Callable[[F], F]:
    """Decorate a facade method so that its arguments are resolved (see the module docstring).

    Parameters
    ----------
    where
        Earth Engine's name of the method (``"Image.select"``), for the error messages.
    aliases
        Other keyword names for parameters, ``{alias: parameter}`` (the Python client's and
        ``algorithms.json``'s names); ``opt_<name>`` is always an alias of ``<name>``.
    evaluate
        Evaluate computed values now (methods that build their result now), or substitute only
        those already known (lazy methods that evaluate their arguments later).
    keep
        Parameters passed as given.

    Examples
    --------
    >>> @resolve_arguments("Feature", aliases={"geom": "geometry"})
    ... def feature(geometry, properties=None):
    ...     return geometry, properties
    >>> feature(geom=None, opt_properties={"a": 1})
    (None, {'a': 1})
    >>> feature(geometri=None)
    Traceback (most recent call last):
    ...
    reducer.errors.ArgumentError: Unrecognized arguments ['geometri'] to function: Feature. ...
    """
    alias = dict(aliases or {})

    def decorate(fn: F) -> F:
        sig = inspect.signature(fn)
        params = sig.parameters
        var_kw = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
        names = [n for n, p in params.items() if n not in ("self", "cls") and p.kind is not p.VAR_POSITIONAL]

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if kwargs:
                renamed = {}
                for k, v in kwargs.items():
                    name = alias.get(k, k)
                    if name not in params and name.startswith("opt_") and name[4:] in params:
                        name = name[4:]
                    if name in renamed:
                        raise ArgumentError(f"{where}: argument {name!r} given twice (as {k!r} too).")
                    renamed[name] = v
                kwargs = renamed
                unknown = [k for k in kwargs if (k not in params and not var_kw) or k in ("self", "cls")]
                if unknown:
                    raise ArgumentError(
                        f"Unrecognized arguments {unknown!r} to function: {where}. It takes {names!r}; "
                        "check the spelling (argument names are camelCase, as in Earth Engine)."
                    )
            try:
                bound = sig.bind(*args, **kwargs)
            except TypeError as exc:
                raise ArgumentError(f"{where}: {exc}. It takes {names!r}.") from None
            for name, value in bound.arguments.items():
                if name in ("self", "cls") or name in keep or callable(value) and not isinstance(value, ComputedObject):
                    continue
                kind = params[name].kind
                if kind is inspect.Parameter.VAR_POSITIONAL:
                    value = tuple(resolve(v, evaluate) for v in value)
                elif kind is inspect.Parameter.VAR_KEYWORD:
                    value = {k: resolve(v, evaluate) for k, v in value.items()}
                else:
                    value = resolve(value, evaluate)
                promote = _promotion(name, params[name])
                if promote is not None:
                    value = promote(value, where)
                bound.arguments[name] = value
            return fn(*bound.args, **bound.kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate


def resolve_class(
    prefix: str,
    evaluate: bool = True,
    aliases: Mapping[str, Mapping[str, str]] | None = None,
    lazy: tuple[str, ...] = (),
) -> Callable[[C], C]:
    """Decorate every public method (and ``__init__``) of a facade class with :func:`resolve_arguments`.

    Parameters
    ----------
    prefix
        Earth Engine's class name (``"Image"``), for the error messages.
    evaluate
        As in :func:`resolve_arguments`, for every method but those in ``lazy``.
    aliases
        Keyword aliases per method name (``{"__init__": {"geom": "geometry"}}``).
    lazy
        Methods whose arguments are substituted only when already known (``evaluate=False``).

    Examples
    --------
    >>> from reducer.values import Number
    >>> @resolve_class("Box")
    ... class Box:
    ...     def __init__(self, size):
    ...         self.size = size
    >>> Box(Number(2).multiply(3)).size
    6
    """
    aliases = dict(aliases or {})

    def decorate(cls: C) -> C:
        for name, member in list(vars(cls).items()):
            if name.startswith("_") and name != "__init__":
                continue
            where = prefix if name == "__init__" else f"{prefix}.{name}"
            ev = evaluate and name not in lazy
            deco = resolve_arguments(where, aliases.get(name), ev)
            if isinstance(member, staticmethod):
                setattr(cls, name, staticmethod(deco(member.__func__)))
            elif isinstance(member, classmethod):
                continue
            elif inspect.isfunction(member):
                setattr(cls, name, deco(member))
        return cls

    return decorate
