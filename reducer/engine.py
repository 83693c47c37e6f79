"""Plan and run reductions: the only module that calls ``dask.compute``.

Plan (metadata only): the grid of each image, features in that grid's CRS, coverage weights once
per (feature set, grid, mode), split by block. Compute: per (image, block) a chunk task gives
per-feature partials, which are tree-combined per image and finalized. All images of a request
run in one dask graph, and only blocks that features touch are read; of an image read from files
on their own grid, only the files' internal tiles that features touch (:func:`touched_tiles`).
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import numpy as np
import shapely
from affine import Affine
from dask.base import tokenize
from dask.delayed import Delayed
from dask.highlevelgraph import HighLevelGraph

from . import options
from .compute import compute
from .coverage import Coverage, coverage, estimate_pixels
from .errors import CRSError, MaxPixelsError, ReprojectionWarning, UnsupportedRasterError
from .geometry import reproject_features
from .grid import Grid, norm_crs, resolve_grid
from .raster import BLOCK, FileReader, Raster, tile_rects
from .reducers import Column, Reducer, resolve_columns
from .stats import KINDS, Context, Segments, evaluate, needed_kinds
from .stats.kernels import Gathered, chunk_stats, combine_partials, scatter
from .validate import check_geometries, check_overlap

__all__ = [
    "ReductionRequest",
    "plan_reduction",
    "reduce_images",
    "ReductionPlan",
    "max_pixels_message",
    "assign_blocks",
    "home_blocks",
    "clear_weights_cache",
    "check_pixel_limits",
    "touched_tiles",
]

FAN_IN = 8


# -- coverage split by blocks -----------------------------------------------------------------------


@dataclass(frozen=True)
class BlockWeights:
    """Coverage entries of one block, sorted by feature: local pixel, weight, segment starts, fids."""

    pixel: np.ndarray
    weight: np.ndarray
    starts: np.ndarray
    fids: np.ndarray
    token: str
    origin: tuple[int, int, int, int] | None = None  # (row0, col0, block width, grid width): grid-wide pixel order

    def __dask_tokenize__(self) -> str:
        return self.token


_WEIGHTS: OrderedDict[str, tuple[Any, int]] = OrderedDict()  # token -> (coverage batch or block weights, bytes)
_WEIGHTS_LOCK = threading.Lock()
_WEIGHTS_MAX_BYTES = 512 * 2**20
_weights_bytes = 0


def _stable_order(keys: np.ndarray, bound: int) -> np.ndarray:
    """A stable argsort of non-negative integer ``keys`` below ``bound``, as radix passes of 16 bits."""
    if bound <= 2**16:
        return np.argsort(keys.astype("u2"), kind="stable")
    low = np.argsort((keys & 0xFFFF).astype("u2"), kind="stable")
    high = (keys[low] >> 16).astype("u2" if bound <= 2**32 else "i8")
    return low[np.argsort(high, kind="stable")]


def _block_index(pos: np.ndarray, chunks: tuple[int, ...]) -> np.ndarray:
    step = chunks[0]
    if all(c == step for c in chunks[:-1]) and chunks[-1] <= step:
        return np.minimum(pos // step, len(chunks) - 1)
    edges = np.concatenate([[0], np.cumsum(chunks)])
    return np.clip(np.searchsorted(edges, pos, side="right") - 1, 0, len(chunks) - 1)


def _block_ranges(
    geoms: np.ndarray, grid: Grid, chunks: tuple[tuple[int, ...], tuple[int, ...]]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(fids, bi0, bi1, bj0, bj1)``: the block rows and columns each feature's bounding box meets."""
    t = grid.transform
    if not grid.is_rectilinear:
        raise UnsupportedRasterError(
            f"reductions on rotated or south-up grids are not supported yet (transform {tuple(t)[:6]!r}): warp the "
            "raster to a north-up grid first (e.g. `gdalwarp`)."
        )
    b = shapely.bounds(geoms)
    ok = ~np.isnan(b[:, 0]) if len(b) else np.zeros(0, bool)
    fids = np.flatnonzero(ok)
    b = b[ok]
    h, w = grid.shape
    with np.errstate(invalid="ignore"):
        c0 = np.floor((b[:, 0] - t.c) / t.a)
        c1 = np.maximum(c0, np.ceil((b[:, 2] - t.c) / t.a) - 1)
        r0 = np.floor((t.f - b[:, 3]) / -t.e)
        r1 = np.maximum(r0, np.ceil((t.f - b[:, 1]) / -t.e) - 1)
    inside = (c1 >= 0) & (c0 < w) & (r1 >= 0) & (r0 < h)
    fids = fids[inside]
    c0, c1 = np.clip(c0[inside], 0, w - 1).astype("i8"), np.clip(c1[inside], 0, w - 1).astype("i8")
    r0, r1 = np.clip(r0[inside], 0, h - 1).astype("i8"), np.clip(r1[inside], 0, h - 1).astype("i8")
    bi0, bi1 = _block_index(r0, chunks[0]), _block_index(r1, chunks[0])
    bj0, bj1 = _block_index(c0, chunks[1]), _block_index(c1, chunks[1])
    return fids, bi0, bi1, bj0, bj1


