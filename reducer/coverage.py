"""Features × grid → sparse pixel weights: exact fraction, centre-in or all-touched.

The engine reduces every image and band of a ``reduceRegions`` call with the same weights: it calls
:func:`coverage` once per (feature set, grid, block, mode) in a dask task and caches the result (see
``reducer.engine._weights_task``). A :class:`Coverage` is three aligned arrays, one entry per
(feature, pixel) pair with a non-zero weight, sorted by pixel, then feature.

Modes, for polygonal features:

``"weighted"``
    The exact covered fraction of each pixel (Earth Engine's weighted reducers; exactextract's
    ``c_i``), computed with numpy by Green's theorem, row by row; exactextract for invalid polygons.
``"centre"``
    1 for each pixel whose centre is inside the polygon, by GDAL's rule exactly as rasterstats
    applies it (``rasterize(all_touched=False)`` on the feature's own window).
``"touched"``
    1 for each pixel the polygon touches (GDAL's ``all_touched=True`` on the same window).

Points take the pixel that contains them and lines every pixel they touch, weight 1, in every mode.
Pixel masks are not applied here: the weights depend on geometry and grid alone, and the engine
applies each image's mask when it reduces.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any, Literal, get_args

import numpy as np
import rasterio
import shapely
from affine import Affine
from rasterio.features import rasterize

from .errors import ArgumentError, GeometryError, MaxPixelsError
from .geometry import is_valid
from .grid import Grid

__all__ = [
    "MODES",
    "Coverage",
    "Mode",
    "coverage",
    "estimate_pixels",
]

Mode = Literal["weighted", "centre", "touched"]
MODES: tuple[str, ...] = get_args(Mode)

# shapely.get_type_id codes
_POINT, _LINE, _RING, _POLYGON, _MPOINT, _MLINE, _MPOLYGON, _COLLECTION = range(8)
_POINTS = (_POINT, _MPOINT)
_LINES = (_LINE, _RING, _MLINE)
_POLYGONS = (_POLYGON, _MPOLYGON)

# A pixel centre closer than this (in pixels) to a polygon's edge is a tie: GDAL's answer then
# depends on last-bit rounding in the feature's own window, so the feature is burned by GDAL.
_TIE_EPS = 1e-7
# GDAL's all-touched line walk: end points this close to a pixel edge are special, and so are
# segments that move less than _GDAL_STRAIGHT pixel across the pixel edge they cross; such features
# are burned by GDAL itself. _CORNER_EPS covers the rounding of GDAL's pixel-to-pixel steps.
_GDAL_EDGE_EPS = 1e-4
_GDAL_STRAIGHT = 0.01
_CORNER_EPS = 1e-6
# A feature window larger than this many times its part inside the grid (plus a margin) is clipped
# to the grid before burning, rather than burned whole as rasterstats does.
_WINDOW_SLACK = 4
_WINDOW_MARGIN = 1 << 20


@dataclass(frozen=True, eq=False)
class Coverage:
    """Sparse weights of features on a grid: one entry per (feature, pixel) with a weight in (0, 1].

    Entries are sorted by ``pixel``, then by ``feature``, so the entries of a run of whole grid rows
    are one contiguous slice (:meth:`pixel_range`). Each (feature, pixel) pair occurs at most once.
    The arrays are read-only: a coverage is shared by the cache and by every image reduced with it.

    Attributes
    ----------
    feature : numpy.ndarray
        int64, position of the feature in the input geometry array.
    pixel : numpy.ndarray
        int64, flat pixel index ``row * grid.width + col``; row 0 is the top row.
    weight : numpy.ndarray
        float64 in (0, 1]: the covered fraction (mode ``"weighted"``) or 1. When every weight is 1
        it is a read-only broadcast of 1.0 (``np.broadcast_to``), which takes no memory.
    n_features : int
        Number of input geometries, including those with no entries.

    Examples
    --------
    >>> from affine import Affine
    >>> from shapely import box
    >>> grid = Grid("EPSG:32633", Affine(1, 0, 0, 0, -1, 3), 3, 3)
    >>> cov = coverage([box(0, 2, 1, 3), box(0.5, 1.5, 2, 3)], grid)
    >>> len(cov), cov.n_features
    (5, 2)
    >>> cov.pixel, cov.feature, cov.weight
    (array([0, 0, 1, 3, 4]), array([0, 1, 1, 1, 1]), array([1.  , 0.5 , 1.  , 0.25, 0.5 ]))
    >>> cov.pixel_range(1, 4)  # the entries of pixels 1 to 3
    slice(2, 4, None)
    """

    feature: np.ndarray
    pixel: np.ndarray
    weight: np.ndarray
    n_features: int

    def __len__(self) -> int:
        return int(self.pixel.shape[0])

    def pixel_range(self, start: int, stop: int) -> slice:
        """The slice of entries whose pixel index is in ``[start, stop)``.

        Parameters
        ----------
        start, stop
            Flat pixel indices; rows ``r0`` to ``r1`` (exclusive) of a grid of width ``w`` are
            ``pixel_range(r0 * w, r1 * w)``.

        Returns
        -------
        slice
            A slice into ``feature``, ``pixel`` and ``weight``.
        """
        lo, hi = np.searchsorted(self.pixel, [start, stop], side="left")
        return slice(int(lo), int(hi))

    @property
    def nbytes(self) -> int:
        """Bytes held by the three arrays (a broadcast weight counts as one value)."""
        weight = self.weight.nbytes if self.weight.strides[0] else self.weight.itemsize
        return int(self.feature.nbytes + self.pixel.nbytes + weight)


# --------------------------------------------------------------------------------------------------
# public functions


def coverage(geoms: np.ndarray | Sequence[shapely.Geometry | None], grid: Grid, mode: Mode = "weighted") -> Coverage:
    """Sparse weights of each feature on each pixel of ``grid``.

    Parameters
    ----------
    geoms
        Shapely geometries already in the grid's CRS (the caller reprojects), or ``None``. The
        position of a geometry is its feature index.
    grid
        A north-up :class:`~reducer.grid.Grid`.
    mode
        How polygons weigh pixels: ``"weighted"`` (the exact covered fraction),
        ``"centre"`` (1 where the pixel centre is inside, GDAL's and rasterstats' rule) or
        ``"touched"`` (1 for every pixel touched, GDAL's ``all_touched``).

    Returns
    -------
    Coverage
        Entries sorted by pixel, then feature; weights in (0, 1].

    Raises
    ------
    NotImplementedError
        For a rotated or south-up grid.
    ArgumentError
        For an unknown ``mode``.
    GeometryError
        For an entry that is neither a shapely geometry nor ``None``.

    Notes
    -----
    - Pixels outside the grid are never stored: features partly outside are clipped, features
      entirely outside, empty geometries and ``None`` give no entries. Weights of 0 are not stored.
    - Polygons, mode ``"weighted"``: the area of pixel ∩ polygon over the pixel's area, computed
      in float64 (to about 1e-14) by Green's theorem along each pixel row, all features at once,
      then stored in single precision as exactextract stores its ``coverage``: a weight is within
      one float32 step (6e-8) of exactextract's. Slivers under 1e-12 of a pixel are dropped.
      exactextract can miss a sliver of about 1e-8 that is there (shapely agrees with this
      function); it is used here only for invalid polygons.
    - Polygons, mode ``"centre"``: GDAL's scanline rule, as ``rasterstats.zonal_stats`` applies it
      (GDAL on the feature's own window), pixel for pixel. A pixel is taken when its centre is
      inside; a centre exactly on the boundary is taken or not as GDAL's rounding decides (in the
      example below, centres on the square's left edge are not taken, those on its other edges
      are).
    - Polygons, mode ``"touched"``: GDAL's ``all_touched=True``, as ``zonal_stats(...,
      all_touched=True)`` applies it: the centre-in pixels plus every pixel an edge passes
      through, except that GDAL ignores a pixel an edge enters by less than about 1e-4 pixel.
    - Both are computed for all features at once, with GDAL's rules; a feature with a vertex or an
      edge crossing within 1e-7 pixel of a tie (a centre on an edge, an edge through a pixel
      corner; in mode ``"touched"`` also GDAL's own 1e-4 and 0.01 pixel special cases) is burned
      by GDAL itself instead, on rasterstats' window. The one difference from rasterstats: a
      feature whose window exceeds four times its part inside the grid by over 2**20 pixels is
      burned on the clipped window, where GDAL may round a tie the other way.
    - Points and MultiPoints: the pixel containing the point, by flooring the inverse transform, so a
      point on a pixel edge belongs to the pixel to its right or below it. A pixel counts once per
      feature, however many points fall in it.
    - LineStrings and MultiLineStrings: every pixel GDAL's ``all_touched`` burns, on a window one
      pixel wider than the line's bounds. rasterstats (without ``all_touched``) burns lines with a
      Bresenham walk, one pixel per step, and may take fewer pixels.
    - GeometryCollections: each part by its own rule; overlapping parts count once, the larger
      weight winning. In mode ``"weighted"`` the polygonal parts are unioned first.
    - Invalid polygons are used as given (GDAL burns them by the even-odd rule; exactextract's
      fractions of overlapping parts are capped at 1); repair them with :func:`shapely.make_valid`
      first if that matters. Z coordinates are ignored.

    Examples
    --------
    The 3×3 grid of unit pixels and the square (0.5, 0.5)–(2.5, 2.5): a quarter of each corner
    pixel, half of each edge pixel and all of the centre pixel.

    >>> from affine import Affine
    >>> from shapely import Point, Polygon, box
    >>> grid = Grid("EPSG:32633", Affine(1, 0, 0, 0, -1, 3), 3, 3)
    >>> square = box(0.5, 0.5, 2.5, 2.5)
    >>> cov = coverage([square], grid)
    >>> cov.pixel
    array([0, 1, 2, 3, 4, 5, 6, 7, 8])
    >>> cov.weight.reshape(3, 3)
    array([[0.25, 0.5 , 0.25],
           [0.5 , 1.  , 0.5 ],
           [0.25, 0.5 , 0.25]])

    Eight of the nine pixel centres lie on the square's boundary; GDAL takes those on its top, right
    and bottom edges, not those on its left edge:

    >>> coverage([square], grid, "centre").pixel
    array([1, 2, 4, 5, 7, 8])
    >>> len(coverage([square], grid, "touched"))
    9

    A point takes its pixel; on an edge, the pixel to its right:

    >>> coverage([Point(1.5, 1.5), Point(1, 2.5)], grid, "centre").pixel
    array([1, 4])

    Empty geometries, ``None`` and features outside the grid give no entries:

    >>> cov = coverage([Polygon(), None, box(10, 10, 11, 11)], grid)
    >>> len(cov), cov.n_features
    (0, 3)
    """
    _check_mode(mode)
    _check_grid(grid)
    arr = _as_geometry_array(geoms)
    n = len(arr)
    bits = _key_bits(n, grid)
    split = _split(arr, mode)

    pieces = [_points(split.point_geoms, split.point_feats, grid, bits)]
    pieces += _vectorised(split.line_geoms, split.line_feats, grid, bits, polygons=False, all_touched=True)
    if mode == "weighted":
        pieces.append(_weighted(split.poly_geoms, split.poly_feats, grid, bits))
    else:
        touched = mode == "touched"
        pieces += _vectorised(split.poly_geoms, split.poly_feats, grid, bits, polygons=True, all_touched=touched)
    return _assemble(pieces, n, bits)


def estimate_pixels(geoms: np.ndarray | Sequence[shapely.Geometry | None], grid: Grid) -> int:
    """A cheap estimate of the number of (feature, pixel) entries, for Earth Engine's ``maxPixels``.

    The area of each geometry clipped to the grid's bounds, divided by the pixel area (rounded up),
    plus one per point inside the bounds and one plus the clipped length in pixels per line. No
    pixel is visited, so it can run before :func:`coverage`.

    Parameters
    ----------
    geoms
        Shapely geometries in the grid's CRS, or ``None``.
    grid
        The grid.

    Returns
    -------
    int
        The estimate, summed over the features.

    Examples
    --------
    >>> from affine import Affine
    >>> from shapely import LineString, Point, Polygon, box
    >>> grid = Grid("EPSG:32633", Affine(1, 0, 0, 0, -1, 3), 3, 3)
    >>> estimate_pixels([box(0.5, 0.5, 2.5, 2.5)], grid)
    4
    >>> estimate_pixels([box(-10, -10, 10, 10), Point(1, 1), LineString([(0, 0.5), (2, 0.5)])], grid)
    13
    >>> estimate_pixels([Polygon(), None, box(10, 10, 11, 11)], grid)
    0
    """
    arr = _as_geometry_array(geoms)
    ok = ~(shapely.is_missing(arr) | shapely.is_empty(arr))
    if not ok.any():
        return 0
    arr = arr[ok]
    xres, yres = grid.res
    xmin, ymin, xmax, ymax = grid.bounds
    b = shapely.bounds(arr)
    inside = (b[:, 0] >= xmin) & (b[:, 1] >= ymin) & (b[:, 2] <= xmax) & (b[:, 3] <= ymax)
    area = np.zeros(len(arr))
    area[inside] = shapely.area(arr[inside])  # most features: inside the grid, nothing to clip
    if not inside.all():
        area[~inside] = shapely.area(shapely.clip_by_rect(arr[~inside], xmin, ymin, xmax, ymax))
    area = np.nan_to_num(area)
    polys = np.ceil(area / (xres * yres) - 1e-9).clip(0).sum()
    # lines: the length of the linear parts, in pixels, plus one
    line_parts = _flatten_parts(arr)
    ptypes = shapely.get_type_id(line_parts)
    lines = line_parts[np.isin(ptypes, _LINES)]
    total = float(polys)
    if lines.size:
        length = shapely.length(shapely.clip_by_rect(lines, xmin, ymin, xmax, ymax))
        total += float(np.sum(np.where(length > 0, length / min(xres, yres) + 1, 0)))
    points = line_parts[np.isin(ptypes, _POINTS)]
    if points.size:
        xy = shapely.get_coordinates(points)
        inside = (xy[:, 0] >= xmin) & (xy[:, 0] < xmax) & (xy[:, 1] > ymin) & (xy[:, 1] <= ymax)
        total += float(inside.sum())
    return int(np.ceil(total))


# --------------------------------------------------------------------------------------------------
# checks and splitting


def _check_mode(mode: Any) -> None:
    if mode not in MODES:
        raise ArgumentError(
            f"coverage mode {mode!r} is not one of {list(MODES)}. Use 'weighted' for exact pixel fractions, "
            "'centre' for rasterstats' centre-in rule or 'touched' for all-touched."
        )


def _check_grid(grid: Grid) -> None:
    t = grid.transform
    if not (t.b == 0 and t.d == 0 and t.a > 0 and t.e < 0):
        raise NotImplementedError(
            f"coverage needs a north-up grid (transform b == d == 0, a > 0, e < 0); got {tuple(t)[:6]!r}. "
            "Warp the image to a north-up grid first (e.g. rasterio.warp.reproject or gdalwarp)."
        )


def _as_geometry_array(geoms: Any) -> np.ndarray:
    if isinstance(geoms, np.ndarray) and geoms.dtype == object and geoms.ndim == 1:
        arr = geoms
    else:
        items = list(geoms)
        arr = np.empty(len(items), dtype=object)
        arr[:] = items
    bad = ~(shapely.is_geometry(arr) | np.equal(arr, None))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise GeometryError(
            f"geometry {i} is {arr[i]!r}, not a shapely geometry. Give shapely geometries (or None), "
            "e.g. a GeoSeries' .values or shapely.from_geojson(...)."
        )
    return arr


def _flatten_parts(arr: np.ndarray, index: np.ndarray | None = None):
    """Explode GeometryCollections (recursively) into their parts; keep other geometries whole."""
    if index is None:
        index = np.arange(len(arr))
        return_index = False
    else:
        return_index = True
    out_geoms, out_index = [], []
    while arr.size:
        types = shapely.get_type_id(arr)
        keep = (types >= 0) & (types != _COLLECTION)
        keep &= ~shapely.is_empty(arr)
        out_geoms.append(arr[keep])
        out_index.append(index[keep])
        coll = types == _COLLECTION
        if not coll.any():
            break
        parts, j = shapely.get_parts(arr[coll], return_index=True)
        arr, index = parts, index[coll][j]
    geoms = np.concatenate(out_geoms) if out_geoms else np.empty(0, object)
    idx = np.concatenate(out_index) if out_index else np.empty(0, np.int64)
    return (geoms, idx) if return_index else geoms


@dataclass(frozen=True)
class _Split:
    point_geoms: np.ndarray
    point_feats: np.ndarray
    line_geoms: np.ndarray
    line_feats: np.ndarray
    poly_geoms: np.ndarray  # one polygonal geometry per feature, features ascending
    poly_feats: np.ndarray


def _split(arr: np.ndarray, mode: str) -> _Split:
    geoms, feats = _flatten_parts(arr, np.arange(len(arr), dtype=np.int64))
    order = np.argsort(feats, kind="stable")
    geoms, feats = geoms[order], feats[order]
    types = shapely.get_type_id(geoms)
    pt = np.isin(types, _POINTS)
    ln = np.isin(types, _LINES)
    pg = np.isin(types, _POLYGONS)
    poly_geoms, poly_feats = geoms[pg], feats[pg]
    if poly_feats.size > 1:
        dup = poly_feats[1:] == poly_feats[:-1]
        if dup.any():  # several polygonal parts of one collection: one geometry per feature
            starts = np.flatnonzero(np.r_[True, ~dup])
            stops = np.r_[starts[1:], poly_feats.size]
            merged = np.empty(starts.size, dtype=object)
            for k, (a, b) in enumerate(zip(starts, stops, strict=True)):
                group = poly_geoms[a:b]
                if b - a == 1:
                    merged[k] = group[0]
                elif mode == "weighted":
                    merged[k] = shapely.union_all(group)
                else:  # GDAL burns each polygon of a multipolygon: a union, without noding
                    merged[k] = shapely.multipolygons(shapely.get_parts(group))
            poly_geoms, poly_feats = merged, poly_feats[starts]
    return _Split(geoms[pt], feats[pt], geoms[ln], feats[ln], poly_geoms, poly_feats)


# --------------------------------------------------------------------------------------------------
# points and windows

# Entries travel as one int64 key per (feature, pixel), ``pixel << bits | feature``, with an optional
# weight array (None: all ones). Sorting the keys sorts by pixel, then feature.
_Piece = tuple[np.ndarray, "np.ndarray | None"]
_EMPTY_I8 = np.empty(0, dtype=np.int64)


def _key_bits(n_features: int, grid: Grid) -> int:
    bits = max(1, (n_features - 1).bit_length())
    if max(grid.width * grid.height - 1, 1).bit_length() + bits > 62:
        raise MaxPixelsError(
            f"{n_features} features on a grid of {grid.height} x {grid.width} pixels cannot be indexed "
            "with 64-bit integers. Split the features into smaller sets or use a coarser scale."
        )
    return bits


def _empty_piece() -> _Piece:
    return _EMPTY_I8, None


def _points(geoms: np.ndarray, feats: np.ndarray, grid: Grid, bits: int) -> _Piece:
    if geoms.size == 0:
        return _empty_piece()
    xy, j = shapely.get_coordinates(geoms, return_index=True)
    finite = np.isfinite(xy).all(axis=1)
    xy, j = xy[finite], j[finite]
    rows, cols = grid.index(xy[:, 0], xy[:, 1])
    h, w = grid.shape
    inside = (rows >= 0) & (rows < h) & (cols >= 0) & (cols < w)
    return ((rows[inside] * w + cols[inside]) << bits) | feats[j[inside]], None


def _windows(geoms: np.ndarray, grid: Grid) -> np.ndarray:
    """Windows ``(row_start, row_stop, col_start, col_stop)``, one row per geometry.

    As rasterstats' ``bounds_window``: floor of the top-left corner, ceiling of the bottom-right one,
    computed as ``(y - f) / e`` and ``(x - c) / a`` (the same IEEE operations in numpy).
    """
    b = shapely.bounds(geoms)
    t = grid.transform
    with np.errstate(invalid="ignore"):
        r0 = np.floor((b[:, 3] - t.f) / t.e)
        c0 = np.floor((b[:, 0] - t.c) / t.a)
        r1 = np.ceil((b[:, 1] - t.f) / t.e)
        c1 = np.ceil((b[:, 2] - t.c) / t.a)
    win = np.stack([r0, r1, c0, c1], axis=1)
    big = float(1 << 40)  # keep absurd windows representable; they are clipped anyway
    return np.nan_to_num(win, nan=0.0, posinf=big, neginf=-big).clip(-big, big).astype(np.int64)


def _burn_one(geom: shapely.Geometry, win: np.ndarray, grid: Grid, all_touched: bool) -> np.ndarray:
    """Flat pixel indices GDAL burns for ``geom`` on its window ``(r0, r1, c0, c1)``, clipped to the grid."""
    h, w = grid.shape
    r0, r1, c0, c1 = (int(v) for v in win)
    r1 = max(r1, r0 + 1)  # a bounding box of zero height or width still gets one row / column
    c1 = max(c1, c0 + 1)
    cr0, cr1, cc0, cc1 = max(r0, 0), min(r1, h), max(c0, 0), min(c1, w)
    if cr0 >= cr1 or cc0 >= cc1:
        return _EMPTY_I8
    inside = (cr1 - cr0) * (cc1 - cc0)
    if (r1 - r0) * (c1 - c0) > _WINDOW_SLACK * inside + _WINDOW_MARGIN:
        r0, r1, c0, c1 = cr0, cr1, cc0, cc1
    t = grid.transform
    # rasterstats' window_bounds: x from affine * (col_start, row_stop), y from affine * (col_stop,
    # row_start); written out as Affine.__mul__ computes them, so that GDAL sees the same origin.
    x0 = c0 * t.a + r1 * t.b + t.c
    y0 = c1 * t.d + r0 * t.e + t.f
    wt = Affine(t.a, t.b, x0, t.d, t.e, y0)
    out = rasterize(
        [(geom, 1)],
        out_shape=(r1 - r0, c1 - c0),
        transform=wt,
        fill=0,
        dtype="uint8",
        all_touched=all_touched,
    )
    rr, cc = np.nonzero(out[cr0 - r0 : cr1 - r0, cc0 - c0 : cc1 - c0])
    return (rr.astype(np.int64) + cr0) * w + (cc.astype(np.int64) + cc0)


def _burn(geoms: np.ndarray, feats: np.ndarray, grid: Grid, bits: int, all_touched: bool, pad: int = 0) -> _Piece:
    """GDAL rasterisation of each geometry on its own window."""
    if geoms.size == 0:
        return _empty_piece()
    wins = _windows(geoms, grid)
    if pad:
        wins += np.array([-pad, pad, -pad, pad])
    h, w = grid.shape
    # skip geometries entirely outside the grid without calling GDAL
    hit = (np.maximum(wins[:, 1], wins[:, 0] + 1) > 0) & (wins[:, 0] < h)
    hit &= (np.maximum(wins[:, 3], wins[:, 2] + 1) > 0) & (wins[:, 2] < w)
    keys = []
    with rasterio.Env():
        for i in np.flatnonzero(hit):
            p = _burn_one(geoms[i], wins[i], grid, all_touched)
            if p.size:
                p <<= bits
                p |= feats[i]
                keys.append(p)
    if not keys:
        return _empty_piece()
    return np.concatenate(keys), None


# --------------------------------------------------------------------------------------------------
# centre and touched modes, and lines: GDAL's rules, vectorised, with GDAL itself for ties
#
# GDAL fills a polygon on the scanline through each row of pixel centres: the pixels whose centre
# lies between successive pairs of edge crossings (``floor(x + 0.5)`` rounding). With
# ``all_touched`` it also burns every pixel that an edge of a ring passes through, and a line is the
# pixels its segments pass through. Away from ties -- a centre on an edge, an edge through a pixel
# corner or along a pixel edge -- these are the even-odd point-in-polygon test on the pixel centres
# and the pixels a segment crosses, which are computed here for all features at once. A feature with
# a vertex or a crossing within ``_TIE_EPS`` pixel of such a tie is burned by GDAL instead, on
# rasterstats' window, so that ties resolve exactly as rasterstats resolves them. (The tests compare
# both paths on thousands of random and grid-snapped polygons.)


@dataclass
class _Edges:
    """The segments of a set of geometries in pixel coordinates (x right, y down)."""

    x1: np.ndarray
    y1: np.ndarray
    x2: np.ndarray
    y2: np.ndarray
    feat: np.ndarray  # local feature index of each segment
    part: np.ndarray  # polygon (or line) index of each segment
    tie: np.ndarray  # bool per local feature
    eps: float


def _edges(geoms: np.ndarray, grid: Grid, polygons: bool) -> _Edges:
    t = grid.transform
    h, w = grid.shape
    if polygons:  # one pass over the coordinates, with the offsets of rings, polygons and geometries
        _, xy, offsets = shapely.to_ragged_array(geoms, include_z=False)
        ring_off, poly_off = offsets[0], offsets[1]
        geom_off = offsets[2] if len(offsets) > 2 else np.arange(poly_off.size)
        vertex_ring = np.repeat(np.arange(ring_off.size - 1), np.diff(ring_off))
        ring_part = np.repeat(np.arange(poly_off.size - 1), np.diff(poly_off))
        part_feat = np.repeat(np.arange(geom_off.size - 1), np.diff(geom_off))
    else:
        parts, part_feat = shapely.get_parts(geoms, return_index=True)
        rings, ring_part = parts, np.arange(parts.size)
        xy, vertex_ring = shapely.get_coordinates(rings, return_index=True)
    # GDAL's inverse geotransform (GDALInvGeoTransform without rotation)
    inv_a, inv_c = 1.0 / t.a, -t.c / t.a
    inv_e, inv_f = 1.0 / t.e, -t.f / t.e
    px = inv_c + xy[:, 0] * inv_a
    py = inv_f + xy[:, 1] * inv_e
    # the tolerance: _TIE_EPS plus the rounding of pixel coordinates this large
    scale = max(abs(inv_c), abs(inv_f), float(w), float(h))
    eps = _TIE_EPS + 64 * np.finfo(float).eps * scale
    tie = np.zeros(geoms.size, dtype=bool)
    vertex_feat = part_feat[ring_part[vertex_ring]]
    tie[vertex_feat[~(np.isfinite(px) & np.isfinite(py))]] = True
    e1 = np.flatnonzero(vertex_ring[1:] == vertex_ring[:-1])
    e2 = e1 + 1
    part = ring_part[vertex_ring[e1]]
    return _Edges(px[e1], py[e1], px[e2], py[e2], part_feat[part], part, tie, eps)


def _near_half(v: np.ndarray, tol: np.ndarray | float) -> np.ndarray:
    f = v - 0.5
    return np.abs(f - np.rint(f)) < tol


def _near_int(v: np.ndarray, tol: np.ndarray | float) -> np.ndarray:
    return np.abs(v - np.rint(v)) < tol


def _ranges(n: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For counts ``n``: the owner of each of ``n.sum()`` items and its position ``0 .. n - 1``."""
    owner = np.repeat(np.arange(n.size), n)
    pos = np.arange(owner.size, dtype=np.int64)
    pos -= np.repeat(np.cumsum(n) - n, n)
    return owner, pos


def _crossings(ed: _Edges, grid: Grid):
    """Scanline crossings ``(x, row, polygon, feature)``: each edge with each centre line it crosses.

    Flags ties: a vertex on a centre line, a crossing on a pixel centre.
    """
    h, w = grid.shape
    eps = ed.eps
    for y in (ed.y1, ed.y2):
        near = _near_half(y, eps) & (y > -1) & (y < h + 1)
        ed.tie[ed.feat[near]] = True
    up = ed.y1 <= ed.y2
    ylo, yhi = np.where(up, ed.y1, ed.y2), np.where(up, ed.y2, ed.y1)
    xlo, xhi = np.where(up, ed.x1, ed.x2), np.where(up, ed.x2, ed.x1)
    # rows k whose centre k + 0.5 is strictly between ylo and yhi, clipped to the grid
    with np.errstate(invalid="ignore"):
        kmin = np.maximum(np.ceil(ylo - 0.5), 0)
        kmax = np.minimum(np.floor(yhi - 0.5), h - 1)
    ok = np.isfinite(kmin) & np.isfinite(kmax) & (yhi > ylo)
    n = np.where(ok, kmax - kmin + 1, 0).clip(0).astype(np.int64)
    keep = np.flatnonzero(n)
    owner, row = _ranges(n[keep])
    edge = keep[owner]
    row += kmin[edge].astype(np.int64)
    slope = (xhi - xlo)[edge] / (yhi - ylo)[edge]
    # GDAL: (dy - dy1) * (dx2 - dx1) / (dy2 - dy1) + dx1 -- equal up to rounding, which ties cover
    x = (row + 0.5 - ylo[edge]) * slope + xlo[edge]
    near = _near_half(x, eps * (1 + 2 * np.abs(slope))) & (x > -1) & (x < w + 1)
    ed.tie[ed.feat[edge[near]]] = True
    return x, row, ed.part[edge], ed.feat[edge]


def _fill_runs(x, row, part, feat, ed: _Edges, grid: Grid):
    """Even-odd fill per polygon and row: runs ``(row, col_start, col_stop, feature)``."""
    h, w = grid.shape
    line = part * h + row  # one scanline of one polygon
    order = np.lexsort((x, line))
    x, line, row, feat = x[order], line[order], row[order], feat[order]
    new = np.r_[True, line[1:] != line[:-1]]
    gstart = np.flatnonzero(new)
    gsize = np.diff(np.r_[gstart, x.size])
    odd = (gsize % 2) == 1  # impossible for closed rings; leave such a feature to GDAL
    if odd.any():
        ed.tie[feat[gstart[odd]]] = True
        keep = ~np.repeat(odd, gsize)
        x, row, feat = x[keep], row[keep], feat[keep]
    c1 = np.floor(x[0::2] + 0.5).clip(0, w)
    c2 = np.floor(x[1::2] + 0.5).clip(0, w)
    return row[0::2], c1.astype(np.int64), c2.astype(np.int64), feat[0::2]


def _clip_segments(ed: _Edges, grid: Grid) -> _Edges:
    """Clip segments to the grid plus half a pixel (Liang-Barsky); drop those outside."""
    h, w = grid.shape
    x1, y1, x2, y2 = ed.x1, ed.y1, ed.x2, ed.y2
    lo_x, hi_x, lo_y, hi_y = -0.5, w + 0.5, -0.5, h + 0.5
    inside = (
        (np.minimum(x1, x2) >= lo_x)
        & (np.maximum(x1, x2) <= hi_x)
        & (np.minimum(y1, y2) >= lo_y)
        & (np.maximum(y1, y2) <= hi_y)
    )
    if inside.all():
        return ed
    dx, dy = x2 - x1, y2 - y1
    t0 = np.zeros(x1.size)
    t1 = np.ones(x1.size)
    keep = np.isfinite(dx) & np.isfinite(dy)
    with np.errstate(divide="ignore", invalid="ignore"):
        for p, q in ((-dx, x1 - lo_x), (dx, hi_x - x1), (-dy, y1 - lo_y), (dy, hi_y - y1)):
            r = q / p
            keep &= ~((p == 0) & (q < 0))
            t0 = np.where(p < 0, np.maximum(t0, r), t0)
            t1 = np.where(p > 0, np.minimum(t1, r), t1)
    keep &= t0 <= t1
    nx1 = np.where(t0 > 0, x1 + t0 * dx, x1)
    ny1 = np.where(t0 > 0, y1 + t0 * dy, y1)
    nx2 = np.where(t1 < 1, x1 + t1 * dx, x2)
    ny2 = np.where(t1 < 1, y1 + t1 * dy, y2)
    k = np.flatnonzero(keep)
    return _Edges(nx1[k], ny1[k], nx2[k], ny2[k], ed.feat[k], ed.part[k], ed.tie, ed.eps)


def _segment_cells(ed: _Edges, grid: Grid):
    """The pixels each segment passes through, ``(row, col, feature)``, some maybe off the grid.

    That is GDAL's all-touched line walk (``GDALdllImageLineAllTouched``) except near the cases it
    treats specially, which are flagged as ties: an end point within 1e-4 pixel of a pixel edge
    (GDAL's ``EPSILON_INTERSECT_ONLY``), a segment crossing a pixel edge while moving less than
    0.01 pixel across it (GDAL burns such a segment as vertical or horizontal), and a segment
    through a pixel corner. Each segment is cut into column strips; in each strip it covers the
    rows between its heights at the strip's two sides.
    """
    ed = _clip_segments(ed, grid)
    eps = ed.eps
    for v in (ed.x1, ed.y1, ed.x2, ed.y2):
        ed.tie[ed.feat[_near_int(v, _GDAL_EDGE_EPS + eps)]] = True
    # left to right
    swap = ed.x1 > ed.x2
    xa, xb = np.where(swap, ed.x2, ed.x1), np.where(swap, ed.x1, ed.x2)
    ya, yb = np.where(swap, ed.y2, ed.y1), np.where(swap, ed.y1, ed.y2)
    ca, cb = np.floor(xa), np.floor(xb)
    steep = (xb - xa < _GDAL_STRAIGHT + eps) & (cb != ca)
    flat = (np.abs(yb - ya) < _GDAL_STRAIGHT + eps) & (np.floor(yb) != np.floor(ya))
    ed.tie[ed.feat[steep | flat]] = True
    with np.errstate(divide="ignore", invalid="ignore"):
        slope = np.where(xb > xa, (yb - ya) / (xb - xa), 0.0)
    # column strips: the segment's height where it enters and leaves each column
    seg, k = _ranges((cb - ca).astype(np.int64) + 1)
    col = ca[seg].astype(np.int64) + k
    last = col == cb[seg]
    y_in = np.where(k == 0, ya[seg], ya[seg] + (col - xa[seg]) * slope[seg])
    y_out = np.where(last, yb[seg], ya[seg] + (col + 1 - xa[seg]) * slope[seg])
    # a crossing of a pixel corner: the height on a column side near a whole number
    corner = _near_int(y_out[~last], (_CORNER_EPS + eps) * (1 + 2 * np.abs(slope[seg[~last]])))
    ed.tie[ed.feat[seg[~last][corner]]] = True
    r_in, r_out = np.floor(y_in), np.floor(y_out)
    r_lo = np.minimum(r_in, r_out).astype(np.int64)
    strip, j = _ranges(np.abs(r_out - r_in).astype(np.int64) + 1)
    return r_lo[strip] + j, col[strip], ed.feat[seg[strip]]


def _vectorised(
    geoms: np.ndarray, feats: np.ndarray, grid: Grid, bits: int, polygons: bool, all_touched: bool
) -> list[_Piece]:
    """GDAL's burn of polygons (``all_touched`` or not) or of lines (always all-touched)."""
    if geoms.size == 0:
        return []
    h, w = grid.shape
    pad = 0 if polygons else 1
    wins = _windows(geoms, grid) + np.array([-pad, pad, -pad, pad])
    hit = (np.maximum(wins[:, 1], wins[:, 0] + 1) > 0) & (wins[:, 0] < h)
    hit &= (np.maximum(wins[:, 3], wins[:, 2] + 1) > 0) & (wins[:, 2] < w)
    geoms, feats = geoms[hit], feats[hit]
    if geoms.size == 0:
        return []
    ed = _edges(geoms, grid, polygons)
    runs = _fill_runs(*_crossings(ed, grid), ed, grid) if polygons else None
    cells = _segment_cells(ed, grid) if (all_touched or not polygons) else None
    # every tie is known now: keep the features without one
    pieces = []
    if cells is not None:
        rows, cols, cfeat = cells
        ok = (rows >= 0) & (rows < h) & (cols >= 0) & (cols < w) & ~ed.tie[cfeat]
        pieces.append((((rows[ok] * w + cols[ok]) << bits) | feats[cfeat[ok]], None))
    if runs is not None:
        run_row, c1, c2, run_feat = runs
        good = (c2 > c1) & ~ed.tie[run_feat]
        run_row, c1, c2, run_feat = run_row[good], c1[good], c2[good], run_feat[good]
        # the k-th pixel of a run: key = (first + k) << bits | feature = run key + (k << bits)
        first_key = ((run_row * w + c1) << bits) | feats[run_feat]
        run, keys = _ranges(c2 - c1)
        keys <<= bits
        keys += first_key[run]
        pieces.append((keys, None))
    tied = np.flatnonzero(ed.tie)
    if tied.size:
        pieces.append(_burn(geoms[tied], feats[tied], grid, bits, all_touched or not polygons, pad=pad))
    return pieces


# --------------------------------------------------------------------------------------------------
# weighted mode: exact fractions, by Green's theorem per pixel row
#
# The area of a polygon P inside the pixel of row i and column j is the line integral, around P's
# boundary (exterior counter-clockwise, holes clockwise, in x-right / y-up), of
# ``h_i(v) * (clamp(u, j, j + 1) - (j + 1)) dv`` with u, v the boundary's pixel coordinates (v down)
# and h_i the indicator of row i. Cut at every pixel edge, the boundary is pieces inside one pixel
# each; a piece that moves dv down through pixel (i, j), at mean column u_m, adds
# ``dv * (j + 1 - u_m)`` to its own pixel and ``dv`` to every pixel right of it in the row. The second
# part is a running sum along the row, so the fractions are one ``bincount`` and one ``cumsum`` over
# each (feature, row) span the boundary crosses: no per-pixel geometry, in float64, with numpy (which
# releases the GIL).
# A pixel's fraction is exact to about 1e-14; fractions are then rounded to float32, as exactextract
# stores them, and those below ``_MIN_FRACTION`` dropped.

# Fractions below this are rounding noise (the running sums are exact to about 1e-14); exactextract's
# smallest fractions on real fields are about 5e-11.
_MIN_FRACTION = 1e-12
# Span cells held at once (float64 each): (feature, row) spans are processed in batches of about this
# many cells.
_BATCH_CELLS = 1 << 20
# exactextract (used for invalid polygons only) holds the GIL: two calls at once only slow each
# other and everything else down.
_EXACTEXTRACT_LOCK = threading.Lock()


def _split_at_integers(
    a0: np.ndarray, b0: np.ndarray, a1: np.ndarray, b1: np.ndarray, lo: int, hi: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Cut segments ``(a0, b0)-(a1, b1)`` where ``a`` crosses a whole number in ``[lo, hi]``.

    Returns the pieces ``(a0, b0, a1, b1)``, each in its segment's direction, and the segment each
    belongs to (pieces are not in boundary order: the sums they feed do not need it). A crossing's
    ``b`` is computed once per crossing formula, so that consecutive pieces meet exactly.
    """
    amin, amax = np.minimum(a0, a1), np.maximum(a0, a1)
    kl = np.clip(np.ceil(amin), lo, hi)
    kh = np.clip(np.floor(amax), lo, hi)
    n = np.where((a1 != a0) & (amax >= lo) & (amin <= hi), kh - kl + 1, 0).astype(np.int64)
    np.maximum(n, 0, out=n)
    whole = np.flatnonzero(n == 0)  # most segments of small features cross nothing: kept as they are
    cut = np.flatnonzero(n)
    seg, p = _ranges(n[cut] + 1)  # piece p of a segment with n crossings runs from crossing p - 1 to p
    last = p == n[cut][seg]
    seg = cut[seg]
    up = a1[seg] > a0[seg]
    step = np.where(up, 1.0, -1.0)
    base = np.where(up, kl[seg], kh[seg])
    ka, kb = base + (p - 1) * step, base + p * step
    sa0, sb0 = a0[seg], b0[seg]
    with np.errstate(invalid="ignore", divide="ignore"):
        slope = (b1[seg] - sb0) / (a1[seg] - sa0)
    first = p == 0
    pa0 = np.where(first, sa0, ka)
    pb0 = np.where(first, sb0, sb0 + (ka - sa0) * slope)
    pa1 = np.where(last, a1[seg], kb)
    pb1 = np.where(last, b1[seg], sb0 + (kb - sa0) * slope)
    return (
        np.concatenate([a0[whole], pa0]),
        np.concatenate([b0[whole], pb0]),
        np.concatenate([a1[whole], pa1]),
        np.concatenate([b1[whole], pb1]),
        np.concatenate([whole, seg]),
    )


def _row_pieces(geoms: np.ndarray, grid: Grid) -> tuple[np.ndarray, ...]:
    """The boundary pieces of valid polygonal ``geoms``: ``(feature, row, col, own, dv)`` per piece.

    ``own`` is what a piece adds to its pixel and ``dv`` what it adds to each pixel right of it.
    Pieces outside the grid's rows are dropped; left and right of the grid they are moved onto its
    side (which changes no pixel's integral).
    """
    h, w = grid.shape
    t = grid.transform
    _, coords, offsets = shapely.to_ragged_array(geoms, include_z=False)
    ring_off, poly_off = offsets[0], offsets[1]  # vertices of each ring, rings of each polygon
    geom_off = offsets[2] if len(offsets) > 2 else np.arange(poly_off.size)  # polygons of each geometry
    n_rings = ring_off.size - 1
    vring = np.repeat(np.arange(n_rings), np.diff(ring_off))
    x, y = coords[:, 0], coords[:, 1]
    same = vring[1:] == vring[:-1]
    ering = vring[:-1][same]
    # orientation: the sign of each ring's area (relative to its first vertex, for precision)
    x0, y0 = x - x[ring_off[vring]], y - y[ring_off[vring]]
    cross = (x0[:-1] * y0[1:] - x0[1:] * y0[:-1])[same]
    area2 = np.bincount(ering, weights=cross, minlength=n_rings)
    exterior = np.zeros(n_rings, bool)
    rings_per_poly = np.diff(poly_off)
    exterior[poly_off[:-1][rings_per_poly > 0]] = True
    flip = np.where(exterior, area2 < 0, area2 > 0)[ering]
    ring_feat = np.repeat(np.repeat(np.arange(geom_off.size - 1), np.diff(geom_off)), rings_per_poly)
    u = (x - t.c) / t.a
    v = (y - t.f) / t.e
    u0, v0, u1, v1 = u[:-1][same], v[:-1][same], u[1:][same], v[1:][same]
    u0, u1 = np.where(flip, u1, u0), np.where(flip, u0, u1)
    v0, v1 = np.where(flip, v1, v0), np.where(flip, v0, v1)
    del x, y, x0, y0, u, v, cross, flip
    # cut at pixel columns, move what is left or right of the grid onto its side, cut at pixel rows
    u0, v0, u1, v1, seg = _split_at_integers(u0, v0, u1, v1, 0, w)
    ering = ering[seg]
    np.clip(u0, 0, w, out=u0)
    np.clip(u1, 0, w, out=u1)
    moves = v1 != v0
    v0, u0, v1, u1, seg = _split_at_integers(v0[moves], u0[moves], v1[moves], u1[moves], 0, h)
    ering = ering[moves][seg]
    dv = v1 - v0
    vm = 0.5 * (v0 + v1)
    row = np.floor(vm)
    keep = (dv != 0) & (row >= 0) & (row < h)
    um = 0.5 * (u0 + u1)[keep]
    dv = dv[keep]
    row = row[keep].astype(np.int64)
    col = np.minimum(np.floor(um), w).astype(np.int64)
    own = dv * (col + 1 - um)
    return ring_feat[ering[keep]], row, col, own, dv


def _exact_weights(geoms: np.ndarray, grid: Grid) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Exact covered fractions of valid polygonal ``geoms``: ``(geometry, pixel, fraction)``.

    Fractions rounded to float32, those below ``_MIN_FRACTION`` dropped; entries sorted by geometry,
    then pixel. Each (feature, row) is summed over its own span, from the first column a boundary
    piece of the feature crosses in that row to one past the last: left of it nothing is covered, and
    right of it the running sum is back to 0. So the work follows the boundary and the covered area,
    not the bounding box (a long, thin, diagonal polygon costs its length, not its box).
    """
    h, w = grid.shape
    feat, row, col, own, dv = _row_pieces(geoms, grid)
    if feat.size == 0:
        return (_EMPTY_I8, _EMPTY_I8, np.empty(0))
    key = feat * h + row  # one unit per (feature, row), in (feature, row) order
    order = np.argsort(key, kind="stable")
    key, col, own, dv = key[order], col[order], own[order], dv[order]
    del order, feat, row
    first = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])  # each unit's first piece
    ukey = key[first]
    c0 = np.minimum.reduceat(col, first)
    width = np.maximum.reduceat(col, first) - c0 + 2  # one more column for the running sum to end in
    unit = np.repeat(np.arange(first.size), np.diff(np.r_[first, key.size]))
    loc = col - c0[unit]
    del key, col
    piece_start = np.r_[first, unit.size]
    batch = (np.cumsum(width) - width) // _BATCH_CELLS
    b_start = np.flatnonzero(np.r_[True, batch[1:] != batch[:-1]])
    b_stop = np.r_[b_start[1:], first.size]
    out_f, out_p, out_w = [], [], []
    for a, b in zip(b_start.tolist(), b_stop.tolist(), strict=True):
        sizes = width[a:b]
        offset = np.cumsum(sizes) - sizes
        size = int(sizes.sum())
        sl = slice(piece_start[a], piece_start[b])
        at = offset[unit[sl] - a] + loc[sl]
        # dv right of each piece: a running sum along each span, which ends at 0 (a closed boundary
        # moves as far up as down in a row); subtracting each span's start removes drift
        acc = np.bincount(at + 1, weights=dv[sl], minlength=size + 1)[:size]
        np.cumsum(acc, out=acc)
        acc -= np.repeat(np.r_[0.0, acc][offset], sizes)
        acc += np.bincount(at, weights=own[sl], minlength=size)
        frac = acc.astype(np.float32)
        keep = np.flatnonzero(frac >= _MIN_FRACTION)
        u = np.searchsorted(offset, keep, side="right") - 1
        c = c0[a:b][u] + (keep - offset[u])
        inside = c < w  # the span's last column may be the one past the grid's edge: it covers nothing
        u, c, keep = u[inside], c[inside], keep[inside]
        fr = ukey[a:b][u]
        out_f.append(fr // h)
        out_p.append((fr % h) * w + c)
        out_w.append(np.minimum(frac[keep], np.float32(1.0)))
    return np.concatenate(out_f), np.concatenate(out_p), np.concatenate(out_w).astype(np.float64)


def _weighted(geoms: np.ndarray, feats: np.ndarray, grid: Grid, bits: int) -> _Piece:
    if geoms.size == 0:
        return _empty_piece()
    xmin, ymin, xmax, ymax = grid.bounds
    b = shapely.bounds(geoms)
    hit = (b[:, 0] < xmax) & (b[:, 2] > xmin) & (b[:, 1] < ymax) & (b[:, 3] > ymin)
    geoms, feats = geoms[hit], feats[hit]
    if geoms.size == 0:
        return _empty_piece()
    valid = is_valid(geoms)  # not shapely.is_valid: it resets the process's warning filters (threads)
    keys, weights = [], []
    if valid.any():
        local, pixel, frac = _exact_weights(geoms[valid], grid)
        pixel <<= bits
        pixel |= feats[valid][local]
        keys.append(pixel)
        weights.append(frac)
    if not valid.all():  # invalid polygons: exactextract's fractions, as before
        k, wt = _exactextract_weights(geoms[~valid], feats[~valid], grid, bits)
        keys.append(k)
        weights.append(wt)
    return np.concatenate(keys), np.concatenate(weights)


def _exactextract_weights(geoms: np.ndarray, feats: np.ndarray, grid: Grid, bits: int) -> _Piece:
    ee = _exactextract()
    writer = ee.ArrayWriter()
    try:
        with _EXACTEXTRACT_LOCK:
            ee.exact_extract(
                ee.ZeroRasterSource(grid),
                ee.WkbFeatureSource(shapely.to_wkb(geoms, output_dimension=2)),
                ["cell_id", "coverage"],
                include_cols=["fid"],
                output=writer,
            )
    except RuntimeError as exc:  # exactextract reports bad geometries as RuntimeError
        raise GeometryError(
            f"exactextract could not compute the coverage of these geometries: {exc}. "
            "Check them with shapely.is_valid and repair them with shapely.make_valid."
        ) from exc
    if not writer.cells:
        return _empty_piece()
    # exactextract numbers cells row * width + col from the top-left corner of the raster it was
    # given, which is the grid itself: the grid's flat pixel index
    cells = np.concatenate(writer.cells).astype(np.int64, copy=False)
    # overlapping parts of an invalid multipolygon add up: a pixel is covered at most once
    cov = np.minimum(np.concatenate(writer.cov), 1.0)
    local = np.repeat(np.asarray(writer.local), [c.size for c in writer.cells])
    del writer
    if cells.size and (cells.min() < 0 or cells.max() >= grid.width * grid.height):
        raise RuntimeError("exactextract returned cell ids outside the grid; this is a bug.")
    keep = cov > 0
    cells <<= bits
    cells |= feats[local]
    return cells[keep], cov[keep]


@functools.cache
def _exactextract() -> SimpleNamespace:
    """The exactextract function and our adapters (imported on first use: exactextract is slow to import)."""
    from exactextract import exact_extract
    from exactextract._exactextract import Feature
    from exactextract.feature import FeatureSource
    from exactextract.raster import RasterSource
    from exactextract.writer import Writer

    class ZeroRasterSource(RasterSource):
        """A nodata-free raster of zeros on ``grid``; windows are views of one shared zero buffer."""

        def __init__(self, grid: Grid):
            super().__init__()
            t = grid.transform
            self._res = (t.a, -t.e)
            self._ext = grid.bounds
            self._zeros = np.zeros(0, dtype=np.uint8)

        def res(self):
            return self._res

        def extent(self):
            return self._ext

        def srs_wkt(self):
            return None  # geometries are already in the grid's CRS

        def nodata_value(self):
            return None

        def read_window(self, x0, y0, nx, ny):
            if self._zeros.size < nx * ny:
                self._zeros = np.zeros(max(nx * ny, 2 * self._zeros.size), dtype=np.uint8)
            return self._zeros[: nx * ny].reshape(ny, nx)

    class WkbFeature(Feature):
        __slots__ = ("props", "wkb")

        def __init__(self, wkb=None, props=None):
            Feature.__init__(self)
            self.wkb = wkb
            self.props = {} if props is None else props

        def geometry(self):
            return self.wkb

        def set_geometry_format(self):
            return "wkb"

        def set_geometry(self, geom):
            pass

        def get(self, name):
            return self.props[name]

        def set(self, name, value):
            self.props[name] = value

        def fields(self):
            return list(self.props)

    class WkbFeatureSource(FeatureSource):
        """Features from WKB, with their position as the column ``fid``."""

        def __init__(self, wkbs):
            super().__init__()
            self._wkbs = wkbs

        def count(self):
            return len(self._wkbs)

        def __iter__(self):
            for i, wkb in enumerate(self._wkbs):
                yield WkbFeature(wkb, {"fid": i})

        def srs_wkt(self):
            return None

    class ArrayWriter(Writer):
        """Collects each feature's ``cell_id`` and ``coverage`` arrays, without pandas."""

        def __init__(self):
            super().__init__()
            self.local, self.cells, self.cov = [], [], []
            self._f = WkbFeature()

        def add_operation(self, op):
            pass

        def add_column(self, name):
            pass

        def write(self, feature):
            f = self._f
            feature.copy_to(f)
            cells = f.props["cell_id"]
            if len(cells):
                self.local.append(f.props["fid"])
                self.cells.append(cells)
                self.cov.append(f.props["coverage"])

        def features(self):
            return None

    return SimpleNamespace(
        exact_extract=exact_extract,
        ZeroRasterSource=ZeroRasterSource,
        WkbFeatureSource=WkbFeatureSource,
        ArrayWriter=ArrayWriter,
    )


# --------------------------------------------------------------------------------------------------
# assembly


def _assemble(pieces: list[_Piece], n_features: int, bits: int) -> Coverage:
    """One :class:`Coverage` from pieces of packed keys: sorted, a repeated pair merged (largest weight)."""
    pieces = [p for p in pieces if p[0].size]
    if not pieces:
        key, weight = _EMPTY_I8.copy(), None
    else:
        weighted = any(p[1] is not None for p in pieces)
        key = pieces[0][0] if len(pieces) == 1 else np.concatenate([p[0] for p in pieces])
        weight = None
        if weighted:
            weight = np.concatenate([np.ones(p[0].size) if p[1] is None else p[1] for p in pieces])
        del pieces
        # timsort: the keys come in runs (one per feature, or per polygon), each ascending
        if weight is None:
            key.sort(kind="stable")
        else:
            order = np.argsort(key, kind="stable")
            key, weight = key[order], weight[order]
            del order
        dup = key[1:] == key[:-1]
        if dup.any():  # a (feature, pixel) pair more than once: collections, multi-part geometries
            starts = np.flatnonzero(np.r_[True, ~dup])
            if weight is not None:
                weight = np.maximum.reduceat(weight, starts)
            key = key[starts]
        del dup
    pixel = key >> bits
    key &= (1 << bits) - 1
    feature = key
    if weight is None:  # all ones: a broadcast scalar, no memory
        weight = np.broadcast_to(np.float64(1.0), pixel.shape)
    elif not (weight > 0).all():
        positive = weight > 0
        feature, pixel, weight = feature[positive], pixel[positive], weight[positive]
    for a in (feature, pixel, weight):
        if a.flags.writeable:
            a.setflags(write=False)
    return Coverage(feature=feature, pixel=pixel, weight=weight, n_features=int(n_features))
