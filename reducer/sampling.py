"""Pixels as features and rows: ``sampleRegions``, ``sample`` and ``getRegion``.

Which pixels a region holds is decided by :func:`reducer.coverage.coverage` in mode ``"centre"``:
a polygon takes the pixels whose centre is inside it (GDAL's rule), a point the pixel that contains
it and a line the pixels it touches. Pixel values are gathered with dask's point indexing
(``vindex``), so only the blocks that hold a sampled pixel are read, and they are computed through
:func:`reducer.engine.compute`, the library's one place that computes. Everything here runs when a
result is asked for (``getInfo()``, ``to_pandas()``, ...): the methods on ``ee.Image`` and
``ee.ImageCollection`` return lazy objects.

Masked pixels are dropped, as in Earth Engine: ``sampleRegions`` keeps a pixel only when every band
is valid there, ``sample`` when ``dropNulls`` is true; ``getRegion`` keeps the row with ``None``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from .compute import compute
from .coverage import coverage
from .errors import ArgumentError, BandError, CRSError
from .geometry import as_geometry, proj_crs, reproject_features
from .grid import Grid, norm_crs, resolve_grid
from .raster import Band, Raster
from .values import ComputedObject, unwrap

__all__ = [
    "sample_regions",
    "sample",
    "get_region",
    "region_to_dataframe",
    "pixel_values",
    "GeoFrameFn",
]

WGS84 = "EPSG:4326"
INDEX = "system:index"

GeoFrameFn = Callable[[], Any]
"""A function of no argument that returns a GeoDataFrame (evaluated when a result is asked for)."""


# -- shared helpers ----------------------------------------------------------------------------


def pixel_values(bands: Sequence[Band], grid: Grid, rows: np.ndarray, cols: np.ndarray) -> list[Any]:
    """Lazy values of ``bands`` at pixels ``(rows, cols)`` of ``grid``: one 1-D dask array per band.

    NaN where a pixel is masked. ``rows`` and ``cols`` must lie inside the grid. Compute the arrays
    with :func:`reducer.engine.compute`; only the blocks holding the pixels are read.
    """
    rows = np.asarray(rows, dtype="i8")
    cols = np.asarray(cols, dtype="i8")
    return [b.on(grid).vindex[rows, cols] for b in bands]


def _grid(
    image: Raster, scale: Any, crs: Any, crs_transform: Any = None, geoms: Any = None, geoms_crs: Any = None
) -> Grid:
    """The grid pixels are taken on: the image's own, or the one ``scale``/``crs`` ask for."""
    bounds = None
    if geoms is not None and len(geoms):
        import shapely

        b = shapely.bounds(np.asarray(geoms, dtype=object))
        if not np.isnan(b).all():
            bounds = (np.nanmin(b[:, 0]), np.nanmin(b[:, 1]), np.nanmax(b[:, 2]), np.nanmax(b[:, 3]))
    return resolve_grid(image.grid, scale, crs, crs_transform, bounds=bounds, bounds_crs=geoms_crs)


def _projection_crs(projection: Any) -> Any:
    """A CRS from an Earth Engine ``projection`` argument (a CRS, a dict with ``crs``, or None)."""
    if projection is None:
        return None
    return proj_crs(projection, "projection")


def _to_grid_crs(geoms: np.ndarray, src: Any, grid: Grid) -> np.ndarray:
    """Features into a grid's CRS, as the engine moves them (:func:`reducer.geometry.reproject_features`)."""
    src = norm_crs(src, "the features' crs")
    return reproject_features(np.asarray(geoms, dtype=object), src, grid.crs, keep=grid.bounds)


def _region_pixels(geoms: np.ndarray, grid: Grid) -> tuple[np.ndarray, np.ndarray]:
    """``(feature, pixel)`` of every pixel each geometry holds (centre rule), sorted by feature then pixel."""
    cov = coverage(geoms, grid, "centre")
    feature = np.asarray(cov.feature, dtype="i8")
    pixel = np.asarray(cov.pixel, dtype="i8")
    order = np.lexsort((pixel, feature))
    return feature[order], pixel[order]