def _group(block: np.ndarray, fid: np.ndarray, nbx: int) -> dict[tuple[int, int], np.ndarray]:
    order = np.argsort(block, kind="stable")  # feature order is kept within a block
    block, fid = block[order], fid[order]
    starts = np.flatnonzero(np.r_[True, block[1:] != block[:-1]])
    ends = np.r_[starts[1:], len(block)]
    return {divmod(int(block[s]), nbx): fid[s:e] for s, e in zip(starts, ends, strict=True)}


def assign_blocks(
    geoms: np.ndarray, grid: Grid, chunks: tuple[tuple[int, ...], tuple[int, ...]]
) -> dict[tuple[int, int], np.ndarray]:
    """The features whose bounding box meets each block of ``chunks`` (geometries in the grid's CRS).

    Only these blocks are read. Each block's feature ids are sorted.

    Examples
    --------
    >>> from affine import Affine
    >>> g = Grid("EPSG:32633", Affine(1, 0, 0, 0, -1, 4), 4, 4)
    >>> geoms = np.array([shapely.box(0.2, 2.2, 1.8, 3.8), shapely.box(1.5, 0.5, 2.5, 1.5), None])
    >>> {k: v.tolist() for k, v in assign_blocks(geoms, g, ((2, 2), (2, 2))).items()}
    {(0, 0): [0], (1, 0): [1], (1, 1): [1]}
    """
    fids, bi0, bi1, bj0, bj1 = _block_ranges(geoms, grid, chunks)
    ni, nj = bi1 - bi0 + 1, bj1 - bj0 + 1
    counts = ni * nj
    total = int(counts.sum())
    if total == 0:
        return {}
    owner = np.repeat(np.arange(len(fids)), counts)
    k = np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts)
    bi = bi0[owner] + k // nj[owner]
    bj = bj0[owner] + k % nj[owner]
    nbx = len(chunks[1])
    return _group(bi * nbx + bj, fids[owner], nbx)


def home_blocks(
    geoms: np.ndarray, grid: Grid, chunks: tuple[tuple[int, ...], tuple[int, ...]]
) -> dict[tuple[int, int], np.ndarray]:
    """Each feature once, under the block of its bounding box's top-left pixel: the coverage batches.

    A feature's coverage is computed once, in its home block's batch, and shared by every block it
    meets (:func:`assign_blocks`). Each batch's feature ids are sorted.

    Examples
    --------
    >>> from affine import Affine
    >>> g = Grid("EPSG:32633", Affine(1, 0, 0, 0, -1, 4), 4, 4)
    >>> geoms = np.array([shapely.box(0.2, 2.2, 1.8, 3.8), shapely.box(1.5, 0.5, 2.5, 1.5), None])
    >>> {k: v.tolist() for k, v in home_blocks(geoms, g, ((2, 2), (2, 2))).items()}
    {(0, 0): [0], (1, 0): [1]}
    """
    fids, bi0, _, bj0, _ = _block_ranges(geoms, grid, chunks)
    if len(fids) == 0:
        return {}
    nbx = len(chunks[1])
    return _group(bi0 * nbx + bj0, fids, nbx)


# a feature spanning more tiles than this is taken as touching every tile of its bounding box
_MAX_TILE_TESTS = 2**16


def touched_tiles(geoms: np.ndarray, grid: Grid, tile: tuple[int, int]) -> np.ndarray:
    """Which internal tiles of ``grid`` (``tile = (rows, cols)`` each) some feature touches: ``(tile rows, tile cols)``.

    A tile counts when a feature's bounding box meets it (at pixel granularity, as :func:`assign_blocks`)
    and the feature's geometry comes within one pixel of it, so that every pixel a feature's coverage
    holds is in a touched tile whatever the coverage mode. Geometries are in the grid's CRS.

    Examples
    --------
    >>> from affine import Affine
    >>> g = Grid("EPSG:32633", Affine(1, 0, 0, 0, -1, 8), 8, 8)
    >>> ell = shapely.union(shapely.box(0.5, 0.5, 7.5, 1.5), shapely.box(0.5, 0.5, 1.5, 7.5))  # its bbox: all
    >>> touched_tiles(np.array([ell]), g, (4, 4)).astype(int).tolist()
    [[1, 0], [1, 1]]
    >>> touched_tiles(np.array([shapely.box(0.2, 6.2, 1.8, 7.8), shapely.box(2.5, 0.5, 7.5, 3)]), g, (2, 2)).astype(int)
    array([[1, 0, 0, 0],
           [0, 0, 0, 0],
           [0, 1, 1, 1],
           [0, 1, 1, 1]])
    """
    th, tw = tile
    tiles = (_chunks(grid.height, th), _chunks(grid.width, tw))
    out = np.zeros((len(tiles[0]), len(tiles[1])), bool)
    fids, ti0, ti1, tj0, tj1 = _block_ranges(geoms, grid, tiles)
    one = (ti0 == ti1) & (tj0 == tj1)
    out[ti0[one], tj0[one]] = True
    many = np.flatnonzero(~one)
    ni, nj = ti1[many] - ti0[many] + 1, tj1[many] - tj0[many] + 1
    huge = ni * nj > _MAX_TILE_TESTS
    for k in many[huge]:
        out[ti0[k] : ti1[k] + 1, tj0[k] : tj1[k] + 1] = True
    many, ni, nj = many[~huge], ni[~huge], nj[~huge]
    counts = ni * nj
    if counts.sum() == 0:
        return out
    owner = np.repeat(np.arange(len(many)), counts)
    k = np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
    ti = ti0[many][owner] + k // nj[owner]
    tj = tj0[many][owner] + k % nj[owner]
    # each tile's outline grown by one pixel, in the grid's coordinates
    t = grid.transform
    xa, xb = t.c + (tj * tw - 1) * t.a, t.c + (np.minimum((tj + 1) * tw, grid.width) + 1) * t.a
    ya, yb = t.f + (ti * th - 1) * t.e, t.f + (np.minimum((ti + 1) * th, grid.height) + 1) * t.e
    boxes = shapely.box(np.minimum(xa, xb), np.minimum(ya, yb), np.maximum(xa, xb), np.maximum(ya, yb))
    feats = geoms[fids[many]]
    shapely.prepare(feats)  # each feature is tested against several tiles
    try:
        hit = shapely.intersects(feats[owner], boxes)
    finally:
        shapely.destroy_prepared(feats)
    out[ti[hit], tj[hit]] = True
    return out


