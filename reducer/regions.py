"""Reductions over regions: the entry points ``reduceRegion`` and ``reduceRegions`` share.

:func:`reduce_regions` is the one way ``Image.reduceRegions`` and ``ImageCollection.reduceRegions``
reduce: it returns a :class:`Reduction`, which computes (once, on first use) every image over every
feature in one dask graph through :mod:`reducer.engine`. The shapes of its result (Earth Engine's
features, long and wide tables, xarray) are made by :mod:`reducer.output`. :func:`reduce_region` is
``Image.reduceRegion``: one geometry, ``maxPixels`` and ``bestEffort``.
"""

from __future__ import annotations

import contextvars
import math
import threading
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

import numpy as np
import shapely

from .coverage import estimate_pixels
from .engine import ReductionRequest, reduce_images
from .errors import AllMaskedWarning, ArgumentError, CRSError
from .geometry import as_geometry, reproject_features
from .grid import norm_crs, resolve_grid
from .raster import Raster
from .reducers import Column, Reducer
from .values import to_json_value

__all__ = [
    "PendingRegion",
    "Reduction",
    "ReductionResult",
    "collect_pending",
    "reduce_jointly",
    "reduce_region",
    "reduce_regions",
    "reduce_regions_jointly",
    "to_python",
]

ReductionResult = tuple[Any, list[tuple[list[Column], dict[str, np.ndarray]]]]
"""``(features GeoDataFrame, [(columns, {column: values (n_features,)}) per image])``."""


class Reduction:
    """A planned reduction of images over features; computed once, on first use.

    Parameters
    ----------
    request
        The images, reducer and grid (:class:`reducer.engine.ReductionRequest`).
    features
        A function of no argument that returns the features' GeoDataFrame (evaluated when the
        result is first asked for).
    per_image_ids
        Name each output feature ``<image system:index>_<feature id>`` and give it the image's
        ``system:time_start`` and ``image_id`` (``ImageCollection.reduceRegions``), or keep the
        feature ids (``Image.reduceRegions``).
    """

    def __init__(self, request: ReductionRequest, features: Callable[[], Any], per_image_ids: bool):
        self.request = request
        self.features = features
        self.per_image_ids = per_image_ids
        self._lock = threading.Lock()
        self._result: ReductionResult | None = None

    @property
    def images(self) -> tuple[Raster, ...]:
        """The rasters reduced, in order."""
        return self.request.images

    def frame(self) -> Any:
        """The features' GeoDataFrame (with a CRS)."""
        gdf = self.features()
        if gdf.crs is None:
            raise CRSError("the features have no CRS. Set it with gdf.set_crs('EPSG:4326') and try again.")
        return gdf

    def result(self) -> ReductionResult:
        """``(features GeoDataFrame, [(columns, {name: values})] per image)``, computed once."""
        with self._lock:
            if self._result is None:
                gdf = self.frame()
                per_image = _reduce(self.request, np.asarray(gdf.geometry.values, dtype=object), gdf.crs)
                self._result = (gdf, per_image)
            return self._result


def reduce_regions(
    images: Sequence[Raster],
    features: Callable[[], Any],
    reducer: Reducer,
    scale: float | None = None,
    crs: Any = None,
    crsTransform: Sequence[float] | None = None,
    per_image_ids: bool = True,
    maxPixelsPerRegion: float | None = None,
) -> Reduction:
    """Reduce every image over every feature (lazy): the one path of both ``reduceRegions``.

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> from reducer.raster import constant_band
    >>> gdf = gpd.GeoDataFrame(geometry=[shapely.box(0, 0, 1, 1)], crs=4326)
    >>> red = reduce_regions([Raster((constant_band("a", 2),))], lambda: gdf, Reducer.mean(), 55660, "EPSG:4326")
    >>> columns, values = red.result()[1][0]
    >>> [c.name for c in columns], values["mean"].tolist()
    (['mean'], [2.0])
    """
    per_region = _pixel_limit(maxPixelsPerRegion, "maxPixelsPerRegion")
    request = ReductionRequest(
        tuple(images), reducer, scale, crs, crsTransform, "regions", max_pixels_per_region=per_region
    )
    return Reduction(request, features, per_image_ids)


