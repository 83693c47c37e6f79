"""Per-pixel composites over time: ``ImageCollection.mean()``, ``median()``, ``mosaic()``, ``reduce()``, ...

A composite band is lazy like any other: evaluated on a grid, it asks every image for that band on
the grid (``band.on(grid)``) and reduces the stack pixel by pixel, one block at a time, with
:func:`dask.array.map_blocks`. A task holds one block of every image, so memory per task is the block
size times the number of images. Masked pixels (NaN) are left out of every statistic.

Rules:

- Bands are matched by name; the composite has every band name of the collection, in the order
  they first appear. An image without a band adds nothing to that band.
- A composite band's default grid is that band's grid in the first image that has it, so a
  composite of images on different grids is computed on the first image's grid unless a reduction
  asks for another.
- A pixel with no valid value is masked, except for ``count``, which is 0 there.
- The composite has no properties (as in Earth Engine); set ``system:time_start`` yourself if needed.
- ``median`` of an even number of values is the mean of the middle two; ``mode`` breaks ties
  towards the smallest value; ``stdDev`` and ``variance`` are population statistics (divide by n),
  as the region reducers are.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import dask.array as da
import numpy as np

from .errors import ArgumentError, BandError, ReducerInputError
from .grid import Grid
from .raster import Band, Raster, align, memo
from .raster import constant_band as _constant

__all__ = ["STATS", "composite", "mosaic", "quality_mosaic", "reduce", "to_bands"]

F8 = np.dtype("f8")
_META = np.empty((0, 0), F8)
BLOCK = 1024

STATS = ("mean", "median", "min", "max", "sum", "count", "mode", "product", "stdDev", "variance")

# -- per-block kernels ----------------------------------------------------------------------------


def _mode(x: np.ndarray) -> np.ndarray:
    s = np.sort(x, axis=0)  # NaN last, so NaN runs never win
    best_val = s[0].copy()
    best_len = np.ones(s.shape[1:], dtype=np.int64)
    run = np.ones(s.shape[1:], dtype=np.int64)
    for j in range(1, s.shape[0]):
        run = np.where(s[j] == s[j - 1], run + 1, 1)
        better = (run > best_len) & ~np.isnan(s[j])
        best_len = np.where(better, run, best_len)
        best_val = np.where(better, s[j], best_val)
    return best_val


def _median(x: np.ndarray, n: np.ndarray) -> np.ndarray:
    s = np.sort(x, axis=0)  # NaN last
    lo = np.maximum((n - 1) // 2, 0)[None]
    hi = np.maximum(n // 2, 0)[None]
    out = (np.take_along_axis(s, lo, 0)[0] + np.take_along_axis(s, hi, 0)[0]) / 2
    return np.where(n > 0, out, np.nan)


def _stat(x: np.ndarray, stat: str) -> np.ndarray:
    valid = ~np.isnan(x)
    n = valid.sum(axis=0)
    if stat == "count":
        return n.astype(F8)
    if stat == "min":
        return np.fmin.reduce(x, axis=0)
    if stat == "max":
        return np.fmax.reduce(x, axis=0)
    if stat == "median":
        return _median(x, n)
    if stat == "mode":
        return _mode(x)
    if stat == "product":
        return np.where(n > 0, np.prod(np.where(valid, x, 1.0), axis=0), np.nan)
    total = np.where(valid, x, 0.0).sum(axis=0)
    if stat == "sum":
        return np.where(n > 0, total, np.nan)
    mean = total / np.where(n > 0, n, 1)
    if stat == "mean":
        return np.where(n > 0, mean, np.nan)
    var = np.where(valid, (x - mean) ** 2, 0.0).sum(axis=0) / np.where(n > 0, n, 1)
    if stat == "variance":
        return np.where(n > 0, var, np.nan)
    if stat == "stdDev":
        return np.where(n > 0, np.sqrt(var), np.nan)
    raise ArgumentError(f"unknown composite statistic {stat!r}; expected one of {STATS!r}.")  # pragma: no cover


def _stat_block(*blocks: np.ndarray, stat: str) -> np.ndarray:
    x = np.stack([np.asarray(b, dtype=F8) for b in blocks])
    with np.errstate(all="ignore"):
        return _stat(x, stat)


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


def _stat_band(name: str, bands: Sequence[Band | None], stat: str) -> Band:
    present = [b for b in bands if b is not None]
    grid = next((b.grid for b in present if b.grid is not None), None)

    def fn(g: Grid, resampling: str) -> da.Array:
        return da.map_blocks(_stat_block, *align([b.on(g) for b in present]), stat=stat, dtype=F8, meta=_META)

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
        grid = next((b.grid for b in present if b.grid is not None), None)

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
        grid = next((b.grid for b in present if b.grid is not None), None)

        def fn(g: Grid, resampling: str, members: list[Band | None] = members) -> da.Array:
            arrays = [q.on(g) for q in quality] + _arrays(members, g)
            return da.map_blocks(_quality_block, *align(arrays), n=n, dtype=F8, meta=_META)

        bands.append(Band(name, _dtype("mosaic", [b.dtype for b in present]), grid, memo(fn)))
    return Raster(tuple(bands))


def reduce(images: Sequence[Raster], reducer: Any) -> Raster:
    """Earth Engine's ``ImageCollection.reduce``: apply ``reducer`` over time, pixel by pixel.

    A one-input reducer is applied to each band, and each output band is named
    ``<band>_<output>`` (``B4_mean``). A reducer with n inputs (``combine`` without
    ``sharedInputs``, ``linearFit``) needs n bands and keeps its output names. Every reducer with
    number outputs works (statistics in :mod:`reducer.segments`); weighting does not apply: every
    valid pixel counts once, in collection order (``first``, ``kendallsCorrelation``). Reducers
    whose outputs are lists or dictionaries (histograms, ``toList``, ``group``) raise.

    Examples
    --------
    >>> from reducer.reducers import Reducer
    >>> imgs = [Raster((_constant("B4", 1),)), Raster((_constant("B4", 3),))]
    >>> reduce(imgs, Reducer.mean().combine(Reducer.stdDev(), sharedInputs=True)).names
    ['B4_mean', 'B4_stdDev']
    >>> reduce(imgs, Reducer.mean().combine(Reducer.max()))
    Traceback (most recent call last):
    ...
    reducer.errors.ReducerInputError: ImageCollection.reduce: the reducer has 2 inputs but the collection ...
    """
    from .reducers import Reducer

    if not isinstance(reducer, Reducer):
        raise ArgumentError(
            f"ImageCollection.reduce: expected an ee.Reducer such as ee.Reducer.mean(), got {reducer!r}."
        )
    table = _table(list(images))
    if reducer._n_inputs == 1:
        bands = []
        for name, members in table.items():
            bands.extend(_reduced_bands([name], [members], reducer))
        return Raster(tuple(bands))
    names = list(table)
    if len(names) != reducer._n_inputs:
        raise ReducerInputError(
            f"ImageCollection.reduce: the reducer has {reducer._n_inputs} inputs but the collection has "
            f"{len(names)} band(s) {names!r}. Select {reducer._n_inputs} bands, or combine reducers with "
            "sharedInputs=True to apply them to each band."
        )
    return Raster(tuple(_reduced_bands(names, [table[n] for n in names], reducer)))


def _reduced_bands(names: list[str], members: list[list[Band | None]], reducer: Any) -> list[Band]:
    """The output bands of ``reducer`` over time on bands ``names`` (statistics in reducer.segments)."""
    from .stats.aggregations import AGGREGATIONS
    from .stats.segments import reduce_over_time_dask, time_columns

    columns = time_columns(reducer, names)
    present = [b for ms in members for b in ms if b is not None]
    grid = next((b.grid for b in present if b.grid is not None), None)
    dtypes = [b.dtype for b in present] or ["float64"]

    def fn(g: Grid, resampling: str, name: str) -> da.Array:
        arrays = align([a for ms in members for a in _arrays(ms, g)])
        n_t = len(members[0])
        per_band = [arrays[k * n_t : (k + 1) * n_t] for k in range(len(members))]
        return reduce_over_time_dask(per_band, reducer, names)[name]

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