def _gather(images_pixels: list[tuple[Raster, Grid, np.ndarray]]) -> list[np.ndarray]:
    """Values of each ``(image, grid, flat pixels)`` as a ``(n_pixels, n_bands)`` float array, one compute."""
    lazy: list[Any] = []
    slots: list[tuple[int, int, np.ndarray | None]] = []
    for image, grid, pixel in images_pixels:
        if len(pixel) == 0:
            slots.append((len(lazy), 0, None))
            continue
        uniq, inverse = np.unique(pixel, return_inverse=True)  # each pixel is read once
        rows, cols = np.divmod(uniq, grid.width)
        arrays = pixel_values(image.bands, grid, rows, cols)
        slots.append((len(lazy), len(arrays), inverse))
        lazy.extend(arrays)
    computed = compute(*lazy) if lazy else ()
    out = []
    for (start, n, inverse), (image, _, _) in zip(slots, images_pixels, strict=True):
        if inverse is None:
            out.append(np.empty((0, len(image.bands)), dtype="f8"))
            continue
        values = np.column_stack([np.asarray(v, dtype="f8") for v in computed[start : start + n]])
        out.append(values[inverse])
    return out


def _band_columns(image: Raster, values: np.ndarray, index: pd.Index) -> pd.DataFrame:
    """One column per band; integer bands as integers (nullable where a value is missing)."""
    cols = {}
    for k, b in enumerate(image.bands):
        v = values[:, k]
        if np.dtype(b.dtype).kind in "iub":
            s = pd.Series(v, index=index)
            cols[b.name] = s.astype("int64") if not np.isnan(v).any() else s.astype("Int64")
        else:
            cols[b.name] = pd.Series(v, index=index)
    return pd.DataFrame(cols, index=index)


def _check_bands(image: Raster, where: str) -> None:
    if not image.bands:
        raise BandError(f"{where}: the image has no bands. Select or add bands before sampling it.")


def _frame(table: pd.DataFrame, points: Any, crs: Any) -> Any:
    import geopandas as gpd

    geometry = gpd.GeoSeries(points if points is not None else [None] * len(table), index=table.index, crs=crs)
    out = gpd.GeoDataFrame(table, geometry=geometry, crs=crs)
    out.index = pd.Index([str(i) for i in table.index], name=INDEX, dtype=object)
    return out


def _centres(grid: Grid, pixel: np.ndarray) -> np.ndarray:
    import shapely

    rows, cols = np.divmod(pixel, grid.width)
    x, y = grid.pixel_centers(rows, cols)
    return shapely.points(x, y)


# -- sampleRegions -----------------------------------------------------------------------------


def sample_regions(
    image: Raster,
    features: GeoFrameFn,
    properties: Sequence[str] | None = None,
    scale: float | None = None,
    projection: Any = None,
    geometries: bool = False,
) -> GeoFrameFn:
    """``Image.sampleRegions``: one feature per valid pixel of each region.

    Checks the arguments now and returns the function that computes the GeoDataFrame; ``features``
    gives the regions' GeoDataFrame when called. See :meth:`reducer.Image.sampleRegions` for the rules.
    """
    _check_bands(image, "Image.sampleRegions")
    crs = _projection_crs(projection)
    wanted = None if properties is None else [str(unwrap(p)) for p in unwrap(properties)]

    def run() -> Any:
        gdf = features()
        if gdf.crs is None:
            raise CRSError("Image.sampleRegions: the features have no CRS. Set it with gdf.set_crs('EPSG:4326').")
        geoms = np.asarray(gdf.geometry.values, dtype=object)
        grid = _grid(image, scale, crs, None, geoms, gdf.crs)
        in_grid = _to_grid_crs(geoms, gdf.crs, grid)
        feature, pixel = _region_pixels(in_grid, grid)
        [values] = _gather([(image, grid, pixel)])
        keep = ~np.isnan(values).any(axis=1) if values.size else np.zeros(len(pixel), bool)
        feature, pixel, values = feature[keep], pixel[keep], values[keep]
        props = gdf.drop(columns="geometry")
        names = list(props.columns) if wanted is None else [n for n in wanted if n in props.columns]
        # the k-th pixel of region <id> is feature <id>_<k>
        k = np.arange(len(feature)) - np.searchsorted(feature, feature, side="left")
        fids = np.asarray(gdf.index, dtype=object)
        index = pd.Index([f"{fids[f]}_{j}" for f, j in zip(feature, k, strict=True)], dtype=object)
        table = pd.DataFrame(props[names].iloc[feature])
        table.index = index
        bands = _band_columns(image, values, index)
        table = pd.concat([table.drop(columns=[c for c in bands.columns if c in table.columns]), bands], axis=1)
        return _frame(table, _centres(grid, pixel) if geometries else None, grid.crs)

    return run