def reduce_jointly(reductions: Sequence[Reduction]) -> int:
    """Compute pending reductions that share features and arguments as one reduction over all their images.

    ``ic.map(lambda i: i.reduceRegions(fc, reducer, scale)).flatten()`` plans one reduction per image;
    computed one by one, each would evaluate the features and compute their coverage weights again.
    This groups the reductions not yet computed whose features are the same frame and whose reducer,
    scale, CRS, transform, naming rule and ``maxPixels`` are equal, and computes each group of two or
    more as one :class:`~reducer.engine.ReductionRequest` over all the group's images (one dask graph,
    weights computed once per grid, as ``ImageCollection.reduceRegions``). Each reduction then holds
    its own images' part of the result, as if it had been computed alone.

    Parameters
    ----------
    reductions
        Reductions, in any order; those already computed are left alone.

    Returns
    -------
    int
        The number of joint computations run.

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> from reducer.raster import constant_band
    >>> gdf = gpd.GeoDataFrame(geometry=[shapely.box(0, 0, 1, 1)], crs=4326)
    >>> reds = [reduce_regions([Raster((constant_band("a", v),))], lambda: gdf, Reducer.mean(), 55660, "EPSG:4326",
    ...                        per_image_ids=False) for v in (2, 5)]
    >>> reduce_jointly(reds)
    1
    >>> [r.result()[1][0][1]["mean"].tolist() for r in reds]
    [[2.0], [5.0]]
    """
    groups: dict[tuple, list[tuple[Reduction, Any]]] = {}
    for red in dict.fromkeys(reductions):  # each reduction once, in order
        if red._result is not None:
            continue
        gdf = red.frame()
        groups.setdefault((id(gdf), red.request.arguments()), []).append((red, gdf))
    runs = 0
    for members in groups.values():
        if len(members) < 2:
            continue
        first, gdf = members[0]
        images = tuple(img for red, _ in members for img in red.images)
        request = replace(first.request, images=images)
        per_image = _reduce(request, np.asarray(gdf.geometry.values, dtype=object), gdf.crs)
        runs += 1
        start = 0
        for red, _ in members:
            n = len(red.images)
            with red._lock:
                if red._result is None:
                    red._result = (gdf, per_image[start : start + n])
            start += n
    return runs


def reduce_region(
    image: Raster,
    reducer: Reducer,
    geometry: Any,
    scale: float | None,
    crs: Any,
    crsTransform: Sequence[float] | None,
    bestEffort: bool,
    maxPixels: float | None,
) -> dict[str, Any]:
    """``Image.reduceRegion``: a dict of outputs (``None`` where no valid pixel), keys sorted."""
    if geometry is None:
        grid0 = resolve_grid(image.grid, scale, crs, crsTransform)
        geom = shapely.box(*grid0.bounds)
        geom_crs = grid0.crs
    else:
        g = as_geometry(geometry)
        geom, geom_crs = g.to_shapely(), g.crs
    geoms = np.array([geom], dtype=object)
    max_pixels = _pixel_limit(maxPixels, "maxPixels")
    if bestEffort and max_pixels is not None:
        grid = resolve_grid(image.grid, scale, crs, crsTransform)
        in_grid = reproject_features(geoms, norm_crs(geom_crs), grid.crs)
        found = estimate_pixels(np.asarray(in_grid, dtype=object), grid)
        if found > max_pixels:  # coarser by the square root of the excess, as Earth Engine does
            scale = (scale if scale is not None else grid.nominal_scale) * math.sqrt(found / max_pixels) * 1.0001
        max_pixels = None
    request = ReductionRequest((image,), reducer, scale, crs, crsTransform, "region", max_pixels)
    [(columns, values)] = _reduce(request, geoms, geom_crs)
    return _region_dict(columns, values)


_PENDING: contextvars.ContextVar[list[PendingRegion] | None] = contextvars.ContextVar(
    "reducer_pending_regions", default=None
)


class PendingRegion:
    """One ``Image.reduceRegion`` not computed yet (alone on first use, or jointly with others).

    :func:`reduce_regions_jointly` computes several as one reduction. Created while
    :func:`collect_pending` is active, it is also added to that collection, so that
    ``ImageCollection.map(lambda img: ee.Feature(pt, img.reduceRegion(...)))`` computes the
    reductions of all images as one.
    """

    def __init__(
        self,
        image: Raster,
        reducer: Reducer,
        geometry: Any,
        scale: float | None,
        crs: Any,
        crsTransform: Sequence[float] | None,
        bestEffort: bool,
        maxPixels: float | None,
    ):
        self.args = (image, reducer, geometry, scale, crs, crsTransform, bestEffort, maxPixels)
        self._lock = threading.Lock()
        self._value: dict[str, Any] | None = None
        collecting = _PENDING.get()
        if collecting is not None:
            collecting.append(self)

    def value(self) -> dict[str, Any]:
        """The reduction's dict (``reduceRegion``'s value), computed once."""
        with self._lock:
            if self._value is None:
                self._value = reduce_region(*self.args)
            return self._value

    def joint_request(self) -> tuple[ReductionRequest, Any] | None:
        """The request and geometry this region is computed with jointly; None when it is computed alone."""
        image, reducer, geometry, scale, crs, transform, best_effort, max_pixels = self.args
        if geometry is None or best_effort:
            return None  # each image's own extent, or a scale that depends on the image
        limit = _pixel_limit(max_pixels, "maxPixels")
        return ReductionRequest((image,), reducer, scale, crs, transform, "region", limit), as_geometry(geometry)


@contextmanager
def collect_pending() -> Iterator[list[PendingRegion]]:
    """Collect the :class:`PendingRegion` objects created inside the block (e.g. while mapping a collection)."""
    collected: list[PendingRegion] = []
    token = _PENDING.set(collected)
    try:
        yield collected
    finally:
        _PENDING.reset(token)


