"""Plan and run reductions: the only module that calls ``dask.compute``.

Plan (metadata only): the grid of each image, features in that grid's CRS, coverage weights once
per (feature set, grid, mode), split by block. Compute: per (image, block) a chunk task gives
per-feature partials, which are tree-combined per image and finalized. All images of a request
run in one dask graph, and only blocks that features touch are read.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import dask
import numpy as np
import shapely
from dask.base import tokenize

from . import options
from .compute import compute
from .coverage import coverage, estimate_pixels
from .errors import CRSError, MaxPixelsError, ReprojectionWarning
from .geometry import reproject_features
from .grid import Grid, norm_crs, resolve_grid
from .raster import Raster
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
    "check_pixel_limits",
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


_WEIGHTS: OrderedDict[str, BlockWeights] = OrderedDict()
_WEIGHTS_LOCK = threading.Lock()
_WEIGHTS_MAX_BYTES = 512 * 2**20
_weights_bytes = 0
_COVERAGE_LOCK = threading.Lock()


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
    t = grid.transform
    if not grid.is_rectilinear:
        raise NotImplementedError(
            "reductions on rotated or south-up grids are not supported yet: warp the raster to a north-up grid "
            "first (e.g. `gdalwarp`)."
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
    block = bi * nbx + bj
    order = np.argsort(block, kind="stable")  # owner (so feature) order is kept within a block
    block, fid = block[order], fids[owner[order]]
    starts = np.flatnonzero(np.r_[True, block[1:] != block[:-1]])
    ends = np.r_[starts[1:], len(block)]
    return {divmod(int(block[s]), nbx): fid[s:e] for s, e in zip(starts, ends, strict=True)}


def _weights_task(
    wkb: np.ndarray, fids: np.ndarray, grid: Grid, window: tuple[int, int, int, int], mode: str, token: str
) -> BlockWeights:
    """Coverage of the features ``fids`` (as WKB, which pickles fast) on the block ``window = (row0, col0, h, w)``.

    Coverage is computed on the whole grid (so ties and clipping are decided exactly as for the
    whole raster) and the entries in the block kept, sorted by feature then pixel. Cached by token.
    """
    global _weights_bytes
    with _WEIGHTS_LOCK:
        hit = _WEIGHTS.get(token)
        if hit is not None:
            _WEIGHTS.move_to_end(token)
            return hit
    r0, c0, bh, bw = window
    with _COVERAGE_LOCK:  # exactextract holds the GIL: two at once only slow each other and the reads down
        cov = coverage(shapely.from_wkb(wkb), grid, mode)
    row, col = np.divmod(cov.pixel, grid.width)
    keep = (row >= r0) & (row < r0 + bh) & (col >= c0) & (col < c0 + bw)
    local = (row[keep] - r0) * bw + (col[keep] - c0)
    feature = fids[cov.feature[keep]]
    order = _stable_order(np.searchsorted(fids, feature), len(fids))  # fids are sorted: keeps pixel order
    feature, local, weight = feature[order], local[order], cov.weight[keep][order]
    starts = np.flatnonzero(np.r_[True, feature[1:] != feature[:-1]]) if len(feature) else np.empty(0, "i8")
    out = BlockWeights(local, weight, starts, feature[starts], token, (r0, c0, bw, grid.width))
    nbytes = local.nbytes + weight.nbytes + starts.nbytes
    with _WEIGHTS_LOCK:
        _WEIGHTS[token] = out
        _weights_bytes += nbytes
        while _weights_bytes > _WEIGHTS_MAX_BYTES and len(_WEIGHTS) > 1:
            _, old = _WEIGHTS.popitem(last=False)
            _weights_bytes -= old.pixel.nbytes + old.weight.nbytes + old.starts.nbytes
    return out


# -- tasks ------------------------------------------------------------------------------------------


def _chunk_task(values: np.ndarray, weights: dict[str, BlockWeights | None], kinds: dict[str, tuple[str, ...]]) -> dict:
    flat = values.reshape(values.shape[0], -1)
    out = {}
    for mode, bw in weights.items():
        if bw is None:
            continue
        order = None
        origin = getattr(bw, "origin", None)
        if "vals" in kinds[mode] and origin is not None:
            # a grid-wide row-major pixel key, so gathered entries sort the same whatever the blocks
            r0, c0, width, grid_width = origin
            row, col = np.divmod(bw.pixel, width)
            order = (row + r0) * grid_width + col + c0
        out[mode] = chunk_stats(flat, bw.pixel, bw.weight, bw.starts, bw.fids, kinds[mode], order=order)
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


def _finalize_task(part: dict, columns: list[Column], n_features: int, n_bands: int, kinds: dict) -> dict:
    ctx = _RegionContext(part, n_features, n_bands, kinds)
    return {c.name: evaluate(c.output, c.bands, ctx) for c in columns}


# -- planning ---------------------------------------------------------------------------------------


def _features_token(geoms: np.ndarray) -> str:
    return tokenize(shapely.to_wkb(geoms, hex=False))


@dataclass
class _GridPlan:
    grid: Grid
    geoms: np.ndarray
    blocks: dict[tuple, dict]
    key: tuple


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

    @property
    def touched(self) -> list[tuple[int, int]]:
        """The blocks some feature's bounding box meets: the only ones read."""
        return sorted(self.blocks)


