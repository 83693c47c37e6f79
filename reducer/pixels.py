"""Pixels out: images and collections as lazy ``xarray.Dataset`` objects (the xee shape, locally).

:func:`pixel_grid` picks the grid with the same rules as ``reduceRegion`` (:func:`reducer.grid.resolve_grid`:
``scale``, ``crs``, ``crsTransform``, else the image's own grid), then crops it to the bounding box of
``region``. :func:`raster_to_dataset` and :func:`rasters_to_dataset` wrap each band's dask array on
that grid in a Dataset whose CRS and transform rioxarray reads (``.rio.crs``, ``.rio.transform()``,
``.rio.to_raster()``). Building one reads no pixel; masked pixels are NaN.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import dask.array as da
import numpy as np
import pandas as pd
from affine import Affine

from .errors import ArgumentError, BandError
from .geometry import as_geometry
from .grid import Grid, resolve_grid
from .raster import Raster

__all__ = ["pixel_grid", "raster_to_dataset", "rasters_to_dataset", "band_arrays", "grid_dataset"]


def _window(full: Grid, region: Any) -> tuple[int, int, int, int]:
    """``(row0, row1, col0, col1)`` of ``full`` covering ``region``'s bounding box (at least one pixel)."""
    import geopandas as gpd

    g = as_geometry(region)
    shape = gpd.GeoSeries([g.to_shapely()], crs=g.crs).to_crs(full.crs).iloc[0]
    if shape is None or shape.is_empty:
        raise ArgumentError(f"to_xarray: region {region!r} is empty. Give a geometry with an area, or region=None.")
    xmin, ymin, xmax, ymax = shape.bounds
    inv = ~full.transform
    cols = [inv.a * x + inv.b * y + inv.c for x in (xmin, xmax) for y in (ymin, ymax)]
    rows = [inv.d * x + inv.e * y + inv.f for x in (xmin, xmax) for y in (ymin, ymax)]
    c0 = max(0, math.floor(min(cols) + 1e-9))
    c1 = min(full.width, math.ceil(max(cols) - 1e-9))
    r0 = max(0, math.floor(min(rows) + 1e-9))
    r1 = min(full.height, math.ceil(max(rows) - 1e-9))
    if c1 <= c0 or r1 <= r0:
        raise ArgumentError(
            f"to_xarray: region {region!r} does not overlap the image (bounds {full.bounds} in its CRS). "
            "Give a region inside the image, or region=None."
        )
    return r0, r1, c0, c1


def pixel_grid(
    native: Grid | None,
    region: Any = None,
    scale: float | None = None,
    crs: Any = None,
    crsTransform: Sequence[float] | None = None,
) -> tuple[Grid, tuple[int, int, int, int] | None]:
    """The full grid (``reduceRegion``'s rules) and the window of it that ``region`` covers (None: all).

    A constant image has no grid of its own: it needs ``region`` with ``scale`` and ``crs``.

    Examples
    --------
    >>> g = Grid("EPSG:32633", Affine(10, 0, 500000, 0, -10, 4000040), 4, 4)
    >>> pixel_grid(g)[0] is g, pixel_grid(g, scale=20)[0].shape
    (True, (2, 2))
    """
    if native is None and region is not None:
        geom = as_geometry(region)
        shape = geom.to_shapely()
        full = resolve_grid(None, scale, crs, crsTransform, bounds=shape.bounds, bounds_crs=geom.crs)
    else:
        full = resolve_grid(native, scale, crs, crsTransform)
    if region is None:
        return full, None
    return full, _window(full, region)


def _sub_grid(full: Grid, window: tuple[int, int, int, int] | None) -> Grid:
    if window is None:
        return full
    r0, r1, c0, c1 = window
    return Grid(full.crs, full.transform * Affine.translation(c0, r0), c1 - c0, r1 - r0)


def band_arrays(raster: Raster, full: Grid, window: tuple[int, int, int, int] | None) -> dict[str, da.Array]:
    """Each band's lazy pixels on ``full`` cropped to ``window`` (NaN where masked), by band name."""
    if not raster.bands:
        raise BandError("to_xarray: this image has no bands: select or add bands first.")
    out: dict[str, da.Array] = {}
    for band in raster.bands:
        arr = band.on(full)
        if window is not None:
            r0, r1, c0, c1 = window
            arr = arr[r0:r1, c0:c1]
        out[band.name] = arr
    return out


def _spatial_coords(grid: Grid) -> dict[str, np.ndarray]:
    if not grid.is_rectilinear:
        raise ArgumentError(
            f"to_xarray: the grid's transform {tuple(grid.transform)[:6]!r} is rotated or flipped; xarray's x/y "
            "coordinates need north-up pixels. Give crs= and scale= to resample onto a north-up grid."
        )
    t = grid.transform
    x = t.c + t.a * (np.arange(grid.width) + 0.5)
    y = t.f + t.e * (np.arange(grid.height) + 0.5)
    return {"x": x, "y": y}


def _georeference(ds: Any, grid: Grid) -> Any:
    import rioxarray  # noqa: F401  (registers the .rio accessor)

    ds = ds.rio.write_crs(grid.crs_wkt if grid.crs.to_epsg() is None else f"EPSG:{grid.crs.to_epsg()}")
    ds = ds.rio.write_transform(grid.transform)
    for name in ds.data_vars:
        ds[name].attrs.pop("_FillValue", None)
        ds[name].encoding["_FillValue"] = np.nan
    return ds


