"""Per-pixel composites over time: ``ImageCollection.mean()``, ``median()``, ``mosaic()``, ``reduce()``, ...

A composite band is lazy like any other: evaluated on a grid, it asks every image for that band on
the grid (``band.on(grid)``) and reduces the stack pixel by pixel, one block at a time, with
:func:`dask.array.map_blocks`. A task holds one block of every image, so memory per task is the block
size times the number of images. Masked pixels (NaN) are left out of every statistic.

Every statistic over time is the statistics core's: a block of T images is a
:class:`reducer.stats.StackContext` (a pixel is a segment, its entries the images, each with
weight 1, in collection order) and :func:`reducer.stats.evaluate` computes each reducer output on
it. The shortcuts (``mean()``, ``median()``, ...) are ``reduce()`` with the reducer of the same name,
with the band names kept.

Rules:

- Bands are matched by name; the composite has every band name of the collection, in the order
  they first appear. An image without a band adds nothing to that band.
- A composite band's default grid has the CRS, pixel size and pixel alignment of that band in the
  first image that has it, and an extent that covers the band in every image
  (:func:`covering_grid`): tiles on different grids (MODIS, HLS and Sentinel-2 tiles) all show in
  the composite. A reduction may still ask for another grid.
- A pixel with no valid value is masked, except for ``count``, which is 0 there.
- The composite has no properties (as in Earth Engine); set ``system:time_start`` yourself if needed.
- ``median`` of an even number of values is the mean of the middle two; ``mode`` breaks ties
  towards the smallest value; ``stdDev`` and ``variance`` are population statistics (divide by n),
  as the region reducers are.
- Band types: ``count`` is int64; ``min``, ``max`` and ``mode`` keep the images' (promoted) type;
  ``sum`` and ``product`` are int64 for integer bands; the others float64.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace

import dask.array as da
import numpy as np
from affine import Affine
from dask.base import tokenize

from .errors import ArgumentError, BandError, ReducerInputError
from .grid import Grid
from .raster import Band, Raster, align, memo
from .raster import constant_band as _constant
from .reducers import Column, Reducer, time_columns
from .stats import AGGREGATIONS, StackContext, evaluate, needed_kinds

__all__ = ["STATS", "composite", "covering_grid", "mosaic", "quality_mosaic", "reduce", "reduce_over_time", "to_bands"]

F8 = np.dtype("f8")
_META = np.empty((0, 0), F8)
BLOCK = 1024

STATS = ("mean", "median", "min", "max", "sum", "count", "mode", "product", "stdDev", "variance")

_SHORTCUTS: dict[str, Reducer] = {
    "mean": Reducer.mean(),
    "median": Reducer.median(),
    "min": Reducer.min(),
    "max": Reducer.max(),
    "sum": Reducer.sum(),
    "count": Reducer.count(),
    "mode": Reducer.mode(),
    "product": Reducer.product(),
    "stdDev": Reducer.stdDev(),
    "variance": Reducer.variance(),
}

# -- per-block kernels ----------------------------------------------------------------------------


def _evaluate_stack(stack: np.ndarray, columns: Sequence[Column]) -> list[np.ndarray]:
    """Each column's values on a ``(T, bands, pixels)`` stack: ``(pixels,)`` floats, NaN for none."""
    kinds = set().union(*needed_kinds([c.output for c in columns]).values()) if columns else set()
    ctx = StackContext(stack, sorted(kinds))
    with np.errstate(all="ignore"):
        return [np.asarray(evaluate(c.output, c.bands, ctx), dtype=F8) for c in columns]


def reduce_over_time(
    values: np.ndarray, reducer: Reducer, band_names: Sequence[str] | None = None
) -> dict[str, np.ndarray]:
    """Reduce a ``(T, B, y, x)`` block over time, each pixel on its own: ``{band name: (y, x)}``.

    Masked values are NaN; each image has weight 1, in collection order (``first``, ``toList``).
    Output names follow ``ImageCollection.reduce``: a one-input reducer gives ``<band>_<output>``,
    a reducer with several inputs its output names. A pixel with no valid value gets NaN (``count``
    gets 0).

    Examples
    --------
    >>> v = np.array([1.0, 5.0, 2.0, np.nan]).reshape(4, 1, 1, 1)
    >>> out = reduce_over_time(v, Reducer.median().combine(Reducer.count(), sharedInputs=True), ["b"])
    >>> {k: a.ravel().tolist() for k, a in out.items()}
    {'b_median': [2.0], 'b_count': [3.0]}
    """
    values = np.asarray(values, dtype=F8)
    n_t, n_b, ny, nx = values.shape
    names = list(band_names) if band_names is not None else [f"b{i}" for i in range(n_b)]
    columns = time_columns(reducer, names)
    out = _evaluate_stack(values.reshape(n_t, n_b, ny * nx), columns)
    return {c.name: v.reshape(ny, nx) for c, v in zip(columns, out, strict=True)}