@dataclass
class ReductionPlan:
    """What a reduction will do, before any pixel is read."""

    n_features: int
    images: list[ImagePlan]

    def graph(self) -> list[Any]:
        """One delayed result per image: ``{column: values}``; weights are one key per block, shared."""
        weight_keys: dict[str, Any] = {}

        def shared(ip: ImagePlan, i: int, j: int, mode: str) -> Any:
            chunks = ip.stack.chunks
            r0, c0 = sum(chunks[1][:i]), sum(chunks[2][:j])
            window = (r0, c0, chunks[1][i], chunks[2][j])
            token = f"{ip.key}-{mode}-{window}"
            if token not in weight_keys:
                fids = ip.blocks[(i, j)]
                weight_keys[token] = dask.delayed(_weights_task, pure=True)(
                    shapely.to_wkb(ip.geoms[fids]),
                    fids,
                    ip.grid,
                    window,
                    mode,
                    token,
                    dask_key_name=f"weights-{tokenize(token)}",
                )
            return weight_keys[token]

        results = []
        for ip in self.images:
            # keys named once per image from what determines the result, not tokenized per task
            tok = tokenize(ip.stack.name, ip.key, ip.kinds, ip.columns, self.n_features)
            blocks = ip.stack.to_delayed(optimize_graph=False)
            partials = [
                dask.delayed(_chunk_task, pure=True)(
                    blocks[0, i, j],
                    {m: shared(ip, i, j, m) for m in ip.kinds},
                    ip.kinds,
                    dask_key_name=f"chunk-{tok}-{i}-{j}",
                )
                for i, j in ip.touched
            ]
            level = 0
            while len(partials) > 1:
                partials = [
                    dask.delayed(_combine_task, pure=True)(
                        *partials[k : k + FAN_IN], dask_key_name=f"combine-{tok}-{level}-{k}"
                    )
                    for k in range(0, len(partials), FAN_IN)
                ]
                level += 1
            part = partials[0] if partials else {}
            n_bands = ip.stack.shape[0]
            results.append(
                dask.delayed(_finalize_task, pure=True)(
                    part, ip.columns, self.n_features, n_bands, ip.kinds, dask_key_name=f"finalize-{tok}"
                )
            )
        return results

    def explain(self) -> dict[str, Any]:
        """A summary: images, grids, blocks to read, bytes, features, tasks and peak memory per task."""
        blocks = 0
        read_bytes = 0
        peak = 0
        entries = 0
        seen: set[str] = set()
        estimates: dict[str, int] = {}  # per (features, grid, blocks): the same for every image on it
        for ip in self.images:
            chunks = ip.stack.chunks
            item = ip.stack.dtype.itemsize * ip.stack.shape[0]
            if ip.key not in estimates:
                estimates[ip.key] = estimate_pixels(ip.geoms, ip.grid)
            n_entries = estimates[ip.key] * len(ip.kinds)
            per_block = n_entries / max(1, len(ip.blocks))
            for i, j in ip.touched:
                nbytes = chunks[1][i] * chunks[2][j] * item
                read_bytes += nbytes
                # block values + gathered float64 values, weights and a few temporaries per entry
                peak = max(peak, int(nbytes + per_block * 8 * (2 + 4 * ip.stack.shape[0])))
            blocks += len(ip.blocks)
            if ip.key not in seen:
                seen.add(ip.key)
                entries += n_entries
        n_combine = sum(_n_combines(len(ip.touched)) for ip in self.images)
        n_weights = len({(ip.key, b, m) for ip in self.images for b in ip.blocks for m in ip.kinds})
        return {
            "images": len(self.images),
            "grids": len({ip.grid for ip in self.images}),
            "features": self.n_features,
            "blocks_to_read": blocks,
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

    def __dask_tokenize__(self) -> str:
        bands = [(id(b.fn), b.name, b.dtype, b.resampling) for r in self.images for b in r.bands]
        crs = self.crs if isinstance(self.crs, str | int | None) else repr(self.crs)
        return tokenize(
            bands,
            self.reducer,
            self.scale,
            crs,
            self.crs_transform,
            self.rule,
            self.max_pixels,
            self.max_pixels_per_region,
        )


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
        stack = image.stack(grid)
        if stack.chunks[0] != (stack.shape[0],):
            stack = stack.rechunk({0: -1})
        spatial = (stack.chunks[1], stack.chunks[2])
        if spatial not in gp.blocks:
            gp.blocks[spatial] = assign_blocks(gp.geoms, grid, spatial)
        key = tokenize(gp.key, spatial)
        out.append(ImagePlan(image, grid, columns, kinds, stack, gp.geoms, gp.blocks[spatial], key))
    return ReductionPlan(len(geoms), out)


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
