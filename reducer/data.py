"""``ee.data``: the calls of Earth Engine's low-level module that have a local meaning.

A plain module of functions (``reducer.data`` is ``ee.data``):

- :func:`getAsset` and :func:`getInfo` describe an id mapped by the catalog (see
  :mod:`reducer.sources.catalog`): its type, its id, its time range, and for an image its bands and
  properties. They read file headers, never pixels.
- :func:`computeValue` evaluates a computed object, as ``getInfo()`` does.
- :func:`computePixels`: an image's pixels on a grid, as a NumPy structured array
  (``fileFormat="NUMPY_NDARRAY"``) or GeoTIFF bytes (``"GEO_TIFF"``), through the same path as
  ``Image.to_xarray`` (:mod:`reducer.pixels`);
- :func:`computeFeatures`: a FeatureCollection's features, as GeoJSON features, a pandas
  DataFrame (``"PANDAS_DATAFRAME"``) or a GeoDataFrame (``"GEOPANDAS_GEODATAFRAME"``).

Examples
--------
>>> from reducer.values import Number
>>> computeValue(Number(2).add(3))
5
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
from affine import Affine

from .collection import ImageCollection
from .compute import compute
from .errors import ArgumentError, CatalogError, CRSError
from .export import write_image
from .features import FeatureCollection
from .grid import Grid, resolve_grid
from .image import Image
from .output import fc_info
from .pixels import band_arrays, grid_dataset
from .raster import select_bands
from .sources.catalog import get_catalog, unmapped_error
from .values import ComputedObject

__all__ = ["getAsset", "getInfo", "computeValue", "computePixels", "computeFeatures"]

PUBLIC_PREFIX = "projects/earthengine-public/assets/"


def _iso(ms: Any) -> str | None:
    if ms is None:
        return None
    return datetime.fromtimestamp(int(ms) / 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _bare_id(asset_id: str) -> str:
    return asset_id[len(PUBLIC_PREFIX) :] if asset_id.startswith(PUBLIC_PREFIX) else asset_id


def getAsset(assetId: str) -> dict[str, Any]:  # noqa: N802, N803 - Earth Engine's names
    """Describe a catalog id as Earth Engine's ``ee.data.getAsset`` describes an asset.

    Parameters
    ----------
    assetId
        An id the catalog maps (``'COPERNICUS/S2_SR_HARMONIZED'``), with or without the
        ``projects/earthengine-public/assets/`` prefix.

    Returns
    -------
    dict
        ``type`` (``'IMAGE_COLLECTION'`` or ``'IMAGE'``), ``name`` (the full asset name), ``id``,
        ``startTime``/``endTime`` (RFC 3339, from the images' ``system:time_start``; absent without
        dates), ``source`` (the local catalog entry) and, for an image, ``bands`` (``id``,
        ``dataType``, ``crs``) and ``properties``; for a collection ``size``.

    Raises
    ------
    CatalogError
        If no catalog is set or the id is not in it (the message shows the entry to add).

    Examples
    --------
    >>> getAsset("NOT/MAPPED")
    Traceback (most recent call last):
    ...
    reducer.errors.CatalogError: ...
    """
    if not isinstance(assetId, str):
        raise ArgumentError(f"ee.data.getAsset: expected an asset id string, got {assetId!r}.")
    ee_id = _bare_id(assetId)
    cat = get_catalog()
    if cat is None or ee_id not in cat.entries:
        raise unmapped_error(ee_id, "collection")
    entry = cat.entries[ee_id]
    out: dict[str, Any] = {"name": PUBLIC_PREFIX + ee_id, "id": ee_id}
    if "path" in entry:
        raster = Image(ee_id).raster
        out["type"] = "IMAGE"
        times = [raster.properties.get("system:time_start")]
        out["bands"] = [
            {"id": b.name, "dataType": str(b.dtype), **({"crs": str(b.grid.crs)} if b.grid is not None else {})}
            for b in raster.bands
        ]
        out["properties"] = {k: v for k, v in raster.properties.items() if not k.startswith("system:")}
    else:
        rasters = ImageCollection(ee_id).rasters
        out["type"] = "IMAGE_COLLECTION"
        out["size"] = len(rasters)
        times = [r.properties.get("system:time_start") for r in rasters]
    present = [t for t in times if t is not None]
    if present:
        out["startTime"] = _iso(min(present))
        out["endTime"] = _iso(max(present))
    out["source"] = dict(entry)
    return out


def getInfo(assetId: str) -> dict[str, Any] | None:  # noqa: N802, N803 - Earth Engine's names
    """:func:`getAsset`, or None when the id is not mapped (Earth Engine's deprecated ``ee.data.getInfo``).

    Examples
    --------
    >>> getInfo("NOT/MAPPED") is None
    True
    """
    try:
        return getAsset(assetId)
    except CatalogError:
        return None


def computeValue(obj: Any) -> Any:  # noqa: N802 - Earth Engine's name
    """The value of a computed object, as ``obj.getInfo()`` gives it (plain values are returned as they are).

    Examples
    --------
    >>> from reducer.values import List
    >>> computeValue(List([3, 1, 2]).sort())
    [1, 2, 3]
    """
    if isinstance(obj, ComputedObject) or callable(getattr(obj, "getInfo", None)):
        return obj.getInfo()
    return obj


_PIXEL_FORMATS = ("NUMPY_NDARRAY", "GEO_TIFF")
_FEATURE_FORMATS = ("PANDAS_DATAFRAME", "GEOPANDAS_GEODATAFRAME")


def _params(params: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(params, Mapping):
        raise ArgumentError(f"{where}: params must be a dict such as {{'expression': ..., 'fileFormat': ...}}.")
    if "expression" not in params:
        raise ArgumentError(f"{where}: params has no 'expression'. Give {{'expression': image, ...}}.")
    return params


def _grid(spec: Any, native: Grid | None) -> Grid:
    """Earth Engine's ``PixelGrid`` dict (``dimensions``, ``affineTransform``, ``crsCode``/``crsWkt``) as a Grid."""
    if spec is None:
        return resolve_grid(native)
    if not isinstance(spec, Mapping):
        raise ArgumentError(f"computePixels: grid {spec!r} must be a dict with dimensions, affineTransform, crsCode.")
    crs = spec.get("crsCode") or spec.get("crsWkt")
    if crs is None:
        if native is None:
            raise CRSError("computePixels: the grid has no crsCode and the image has no projection: give crsCode.")
        crs = native.crs
    at = spec.get("affineTransform")
    if at is None:
        if native is None:
            raise CRSError("computePixels: the grid has no affineTransform and the image has no projection.")
        transform = native.transform
    else:
        keys = ("scaleX", "shearX", "translateX", "shearY", "scaleY", "translateY")
        transform = Affine(*(float(at.get(k, 0.0)) for k in keys))
    dims = spec.get("dimensions")
    if dims is None:
        if native is None:
            raise ArgumentError("computePixels: the grid has no dimensions: give {'width': ..., 'height': ...}.")
        width, height = native.width, native.height
    else:
        width, height = int(dims["width"]), int(dims["height"])
    if width <= 0 or height <= 0:
        raise ArgumentError(f"computePixels: grid dimensions {dims!r} must be positive.")
    return Grid(crs, transform, width, height)


def computePixels(params: Mapping[str, Any]) -> np.ndarray | bytes:
    """An image's pixels on a grid, as Earth Engine's ``ee.data.computePixels`` returns them.

    Parameters
    ----------
    params
        ``expression`` (an ``ee.Image``), ``fileFormat`` (``"NUMPY_NDARRAY"`` or ``"GEO_TIFF"``; other
        formats raise ``NotImplementedError``), ``grid`` (``{"dimensions": {"width", "height"},
        "affineTransform": {"scaleX", "shearX", "translateX", "shearY", "scaleY", "translateY"},
        "crsCode": "EPSG:..."}``; by default the image's own grid) and ``bandIds`` (a list of band
        names; all by default).

    Returns
    -------
    numpy.ndarray or bytes
        ``NUMPY_NDARRAY``: a ``(height, width)`` structured array with one float64 field per band,
        NaN where masked (Earth Engine gives each field its band's type). ``GEO_TIFF``: the bytes of
        a GeoTIFF (:func:`reducer.export.write_image`).

    Examples
    --------
    >>> import numpy as np, xarray as xr, rioxarray
    >>> arr = xr.DataArray(np.array([[1.0, 2.0], [3.0, 4.0]]), dims=("y", "x"))
    >>> img = Image(arr.rio.write_crs("EPSG:32633").rio.write_transform(Affine(10, 0, 0, 0, -10, 20)))
    >>> grid = {"dimensions": {"width": 1, "height": 2}, "crsCode": "EPSG:32633",
    ...         "affineTransform": {"scaleX": 10, "translateX": 10, "scaleY": -10, "translateY": 20}}
    >>> px = computePixels({"expression": img.rename("v"), "fileFormat": "NUMPY_NDARRAY", "grid": grid})
    >>> px.dtype.names, px["v"].tolist()
    (('v',), [[2.0], [4.0]])
    """
    where = "computePixels"
    p = _params(params, where)
    image = p["expression"]
    if not isinstance(image, Image):
        raise ArgumentError(f"{where}: expression must be an ee.Image, got {type(image).__name__}.")
    fmt = str(p.get("fileFormat") or "AUTO_JPEG_PNG").upper()
    if fmt not in _PIXEL_FORMATS:
        raise NotImplementedError(
            f"{where}: fileFormat={p.get('fileFormat')!r} is not supported yet. Use 'NUMPY_NDARRAY' or 'GEO_TIFF'."
        )
    raster = image.raster
    if p.get("bandIds") is not None:
        raster = select_bands(raster, list(p["bandIds"]), where=where)
    grid = _grid(p.get("grid"), raster.grid)
    if fmt == "GEO_TIFF":
        with tempfile.TemporaryDirectory() as folder:
            path = write_image(grid_dataset(raster, grid), os.path.join(folder, "pixels.tif"))
            return path.read_bytes()
    arrays = band_arrays(raster, grid, None)
    values = compute(*arrays.values())
    out = np.empty(grid.shape, dtype=[(name, "f8") for name in arrays])
    for name, v in zip(arrays, values, strict=True):
        out[name] = v
    return out


def computeFeatures(params: Mapping[str, Any]) -> list[dict[str, Any]] | pd.DataFrame:
    """A FeatureCollection's features, as Earth Engine's ``ee.data.computeFeatures`` returns them.

    Parameters
    ----------
    params
        ``expression`` (an ``ee.FeatureCollection``) and ``fileFormat``: none for a list of GeoJSON
        features (EPSG:4326), ``"PANDAS_DATAFRAME"`` for a DataFrame of the properties with the
        GeoJSON geometry in a ``geo`` column, ``"GEOPANDAS_GEODATAFRAME"`` for a GeoDataFrame in
        EPSG:4326. ``pageSize``, ``pageToken`` and ``workloadTag`` are accepted and ignored (all
        features come in one page).

    Examples
    --------
    >>> from reducer import Feature, Geometry
    >>> fc = FeatureCollection([Feature(Geometry.Point([15, 47]), {"name": "a"})])
    >>> computeFeatures({"expression": fc})[0]["properties"]
    {'name': 'a'}
    >>> computeFeatures({"expression": fc, "fileFormat": "PANDAS_DATAFRAME"}).to_dict("records")
    [{'name': 'a', 'geo': {'type': 'Point', 'coordinates': [15.0, 47.0]}}]
    >>> computeFeatures({"expression": fc, "fileFormat": "GEOPANDAS_GEODATAFRAME"}).crs.to_epsg()
    4326
    """
    where = "computeFeatures"
    p = _params(params, where)
    fc = p["expression"]
    if not isinstance(fc, FeatureCollection):
        raise ArgumentError(f"{where}: expression must be an ee.FeatureCollection, got {type(fc).__name__}.")
    fmt = p.get("fileFormat")
    if fmt is not None and str(fmt).upper() not in _FEATURE_FORMATS:
        raise ArgumentError(
            f"{where}: unknown fileFormat {fmt!r}. Use 'PANDAS_DATAFRAME', 'GEOPANDAS_GEODATAFRAME' or none."
        )
    features = json.loads(json.dumps(fc_info(fc.to_geopandas(), {})["features"]))
    if fmt is None:
        return features
    if str(fmt).upper() == "PANDAS_DATAFRAME":
        return pd.DataFrame.from_records([{**f["properties"], "geo": f["geometry"]} for f in features])
    import geopandas as gpd

    return gpd.GeoDataFrame.from_features(features, crs="EPSG:4326")