# -- sample ------------------------------------------------------------------------------------


def sample(
    image: Raster,
    region: Any = None,
    scale: float | None = None,
    projection: Any = None,
    factor: float | None = None,
    numPixels: int | None = None,
    seed: int = 0,
    dropNulls: bool = True,
    geometries: bool = False,
) -> GeoFrameFn:
    """``Image.sample``: a deterministic random sample of pixels as features.

    Checks the arguments now and returns the function that computes the GeoDataFrame.
    See :meth:`reducer.Image.sample` for the rules.
    """
    _check_bands(image, "Image.sample")
    if factor is not None and numPixels is not None:
        raise ArgumentError("Image.sample: give factor or numPixels, not both.")
    if factor is not None and not (0 < float(factor) <= 1):
        raise ArgumentError(f"Image.sample: factor={factor!r} must be in (0, 1]; e.g. factor=0.1 keeps a tenth.")
    if numPixels is not None and (int(numPixels) != numPixels or numPixels < 0):
        raise ArgumentError(f"Image.sample: numPixels={numPixels!r} must be a whole number >= 0.")
    crs = _projection_crs(projection)
    geom = None if region is None else as_geometry(region)

    def run() -> Any:
        if geom is None:
            grid = _grid(image, scale, crs)
            candidates = None
            n = grid.width * grid.height
        else:
            shape = geom.to_shapely()
            grid = _grid(image, scale, crs, None, np.array([shape], dtype=object), geom.crs)
            [moved] = _to_grid_crs(np.array([shape], dtype=object), geom.crs, grid)
            _, candidates = _region_pixels(np.array([moved], dtype=object), grid)
            candidates = np.unique(candidates)
            n = len(candidates)
        rng = np.random.default_rng(int(seed))
        if numPixels is not None:
            size = min(int(numPixels), n)
        elif factor is not None:
            size = min(n, int(round(float(factor) * n)))
        else:
            size = n
        if size < n:
            picked = np.sort(rng.choice(n, size=size, replace=False))
        else:
            picked = np.arange(n, dtype="i8")
        pixel = picked if candidates is None else candidates[picked]
        [values] = _gather([(image, grid, pixel)])
        if dropNulls and len(pixel):
            keep = ~np.isnan(values).any(axis=1)
            pixel, values = pixel[keep], values[keep]
        index = pd.Index([str(i) for i in range(len(pixel))], dtype=object)
        table = _band_columns(image, values, index)
        return _frame(table, _centres(grid, pixel) if geometries else None, grid.crs)

    return run


# -- getRegion ---------------------------------------------------------------------------------