def _stack_block(blocks: Sequence[np.ndarray], n_bands: int) -> np.ndarray:
    """``(T, n_bands, pixels)`` from blocks ordered band by band, then image by image."""
    flat = np.stack([np.asarray(b, dtype=F8).reshape(-1) for b in blocks])
    return flat.reshape(n_bands, len(blocks) // n_bands, -1).transpose(1, 0, 2)


def _over_time_block(*blocks: np.ndarray, n_bands: int, columns: Sequence[Column]) -> np.ndarray:
    shape = np.shape(blocks[0])
    out = _evaluate_stack(_stack_block(blocks, n_bands), columns)
    return np.stack(out).reshape(len(columns), *shape)


def _one_column_block(*blocks: np.ndarray, column: Column) -> np.ndarray:
    shape = np.shape(blocks[0])
    return _evaluate_stack(_stack_block(blocks, 1), [column])[0].reshape(shape)


def _over_time_dask(arrays: Sequence[Sequence[da.Array]], columns: Sequence[Column]) -> dict[str, da.Array]:
    """The columns over time of dask arrays ``arrays[band][image]`` (2-D, equal chunks), one task per block."""
    flat = [a for band in arrays for a in band]
    names = [c.name for c in columns]
    if not flat or not names:
        return {}
    name = "reduce-over-time-" + tokenize([a.name for a in flat], repr(list(columns)))
    stacked = da.map_blocks(
        _over_time_block,
        *flat,
        n_bands=len(arrays),
        columns=list(columns),
        new_axis=0,
        chunks=((len(names),), *flat[0].chunks),
        dtype=F8,
        meta=np.empty((0, 0, 0), F8),
        name=name,
    )
    return {n: stacked[i] for i, n in enumerate(names)}


def _mosaic_block(*blocks: np.ndarray) -> np.ndarray:
    out = np.full(blocks[0].shape, np.nan)
    for b in blocks:  # later images on top
        out = np.where(np.isnan(b), out, b)
    return out


def _quality_block(*blocks: np.ndarray, n: int) -> np.ndarray:
    q = np.stack([np.asarray(b, dtype=F8) for b in blocks[:n]])
    x = np.stack([np.asarray(b, dtype=F8) for b in blocks[n:]])
    ranked = np.where(np.isnan(q), -np.inf, q)[::-1]  # reversed, so ties go to the later image
    idx = n - 1 - np.argmax(ranked, axis=0)
    out = np.take_along_axis(x, idx[None], 0)[0]
    return np.where(np.isnan(q).all(axis=0), np.nan, out)


# -- bands ----------------------------------------------------------------------------------------


def _table(images: Sequence[Raster]) -> dict[str, list[Band | None]]:
    """Band name -> that band in each image (None where an image lacks it), in first-seen order."""
    names: list[str] = []
    for img in images:
        for b in img.bands:
            if b.name not in names:
                names.append(b.name)
    table: dict[str, list[Band | None]] = {}
    for name in names:
        table[name] = [next((b for b in img.bands if b.name == name), None) for img in images]
    return table


def _union(dtypes: Sequence[str]) -> str:
    out = np.dtype(dtypes[0])
    for d in dtypes[1:]:
        out = np.promote_types(out, np.dtype(d))
    return str(out)


def _dtype(stat: str, dtypes: Sequence[str]) -> str:
    if stat == "count":
        return "int64"
    if stat in ("min", "max", "mode", "mosaic"):
        return _union(dtypes)
    if stat in ("sum", "product"):
        u = np.dtype(_union(dtypes))
        return "int64" if u.kind in "iub" else "float64"
    return "float64"


def _nan_array(grid: Grid) -> da.Array:
    return _constant("nan", np.nan).on(grid)


def _arrays(bands: Sequence[Band | None], grid: Grid) -> list[da.Array]:
    return [_nan_array(grid) if b is None else b.on(grid) for b in bands]


def covering_grid(grids: Sequence[Grid | None]) -> Grid | None:
    """The first grid's CRS, pixel size and alignment, extended to cover every grid (None if none has one).

    Each other grid's bounds are transformed to the first grid's CRS and snapped outwards to its
    pixels, so every image of a composite contributes to the composite's default grid.

    Examples
    --------
    >>> from affine import Affine
    >>> a = Grid("EPSG:32633", Affine(10, 0, 0, 0, -10, 100), 10, 10)
    >>> b = Grid("EPSG:32633", Affine(10, 0, 95, 0, -10, 50), 10, 10)
    >>> g = covering_grid([a, b, None])
    >>> g.transform.c, g.transform.f, g.shape
    (0.0, 100.0, (15, 20))
    >>> covering_grid([a, a]) is a, covering_grid([None]) is None
    (True, True)
    """
    present = [g for g in grids if g is not None]
    if not present:
        return None
    first = present[0]
    others = [g for g in present[1:] if g != first]
    if not others:
        return first
    from pyproj import Transformer

    inv = ~first.transform
    cols: list[float] = [0.0, float(first.width)]
    rows: list[float] = [0.0, float(first.height)]
    for g in others:
        xmin, ymin, xmax, ymax = g.bounds
        if g.crs != first.crs:
            tr = Transformer.from_crs(g.crs, first.crs, always_xy=True)
            xmin, ymin, xmax, ymax = tr.transform_bounds(xmin, ymin, xmax, ymax, densify_pts=21)
        for x in (xmin, xmax):
            for y in (ymin, ymax):
                c, r = inv * (x, y)
                cols.append(c)
                rows.append(r)
    c0, c1 = math.floor(min(cols) + 1e-9), math.ceil(max(cols) - 1e-9)
    r0, r1 = math.floor(min(rows) + 1e-9), math.ceil(max(rows) - 1e-9)
    if (c0, r0, c1, r1) == (0, 0, first.width, first.height):
        return first
    return Grid(first.crs, first.transform * Affine.translation(c0, r0), c1 - c0, r1 - r0)


def _stat_band(name: str, bands: Sequence[Band | None], stat: str) -> Band:
    """``stat`` of the band ``name`` over time: ``ImageCollection.reduce`` with that reducer, the name kept."""
    present = [b for b in bands if b is not None]
    grid = covering_grid([b.grid for b in present])
    (column,) = time_columns(_SHORTCUTS[stat], [name])

    def fn(g: Grid, resampling: str) -> da.Array:
        arrays = align([b.on(g) for b in present])
        return da.map_blocks(_one_column_block, *arrays, column=column, dtype=F8, meta=_META)

    return Band(name, _dtype(stat, [b.dtype for b in present]), grid, memo(fn))


def composite(images: Sequence[Raster], stat: str) -> Raster:
    """One band per band name: ``stat`` of each pixel over the images (band names kept).

    Parameters
    ----------
    images
        The collection's images.
    stat
        One of :data:`STATS`.

    Examples
    --------
    >>> imgs = [Raster((_constant("constant", v),)) for v in (1, 3, 8)]
    >>> composite(imgs, "median").names
    ['constant']
    >>> [b.dtype for b in composite(imgs, "count").bands]
    ['int64']
    >>> composite([], "mean").names
    []
    """
    if stat not in STATS:
        raise ArgumentError(f"unknown composite statistic {stat!r}; expected one of {STATS!r}.")
    table = _table(list(images))
    return Raster(tuple(_stat_band(name, bands, stat) for name, bands in table.items()))


def mosaic(images: Sequence[Raster]) -> Raster:
    """Per pixel, the value of the last image in which it is valid (later images on top).

    Examples
    --------
    >>> mosaic([Raster((_constant("constant", v),)) for v in (1, 2)]).names
    ['constant']
    """
    bands = []
    for name, members in _table(list(images)).items():
        present = [b for b in members if b is not None]
        grid = covering_grid([b.grid for b in present])

        def fn(g: Grid, resampling: str, present: list[Band] = present) -> da.Array:
            return da.map_blocks(_mosaic_block, *align([b.on(g) for b in present]), dtype=F8, meta=_META)

        bands.append(Band(name, _dtype("mosaic", [b.dtype for b in present]), grid, memo(fn)))
    return Raster(tuple(bands))


def quality_mosaic(images: Sequence[Raster], qualityBand: str) -> Raster:
    """Per pixel, every band of the image with the highest ``qualityBand`` value.

    Images where the quality band is masked are not candidates; ties go to the later image; a pixel
    with no valid quality value is masked.

    Examples
    --------
    >>> a = Raster((_constant("constant", 1), _constant("q", 5)))
    >>> b = Raster((_constant("constant", 2), _constant("q", 7)))
    >>> quality_mosaic([a, b], "q").names
    ['constant', 'q']
    >>> quality_mosaic([a, b], "nope")
    Traceback (most recent call last):
    ...
    reducer.errors.BandError: ImageCollection.qualityMosaic: image 0 has no band 'nope' (bands ['constant', 'q']). ...
    """
    imgs = list(images)
    quality: list[Band] = []
    for i, img in enumerate(imgs):
        q = next((b for b in img.bands if b.name == qualityBand), None)
        if q is None:
            raise BandError(
                f"ImageCollection.qualityMosaic: image {i} has no band {qualityBand!r} "
                f"(bands {[b.name for b in img.bands]!r}). Add the quality band to every image first."
            )
        quality.append(q)
    n = len(imgs)
    bands = []
    for name, members in _table(imgs).items():
        present = [b for b in members if b is not None]
        grid = covering_grid([b.grid for b in present])

        def fn(g: Grid, resampling: str, members: list[Band | None] = members) -> da.Array:
            arrays = [q.on(g) for q in quality] + _arrays(members, g)
            return da.map_blocks(_quality_block, *align(arrays), n=n, dtype=F8, meta=_META)

        bands.append(Band(name, _dtype("mosaic", [b.dtype for b in present]), grid, memo(fn)))
    return Raster(tuple(bands))


def reduce(images: Sequence[Raster], reducer: Reducer) -> Raster:
    """Earth Engine's ``ImageCollection.reduce``: apply ``reducer`` over time, pixel by pixel.

    A one-input reducer is applied to each band, and each output band is named
    ``<band>_<output>`` (``B4_mean``). A reducer with n inputs (``combine`` without
    ``sharedInputs``, ``linearFit``) needs n bands and keeps its output names. Every reducer with
    number outputs works (statistics in :mod:`reducer.stats`); weighting does not apply: every
    valid pixel counts once, in collection order (``first``, ``kendallsCorrelation``). Reducers
    whose outputs are lists or dictionaries (histograms, ``toList``, ``group``) raise.

    Examples
    --------
    >>> imgs = [Raster((_constant("B4", 1),)), Raster((_constant("B4", 3),))]
    >>> reduce(imgs, Reducer.mean().combine(Reducer.stdDev(), sharedInputs=True)).names
    ['B4_mean', 'B4_stdDev']
    >>> reduce(imgs, Reducer.mean().combine(Reducer.max()))
    Traceback (most recent call last):
    ...
    reducer.errors.ReducerInputError: ImageCollection.reduce: the reducer has 2 inputs but the collection ...
    """
    if not isinstance(reducer, Reducer):
        raise ArgumentError(
            f"ImageCollection.reduce: expected an ee.Reducer such as ee.Reducer.mean(), got {reducer!r}."
        )
    table = _table(list(images))
    n_in = reducer.n_inputs
    if n_in == 1:
        bands = []
        for name, members in table.items():
            bands.extend(_reduced_bands([name], [members], reducer))
        return Raster(tuple(bands))
    names = list(table)
    if len(names) != n_in:
        raise ReducerInputError(
            f"ImageCollection.reduce: the reducer has {n_in} inputs but the collection has "
            f"{len(names)} band(s) {names!r}. Select {n_in} bands, or combine reducers with "
            "sharedInputs=True to apply them to each band."
        )
    return Raster(tuple(_reduced_bands(names, [table[n] for n in names], reducer)))


def _reduced_bands(names: list[str], members: list[list[Band | None]], reducer: Reducer) -> list[Band]:
    """The output bands of ``reducer`` over time on bands ``names``: one task per block for all of them."""
    columns = time_columns(reducer, names)
    present = [b for ms in members for b in ms if b is not None]
    grid = covering_grid([b.grid for b in present])
    dtypes = [b.dtype for b in present] or ["float64"]

    def fn(g: Grid, resampling: str, name: str) -> da.Array:
        arrays = align([a for ms in members for a in _arrays(ms, g)])
        n_t = len(members[0])
        per_band = [arrays[k * n_t : (k + 1) * n_t] for k in range(len(members))]
        return _over_time_dask(per_band, columns)[name]

    out = []
    for c in columns:
        agg = AGGREGATIONS[c.output.stat]
        dtype = "int64" if agg.integer else _union(dtypes) if agg.keeps_type else "float64"
        out.append(Band(c.name, dtype, grid, lambda g, r, name=c.name: fn(g, r, name)))
    return out


def to_bands(images: Sequence[Raster]) -> Raster:
    """All bands of all images in one image, named ``<image id>_<band>``.

    The id is the image's ``system:index``, or its position in the collection when it has none.
    Each band keeps its own grid.

    Examples
    --------
    >>> imgs = [Raster((_constant("constant", 1),), {"system:index": "a"}), Raster((_constant("constant", 2),))]
    >>> to_bands(imgs).names
    ['a_constant', '1_constant']
    """
    bands = []
    for i, img in enumerate(list(images)):
        prefix = img.properties.get("system:index")
        prefix = str(i) if prefix in (None, "") else str(prefix)
        bands.extend(replace(b, name=f"{prefix}_{b.name}") for b in img.bands)
    return Raster(tuple(bands))
