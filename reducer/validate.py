"""Checks on input that is usable but suspect: invalid geometries, features off the raster, unknown arguments.

The engine calls :func:`check_geometries` and :func:`check_overlap` while it plans a reduction,
before any pixel is read. Both are cheap: vectorised shapely predicates over the feature array.

- An invalid geometry (a self-intersecting "bowtie") is repaired with ``shapely.make_valid`` and
  a :class:`reducer.errors.GeometryWarning` names the features, or, with
  ``reducer.set_options(invalid_geometry="error")``, raises :class:`reducer.errors.GeometryError`.
- Features that do not overlap a raster at all are not an error (their outputs are None, as in
  Earth Engine), but a :class:`reducer.errors.NoOverlapWarning` names both extents: it is almost
  always a wrong CRS.
- :func:`known_arguments` turns Python's ``TypeError`` for an unknown keyword into an
  :class:`reducer.errors.ArgumentError` worded as Earth Engine words it.
"""

from __future__ import annotations

import functools
import inspect
import warnings
from collections.abc import Callable, Sequence
from typing import Any, Literal, TypeVar

import numpy as np
import shapely

from . import options
from .errors import ArgumentError, GeometryError, GeometryWarning, NoOverlapWarning
from .geometry import is_valid

__all__ = [
    "check_geometries",
    "check_overlap",
    "known_arguments",
]

Policy = Literal["repair", "error"]
POLICIES: tuple[str, ...] = ("repair", "error")
_SHOW = 10  # ids named in a message

F = TypeVar("F", bound=Callable[..., Any])


def _names(labels: Sequence[Any]) -> str:
    shown = ", ".join(repr(x) for x in labels[:_SHOW])
    more = f" and {len(labels) - _SHOW} more" if len(labels) > _SHOW else ""
    return f"[{shown}{more}]"


def _repair(geom: Any) -> Any:
    """``make_valid``, keeping only the parts of the input's dimension (a polygon stays polygonal)."""
    fixed = shapely.make_valid(geom)
    dim = shapely.get_dimensions(geom)
    if shapely.get_dimensions(fixed) == dim and shapely.get_type_id(fixed) != 7:
        return fixed
    parts = [p for p in shapely.get_parts(fixed) if shapely.get_dimensions(p) == dim]
    if not parts:
        return fixed
    if dim == 2:
        polys = [q for p in parts for q in shapely.get_parts(p)]
        return polys[0] if len(polys) == 1 else shapely.MultiPolygon(polys)
    if dim == 1:
        lines = [q for p in parts for q in shapely.get_parts(p)]
        return lines[0] if len(lines) == 1 else shapely.MultiLineString(lines)
    return shapely.union_all(parts)


def check_geometries(
    geoms: Sequence[Any] | np.ndarray,
    ids: Sequence[Any] | None = None,
    policy: Policy | None = None,
) -> np.ndarray:
    """Repair or reject invalid geometries; valid, empty and missing ones pass unchanged.

    Parameters
    ----------
    geoms
        Shapely geometries (or None).
    ids
        The features' ids, for the messages; their positions (from 0) when None.
    policy
        ``"repair"``: ``shapely.make_valid`` each invalid geometry, keeping its polygonal (or linear)
        parts, and warn with a :class:`GeometryWarning` naming the features. ``"error"``: raise
        :class:`reducer.errors.GeometryError`. None: the ``invalid_geometry`` option
        (``reducer.set_options``; ``"repair"`` by default).

    Returns
    -------
    numpy.ndarray
        The geometries (an object array), the invalid ones repaired. The input is not modified.

    Examples
    --------
    >>> import warnings
    >>> bowtie = shapely.Polygon([(0, 0), (2, 2), (2, 0), (0, 2)])
    >>> with warnings.catch_warnings(record=True) as w:
    ...     warnings.simplefilter("always")
    ...     fixed = check_geometries([bowtie, shapely.Polygon()], ids=["a", "b"], policy="repair")
    >>> fixed[0].geom_type, fixed[0].area, fixed[1].is_empty
    ('MultiPolygon', 2.0, True)
    >>> print(w[0].message)
    repaired 1 invalid geometry with shapely.make_valid: feature(s) ['a'] (Self-intersection[1 1]). ...
    >>> check_geometries([bowtie], ids=["a"], policy="error")
    Traceback (most recent call last):
    ...
    reducer.errors.GeometryError: 1 invalid geometry: feature(s) ['a'] (Self-intersection[1 1]). ...
    """
    arr = np.empty(len(geoms), dtype=object)
    arr[:] = list(geoms)
    if policy is None:
        policy = options.get("invalid_geometry")
    if policy not in POLICIES:
        raise ArgumentError(f"invalid_geometry={policy!r} is not one of {list(POLICIES)!r}.")
    if arr.size == 0:
        return arr
    present = ~shapely.is_missing(arr)
    if present.any():
        coords, index = shapely.get_coordinates(arr[present], return_index=True)
        nonfinite = ~np.isfinite(coords).all(axis=1)
        if nonfinite.any():
            where = np.flatnonzero(present)[np.unique(index[nonfinite])]
            labels = [ids[i] for i in where] if ids is not None else [int(i) for i in where]
            raise GeometryError(
                f"{len(where)} geometry(ies) with a coordinate that is not finite (NaN or infinity): feature(s) "
                f"{_names(labels)}. Fix or drop those vertices (or features) and try again."
            )
    bad = present & ~is_valid(arr)
    if not bad.any():
        return arr
    idx = np.flatnonzero(bad)
    labels = [ids[i] for i in idx] if ids is not None else [int(i) for i in idx]
    what = "feature(s)" if ids is not None else "feature(s) at position(s)"
    reason = shapely.is_valid_reason(arr[idx[0]])
    n = len(idx)
    noun = "geometry" if n == 1 else "geometries"
    if policy == "error":
        raise GeometryError(
            f"{n} invalid {noun}: {what} {_names(labels)} ({reason}{'; first shown' if n > 1 else ''}). "
            "Repair them (shapely.make_valid, or QGIS 'Fix geometries'), or let reducer repair them with "
            "reducer.set_options(invalid_geometry='repair')."
        )
    out = arr.copy()
    out[idx] = [_repair(g) for g in arr[idx]]
    warnings.warn(
        f"repaired {n} invalid {noun} with shapely.make_valid: {what} {_names(labels)} "
        f"({reason}{'; first shown' if n > 1 else ''}). Statistics use the repaired shapes; fix the source "
        "file, or set reducer.set_options(invalid_geometry='error') to refuse invalid geometries.",
        GeometryWarning,
        stacklevel=3,
    )
    return out