def _scalar(v: Any) -> bool:
    return isinstance(v, str | int | float | bool | np.number) and v is not None


def grid_dataset(raster: Raster, grid: Grid, window: tuple[int, int, int, int] | None = None) -> Any:
    """One image on ``grid`` (cropped to ``window``) as a lazy ``(y, x)`` Dataset, georeferenced for rioxarray."""
    import xarray as xr

    sub = _sub_grid(grid, window)
    arrays = band_arrays(raster, grid, window)
    coords: dict[str, Any] = _spatial_coords(sub)
    t = raster.properties.get("system:time_start")
    if isinstance(t, int | float | np.number):
        coords["time"] = pd.Timestamp(int(t), unit="ms").to_datetime64()
    ds = xr.Dataset({name: (("y", "x"), arr) for name, arr in arrays.items()}, coords=coords)
    ds.attrs.update({k: v for k, v in raster.properties.items() if _scalar(v)})
    return _georeference(ds, sub)


def raster_to_dataset(
    raster: Raster,
    region: Any = None,
    scale: float | None = None,
    crs: Any = None,
    crsTransform: Sequence[float] | None = None,
) -> Any:
    """One image as an ``xarray.Dataset``: one ``(y, x)`` float64 variable per band, lazy (dask).

    Properties that are scalars become attributes, ``system:time_start`` also the ``time`` coordinate.

    Examples
    --------
    >>> from reducer.raster import constant_band
    >>> import shapely
    >>> r = Raster((constant_band("a", 2),))
    >>> ds = raster_to_dataset(r, shapely.box(0, 0, 2, 1), scale=111319.49079327357, crs="EPSG:4326")
    >>> ds["a"].shape, float(ds["a"].sum()), ds.rio.crs.to_epsg()
    ((1, 2), 4.0, 4326)
    """
    full, window = pixel_grid(raster.grid, region, scale, crs, crsTransform)
    return grid_dataset(raster, full, window)


def rasters_to_dataset(
    rasters: Sequence[Raster],
    region: Any = None,
    scale: float | None = None,
    crs: Any = None,
    crsTransform: Sequence[float] | None = None,
) -> Any:
    """A collection as an ``xarray.Dataset`` with dims ``(time, y, x)``, one variable per band, lazy.

    Every image is put on one grid: the first image's (``reduceRegion``'s rules with ``scale``, ``crs``,
    ``crsTransform``), cropped to ``region``; images on other grids are resampled onto it (nearest).
    ``time`` is each image's ``system:time_start`` (NaT where missing); ``system:index`` and the
    images' scalar properties are coordinates along ``time``. A band that an image lacks is NaN there.

    Examples
    --------
    >>> from reducer.raster import constant_band
    >>> import shapely
    >>> rs = [Raster((constant_band("a", v),), {"system:time_start": 86400000 * v}) for v in (1, 2)]
    >>> ds = rasters_to_dataset(rs, shapely.box(0, 0, 1, 1), scale=111319.49079327357, crs="EPSG:4326")
    >>> ds["a"].dims, ds["a"].values.ravel().tolist(), str(ds.time.values[1])[:10]
    (('time', 'y', 'x'), [1.0, 2.0], '1970-01-03')
    """
    import xarray as xr

    rasters = list(rasters)
    if not rasters:
        raise ArgumentError("to_xarray: the collection has no image. Check the filters.")
    native = next((r.grid for r in rasters if r.grid is not None), None)
    full, window = pixel_grid(native, region, scale, crs, crsTransform)
    grid = _sub_grid(full, window)
    per_image = [band_arrays(r, full, window) for r in rasters]
    names: list[str] = []
    for arrays in per_image:
        names.extend(n for n in arrays if n not in names)
    blank = da.full(grid.shape, np.nan, dtype="f8", chunks=1024)
    data = {}
    for name in names:
        layers = [arrays.get(name, blank) for arrays in per_image]
        chunks = layers[0].chunks
        layers = [a if a.chunks == chunks else a.rechunk(chunks) for a in layers]
        data[name] = (("time", "y", "x"), da.stack(layers))
    times = [r.properties.get("system:time_start") for r in rasters]
    coords: dict[str, Any] = _spatial_coords(grid)
    coords["time"] = pd.to_datetime([np.nan if t is None else t for t in times], unit="ms")
    keys: list[str] = []
    for r in rasters:
        keys.extend(k for k in r.properties if k not in keys and k != "system:time_start")
    for k in keys:
        values = [r.properties.get(k) for r in rasters]
        present = [v for v in values if v is not None]
        if not present or not all(_scalar(v) for v in present):
            continue
        kinds = {type(v) if not isinstance(v, np.number) else float for v in present}
        if kinds <= {int, float, bool}:
            arr = np.array([np.nan if v is None else float(v) for v in values])
            if kinds == {int} and len(present) == len(values):
                arr = arr.astype("i8")
            elif kinds == {bool} and len(present) == len(values):
                arr = arr.astype(bool)
        else:
            arr = np.array(["" if v is None else str(v) for v in values], dtype=object)
        coords[k] = ("time", arr)
    ds = xr.Dataset(data, coords=coords)
    return _georeference(ds, grid)