@dataclass
class TileReads:
    """The internal tiles of one grid that features touch, per tile shape, and the reads of each block."""

    geoms: np.ndarray
    grid: Grid
    masks: dict[tuple[int, int], np.ndarray] = field(default_factory=dict)
    _rects: dict[tuple, list[tuple]] = field(default_factory=dict)

    def mask(self, tile: tuple[int, int]) -> np.ndarray:
        """Which tiles of shape ``tile`` features touch (computed once per tile shape)."""
        if tile not in self.masks:
            self.masks[tile] = touched_tiles(self.geoms, self.grid, tile)
        return self.masks[tile]

    def rects(self, tile: tuple[int, int], window: tuple[int, int, int, int]) -> list[tuple]:
        """The reads of ``window`` (:func:`reducer.raster.tile_rects`): its touched tiles, merged where they can be."""
        key = (tile, window)
        if key not in self._rects:
            self._rects[key] = tile_rects(self.mask(tile), tile, window)
        return self._rects[key]

    def n_tiles(self, tile: tuple[int, int], window: tuple[int, int, int, int]) -> int:
        """How many touched tiles ``window`` holds."""
        r0, c0, h, w = window
        th, tw = tile
        return int(self.mask(tile)[r0 // th : (r0 + h - 1) // th + 1, c0 // tw : (c0 + w - 1) // tw + 1].sum())


def _cached(token: str) -> Any:
    with _WEIGHTS_LOCK:
        hit = _WEIGHTS.get(token)
        if hit is not None:
            _WEIGHTS.move_to_end(token)
        return hit


def _store(token: str, value: Any, nbytes: int) -> None:
    global _weights_bytes
    with _WEIGHTS_LOCK:
        if token in _WEIGHTS:
            return
        _WEIGHTS[token] = (value, nbytes)
        _weights_bytes += nbytes
        while _weights_bytes > _WEIGHTS_MAX_BYTES and len(_WEIGHTS) > 1:
            _, (_, old) = _WEIGHTS.popitem(last=False)
            _weights_bytes -= old


def clear_weights_cache() -> int:
    """Forget the coverage weights kept from earlier reductions in this process; the number dropped.

    Weights are kept per (features, grid, block, mode) up to 512 MB, so that reducing the same
    features again on the same grid skips their coverage.

    Examples
    --------
    >>> clear_weights_cache() >= 0
    True
    """
    global _weights_bytes
    with _WEIGHTS_LOCK:
        n = len(_WEIGHTS)
        _WEIGHTS.clear()
        _weights_bytes = 0
    return n


def _compact(weight: np.ndarray) -> np.ndarray:
    """float32 when that holds every weight exactly (exact fractions are stored as float32), else float64."""
    if weight.ndim == 1 and len(weight) and weight.strides[0] == 0 and weight[0] == 1:
        return np.broadcast_to(np.float32(1.0), weight.shape)  # centre-in: all ones, no memory
    w32 = weight.astype("f4")
    return w32 if np.array_equal(w32, weight) else np.asarray(weight, "f8")


class _Geometries:
    """A batch of shapely geometries in a task: as they are on threads, as WKB when pickled (to a cluster).

    Converting 100,000 features to WKB and back when nothing is pickled cost about 1 s; pickling them
    one by one, as an object array does, is slower and larger than one WKB array.
    """

    __slots__ = ("geoms",)

    def __init__(self, geoms: np.ndarray):
        self.geoms = geoms

    def __reduce__(self) -> tuple:
        return _geometries_from_wkb, (shapely.to_wkb(self.geoms),)


def _geometries_from_wkb(wkb: np.ndarray) -> _Geometries:
    return _Geometries(shapely.from_wkb(wkb))


def _coverage_task(batch: _Geometries, fids: np.ndarray, grid: Grid, mode: str) -> Coverage:
    """Coverage of a batch of features on the whole grid, computed once.

    On the whole grid, so ties and clipping are decided exactly as for the whole raster. Entries are
    sorted by pixel and carry the features' ids (``fids``), in compact dtypes (uint32 pixel when the
    grid allows, float32 weight when exact): the batch lives only until its blocks' weights are cut.
    """
    cov = coverage(batch.geoms, grid, mode)  # numpy and GEOS: batches run side by side
    pixel = cov.pixel.astype("u4") if grid.width * grid.height <= 2**32 else cov.pixel
    return Coverage(fids[cov.feature], pixel, _compact(cov.weight), int(fids[-1]) + 1 if len(fids) else 0)


def _weights_task(grid: Grid, window: tuple[int, int, int, int], *batches: Coverage, token: str) -> BlockWeights:
    """The entries of the block ``window = (row0, col0, h, w)`` from the coverage batches that reach it.

    Sorted by feature, then pixel; local pixel as uint32 and weight as float32 when exact (8 bytes
    an entry). Cached by token.
    """
    hit = _cached(token)
    if hit is not None:
        return hit[0]
    r0, c0, bh, bw = window
    feats, locs, weights = [], [], []
    for cov in batches:
        part = cov.pixel_range(r0 * grid.width, (r0 + bh) * grid.width)  # whole rows of the block
        pixel = cov.pixel[part]
        row, col = np.divmod(pixel, grid.width)
        keep = (col >= c0) & (col < c0 + bw)
        feats.append(cov.feature[part][keep])
        locs.append(((row[keep] - r0) * bw + (col[keep] - c0)).astype("u4"))
        weights.append(cov.weight[part][keep])
    feature = np.concatenate(feats) if feats else np.empty(0, "i8")
    local = np.concatenate(locs) if locs else np.empty(0, "u4")
    weight = np.concatenate(weights) if weights else np.empty(0)
    # by feature, keeping pixel order within each feature (entries come sorted by pixel per batch,
    # and a feature is in one batch)
    order = _stable_order(feature, int(feature.max()) + 1) if len(feature) else np.empty(0, "i8")
    feature, local, weight = feature[order], local[order], _compact(weight[order])
    starts = np.flatnonzero(np.r_[True, feature[1:] != feature[:-1]]) if len(feature) else np.empty(0, "i8")
    out = BlockWeights(local, weight, starts, feature[starts], token, (r0, c0, bw, grid.width))
    _store(token, out, local.nbytes + weight.nbytes + starts.nbytes)
    return out


# -- tasks ------------------------------------------------------------------------------------------


def _chunk_task(values: np.ndarray, *weights: BlockWeights, kinds: dict[str, tuple[str, ...]]) -> dict:
    """Per-feature partials of one block; ``weights`` are the block's weights of each mode of ``kinds``, in order."""
    flat = values.reshape(values.shape[0], -1)
    out = {}
    for mode, bw in zip(kinds, weights, strict=True):
        if bw is None:
            continue
        order = None
        origin = getattr(bw, "origin", None)
        if "vals" in kinds[mode] and origin is not None:
            # a grid-wide row-major pixel key, so gathered entries sort the same whatever the blocks
            r0, c0, width, grid_width = origin
            row, col = np.divmod(bw.pixel.astype("i8"), width)
            order = (row + r0) * grid_width + col + c0
        out[mode] = chunk_stats(flat, bw.pixel, bw.weight, bw.starts, bw.fids, kinds[mode], order=order)
    return out


def _read_task(
    readers: tuple[FileReader, ...], window: tuple[int, int, int, int], rects: tuple[list[tuple], ...], dtype: str
) -> np.ndarray:
    """One block ``window = (row0, col0, h, w)`` of an image read from its files, as ``(bands, h, w)``.

    Per band, only the rectangles ``rects`` (the tiles features touch) are read; the rest is NaN,
    which no weight refers to.
    """
    r0, c0, h, w = window
    if all(r == [(0, 0, h, w)] for r in rects):  # every tile touched: one read per band, as a dense job
        if len(readers) == 1:
            return readers[0].read(window)[None]
        return np.stack([r.read(window) for r in readers]).astype(dtype, copy=False)
    out = np.full((len(readers), h, w), np.nan, dtype)
    for b, (reader, parts) in enumerate(zip(readers, rects, strict=True)):
        for rr, cc, hh, ww in parts:
            out[b, rr : rr + hh, cc : cc + ww] = reader.read((r0 + rr, c0 + cc, hh, ww))
    return out


def _combine_task(*parts: dict) -> dict:
    modes = {m for p in parts for m in p}
    return {m: combine_partials([p[m] for p in parts if m in p]) for m in modes}


class _RegionContext(Context):
    """Per-feature intermediates of one image, as :func:`reducer.stats.evaluate` reads them."""

    def __init__(self, part: dict, n_features: int, n_bands: int, kinds: dict):
        self.part, self.n_seg, self.n_bands, self.kinds = part, n_features, n_bands, kinds
        self._dense: dict[str, dict] = {}
        self._segments: dict[str, Segments] = {}

    def dense(self, mode: str) -> dict[str, np.ndarray]:  # noqa: D102
        if mode not in self._dense:
            p = self.part.get(mode, (np.empty(0, "i8"), {}))
            self._dense[mode] = scatter(p, self.n_seg, self.n_bands, [k for k in self.kinds[mode] if k != "vals"])
        return self._dense[mode]

    def segments(self, mode: str) -> Segments:  # noqa: D102
        if mode not in self._segments:
            p = self.part.get(mode)
            g = p[1].get("vals") if p is not None else None
            if g is None or len(g.fid) == 0:
                g = Gathered.empty(self.n_bands)
            self._segments[mode] = Segments.from_ids(g.fid, self.n_seg, g.weight, g.values.reshape(self.n_bands, -1))
        return self._segments[mode]


def _finalize_task(part: dict, *, columns: list[Column], n_features: int, n_bands: int, kinds: dict) -> dict:
    ctx = _RegionContext(part, n_features, n_bands, kinds)
    return {c.name: evaluate(c.output, c.bands, ctx) for c in columns}


# -- planning ---------------------------------------------------------------------------------------


def _features_token(geoms: np.ndarray) -> str:
    """A digest of the features' geometries (WKB, which is self-delimiting) and of which are missing.

    One hash over the concatenated WKB: dask's ``tokenize`` of the array of 100,000 WKB strings
    normalised each one (0.55 s).
    """
    wkb = shapely.to_wkb(geoms, hex=False)
    missing = np.equal(wkb, None)
    digest = hashlib.blake2b(digest_size=20)
    digest.update(np.int64(len(wkb)).tobytes())
    digest.update(np.packbits(missing).tobytes())
    digest.update(b"".join(wkb[~missing].tolist()))
    return digest.hexdigest()


@dataclass
class _GridPlan:
    grid: Grid
    geoms: np.ndarray
    blocks: dict[tuple, dict]
    key: tuple
    tiles: TileReads | None = None


@dataclass
class ImagePlan:
    """One image's share of a reduction: its grid, columns, blocks and their weights."""

    image: Raster
    grid: Grid
    columns: list[Column]
    kinds: dict[str, tuple[str, ...]]
    stack: Any
    geoms: np.ndarray
    blocks: dict[tuple[int, int], np.ndarray]
    key: str
    homes: dict[tuple[int, int], np.ndarray] = field(default_factory=dict)
    chunks: tuple[tuple[int, ...], ...] = ()
    """``(bands, rows, cols)`` chunks of the grid; ``stack`` is None when only the touched windows are built."""
    readers: tuple[FileReader, ...] | None = None
    """Each band's file reader when every band is read from a file on its own grid: then only the
    tiles in ``tiles`` are read, block by block, instead of the blocks of ``stack``."""
    tiles: TileReads | None = None

    def block_window(self, i: int, j: int) -> tuple[int, int, int, int]:
        """``(row0, col0, height, width)`` of block ``(i, j)`` on the grid."""
        rows, cols = self.chunks[1], self.chunks[2]
        return (int(sum(rows[:i])), int(sum(cols[:j])), rows[i], cols[j])

    def reads(self, i: int, j: int) -> tuple[list[tuple], ...] | None:
        """Per band, the rectangles of block ``(i, j)`` read (its touched tiles), or None when whole blocks are read."""
        if self.readers is None or self.tiles is None:
            return None
        window = self.block_window(i, j)
        return tuple(self.tiles.rects(r.tile, window) for r in self.readers)

    def window(self, i: int, j: int) -> Any:
        """The pixels of block ``(i, j)``: a block of ``stack``, or the image evaluated on that window alone.

        A resampled image (its grid is not the file's) is evaluated per touched window, so that a fine
        scale on a coarse raster resamples only the windows the features need.
        """
        if self.stack is not None:
            return self.stack, (self.stack.name, 0, i, j)
        rows, cols = self.chunks[1], self.chunks[2]
        r0, c0 = sum(rows[:i]), sum(cols[:j])
        t = self.grid.transform
        origin = Affine(t.a, t.b, t.a * c0 + t.b * r0 + t.c, t.d, t.e, t.d * c0 + t.e * r0 + t.f)
        sub = Grid(self.grid.crs, origin, cols[j], rows[i])
        arr = self.image.stack(sub)
        if any(len(c) > 1 for c in arr.chunks):
            arr = arr.rechunk(-1)
        return arr, (arr.name, 0, 0, 0)

    @property
    def touched(self) -> list[tuple[int, int]]:
        """The blocks some feature's bounding box meets: the only ones read."""
        return sorted(self.blocks)


@dataclass
class ReductionPlan:
    """What a reduction will do, before any pixel is read."""

    n_features: int
    images: list[ImagePlan]
    pixels: dict[Grid, int] = field(default_factory=dict)
    """Per grid, the estimated (feature, pixel) entries (:func:`~reducer.coverage.estimate_pixels`), as the
    pixel limits were checked with them while planning."""

    def graph(self) -> list[Delayed]:
        """One delayed result per image: ``{column: values}``.

        A plain task graph, every key named from the plan's keys (nothing is tokenized per task):
        ``coverage-*`` once per (features batch, grid, mode), ``weights-*`` once per (block, grid,
        mode), both shared by every image on the grid; then per image ``chunk-*`` per block read,
        ``combine-*`` (a tree) and ``finalize-*``.
        """
        layer: dict[Any, Any] = {}
        stacks: dict[str, Any] = {}
        geom_batches: dict[tuple, _Geometries] = {}
        results = []
        for ip in self.images:
            if ip.stack is not None:
                stacks.setdefault(ip.stack.name, ip.stack)
            chunks = ip.chunks
            rows = np.r_[0, np.cumsum(chunks[1])]
            cols = np.r_[0, np.cumsum(chunks[2])]
            home_of = np.zeros(self.n_features, "i8")
            home_names = sorted(ip.homes)
            for h, hb in enumerate(home_names):
                home_of[ip.homes[hb]] = h
            weight_keys: dict[tuple[int, int], list[str]] = {}
            for i, j in ip.touched:
                window = (int(rows[i]), int(cols[j]), chunks[1][i], chunks[2][j])
                batches = np.unique(home_of[ip.blocks[(i, j)]])
                keys = []
                for mode in ip.kinds:
                    wkey = f"weights-{ip.key}-{mode}-{i}-{j}"
                    if wkey not in layer and (hit := _cached(wkey)) is not None:
                        layer[wkey] = hit[0]  # computed by an earlier call in this process: no coverage
                    if wkey not in layer:
                        cov_keys = []
                        for h in batches.tolist():
                            hi, hj = home_names[h]
                            ckey = f"coverage-{ip.key}-{mode}-{hi}-{hj}"
                            if ckey not in layer:
                                fids = ip.homes[(hi, hj)]
                                bkey = (ip.key, hi, hj)  # one batch object for every mode: pickled once
                                if bkey not in geom_batches:
                                    geom_batches[bkey] = _Geometries(ip.geoms[fids])  # WKB only if pickled
                                batch = geom_batches[bkey]
                                layer[ckey] = (_coverage_task, batch, fids, ip.grid, mode)
                            cov_keys.append(ckey)
                        layer[wkey] = (partial(_weights_task, token=wkey), ip.grid, window, *cov_keys)
                    keys.append(wkey)
                weight_keys[(i, j)] = keys
            # keys named once per image from what determines the result, not tokenized per task
            tok = tokenize(
                ip.stack.name if ip.stack is not None else id(ip), ip.key, ip.kinds, ip.columns, self.n_features
            )
            chunk = partial(_chunk_task, kinds=ip.kinds)
            partials = []
            for i, j in ip.touched:
                rects = ip.reads(i, j)
                if rects is not None:  # read from the files: only the tiles features touch
                    block = f"read-tiles-{tok}-{i}-{j}"
                    # the readers themselves, not their functions: a tuple of functions is a task to dask
                    layer[block] = (_read_task, ip.readers, ip.block_window(i, j), rects, ip.stack.dtype.str)
                else:
                    arr, block = ip.window(i, j)
                    stacks.setdefault(arr.name, arr)
                key = f"chunk-{tok}-{i}-{j}"
                layer[key] = (chunk, block, *weight_keys[(i, j)])
                partials.append(key)
            level = 0
            while len(partials) > 1:
                nxt = []
                for k in range(0, len(partials), FAN_IN):
                    key = f"combine-{tok}-{level}-{k}"
                    layer[key] = (_combine_task, *partials[k : k + FAN_IN])
                    nxt.append(key)
                partials = nxt
                level += 1
            n_bands = len(ip.image.bands)
            finalize = partial(
                _finalize_task, columns=ip.columns, n_features=self.n_features, n_bands=n_bands, kinds=ip.kinds
            )
            key = f"finalize-{tok}"
            layer[key] = (finalize, partials[0]) if partials else (partial(finalize, {}),)
            results.append(key)
        name = f"reduction-{tokenize(*results)}"
        hlg = HighLevelGraph.from_collections(name, layer, dependencies=list(stacks.values()))
        return [Delayed(key, hlg, layer=name) for key in results]

    def explain(self) -> dict[str, Any]:
        """A summary: images, grids, blocks and tiles to read, bytes, features, tasks and peak memory per task.

        ``bytes_to_read`` are the pixels the reads deliver (as floats); of an image read from its
        files on their own grid, those of the internal tiles features touch (``tiles_to_read``,
        counted per band), else those of the touched blocks.
        """
        blocks = 0
        read_bytes = 0
        n_tiles = 0
        peak = 0
        entries = 0
        seen: set[str] = set()
        for ip in self.images:
            chunks = ip.chunks
            n_bands = len(ip.image.bands)
            itemsize = ip.stack.dtype.itemsize if ip.stack is not None else 8
            if ip.grid not in self.pixels:
                self.pixels[ip.grid] = estimate_pixels(ip.geoms, ip.grid)
            n_entries = self.pixels[ip.grid] * len(ip.kinds)
            per_block = n_entries / max(1, len(ip.blocks))
            for i, j in ip.touched:
                block_bytes = chunks[1][i] * chunks[2][j] * itemsize * n_bands
                rects = ip.reads(i, j)
                if rects is None:
                    read_bytes += block_bytes
                else:
                    window = ip.block_window(i, j)
                    read_bytes += sum(hh * ww for r in rects for _, _, hh, ww in r) * itemsize
                    n_tiles += sum(ip.tiles.n_tiles(r.tile, window) for r in ip.readers)  # type: ignore[union-attr]
                # block values + gathered float64 values, weights and a few temporaries per entry
                peak = max(peak, int(block_bytes + per_block * 8 * (2 + 4 * n_bands)))
            blocks += len(ip.blocks)
            if ip.key not in seen:
                seen.add(ip.key)
                entries += n_entries
        n_combine = sum(_n_combines(len(ip.touched)) for ip in self.images)
        n_weights = len({(ip.key, b, m) for ip in self.images for b in ip.blocks for m in ip.kinds})
        n_weights += len({(ip.key, h, m) for ip in self.images for h in ip.homes for m in ip.kinds})  # coverage
        return {
            "images": len(self.images),
            "grids": len({ip.grid for ip in self.images}),
            "features": self.n_features,
            "blocks_to_read": blocks,
            "tiles_to_read": n_tiles,
            "bytes_to_read": read_bytes,
            "weight_entries": entries,
            "tasks": blocks + n_combine + len(self.images) + n_weights,
            "peak_task_memory_bytes": peak,
        }


def _n_combines(n: int) -> int:
    total = 0
    while n > 1:
        n = -(-n // FAN_IN)
        total += n
    return total


@dataclass(frozen=True, eq=False)
class ReductionRequest:
    """What to reduce, with which reducer, on which grid: everything but the features.

    Frozen and tokenizable (``dask.base.tokenize``), so that a request names its tasks and caches.

    Attributes
    ----------
    images
        The rasters to reduce, in order.
    reducer
        The ``ee.Reducer``.
    scale, crs, crs_transform
        The grid, as ``reduceRegion(s)`` takes it (``None``: each image's own).
    rule
        The output naming rule of :func:`reducer.reducers.resolve_columns` (``"regions"``, ``"region"``, ...).
    max_pixels
        Refuse the plan when a grid holds more pixels under the features than this.
    max_pixels_per_region
        Refuse the plan when one feature holds more pixels than this (``maxPixelsPerRegion``).

    Examples
    --------
    >>> from reducer.raster import constant_band
    >>> req = ReductionRequest((Raster((constant_band("a", 1),)),), Reducer.mean(), scale=10)
    >>> req.scale, req.rule, tokenize(req) == tokenize(req)
    (10, 'regions', True)
    """

    images: tuple[Raster, ...]
    reducer: Reducer
    scale: float | None = None
    crs: Any = None
    crs_transform: tuple[float, ...] | None = None
    rule: str = "regions"
    max_pixels: float | None = None
    max_pixels_per_region: float | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "images", tuple(self.images))
        if self.crs_transform is not None:
            object.__setattr__(self, "crs_transform", tuple(float(v) for v in self.crs_transform))

    def arguments(self) -> tuple:
        """Everything but the images, hashable: requests with equal arguments can be computed as one."""
        crs = self.crs if isinstance(self.crs, str | int | None) else repr(self.crs)
        return (
            self.reducer,
            self.scale,
            crs,
            self.crs_transform,
            self.rule,
            self.max_pixels,
            self.max_pixels_per_region,
        )

    def __dask_tokenize__(self) -> str:
        bands = [(id(b.fn), b.name, b.dtype, b.resampling) for r in self.images for b in r.bands]
        return tokenize(bands, *self.arguments())


def plan_reduction(request: ReductionRequest, geoms: np.ndarray, geoms_crs: Any) -> ReductionPlan:
    """Plan a reduction of ``geoms`` (in ``geoms_crs``): grids, coverage weights and the blocks to read.

    Reads no pixel.
    """
    scale, crs, crs_transform = request.scale, request.crs, request.crs_transform
    geoms = np.asarray(geoms, dtype=object)
    geoms = check_geometries(geoms)  # repairs or rejects invalid ones (option invalid_geometry)
    src_crs = norm_crs(geoms_crs, "the features' crs")
    fkey = _features_token(geoms)
    grid_plans: dict[Grid, _GridPlan] = {}
    estimated: dict[Grid, int] = {}
    reprojected: dict[str, np.ndarray] = {}
    bounds = _total_bounds(geoms)
    out = []
    for image in request.images:
        names = image.names
        dtypes = [b.dtype for b in image.bands]
        columns = resolve_columns(request.reducer, names, dtypes, request.rule)
        needed = needed_kinds([c.output for c in columns])
        kinds: dict[str, tuple[str, ...]] = {m: tuple(k for k in KINDS if k in ks) for m, ks in sorted(needed.items())}
        grid = resolve_grid(image.grid, scale, crs, crs_transform, bounds=bounds, bounds_crs=src_crs)
        gp = grid_plans.get(grid)
        if gp is None:
            wkt = grid.crs_wkt
            if wkt not in reprojected:
                if src_crs == grid.crs:
                    reprojected[wkt] = geoms
                else:
                    try:
                        moved = reproject_features(geoms, src_crs, grid.crs, keep=grid.bounds)
                    except ReprojectionWarning:  # raised when warnings are errors
                        raise
                    except Exception as exc:  # pragma: no cover - pyproj failures
                        raise CRSError(f"cannot reproject the features from {src_crs} to {grid.crs}: {exc}") from exc
                    reprojected[wkt] = np.asarray(moved, dtype=object)
            gp = _GridPlan(grid, reprojected[wkt], {}, (fkey, grid.token()))
            grid_plans[grid] = gp
            check_overlap(gp.geoms, grid, image.properties.get("system:id"))  # warns: no feature on the raster
        check_pixel_limits(request, gp.geoms, grid, estimated)
        if image.local and any(b.grid is not None and b.grid != grid for b in image.bands):
            # resampled: only the windows features touch are built (see ImagePlan.window)
            stack = None
            spatial = (_chunks(grid.height, BLOCK), _chunks(grid.width, BLOCK))
        else:
            stack = image.stack(grid)
            if stack.chunks[0] != (stack.shape[0],):
                stack = stack.rechunk({0: -1})
            spatial = (stack.chunks[1], stack.chunks[2])
        chunks = ((len(image.bands),), *spatial)
        if spatial not in gp.blocks:
            gp.blocks[spatial] = (assign_blocks(gp.geoms, grid, spatial), home_blocks(gp.geoms, grid, spatial))
        blocks, homes = gp.blocks[spatial]
        key = tokenize(gp.key, spatial)
        readers = _file_readers(image, grid) if stack is not None else None
        if readers is not None and gp.tiles is None:
            gp.tiles = TileReads(gp.geoms, grid)
        tiles = gp.tiles if readers is not None else None
        out.append(ImagePlan(image, grid, columns, kinds, stack, gp.geoms, blocks, key, homes, chunks, readers, tiles))
    return ReductionPlan(len(geoms), out, estimated)


def reduce_images(
    request: ReductionRequest, geoms: np.ndarray, geoms_crs: Any
) -> list[tuple[list[Column], dict[str, np.ndarray]]]:
    """Reduce every image of ``request`` over every geometry, in one dask graph.

    Returns, per image, its columns and ``{column: values (n_features,)}`` with NaN where a
    feature has no valid pixel.
    """
    plan = plan_reduction(request, geoms, geoms_crs)
    results = compute(*plan.graph())
    return [(ip.columns, r) for ip, r in zip(plan.images, results, strict=True)]


def _file_readers(image: Raster, grid: Grid) -> tuple[FileReader, ...] | None:
    """Each band's file reader, when every band of ``image`` is read from a file on ``grid``, its own grid."""
    readers = tuple(b.reader for b in image.bands)
    if all(r is not None for r in readers) and all(b.grid == grid for b in image.bands):
        return readers  # type: ignore[return-value]
    return None


def _chunks(size: int, step: int) -> tuple[int, ...]:
    n, rest = divmod(size, step)
    return (step,) * n + ((rest,) if rest else ())


def _total_bounds(geoms: np.ndarray) -> tuple[float, float, float, float] | None:
    b = shapely.bounds(geoms)
    if len(b) == 0 or np.isnan(b).all():
        return None
    return (np.nanmin(b[:, 0]), np.nanmin(b[:, 1]), np.nanmax(b[:, 2]), np.nanmax(b[:, 3]))


def check_pixel_limits(request: ReductionRequest, geoms: np.ndarray, grid: Grid, cache: dict[Grid, int]) -> None:
    """Refuse a plan over ``maxPixels``, ``maxPixelsPerRegion`` or the ``max_plan_pixels`` option, before it is built.

    Examples
    --------
    >>> from affine import Affine
    >>> from reducer.raster import constant_band
    >>> g = Grid("EPSG:32633", Affine(1, 0, 0, 0, -1, 3), 3, 3)
    >>> req = ReductionRequest((Raster((constant_band("a", 1),)),), Reducer.mean(), max_pixels_per_region=2)
    >>> check_pixel_limits(req, np.array([shapely.box(0, 0, 1, 2)], dtype=object), g, {})
    >>> check_pixel_limits(req, np.array([shapely.box(0, 0, 3, 3)], dtype=object), g, {})
    Traceback (most recent call last):
    ...
    reducer.errors.MaxPixelsError: Too many pixels in region 0 (feature 0). Found 9, but maxPixelsPerRegion allows ...
    """
    if grid not in cache:
        cache[grid] = estimate_pixels(geoms, grid)
    found = cache[grid]
    if request.max_pixels is not None and found > request.max_pixels:
        raise MaxPixelsError(max_pixels_message(found, request.max_pixels))
    per_region = request.max_pixels_per_region
    if per_region is not None and found > per_region:
        xres, yres = grid.res
        clipped = shapely.clip_by_rect(geoms, *grid.bounds)
        each = np.ceil(np.nan_to_num(shapely.area(clipped)) / (xres * yres) - 1e-9)
        worst = int(np.argmax(each)) if len(each) else 0
        if len(each) and each[worst] > per_region:
            raise MaxPixelsError(
                f"Too many pixels in region {worst} (feature {worst}). Found {int(each[worst])}, but "
                f"maxPixelsPerRegion allows only {int(per_region)}. Ensure that you are not aggregating at a higher "
                "resolution than you intended (is `scale` in metres?); if not, raise 'maxPixelsPerRegion'."
            )
    limit = options.get("max_plan_pixels")
    if limit is not None and found > limit:
        raise MaxPixelsError(
            f"The reduction would plan {int(found)} (feature, pixel) entries on a {grid.width} x {grid.height} grid "
            f"(scale {grid.nominal_scale:.6g} m), more than the limit of {int(limit)}. Ensure that you are not "
            "aggregating at a higher resolution than you intended (is `scale` in metres?); if not, raise the limit "
            "with `ee.set_options(max_plan_pixels=...)` (None for no limit)."
        )


def max_pixels_message(found: float, max_pixels: float) -> str:
    """Earth Engine's words for a region over ``maxPixels``."""
    return (
        f"Too many pixels in the region. Found {int(found)}, but maxPixels allows only {int(max_pixels)}. "
        "Ensure that you are not aggregating at a higher resolution than you intended; that is a frequent cause "
        "of this error. If not, then you may set the 'maxPixels' argument to a limit suitable for your "
        "computation; set 'bestEffort' to true to aggregate at whatever scale results in maxPixels total "
        "pixels; or both."
    )