def reduce_regions_jointly(pending: Sequence[PendingRegion]) -> int:
    """Compute pending ``reduceRegion`` calls over the same geometry and arguments as one reduction.

    Each group of two or more (same geometry, reducer, scale, CRS, transform and
    ``maxPixels``; not ``bestEffort``) becomes one :class:`~reducer.engine.ReductionRequest` over all
    the group's images: one dask graph, coverage weights once per grid. Each pending region then
    holds its own image's dict, as if computed alone. Returns the number of joint computations.

    Examples
    --------
    >>> from reducer.raster import constant_band
    >>> from reducer.geometry import Geometry
    >>> box, mean = Geometry.Rectangle([0, 0, 1, 1]), Reducer.mean()
    >>> regions = [PendingRegion(Raster((constant_band("a", v),)), mean, box, 55660, "EPSG:4326", None, False, 1e7)
    ...            for v in (2, 5)]
    >>> reduce_regions_jointly(regions), [r.value() for r in regions]
    (1, [{'a': 2.0}, {'a': 5.0}])
    """
    groups: dict[tuple, list[tuple[PendingRegion, ReductionRequest, Any]]] = {}
    for p in dict.fromkeys(pending):
        joint = None if p._value is not None else p.joint_request()
        if joint is None:
            continue
        request, g = joint
        # metadata only: the same region written anew in each call (a new ee.Geometry) groups too
        shape = g.to_shapely()
        key = (shapely.to_wkb(shape), g.crs.to_wkt(), request.arguments())
        groups.setdefault(key, []).append((p, request, (shape, g.crs)))
    runs = 0
    for group in groups.values():
        if len(group) < 2:
            continue
        members = [p for p, _, _ in group]
        _, first, (shape, shape_crs) = group[0]
        request = replace(first, images=tuple(r.images[0] for _, r, _ in group))
        per_image = _reduce(request, np.array([shape], dtype=object), shape_crs)
        runs += 1
        for p, (columns, values) in zip(members, per_image, strict=True):
            out = _region_dict(columns, values)
            with p._lock:
                if p._value is None:
                    p._value = out
    return runs


def _reduce(request: ReductionRequest, geoms: np.ndarray, geoms_crs: Any) -> list[tuple[list[Column], dict]]:
    """:func:`~reducer.engine.reduce_images`, then a warning for each image with no valid pixel under any feature."""
    per_image = reduce_images(request, geoms, geoms_crs)
    warn_all_masked(request.images, per_image, len(geoms))
    return per_image


def warn_all_masked(
    images: Sequence[Raster], per_image: Sequence[tuple[list[Column], dict[str, np.ndarray]]], n_features: int
) -> None:
    """Warn once per image that has no valid pixel under any feature (every output None or 0).

    Examples
    --------
    >>> import warnings
    >>> from reducer.raster import constant_band
    >>> r = Raster((constant_band("a", 1),), {"system:id": "x.tif"})
    >>> with warnings.catch_warnings(record=True) as w:
    ...     warnings.simplefilter("always")
    ...     warn_all_masked([r], [([], {"mean": np.array([np.nan]), "count": np.array([0])})], 1)
    >>> str(w[0].message)[:60]
    "image 'x.tif' has no valid pixel under any of the 1 feature("
    """
    if n_features == 0:
        return
    for image, (_, values) in zip(images, per_image, strict=True):
        arrays = [np.asarray(v) for v in values.values()]
        numeric = [a for a in arrays if a.dtype.kind in "fiu"]
        if not numeric or len(numeric) != len(arrays):
            continue
        empty = all(
            bool(np.all(np.isnan(a) | (a == 0))) if a.dtype.kind == "f" else bool(np.all(a == 0)) for a in numeric
        )
        if empty and any(a.dtype.kind == "f" and bool(np.isnan(a).any()) for a in numeric):
            name = image.properties.get("system:id") or image.properties.get("system:index") or "(unnamed)"
            warnings.warn(
                f"image {name!r} has no valid pixel under any of the {n_features} feature(s): every pixel there is "
                "nodata or masked, so every output is None. Check the file's nodata value and masks "
                "(`reducer info FILE`), or that the features cover its data.",
                AllMaskedWarning,
                stacklevel=5,
            )


def _pixel_limit(value: Any, name: str) -> float | None:
    """A pixel limit as a positive float, or None."""
    if value is None:
        return None
    try:
        limit = float(value)
    except (TypeError, ValueError):
        limit = math.nan
    if isinstance(value, bool) or not limit > 0:
        raise ArgumentError(f"{name}={value!r} is not a positive number of pixels. Pass a number such as 1e9.")
    return limit


def _region_dict(columns: Sequence[Column], values: dict[str, np.ndarray]) -> dict[str, Any]:
    """One region's outputs as ``reduceRegion`` gives them: plain values, keys sorted."""
    return {c.name: to_python(values[c.name][0], c.integer) for c in sorted(columns, key=lambda c: c.name)}


def to_python(v: Any, integer: bool = False) -> Any:
    """A finite float as a Python number (int for integer outputs), NaN as ``None``; lists and dicts as JSON."""
    return to_json_value(v, integer, sort_keys=True)
