"""Reductions over regions: the entry points ``reduceRegion`` and ``reduceRegions`` share.

:func:`reduce_regions` is the one way ``Image.reduceRegions`` and ``ImageCollection.reduceRegions``
reduce: it returns a :class:`Reduction`, which computes (once, on first use) every image over every
feature in one dask graph through :mod:`reducer.engine`. The shapes of its result (Earth Engine's
features, long and wide tables, xarray) are made by :mod:`reducer.output`. :func:`reduce_region` is
``Image.reduceRegion``: one geometry, ``maxPixels`` and ``bestEffort``.
"""

from __future__ import annotations

import math
import threading
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import shapely

from .coverage import estimate_pixels
from .engine import ReductionRequest, reduce_images
from .errors import AllMaskedWarning, ArgumentError, CRSError
from .geometry import as_geometry
from .grid import resolve_grid
from .raster import Raster
from .reducers import Column, Reducer
from .values import to_json_value

__all__ = ["Reduction", "ReductionResult", "reduce_regions", "reduce_region", "to_python"]

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
                per_image = reduce_images(self.request, np.asarray(gdf.geometry.values, dtype=object), gdf.crs)
                warn_all_masked(self.request.images, per_image, len(gdf))
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
        in_grid = gpd.GeoSeries(geoms, crs=geom_crs).to_crs(grid.crs).values
        current = scale if scale is not None else grid.nominal_scale
        found = estimate_pixels(np.asarray(in_grid, dtype=object), grid)
        if found > max_pixels:
            current = current * math.sqrt(found / max_pixels) * 1.0001
            scale = current
        max_pixels = None
    request = ReductionRequest((image,), reducer, scale, crs, crsTransform, "region", max_pixels)
    [(columns, values)] = reduce_images(request, geoms, geom_crs)
    warn_all_masked((image,), [(columns, values)], 1)
    return {c.name: to_python(values[c.name][0], c.integer) for c in sorted(columns, key=lambda c: c.name)}


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
                stacklevel=4,
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


def to_python(v: Any, integer: bool = False) -> Any:
    """A finite float as a Python number (int for integer outputs), NaN as ``None``; lists and dicts as JSON."""
    return to_json_value(v, integer, sort_keys=True)