def get_region(
    images: Sequence[Raster], geometry: Any, scale: Any = None, crs: Any = None, crsTransform: Any = None
) -> Callable[[], list[list[Any]]]:
    """``ImageCollection.getRegion``: Earth Engine's list of lists.

    Checks the arguments now and returns the function that computes the rows.
    See :meth:`reducer.ImageCollection.getRegion` for the rules.
    """
    from pyproj import Transformer

    geom = as_geometry(geometry)
    images = tuple(images)
    for img in images:
        _check_bands(img, "ImageCollection.getRegion")

    def run() -> list:
        shape = geom.to_shapely()
        shapes = np.array([shape], dtype=object)
        names: list[str] = []
        for img in images:
            names.extend(b.name for b in img.bands if b.name not in names)
        header = ["id", "longitude", "latitude", "time", *names]
        plans: list[tuple[Raster, Grid, np.ndarray]] = []
        by_grid: dict[Grid, np.ndarray] = {}
        for img in images:
            grid = _grid(img, scale, crs, crsTransform, shapes, geom.crs)
            if grid not in by_grid:
                moved = _to_grid_crs(shapes, geom.crs, grid)
                by_grid[grid] = np.unique(_region_pixels(moved, grid)[1])
            plans.append((img, grid, by_grid[grid]))
        values = _gather(plans)
        rows: list[list] = [header]
        lonlat_cache: dict[Grid, tuple[np.ndarray, np.ndarray]] = {}
        for (img, grid, pixel), vals in zip(plans, values, strict=True):
            if grid not in lonlat_cache:
                r, c = np.divmod(pixel, grid.width)
                x, y = grid.pixel_centers(r, c)
                tr = Transformer.from_crs(grid.crs, WGS84, always_xy=True)
                lonlat_cache[grid] = tr.transform(x, y)
            lon, lat = lonlat_cache[grid]
            iid = img.properties.get("system:index")
            t = img.properties.get("system:time_start")
            t = None if t is None else int(t)
            pos = [names.index(b.name) for b in img.bands]
            integer = [np.dtype(b.dtype).kind in "iub" for b in img.bands]
            for k in range(len(pixel)):
                row: list[Any] = [None] * len(names)
                for j, (p, is_int) in enumerate(zip(pos, integer, strict=True)):
                    v = vals[k, j]
                    row[p] = None if math.isnan(v) else (int(v) if is_int else float(v))
                rows.append([None if iid is None else str(iid), float(lon[k]), float(lat[k]), t, *row])
        return rows

    return run


def region_to_dataframe(rows: Any) -> pd.DataFrame:
    """``getRegion``'s list of lists as a DataFrame, with a ``datetime`` column after ``time``.

    ``rows`` is what ``ImageCollection.getRegion`` returns (an ``ee.List``, evaluated here) or its
    ``getInfo()``. The first row is the header. Band columns are numeric, with NaN where a pixel is
    masked; ``datetime`` is ``time`` (milliseconds since 1970, UTC) as a timezone-naive UTC
    ``datetime64``, NaT when an image has no date.

    Examples
    --------
    >>> rows = [["id", "longitude", "latitude", "time", "NDVI"],
    ...         ["a", 15.0, 47.0, 86400000, 0.5], ["b", 15.0, 47.0, 172800000, None]]
    >>> df = region_to_dataframe(rows)
    >>> df[["id", "datetime", "NDVI"]]
      id   datetime  NDVI
    0  a 1970-01-02   0.5
    1  b 1970-01-03   NaN
    >>> region_to_dataframe([["id", "longitude", "latitude", "time"]]).shape  # no pixel: no row
    (0, 5)
    """
    if isinstance(rows, ComputedObject):
        rows = rows.getInfo()
    rows = unwrap(rows)
    if not isinstance(rows, list | tuple) or not rows or not isinstance(rows[0], list | tuple):
        raise ArgumentError(
            f"region_to_dataframe: expected getRegion's list of lists (a header row, then one row per pixel), "
            f"got {rows!r:.80}."
        )
    header = [str(h) for h in rows[0]]
    df = pd.DataFrame([list(r) for r in rows[1:]], columns=header)
    for c in header:
        if c not in ("id",):
            df[c] = pd.to_numeric(df[c], errors="coerce") if len(df) else df[c].astype("f8")
    if "time" in df.columns:
        df.insert(header.index("time") + 1, "datetime", pd.to_datetime(df["time"], unit="ms"))
    return df
