"""Data cubes as image collections: any xarray Dataset (NetCDF, Zarr, ...) with a time dimension and a CRS.

Each time step is one image, and each variable with dimensions ``(time, y, x)`` one band. A band's pixels are
``variable.data[k]``: a slice of the cube's own dask chunks, so reducing one block of one image reads
the storage chunks under that block and nothing else; the cube is never rechunked along time. A
variable that is not backed by dask yet (a file opened without ``chunks=``) is chunked lazily along
its storage chunks, one time step per chunk, without reading it.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from typing import Any

import dask.array as da
import numpy as np

from ..dates import to_millis
from ..errors import ArgumentError, BandError, CRSError, require
from ..grid import Grid, norm_crs
from ..raster import Raster, file_band
from .files import pixel_dtype

__all__ = ["rasters_from_xarray", "open_cube", "cube_crs"]

DEFAULT_CHUNK = 1024
_X_NAMES = ("x", "lon", "longitude", "easting")
_Y_NAMES = ("y", "lat", "latitude", "northing")


def open_cube(path: str | os.PathLike, engine: str | None = None) -> Any:
    """Open a Zarr store (dask-backed, on its own chunks) or a NetCDF file (lazily indexed) without reading pixels.

    A NetCDF file is opened without dask, so that :func:`rasters_from_xarray` chunks it one time step at a
    time along its storage chunks: NetCDF-3 has none, and a single dask chunk would read the whole file.
    """
    import xarray as xr

    path = str(path)
    if engine is None and path.rstrip("/").endswith(".zarr"):
        engine = "zarr"
    chunks = {} if engine == "zarr" else None
    if engine == "zarr":
        require("zarr", "zarr", f"opening the Zarr store {path!r}")
    elif path.endswith((".nc", ".nc4", ".netcdf")) and engine in (None, "netcdf4", "h5netcdf"):
        _netcdf_engine(path)
    with warnings.catch_warnings():  # a store without consolidated metadata is fine, only slower to list
        warnings.filterwarnings("ignore", message="Failed to open Zarr store with consolidated metadata")
        return xr.open_dataset(path, engine=engine, chunks=chunks, decode_coords="all")


def _netcdf_engine(path: str) -> None:
    """Raise :class:`MissingDependencyError` when no NetCDF-4 engine (netCDF4, h5netcdf) is installed.

    scipy reads NetCDF-3 only; a NetCDF-4 file needs one of the two.
    """
    import importlib.util

    if any(importlib.util.find_spec(m) is not None for m in ("netCDF4", "h5netcdf")):
        return
    with open(path, "rb") as f:
        magic = f.read(4)
    if magic.startswith(b"CDF"):  # NetCDF-3: scipy reads it
        return
    require("h5netcdf", "netcdf", f"opening the NetCDF-4 file {path!r}")


def cube_crs(ds: Any) -> Any:
    """The CRS of a Dataset: rioxarray's ``.rio.crs``, else a ``spatial_ref``/``crs`` (grid mapping) variable.

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> ref = {"spatial_ref": ((), 0, {"crs_wkt": "EPSG:32633"})}
    >>> ds = xr.Dataset({"a": (("y", "x"), np.zeros((2, 2)))}, coords=ref)
    >>> cube_crs(ds).to_epsg()
    32633
    >>> cube_crs(xr.Dataset({"a": (("y", "x"), np.zeros((2, 2)))}))
    Traceback (most recent call last):
    ...
    reducer.errors.CRSError: the cube has no CRS. ...
    """
    import rioxarray  # noqa: F401  (registers .rio)
    from pyproj import CRS

    try:
        crs = ds.rio.crs
    except Exception:  # rioxarray raises when variables disagree
        crs = None
    if crs is not None:
        return norm_crs(crs)
    names = [ds[v].attrs.get("grid_mapping") for v in ds.data_vars] + ["spatial_ref", "crs"]
    for name in dict.fromkeys(n for n in names if n):
        if name not in ds.variables:
            continue
        attrs = ds[name].attrs
        for key in ("crs_wkt", "spatial_ref", "epsg_code", "proj4", "proj4text"):
            if attrs.get(key):
                return norm_crs(attrs[key], f"the {name!r} variable's {key}")
        try:
            return CRS.from_cf(attrs)
        except Exception:
            continue
    raise CRSError(
        "the cube has no CRS. Set it with rioxarray: `ds = ds.rio.write_crs('EPSG:32633')`, or give the file a "
        "'spatial_ref' (grid mapping) variable with a 'crs_wkt' attribute."
    )


def _spatial_dims(ds: Any, time: str) -> tuple[str, str]:
    dims = [d for d in ds.dims if d != time]
    ydim = next((d for d in _Y_NAMES if d in dims), None)
    xdim = next((d for d in _X_NAMES if d in dims), None)
    if ydim is None or xdim is None:
        raise ArgumentError(
            f"the cube's spatial dimensions are not found among {list(ds.dims)!r}: name them 'y' and 'x', "
            "e.g. `ds.rename({'row': 'y', 'col': 'x'})`."
        )
    return ydim, xdim


def _as_dataset(obj: Any, time: str, bands: Sequence[str] | None) -> Any:
    import xarray as xr

    if isinstance(obj, xr.Dataset):
        return obj
    if not isinstance(obj, xr.DataArray):
        raise ArgumentError(f"expected an xarray Dataset or DataArray, got {type(obj).__name__}.")
    if time not in obj.dims:
        raise ArgumentError(f"ee.ImageCollection(xarray): expected a {time!r} dimension, got dims {obj.dims!r}.")
    ydim, xdim = _spatial_dims(obj, time)
    extra = [d for d in obj.dims if d not in (time, ydim, xdim)]
    if not extra:
        return obj.to_dataset(name="B1")  # as ee.Image(DataArray) names a band without labels
    if len(extra) > 1:
        raise ArgumentError(f"expected dims (time, band, y, x), got {obj.dims!r}. Select or stack the other dims.")
    bd = extra[0]
    labels = obj[bd].values if bd in obj.coords else None
    names = (
        [str(v) for v in labels]
        if labels is not None and labels.dtype.kind in "OUS"
        else [f"B{i + 1}" for i in range(obj.sizes[bd])]
    )
    return xr.Dataset({n: obj.isel({bd: i}, drop=True) for i, n in enumerate(names)})


def rasters_from_xarray(obj: Any, time: str = "time", bands: Sequence[str] | str | None = None) -> list[Raster]:
    """One image per time step of an xarray Dataset (or DataArray); see :meth:`ImageCollection.fromXarray`.

    Reads no pixel: each band is a lazy slice of the cube's dask chunks.
    """
    ds = _as_dataset(obj, time, bands)
    if time not in ds.dims:
        raise ArgumentError(
            f"ImageCollection.fromXarray: no {time!r} dimension in dims {list(ds.dims)!r}. "
            "Name the time dimension with time='...'."
        )
    ydim, xdim = _spatial_dims(ds, time)
    if isinstance(bands, str):
        bands = [bands]
    if bands is None:
        bands = [v for v in ds.data_vars if set(ds[v].dims) == {time, ydim, xdim}]
        if not bands:
            raise BandError(
                f"the cube has no variable with dims ({time}, {ydim}, {xdim}); it has {list(ds.data_vars)!r}."
            )
    else:
        bands = [str(b) for b in bands]
        bad = [b for b in bands if b not in ds.data_vars or set(ds[b].dims) != {time, ydim, xdim}]
        if bad:
            ok = [v for v in ds.data_vars if set(ds[v].dims) == {time, ydim, xdim}]
            raise BandError(f"bands {bad!r} are not ({time}, {ydim}, {xdim}) variables of the cube. Available: {ok!r}.")
    crs = cube_crs(ds)
    sub = ds[bands].transpose(time, ydim, xdim)
    ys = sub[ydim].values
    if len(ys) > 1 and ys[1] > ys[0]:
        sub = sub.isel({ydim: slice(None, None, -1)})  # north up, lazily
    transform = sub[bands[0]].rio.set_spatial_dims(x_dim=xdim, y_dim=ydim).rio.transform(recalc=True)
    grid = Grid(crs, transform, sub.sizes[xdim], sub.sizes[ydim])
    arrays = {}
    for name in bands:
        var = sub[name]
        data = var.data
        if not isinstance(data, da.Array):
            pref = {**(var.encoding.get("preferred_chunks") or {})}
            chunks = {time: 1, ydim: pref.get(ydim, DEFAULT_CHUNK), xdim: pref.get(xdim, DEFAULT_CHUNK)}
            data = var.chunk(chunks).data
        nodata = var.rio.nodata if hasattr(var, "rio") else None
        arrays[name] = (data, str(var.dtype), nodata)
    times = ds[time].values
    images = []
    for k in range(ds.sizes[time]):
        out = []
        for name, (data, dtype, nodata) in arrays.items():
            a = data[k]
            b = a.astype(pixel_dtype(dtype))
            if nodata is not None and not (isinstance(nodata, float) and np.isnan(nodata)):
                b = da.where(a == nodata, np.nan, b)
            out.append(file_band(name, dtype, b, grid))
        props = {"system:index": str(k), "system:time_start": to_millis(times[k])}
        images.append(Raster(tuple(out), props))
    return images
