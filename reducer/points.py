"""``point_query``: raster values at points, as rasterstats' ``point_query`` gives them.

An extension outside Earth Engine's API (``reducer.point_query``). The semantics are rasterstats'
(``rasterstats/point.py``), so that a rasterstats script ports with the same numbers:

- ``interpolate="nearest"``: the value of the pixel that contains the point;
- ``interpolate="bilinear"``: bilinear interpolation between the centres of the 2 x 2 pixels around
  the point; when one of the four is masked (nodata, or outside the raster) the value of the nearest
  of the four, or ``None`` when that one is masked too;
- a point outside the raster, or on a masked pixel, gives ``None``, never an error;
- a geometry other than a point gives a list, one value per vertex.

Pixels are read through dask's point indexing and :func:`reducer.engine.compute`: only the blocks
that hold a queried pixel are read.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any, Literal

import numpy as np

from .compute import compute
from .errors import ArgumentError, BandError, CRSError
from .features import Feature, FeatureCollection
from .geometry import Geometry, as_geometry, reproject_features
from .grid import norm_crs
from .image import Image
from .raster import Band, Raster
from .sampling import pixel_values

__all__ = ["point_query"]

Interpolation = Literal["bilinear", "nearest"]


def _image_band(image: Any, band: int | str) -> Band:
    if isinstance(image, str | os.PathLike):
        image = Image(image)
    if isinstance(image, Image):
        image = image.raster
    if not isinstance(image, Raster):
        raise ArgumentError(f"point_query: image must be an ee.Image or a raster path, got {image!r}.")
    names = image.names
    if isinstance(band, str):
        if band not in names:
            raise BandError(f"point_query: band {band!r} is not in the image. Available: {names!r}.")
        return image.bands[names.index(band)]
    if isinstance(band, bool) or not isinstance(band, int | np.integer) or not 1 <= band <= len(names):
        raise BandError(
            f"point_query: band={band!r} must be a band name or a band number from 1 to {len(names)} "
            f"(bands {names!r}), counting from 1 as rasterstats does."
        )
    return image.bands[int(band) - 1]


def _geometries(points: Any, crs: Any, layer: Any) -> tuple[list[Any], Any, list[dict] | None]:
    """``(shapely geometries or None, their CRS, GeoJSON features for geojson_out)``."""
    import geopandas as gpd
    from shapely.geometry.base import BaseGeometry

    if isinstance(points, str | os.PathLike):
        points = FeatureCollection(points, layer=layer)
    if isinstance(points, gpd.GeoSeries):
        points = gpd.GeoDataFrame(geometry=points)
    if isinstance(points, FeatureCollection):
        points = points.to_geopandas()
    if isinstance(points, gpd.GeoDataFrame):
        if points.crs is None and crs is None:
            raise CRSError("point_query: the points have no CRS. Set it with gdf.set_crs('EPSG:4326'), or pass crs=.")
        src = points.crs if points.crs is not None else crs
        return list(points.geometry.values), src, None
    if isinstance(points, BaseGeometry | Geometry | Feature):
        points = [points]
    if not isinstance(points, Iterable):
        raise ArgumentError(
            f"point_query: points must be a GeoDataFrame, a FeatureCollection, a vector file or a list of "
            f"points, got {points!r}."
        )
    geoms: list[Any] = []
    crss = set()
    bare = False
    for p in points:
        if isinstance(p, Geometry | Feature):
            g = as_geometry(p)
            geoms.append(g)
            crss.add(g.crs)
        elif p is None or isinstance(p, BaseGeometry):
            geoms.append(p)
            bare = True
        elif isinstance(p, list | tuple) and len(p) in (2, 3) and all(isinstance(v, int | float) for v in p):
            import shapely

            geoms.append(shapely.Point(p[:2]))
            bare = True
        else:
            raise ArgumentError(f"point_query: {p!r} is not a point. Give shapely points, (x, y) or ee.Geometry.")
    if bare and crs is None:
        raise CRSError(
            "point_query: shapely geometries and (x, y) pairs carry no CRS, and none is guessed. "
            "Pass crs='EPSG:4326' (or the raster's CRS, e.g. crs='EPSG:32633'), or give a GeoDataFrame with a CRS."
        )
    target = crs if crs is not None else (crss.pop() if len(crss) == 1 else "EPSG:4326")
    out = []
    for g in geoms:
        if isinstance(g, Geometry):
            out.append(g.to_shapely(target))
        else:
            out.append(g)
    return out, target, None


def _vertices(geom: Any) -> np.ndarray:
    """The 2-D vertices of ``geom`` in rasterstats' order (``geom_xys``): parts, exterior then interiors."""
    if geom is None or geom.is_empty:
        return np.empty((0, 2))
    parts = getattr(geom, "geoms", None)
    if parts is not None:
        arrays = [_vertices(g) for g in parts]
        return np.concatenate(arrays) if arrays else np.empty((0, 2))
    if hasattr(geom, "exterior"):
        return np.concatenate([_vertices(geom.exterior), *[_vertices(r) for r in geom.interiors]])
    return np.asarray(geom.coords, dtype="f8")[:, :2]