def _fmt_bounds(b: Sequence[float]) -> str:
    return "(" + ", ".join(f"{v:.10g}" for v in b) + ")"


def check_overlap(geoms: Sequence[Any] | np.ndarray, grid: Any, name: Any = None) -> bool:
    """Warn when no feature overlaps the grid at all; return whether any does.

    Parameters
    ----------
    geoms
        The features' geometries, in the grid's CRS. Missing and empty ones are ignored; when all are,
        nothing is checked.
    grid
        A :class:`reducer.grid.Grid` (anything with ``bounds`` and ``crs``).
    name
        What the raster is called in the message (its path), if known.

    Returns
    -------
    bool
        True when a feature overlaps the grid (or there is nothing to check).

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> grid = SimpleNamespace(bounds=(0.0, 0.0, 3.0, 3.0), crs="EPSG:32633")
    >>> check_overlap([shapely.box(1, 1, 2, 2)], grid)
    True
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as w:
    ...     warnings.simplefilter("always")
    ...     check_overlap([shapely.box(10, 10, 11, 11)], grid, "a.tif")
    False
    >>> print(w[0].message)
    none of the 1 features overlaps the raster 'a.tif': the features span (10, 10, 11, 11) and the raster ...
    """
    arr = np.empty(len(geoms), dtype=object)
    arr[:] = list(geoms)
    present = arr[~(shapely.is_missing(arr) | shapely.is_empty(arr))] if arr.size else arr
    if present.size == 0:
        return True
    gx0, gy0, gx1, gy1 = (float(v) for v in grid.bounds)
    b = shapely.bounds(present)
    near = (b[:, 0] <= gx1) & (b[:, 2] >= gx0) & (b[:, 1] <= gy1) & (b[:, 3] >= gy0)
    if near.any():
        box = shapely.box(gx0, gy0, gx1, gy1)
        shapely.prepare(box)
        if shapely.intersects(box, present[near]).any():
            return True
    total = (b[:, 0].min(), b[:, 1].min(), b[:, 2].max(), b[:, 3].max())
    crs = grid.crs
    crs_name = crs if isinstance(crs, str) else (f"EPSG:{crs.to_epsg()}" if crs.to_epsg() else crs.name)
    raster = f"the raster {str(name)!r}" if name is not None else "the raster"
    warnings.warn(
        f"none of the {len(present)} features overlaps {raster}: the features span {_fmt_bounds(total)} and "
        f"the raster {_fmt_bounds((gx0, gy0, gx1, gy1))}, both in {crs_name}. Every output will be None. "
        "Check that they cover the same area and that the features' CRS is right (a wrong CRS, or "
        "longitude and latitude swapped, moves them).",
        NoOverlapWarning,
        stacklevel=3,
    )
    return False


def known_arguments(where: str) -> Callable[[F], F]:
    """Decorate an Earth Engine method so that an unknown keyword raises Earth Engine's error.

    Python would raise ``TypeError: got an unexpected keyword argument``; this raises
    :class:`reducer.errors.ArgumentError` (a ``TypeError`` too) with Earth Engine's wording, the
    arguments the method accepts, and the fix.

    Examples
    --------
    >>> @known_arguments("Image.reduceRegion")
    ... def reduceRegion(self, reducer, geometry=None, scale=None):
    ...     return scale
    >>> reduceRegion(None, "r", scael=30)
    Traceback (most recent call last):
    ...
    reducer.errors.ArgumentError: Unrecognized arguments ['scael'] to function: Image.reduceRegion. ...
    """

    def decorate(fn: F) -> F:
        params = inspect.signature(fn).parameters
        if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
            return fn
        names = [n for n, p in params.items() if n != "self" and p.kind is not inspect.Parameter.VAR_POSITIONAL]

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            unknown = [k for k in kwargs if k not in params or k == "self"]
            if unknown:
                raise ArgumentError(
                    f"Unrecognized arguments {unknown!r} to function: {where}. It takes {names!r}; "
                    "check the spelling (argument names are camelCase, as in Earth Engine)."
                )
            return fn(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate
