"""Plan and run reductions: the only module that calls ``dask.compute``.

Plan (metadata only): the grid of each image, features in that grid's CRS, coverage weights once
per (feature set, grid, mode), split by block. Compute: per (image, block) a chunk task gives
per-feature partials, which are tree-combined per image and finalized. All images of a request
run in one dask graph, and only blocks that features touch are read.
"""

from __future__ import annotations

import math
import sys
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import dask
import numpy as np
import shapely
from dask.base import tokenize

from .aggregations import AGGREGATIONS
from .coverage import cached_coverage, estimate_pixels
from .errors import ArgumentError, MaxPixelsError, ReducerInputError
from .grid import Grid, resolve_grid
from .kernels import chunk_stats, combine_partials, scatter
from .reducers import Output, Reducer
from .validate import check_geometries, check_overlap

__all__ = ["Column", "resolve_columns", "reduce_images", "reduce_region", "compute"]

FAN_IN = 8


@dataclass(frozen=True)
class Column:
    """One output column: its name, the band it reads and the reducer output it comes from."""

    name: str
    band: int
    output: Output
    integer: bool = False


def resolve_columns(reducer: Reducer, bands: Sequence[str], dtypes: Sequence[str], rule: str) -> list[Column]:
    """Output columns following Earth Engine's naming rules.

    ``rule`` is ``"region"`` (``reduceRegion``) or ``"regions"`` (``reduceRegions``). A one-input
    reducer is repeated for each band: a single output is named after the band, several give
    ``<band>_<output>``, except that ``reduceRegions`` on a one-band image uses the output names.
    A reducer with n > 1 inputs reads bands 1..n and keeps its output names.

    Examples
    --------
    >>> r = Reducer.mean().combine(Reducer.max(), sharedInputs=True)
    >>> [c.name for c in resolve_columns(r, ["NDVI"], ["float32"], "regions")]
    ['mean', 'max']
    >>> [c.name for c in resolve_columns(r, ["NDVI"], ["float32"], "region")]
    ['NDVI_mean', 'NDVI_max']
    >>> [c.name for c in resolve_columns(Reducer.mean(), ["a", "b"], ["f4", "f4"], "regions")]
    ['a', 'b']
    """
    if not isinstance(reducer, Reducer):
        raise ArgumentError(f"expected an ee.Reducer such as ee.Reducer.mean(), got {reducer!r}.")
    outs = reducer._outputs
    n_in = reducer._n_inputs

    def integer(o: Output, band: int) -> bool:
        agg = AGGREGATIONS[o.stat]
        return agg.integer or (o.stat in ("min", "max") and np.dtype(dtypes[band]).kind in "iub")

    if n_in == 1:
        cols = []
        for b, name in enumerate(bands):
            for o in outs:
                if rule == "regions" and len(bands) == 1:
                    col = o.name
                elif len(outs) == 1:
                    col = name
                else:
                    col = f"{name}_{o.name}"
                cols.append(Column(col, b, o, integer(o, b)))
        return cols
    if len(bands) != n_in:
        raise ReducerInputError(
            f"the reducer has {n_in} inputs but the image has {len(bands)} band(s) {list(bands)!r}. "
            f"Select {n_in} bands, or combine reducers with sharedInputs=True to repeat them for each band."
        )
    return [Column(o.name, o.input, o, integer(o, o.input)) for o in outs]


# -- coverage split by blocks -----------------------------------------------------------------------


@dataclass(frozen=True)
class BlockWeights:
    """Coverage entries of one block, sorted by feature: local pixel, weight, segment starts, fids."""

    pixel: np.ndarray
    weight: np.ndarray
    starts: np.ndarray
    fids: np.ndarray
    token: str

    def __dask_tokenize__(self) -> str:
        return self.token


_PARTITIONS: OrderedDict[tuple, dict] = OrderedDict()
_PART_LOCK = threading.Lock()


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
        return pos // step
    edges = np.concatenate([[0], np.cumsum(chunks)])
    return np.searchsorted(edges, pos, side="right") - 1


def partition(cov: Any, grid: Grid, chunks: tuple[tuple[int, ...], tuple[int, ...]], key: tuple) -> dict:
    """Split coverage entries by the blocks of ``chunks``, each block's entries sorted by feature.

    Two stable radix passes (feature, then block) keep pixel order within each feature. Cached
    per (coverage, chunks), so every image on the grid reuses it.
    """
    ckey = (key, chunks)
    with _PART_LOCK:
        if ckey in _PARTITIONS:
            _PARTITIONS.move_to_end(ckey)
            return _PARTITIONS[ckey]
    row_edges = np.concatenate([[0], np.cumsum(chunks[0])])
    col_edges = np.concatenate([[0], np.cumsum(chunks[1])])
    nbx = len(chunks[1])
    feature = np.asarray(cov.feature, dtype="i8")
    pixel = np.asarray(cov.pixel, dtype="i8")
    out: dict[tuple[int, int], BlockWeights] = {}
    if len(feature):
        row, col = np.divmod(pixel, grid.width)
        bi = _block_index(row, chunks[0])
        bj = _block_index(col, chunks[1])
        block = bi * nbx + bj
        order = _stable_order(feature, int(cov.n_features))
        order = order[_stable_order(block[order], len(chunks[0]) * nbx)]
        block, feature = block[order], feature[order]
        bi, bj = bi[order], bj[order]
        local = (row[order] - row_edges[bi]) * np.asarray(chunks[1])[bj] + (col[order] - col_edges[bj])
        weight = np.asarray(cov.weight, dtype="f8")[order]
        new_block = np.ones(len(block), bool)
        new_block[1:] = block[1:] != block[:-1]
        new_seg = new_block.copy()
        new_seg[1:] |= feature[1:] != feature[:-1]
        block_starts = np.flatnonzero(new_block)
        block_ends = np.append(block_starts[1:], len(block))
        seg_pos = np.flatnonzero(new_seg)
        seg_bounds = np.searchsorted(seg_pos, np.append(block_starts, len(block)))
        base = tokenize(key, chunks)
        for k, (s, e) in enumerate(zip(block_starts, block_ends, strict=True)):
            i, j = divmod(int(block[s]), nbx)
            segs = seg_pos[seg_bounds[k] : seg_bounds[k + 1]]
            out[(i, j)] = BlockWeights(local[s:e], weight[s:e], segs - s, feature[segs], f"{base}-{i}-{j}")
    with _PART_LOCK:
        _PARTITIONS[ckey] = out
        while len(_PARTITIONS) > 16:
            _PARTITIONS.popitem(last=False)
    return out


# -- tasks ------------------------------------------------------------------------------------------


def _chunk_task(values: np.ndarray, weights: dict[str, BlockWeights | None], kinds: dict[str, tuple[str, ...]]) -> dict:
    flat = values.reshape(values.shape[0], -1)
    out = {}
    for mode, bw in weights.items():
        if bw is None:
            continue
        out[mode] = chunk_stats(flat, bw.pixel, bw.weight, bw.starts, bw.fids, kinds[mode])
    return out


def _combine_task(*parts: dict) -> dict:
    modes = {m for p in parts for m in p}
    return {m: combine_partials([p[m] for p in parts if m in p]) for m in modes}


def _finalize_task(part: dict, columns: list[Column], n_features: int, n_bands: int, kinds: dict) -> dict:
    dense = {m: scatter(part[m], n_features, n_bands, kinds[m]) if m in part else None for m in kinds}
    out = {}
    for c in columns:
        d = dense[c.output.mode]
        if d is None:
            d = scatter((np.empty(0, "i8"), {}), n_features, n_bands, kinds[c.output.mode])
        out[c.name] = AGGREGATIONS[c.output.stat].finalize(d)[:, c.band]
    return out


# -- planning ---------------------------------------------------------------------------------------


def _features_token(geoms: np.ndarray) -> str:
    return tokenize(shapely.to_wkb(geoms, hex=False))


@dataclass
class _GridPlan:
    grid: Grid
    geoms: np.ndarray
    coverage: dict[str, Any]
    key: tuple


@dataclass
class ImagePlan:
    """One image's share of a reduction: its grid, columns, blocks and their weights."""

    image: Any
    grid: Grid
    columns: list[Column]
    kinds: dict[str, tuple[str, ...]]
    stack: Any
    parts: dict[str, dict]
    touched: list[tuple[int, int]]


@dataclass
class ReductionPlan:
    """What a reduction will do, before any pixel is read."""

    n_features: int
    images: list[ImagePlan]

    def graph(self) -> list[Any]:
        """One delayed result per image: ``{column: values}``; weights are one key per block, shared."""
        weight_keys: dict[str, Any] = {}

        def shared(bw: BlockWeights | None) -> Any:
            if bw is None:
                return None
            if bw.token not in weight_keys:
                weight_keys[bw.token] = dask.delayed(bw, pure=True, name=f"weights-{bw.token}")
            return weight_keys[bw.token]

        results = []
        for ip in self.images:
            blocks = ip.stack.to_delayed(optimize_graph=False)
            partials = [
                dask.delayed(_chunk_task, pure=True)(
                    blocks[0, i, j], {m: shared(ip.parts[m].get((i, j))) for m in ip.kinds}, ip.kinds
                )
                for i, j in ip.touched
            ]
            while len(partials) > 1:
                partials = [
                    dask.delayed(_combine_task, pure=True)(*partials[k : k + FAN_IN])
                    for k in range(0, len(partials), FAN_IN)
                ]
            part = partials[0] if partials else {}
            n_bands = ip.stack.shape[0]
            results.append(
                dask.delayed(_finalize_task, pure=True)(part, ip.columns, self.n_features, n_bands, ip.kinds)
            )
        return results

    def explain(self) -> dict[str, Any]:
        """A summary: images, grids, blocks to read, bytes, features, tasks and peak memory per task."""
        blocks = 0
        read_bytes = 0
        peak = 0
        entries = 0
        seen: set[int] = set()
        for ip in self.images:
            chunks = ip.stack.chunks
            item = ip.stack.dtype.itemsize * ip.stack.shape[0]
            for i, j in ip.touched:
                nbytes = chunks[1][i] * chunks[2][j] * item
                read_bytes += nbytes
                bw = [ip.parts[m].get((i, j)) for m in ip.kinds]
                n_entries = sum(len(b.pixel) for b in bw if b is not None)
                # block values + gathered float64 values, weights and a few temporaries per entry
                peak = max(peak, nbytes + n_entries * 8 * (2 + 4 * ip.stack.shape[0]))
            blocks += len(ip.touched)
            for m in ip.kinds:
                if id(ip.parts[m]) not in seen:
                    seen.add(id(ip.parts[m]))
                    entries += sum(len(b.pixel) for b in ip.parts[m].values())
        n_combine = sum(_n_combines(len(ip.touched)) for ip in self.images)
        return {
            "images": len(self.images),
            "grids": len({ip.grid for ip in self.images}),
            "features": self.n_features,
            "blocks_to_read": blocks,
            "bytes_to_read": read_bytes,
            "weight_entries": entries,
            "tasks": blocks + n_combine + len(self.images),
            "peak_task_memory_bytes": peak,
        }


def _n_combines(n: int) -> int:
    total = 0
    while n > 1:
        n = -(-n // FAN_IN)
        total += n
    return total


def plan_reduction(
    images: Sequence[Any],
    geoms: np.ndarray,
    geoms_crs: Any,
    reducer: Reducer,
    scale: float | None = None,
    crs: Any = None,
    crsTransform: Sequence[float] | None = None,
    rule: str = "regions",
    max_pixels: float | None = None,
) -> ReductionPlan:
    """Plan a reduction: grids, coverage weights (cached) and the blocks to read. Reads no pixel."""
    from .errors import CRSError
    from .grid import norm_crs

    geoms = np.asarray(geoms, dtype=object)
    geoms = check_geometries(geoms)  # repairs or rejects invalid ones (option invalid_geometry)
    src_crs = norm_crs(geoms_crs, "the features' crs")
    fkey = _features_token(geoms)
    grid_plans: dict[Grid, _GridPlan] = {}
    reprojected: dict[str, np.ndarray] = {}
    bounds = _total_bounds(geoms)
    out = []
    for image in images:
        names = [b.name for b in image._bands]
        dtypes = [b.dtype for b in image._bands]
        columns = resolve_columns(reducer, names, dtypes, rule)
        kinds: dict[str, tuple[str, ...]] = {}
        for c in columns:
            need = set(kinds.get(c.output.mode, ())) | set(AGGREGATIONS[c.output.stat].needs)
            kinds[c.output.mode] = tuple(k for k in ("w", "wx", "m2", "min", "max") if k in need)
        grid = resolve_grid(image._grid, scale, crs, crsTransform, bounds=bounds, bounds_crs=src_crs)
        gp = grid_plans.get(grid)
        if gp is None:
            wkt = grid.crs_wkt
            if wkt not in reprojected:
                if src_crs == grid.crs:
                    reprojected[wkt] = geoms
                else:
                    import geopandas as gpd

                    try:
                        moved = gpd.GeoSeries(geoms, crs=src_crs).to_crs(grid.crs).values
                    except Exception as exc:  # pragma: no cover - pyproj failures
                        raise CRSError(f"cannot reproject the features from {src_crs} to {grid.crs}: {exc}") from exc
                    reprojected[wkt] = np.asarray(moved, dtype=object)
            gp = _GridPlan(grid, reprojected[wkt], {}, (fkey, grid.token()))
            grid_plans[grid] = gp
            check_overlap(gp.geoms, grid, image._props.get("system:id"))  # warns: no feature on the raster
        if max_pixels is not None:
            found = estimate_pixels(gp.geoms, grid)
            if found > max_pixels:
                raise MaxPixelsError(_max_pixels_message(found, max_pixels))
        for mode in kinds:
            if mode not in gp.coverage:
                gp.coverage[mode] = cached_coverage(fkey, gp.geoms, grid, mode)
        stack = image._stack(grid)
        if stack.chunks[0] != (stack.shape[0],):
            stack = stack.rechunk({0: -1})
        spatial = (stack.chunks[1], stack.chunks[2])
        parts = {m: partition(gp.coverage[m], grid, spatial, gp.key + (m,)) for m in kinds}
        touched = sorted(set().union(*[set(p) for p in parts.values()]))
        out.append(ImagePlan(image, grid, columns, kinds, stack, parts, touched))
    return ReductionPlan(len(geoms), out)


def reduce_images(
    images: Sequence[Any],
    geoms: np.ndarray,
    geoms_crs: Any,
    reducer: Reducer,
    scale: float | None = None,
    crs: Any = None,
    crsTransform: Sequence[float] | None = None,
    rule: str = "regions",
    max_pixels: float | None = None,
) -> list[tuple[list[Column], dict[str, np.ndarray]]]:
    """Reduce every image over every geometry, in one dask graph.

    Returns, per image, its columns and ``{column: values (n_features,)}`` with NaN where a
    feature has no valid pixel.
    """
    plan = plan_reduction(images, geoms, geoms_crs, reducer, scale, crs, crsTransform, rule, max_pixels)
    results = compute(*plan.graph())
    return [(ip.columns, r) for ip, r in zip(plan.images, results, strict=True)]


def _total_bounds(geoms: np.ndarray) -> tuple[float, float, float, float] | None:
    b = shapely.bounds(geoms)
    if len(b) == 0 or np.isnan(b).all():
        return None
    return (np.nanmin(b[:, 0]), np.nanmin(b[:, 1]), np.nanmax(b[:, 2]), np.nanmax(b[:, 3]))


def _max_pixels_message(found: float, max_pixels: float) -> str:
    return (
        f"Too many pixels in the region. Found {int(found)}, but maxPixels allows only {int(max_pixels)}. "
        "Ensure that you are not aggregating at a higher resolution than you intended; that is a frequent cause "
        "of this error. If not, then you may set the 'maxPixels' argument to a limit suitable for your "
        "computation; set 'bestEffort' to true to aggregate at whatever scale results in maxPixels total "
        "pixels; or both."
    )


def reduce_region(
    image: Any,
    reducer: Reducer,
    geometry: Any,
    scale: float | None,
    crs: Any,
    crsTransform: Sequence[float] | None,
    bestEffort: bool,
    maxPixels: float | None,
) -> dict:
    """``Image.reduceRegion``: a dict of outputs (``None`` where no valid pixel), keys sorted."""
    from .geometry import as_geometry

    if geometry is None:
        grid0 = resolve_grid(image._grid, scale, crs, crsTransform)
        geom = shapely.box(*grid0.bounds)
        geom_crs = grid0.crs
    else:
        g = as_geometry(geometry)
        geom, geom_crs = g.to_shapely(), g.crs
    geoms = np.array([geom], dtype=object)
    max_pixels = None if maxPixels is None else float(maxPixels)
    if bestEffort and max_pixels is not None:
        grid = resolve_grid(image._grid, scale, crs, crsTransform)
        import geopandas as gpd

        in_grid = gpd.GeoSeries(geoms, crs=geom_crs).to_crs(grid.crs).values
        current = scale if scale is not None else grid.nominal_scale
        found = estimate_pixels(np.asarray(in_grid, dtype=object), grid)
        if found > max_pixels:
            current = current * math.sqrt(found / max_pixels) * 1.0001
            scale = current
        max_pixels = None
    [(columns, values)] = reduce_images(
        [image], geoms, geom_crs, reducer, scale, crs, crsTransform, "region", max_pixels
    )
    return {c.name: to_python(values[c.name][0], c.integer) for c in sorted(columns, key=lambda c: c.name)}


def to_python(v: float, integer: bool = False) -> Any:
    """A finite float as a Python number (int for integer outputs), NaN as ``None``."""
    if v is None or not np.isfinite(v):
        return None
    return int(round(float(v))) if integer else float(v)


def _active_client(scheduler: Any) -> Any:
    """The distributed client to run on: the one given, else the default one when no scheduler is set."""
    try:
        from distributed import Client, default_client
    except ImportError:  # pragma: no cover - distributed is a dependency
        return None
    if isinstance(scheduler, Client):
        return scheduler
    if scheduler is None:
        try:
            return default_client()
        except ValueError:
            return None
    return None


def _show_progress() -> bool:
    from . import options

    flag = options.get("progress")
    return bool(flag) if flag is not None else sys.stderr.isatty()


def _restore_error(exc: BaseException) -> BaseException:
    """A ``ReducerError`` that lost its type crossing the cluster, as its own type again.

    distributed sends a task's exception back pickled, and when that fails (a GDAL error in its
    cause chain does not unpickle) it sends ``Exception(repr(exc))``. That repr is parsed (never
    evaluated) back into the reducer error it names; anything else is returned unchanged.

    Examples
    --------
    >>> _restore_error(Exception("InputFileError('cannot read pixels of a.tif')"))
    InputFileError('cannot read pixels of a.tif')
    >>> _restore_error(Exception("ValueError('x')"))
    Exception("ValueError('x')")
    """
    import ast

    from . import errors

    if type(exc) is not Exception or len(exc.args) != 1 or not isinstance(exc.args[0], str):
        return exc
    try:
        node = ast.parse(exc.args[0].strip(), mode="eval").body
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and not node.keywords):
            return exc
        args = [ast.literal_eval(a) for a in node.args]
    except (SyntaxError, ValueError):
        return exc
    cls = getattr(errors, node.func.id, None)
    if not (isinstance(cls, type) and issubclass(cls, errors.ReducerError)):
        return exc
    return cls(*args)


def compute(*objs: Any) -> tuple:
    """The one place that computes: on the active distributed client if any, else dask's threads.

    A progress bar goes to stderr for computations over about a second, when stderr is a terminal
    or ``set_options(progress=True)``; ``progress=False`` turns it off.
    """
    from . import options

    scheduler = options.get("scheduler")
    show = _show_progress()
    client = _active_client(scheduler)
    if client is not None:
        futures = client.compute(list(objs))
        try:
            if show:
                from distributed import as_completed
                from tqdm import tqdm

                with tqdm(total=len(futures), desc="reducer", unit="image", file=sys.stderr, delay=1.0) as bar:
                    for _ in as_completed(futures):
                        bar.update()
            return tuple(client.gather(futures))
        except Exception as exc:
            restored = _restore_error(exc)
            if restored is exc:
                raise
            raise restored from None
    kwargs: dict[str, Any] = {}
    if scheduler is not None:
        kwargs["scheduler"] = scheduler
    if show:
        from dask.diagnostics import ProgressBar

        with ProgressBar(minimum=1.0, out=sys.stderr):
            return dask.compute(*objs, **kwargs)
    return dask.compute(*objs, **kwargs)