def point_query(
    points: Any,
    image: Any,
    band: int | str = 1,
    interpolate: Interpolation = "bilinear",
    *,
    crs: Any = None,
    layer: Any = None,
    property_name: str = "value",
    geojson_out: bool = False,
) -> list[Any]:
    """Raster values at points, with rasterstats' ``point_query`` semantics (an extension outside ``ee``).

    Parameters
    ----------
    points
        A GeoDataFrame or GeoSeries with a CRS, an ``ee.FeatureCollection``, a vector file path, or a
        list of ``ee.Geometry`` points, shapely points or ``(x, y)`` pairs (shapely points and pairs
        need ``crs=``). Points in any CRS are reprojected to the raster's.
    image
        An ``ee.Image`` or a raster path. Its masks apply (nodata, ``updateMask``).
    band
        A band number counting from 1 (as rasterstats) or a band name.
    interpolate
        ``"bilinear"`` (rasterstats' default) or ``"nearest"``.
    crs
        The CRS of shapely points and ``(x, y)`` pairs, or of a GeoDataFrame without one.
    layer
        The layer of a multi-layer vector file.
    property_name, geojson_out
        As in rasterstats: with ``geojson_out=True`` the result is a list of GeoJSON features (geometry
        in ``crs`` or the frame's CRS) with the value added as ``property_name``.

    Returns
    -------
    list
        One value per feature: a float (an int for integer bands with ``"nearest"``), ``None`` where the
        point is outside the raster or masked, or a list of values for a geometry with several vertices.

    Examples
    --------
    >>> import numpy as np, xarray as xr, rioxarray
    >>> import reducer as ee
    >>> from affine import Affine
    >>> arr = xr.DataArray(np.array([[1.0, 2.0], [3.0, 4.0]]), dims=("y", "x"))
    >>> arr = arr.rio.write_crs("EPSG:32633").rio.write_transform(Affine(10, 0, 0, 0, -10, 20))
    >>> img = ee.Image(arr)
    >>> point_query([(10, 10), (5, 15), (100, 100)], img, crs="EPSG:32633")
    [2.5, 1.0, None]
    >>> point_query([(5, 15)], img, interpolate="nearest", crs="EPSG:32633")
    [1.0]
    """
    if interpolate not in ("nearest", "bilinear"):
        raise ArgumentError(f"point_query: interpolate={interpolate!r}; use 'nearest' or 'bilinear'.")
    b = _image_band(image, band)
    grid = b.grid
    if grid is None:
        raise CRSError("point_query: the band is a constant with no grid of its own. Query a raster band.")
    geoms, src_crs, _ = _geometries(points, crs, layer)
    moved = geoms
    if src_crs is not None:
        arr = np.empty(len(geoms), dtype=object)
        arr[:] = geoms
        moved = list(reproject_features(arr, norm_crs(src_crs, "the points' crs"), grid.crs, keep=grid.bounds))
    # every vertex, tagged with its feature
    verts = [_vertices(g) for g in moved]
    counts = [len(v) for v in verts]
    xy = np.concatenate(verts) if verts else np.empty((0, 2))
    values = _query(b, grid, xy[:, 0], xy[:, 1], interpolate)
    integer = np.dtype(b.dtype).kind in "iub"
    out: list[Any] = []
    pos = 0
    for g, n in zip(moved, counts, strict=True):
        vals = [_py(v, integer and interpolate == "nearest") for v in values[pos : pos + n]]
        pos += n
        if g is None:
            out.append(None)
        else:
            out.append(vals[0] if len(vals) == 1 else vals)
    if geojson_out:
        import shapely

        feats = []
        for g, v in zip(geoms, out, strict=True):
            geom = None if g is None else shapely.geometry.mapping(g)
            feats.append({"type": "Feature", "geometry": geom, "properties": {property_name: v}})
        return feats
    return out


