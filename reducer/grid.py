"""Pixel grids: a CRS, an affine transform and a shape.

A :class:`Grid` is the one description of "where the pixels are" that images, coverage
weights and the engine share. It is hashable, so weights can be cached per (features, grid).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import Any

import numpy as np
from affine import Affine
from pyproj import CRS

from .errors import CRSError

__all__ = ["Grid", "norm_crs", "crs_string", "resolve_grid"]

SomeCRS = CRS | str | int | Any


def norm_crs(crs: SomeCRS, what: str = "crs") -> CRS:
    """Return ``crs`` as a :class:`pyproj.CRS`.

    Parameters
    ----------
    crs
        Anything pyproj understands: ``"EPSG:32633"``, ``32633``, WKT, a rasterio CRS.
    what
        What the value is, for the error message.

    Examples
    --------
    >>> norm_crs("EPSG:4326").to_epsg()
    4326
    >>> norm_crs(None)
    Traceback (most recent call last):
    ...
    reducer.errors.CRSError: crs is None: a CRS is needed. Give one such as 'EPSG:4326'.
    """
    if crs is None:
        raise CRSError(f"{what} is None: a CRS is needed. Give one such as 'EPSG:4326'.")
    if isinstance(crs, CRS):
        return crs
    if hasattr(crs, "to_wkt") and not isinstance(crs, str):
        crs = crs.to_wkt()
    try:
        return CRS.from_user_input(crs)
    except Exception as exc:  # pyproj raises its own CRSError
        raise CRSError(
            f"{what} {crs!r} is not a CRS that PROJ knows. Give an EPSG code such as 'EPSG:32633' or a WKT string."
        ) from exc


@lru_cache(maxsize=256)
def _wkt_of(text: str) -> str:
    """The WKT of the CRS that ``text`` (a WKT or ``AUTH:CODE`` string) names, parsed once per distinct string.

    A collection of 2,000 files in one CRS would otherwise parse the same WKT 2,000 times.
    """
    return norm_crs(text).to_wkt()


@lru_cache(maxsize=256)
def _crs_of(wkt: str) -> CRS:
    # pyproj's CRS is immutable and thread-safe (each thread builds its own PROJ object): one may be shared
    return CRS.from_wkt(wkt)


@dataclass(frozen=True)
class Grid:
    """A raster grid: CRS, affine transform (pixel corner to CRS coordinates) and size.

    Examples
    --------
    >>> from affine import Affine
    >>> g = Grid("EPSG:32633", Affine(10, 0, 500000, 0, -10, 4000030), 3, 3)
    >>> g.bounds
    (500000.0, 4000000.0, 500030.0, 4000030.0)
    >>> g.res
    (10.0, 10.0)
    """

    crs_wkt: str
    transform: Affine
    width: int
    height: int

    def __init__(self, crs: SomeCRS, transform: Affine | tuple, width: int, height: int):
        if isinstance(crs, str):
            wkt = _wkt_of(crs)
        elif hasattr(crs, "to_wkt") and not isinstance(crs, CRS):  # a rasterio CRS: cached by its WKT
            wkt = _wkt_of(crs.to_wkt())
        else:
            wkt = norm_crs(crs).to_wkt()
        object.__setattr__(self, "crs_wkt", wkt)
        object.__setattr__(self, "transform", Affine(*tuple(transform)[:6]))
        object.__setattr__(self, "width", int(width))
        object.__setattr__(self, "height", int(height))

    def __hash__(self) -> int:
        return hash((self.crs_wkt, tuple(self.transform)[:6], self.width, self.height))

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Grid)
            and self.crs_wkt == other.crs_wkt
            and tuple(self.transform)[:6] == tuple(other.transform)[:6]
            and self.shape == other.shape
        )

    @cached_property
    def crs(self) -> CRS:
        """The grid's CRS."""
        return _crs_of(self.crs_wkt)

    @property
    def shape(self) -> tuple[int, int]:
        """``(height, width)``."""
        return (self.height, self.width)

    @property
    def res(self) -> tuple[float, float]:
        """Pixel size ``(x, y)`` in CRS units, both positive."""
        t = self.transform
        return (math.hypot(t.a, t.d), math.hypot(t.b, t.e))

    @property
    def nominal_scale(self) -> float:
        """Pixel size in metres (the x size; degrees are converted at the equator)."""
        x = self.res[0]
        if self.crs.is_geographic:
            return x * 111319.49079327357
        factor = self.crs.axis_info[0].unit_conversion_factor if self.crs.axis_info else 1.0
        return x * factor

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """``(xmin, ymin, xmax, ymax)`` of the grid in its CRS."""
        t = self.transform
        xs = [t.c, t.c + t.a * self.width + t.b * self.height]
        ys = [t.f, t.f + t.d * self.width + t.e * self.height]
        xs += [t.c + t.a * self.width, t.c + t.b * self.height]
        ys += [t.f + t.d * self.width, t.f + t.e * self.height]
        return (min(xs), min(ys), max(xs), max(ys))

    @property
    def is_rectilinear(self) -> bool:
        """True when the grid has no rotation and rows run north to south."""
        t = self.transform
        return t.b == 0 and t.d == 0 and t.a > 0 and t.e < 0

    def pixel_centers(self, rows: np.ndarray, cols: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """CRS coordinates of the centres of pixels ``(rows, cols)``."""
        t = self.transform
        c = np.asarray(cols, dtype="f8") + 0.5
        r = np.asarray(rows, dtype="f8") + 0.5
        return (t.a * c + t.b * r + t.c, t.d * c + t.e * r + t.f)

    def index(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Row and column of the pixels that contain CRS points ``(x, y)`` (may be out of range)."""
        inv = ~self.transform
        x = np.asarray(x, dtype="f8")
        y = np.asarray(y, dtype="f8")
        col = np.floor(inv.a * x + inv.b * y + inv.c).astype("i8")
        row = np.floor(inv.d * x + inv.e * y + inv.f).astype("i8")
        return row, col

    def with_scale(self, scale: float) -> Grid:
        """The same CRS and origin with square pixels of ``scale`` CRS units, covering the same bounds."""
        xmin, ymin, xmax, ymax = self.bounds
        t = self.transform
        width = max(1, math.ceil((xmax - xmin) / scale - 1e-9))
        height = max(1, math.ceil((ymax - ymin) / scale - 1e-9))
        return Grid(self.crs, Affine(scale, 0, t.c, 0, -scale, t.f), width, height)

    def token(self) -> tuple:
        """A hashable, picklable key for caches."""
        return (self.crs_wkt, tuple(self.transform)[:6], self.width, self.height)


METRES_PER_DEGREE = 111319.49079327357


def crs_string(grid: Grid) -> str:
    """The grid's CRS as ``EPSG:<code>``, or its WKT when it has no EPSG code.

    Examples
    --------
    >>> from affine import Affine
    >>> crs_string(Grid("EPSG:32633", Affine(10, 0, 0, 0, -10, 0), 1, 1))
    'EPSG:32633'
    """
    epsg = grid.crs.to_epsg()
    return f"EPSG:{epsg}" if epsg else grid.crs_wkt


def _units_per_metre(crs: CRS) -> float:
    if crs.is_geographic:
        return 1.0 / METRES_PER_DEGREE
    info = crs.axis_info
    factor = info[0].unit_conversion_factor if info else 1.0
    return 1.0 / factor


def resolve_grid(
    native: Grid | None,
    scale: float | None = None,
    crs: SomeCRS | None = None,
    crsTransform: list[float] | tuple[float, ...] | None = None,
    bounds: tuple[float, float, float, float] | None = None,
    bounds_crs: SomeCRS | None = None,
) -> Grid:
    """The grid a reduction is evaluated on, following Earth Engine's rules.

    Without ``scale``, ``crs`` or ``crsTransform`` it is the image's own grid. ``scale`` alone keeps the
    image's CRS and origin with square pixels of ``scale`` metres. A ``crs`` other than the image's puts
    pixels of ``scale`` metres on that CRS's own origin. ``crsTransform`` fixes the transform.
    The extent covers the image (or ``bounds`` in ``bounds_crs`` for a constant image). A constant
    image (``native`` None) given a scale without a crs is evaluated in EPSG:4326, as in Earth Engine.

    Examples
    --------
    >>> from affine import Affine
    >>> g = Grid("EPSG:32633", Affine(10, 0, 500000, 0, -10, 4000040), 4, 4)
    >>> resolve_grid(g) is g
    True
    >>> h = resolve_grid(g, scale=20)
    >>> h.res, h.shape, h.transform.c
    ((20.0, 20.0), (2, 2), 500000.0)
    >>> resolve_grid(None, scale=111320, bounds=(0, 0, 2, 1), bounds_crs="EPSG:4326").crs.to_epsg()
    4326
    """
    if scale is None and crs is None and crsTransform is None:
        if native is None:
            raise CRSError(
                "this image has no projection of its own (it is a constant): give scale= and crs= to the reduction."
            )
        return native
    # a constant image has Earth Engine's default projection, EPSG:4326: a scale alone puts it there
    target_crs = norm_crs(crs) if crs is not None else (native.crs if native is not None else norm_crs("EPSG:4326"))
    if scale is not None and (not isinstance(scale, int | float) or not math.isfinite(scale) or scale <= 0):
        raise CRSError(f"scale={scale!r} is not a positive number of metres. Give e.g. scale=10.")
    if crsTransform is not None:
        try:
            vals = [float(v) for v in crsTransform]
        except (TypeError, ValueError):
            vals = []
        if len(vals) != 6 or not all(math.isfinite(v) for v in vals):
            raise CRSError(
                f"crsTransform={crsTransform!r} needs 6 finite numbers [xScale, xShear, xOff, yShear, yScale, yOff]."
            )
        transform = Affine(*vals)
        if transform.is_degenerate:
            raise CRSError(
                f"crsTransform={crsTransform!r} has a zero pixel size (its determinant is 0). Give a pixel size, "
                "e.g. [10, 0, xOff, 0, -10, yOff]."
            )
    else:
        same_crs = native is not None and native.crs == target_crs
        step = (scale if scale is not None else native.nominal_scale) * _units_per_metre(target_crs)
        if same_crs and abs(step - native.res[0]) <= 1e-9 * step and abs(step - native.res[1]) <= 1e-9 * step:
            return native
        if same_crs:
            t = native.transform
            transform = Affine(step, 0, t.c, 0, -step, t.f)
        else:
            transform = Affine(step, 0, 0, 0, -step, 0)
    # extent: the image's bounds (or the given bounds) in the target CRS, snapped to the transform
    src_bounds, src_crs = (native.bounds, native.crs) if native is not None else (bounds, bounds_crs)
    if src_bounds is None:
        raise CRSError("cannot size the grid of a constant image: give a geometry or use an image with a projection.")
    from pyproj import Transformer

    xmin, ymin, xmax, ymax = src_bounds
    if norm_crs(src_crs) != target_crs:
        tr = Transformer.from_crs(norm_crs(src_crs), target_crs, always_xy=True)
        xmin, ymin, xmax, ymax = tr.transform_bounds(xmin, ymin, xmax, ymax, densify_pts=21)
    inv = ~transform
    cols = [inv.a * x + inv.b * y + inv.c for x in (xmin, xmax) for y in (ymin, ymax)]
    rows = [inv.d * x + inv.e * y + inv.f for x in (xmin, xmax) for y in (ymin, ymax)]
    c0, c1 = math.floor(min(cols) + 1e-9), math.ceil(max(cols) - 1e-9)
    r0, r1 = math.floor(min(rows) + 1e-9), math.ceil(max(rows) - 1e-9)
    return Grid(target_crs, transform @ Affine.translation(c0, r0), max(1, c1 - c0), max(1, r1 - r0))