def _py(v: float, integer: bool) -> Any:
    if v is None or np.isnan(v):
        return None
    return int(v) if integer else float(v)


def _query(band: Band, grid: Any, x: np.ndarray, y: np.ndarray, interpolate: str) -> np.ndarray:
    """Values at CRS points ``(x, y)`` on ``band``'s grid; NaN for None."""
    n = len(x)
    if n == 0:
        return np.empty(0)
    inv = ~grid.transform
    # the same float operations as rasterstats (affine's ``~affine * (x, y)``)
    with np.errstate(invalid="ignore", over="ignore"):
        fcol = x * inv.a + y * inv.b + inv.c
        frow = x * inv.d + y * inv.e + inv.f
    finite = np.isfinite(fcol) & np.isfinite(frow)
    fcol = np.where(finite, fcol, -1e9)
    frow = np.where(finite, frow, -1e9)
    if interpolate == "nearest":
        rows = np.floor(frow)[:, None]
        cols = np.floor(fcol)[:, None]
    else:
        r = np.round(frow)  # half to even, as Python's round()
        c = np.round(fcol)
        rows = np.stack([r - 1, r - 1, r, r], axis=1)  # upper left, upper right, lower left, lower right
        cols = np.stack([c - 1, c, c - 1, c], axis=1)
    h, w = grid.shape
    inside = (rows >= 0) & (rows < h) & (cols >= 0) & (cols < w) & finite[:, None]
    flat = np.where(inside, rows * w + cols, -1).astype("i8")
    wanted = np.unique(flat[inside])
    vals = np.full(flat.shape, np.nan)
    if len(wanted):
        rr, cc = np.divmod(wanted, w)
        [got] = compute(*pixel_values([band], grid, rr, cc))
        lookup = np.asarray(got, dtype="f8")
        vals[inside] = lookup[np.searchsorted(wanted, flat[inside])]
    if interpolate == "nearest":
        return vals[:, 0]
    ux = 0.5 - (c - fcol)
    uy = 0.5 + (r - frow)
    ulv, urv, llv, lrv = vals.T
    with np.errstate(invalid="ignore"):
        full = (llv * (1 - ux) * (1 - uy)) + (lrv * ux * (1 - uy)) + (ulv * (1 - ux) * uy) + (urv * ux * uy)
    # fallback: the nearest of the four, arr[round(1 - y), round(x)]
    ni = np.round(1 - uy).astype("i8")
    nj = np.round(ux).astype("i8")
    nearest = vals[np.arange(n), np.clip(ni, 0, 1) * 2 + np.clip(nj, 0, 1)]
    out = np.where(np.isnan(vals).any(axis=1), nearest, full)
    return np.where(finite, out, np.nan)
