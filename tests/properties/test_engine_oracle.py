"""Property: the engine matches a brute-force shapely/numpy oracle, or raises a ReducerError, never anything else.

Tiny in-memory rasters (``ee.Image(DataArray)``, random values, nodata layouts and dask chunks),
random convex polygons in the raster's CRS or in EPSG:4326, and random combinations of mean, sum,
count, min, max and variance, weighted or unweighted.

The oracle, pixel by pixel over the valid (unmasked) pixels:

- weighted: coverage c = area(polygon ∩ pixel) / pixel area; mean = Σcx / Σc, sum = Σcx,
  variance = Σc(x - mean)² / Σc; min and max over the pixels with c > 0;
- unweighted: the same with c = 1 for the pixels whose centre is inside (``shapely.contains_xy``),
  else 0; ``count`` is always the number of valid pixels whose centre is inside;
- no valid pixel: None (count 0).

Coverage fractions are float32 (exactextract), so values are compared to 1e-6 relative or 1e-6
of the values' magnitude. Degenerate cases are skipped: a pixel centre within 1e-7 pixel of the
polygon's boundary (GDAL's centre-in answer then depends on rounding) and a pixel covered by less
than 1e-7 of its area.
"""

from __future__ import annotations

import math
import warnings

import dask.array as da
import geopandas as gpd
import numpy as np
import pytest
import rioxarray  # noqa: F401  (registers .rio)
import shapely
import xarray as xr
from affine import Affine
from hypothesis import HealthCheck, Phase, assume, given, settings
from hypothesis import strategies as st

import reducer as ee
from reducer.errors import NoOverlapWarning, ReducerError

CRS = "EPSG:32633"
STATS = ("mean", "sum", "count", "min", "max", "variance")
EPS = 1e-7


@st.composite
def rasters(draw: st.DrawFn) -> tuple[np.ndarray, float, int, float | None]:
    """``(values with NaN where masked, pixel size, chunk size, nodata value or None)``."""
    ny = draw(st.integers(2, 6))
    nx = draw(st.integers(2, 6))
    values = draw(
        st.lists(st.floats(-100, 100, allow_nan=False, width=32), min_size=ny * nx, max_size=ny * nx).map(
            lambda v: np.array(v, dtype="float64").reshape(ny, nx)
        )
    )
    masked = draw(
        st.lists(st.booleans(), min_size=ny * nx, max_size=ny * nx).map(lambda m: np.array(m).reshape(ny, nx))
    )
    values[masked] = np.nan
    res = draw(st.sampled_from([1.0, 2.5, 10.0]))
    chunk = draw(st.integers(1, max(ny, nx)))
    nodata = draw(st.sampled_from([None, -9999.0]))
    return values, res, chunk, nodata


@st.composite
def polygons(draw: st.DrawFn, ny: int, nx: int) -> shapely.Geometry:
    """A convex polygon with vertices in pixel units, up to one pixel beyond the raster."""
    n = draw(st.integers(3, 6))
    coord = st.floats(-1.0, 1.0, allow_nan=False)
    pts = [(draw(coord) * (nx + 1) / 2 + nx / 2, draw(coord) * (ny + 1) / 2 + ny / 2) for _ in range(n)]
    hull = shapely.convex_hull(shapely.MultiPoint(pts))
    assume(hull.geom_type == "Polygon" and hull.area > 0.05)
    return hull


def _image(values: np.ndarray, transform: Affine, chunk: int, nodata: float | None) -> ee.Image:
    data = values if nodata is None else np.where(np.isnan(values), nodata, values)
    arr = xr.DataArray(da.from_array(data, chunks=chunk), dims=("y", "x"), name="img")
    arr = arr.rio.write_crs(CRS).rio.write_transform(transform)
    if nodata is not None:
        arr = arr.rio.write_nodata(nodata)
    return ee.Image(arr)


def _oracle(
    values: np.ndarray, transform: Affine, poly: shapely.Geometry, stats: list[str], weighted: bool
) -> dict | None:
    """The expected outputs, or None for a degenerate case."""
    ny, nx = values.shape
    res = transform.a
    rows, cols = np.mgrid[0:ny, 0:nx]
    x0 = transform.c + cols * res
    y1 = transform.f - rows * res
    boxes = shapely.box(x0, y1 - res, x0 + res, y1)
    cover = shapely.area(shapely.intersection(boxes, poly)) / res**2
    cx, cy = x0 + res / 2, y1 - res / 2
    if (shapely.distance(poly.boundary, shapely.points(cx, cy)) < EPS * res).any():
        return None  # degenerate: a pixel centre on the boundary
    if ((cover > 0) & (cover < EPS)).any():
        return None  # degenerate: a sliver of a pixel
    centre = shapely.contains_xy(poly, cx, cy)
    valid = ~np.isnan(values)
    c = np.where(valid, cover if weighted else centre.astype(float), 0.0)
    x = np.where(valid, values, 0.0)
    w = c.sum()
    out: dict = {}
    if "count" in stats:
        out["count"] = int((centre & valid).sum())
    if w <= 0:
        return out | {s: None for s in stats if s != "count"}
    mean = (c * x).sum() / w
    picked = values[valid & (c > 0)]
    full = {
        "mean": mean,
        "sum": (c * x).sum(),
        "variance": (c * (x - mean) ** 2).sum() / w,
        "min": float(picked.min()),
        "max": float(picked.max()),
    }
    return out | {s: full[s] for s in stats if s != "count"}


def _close(got: float | None, expected: float | None, scale: float) -> bool:
    if expected is None or got is None:
        return got is expected
    # coverage fractions come from exactextract in float32: about 1e-8 absolute error per pixel
    return math.isclose(got, expected, rel_tol=1e-6, abs_tol=1e-6 * max(1.0, scale))


@settings(
    max_examples=100,
    deadline=None,
    database=None,
    phases=[Phase.explicit, Phase.generate, Phase.shrink],
    suppress_health_check=[HealthCheck.too_slow],
)
@given(data=st.data(), raster=rasters())
def test_engine_matches_oracle_or_raises_reducer_error(data: st.DataObject, raster: tuple) -> None:
    values, res, chunk, nodata = raster
    ny, nx = values.shape
    transform = Affine(res, 0, 500000.0, 0, -res, 4000000.0 + ny * res)
    n_features = data.draw(st.integers(1, 3), label="features")
    local = [data.draw(polygons(ny, nx), label=f"polygon {k}") for k in range(n_features)]
    # pixel units → the raster's CRS (y up from the raster's bottom edge)
    polys = [shapely.affinity.affine_transform(p, [res, 0, 0, res, 500000.0, 4000000.0]) for p in local]
    stats = data.draw(st.lists(st.sampled_from(STATS), min_size=1, max_size=4, unique=True), label="stats")
    weighted = data.draw(st.booleans(), label="weighted")
    lonlat = data.draw(st.booleans(), label="features in EPSG:4326")

    gdf = gpd.GeoDataFrame({"k": list(range(n_features))}, geometry=polys, crs=CRS)
    if lonlat:
        gdf = gdf.to_crs("EPSG:4326")
        polys = list(gdf.to_crs(CRS).geometry)  # what the engine reduces: the same reprojection back
    reducer = getattr(ee.Reducer, stats[0])()
    for s in stats[1:]:
        reducer = reducer.combine(getattr(ee.Reducer, s)(), sharedInputs=True)
    if not weighted:
        reducer = reducer.unweighted()
    expected = [_oracle(values, transform, p, stats, weighted) for p in polys]
    assume(all(e is not None for e in expected))
    image = _image(values, transform, chunk, nodata)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", NoOverlapWarning)
            info = image.reduceRegions(ee.FeatureCollection(gdf), reducer).getInfo()
    except ReducerError:
        return  # a clean refusal is allowed; anything else fails the test
    scale = float(np.nanmax(np.abs(values))) if np.isfinite(values).any() else 1.0
    for feature, exp in zip(info["features"], expected, strict=True):
        props = feature["properties"]
        for s in stats:
            tol_scale = scale**2 if s == "variance" else scale * (nx * ny if s == "sum" else 1)
            assert _close(props[s], exp[s], tol_scale), (s, props[s], exp[s], weighted, lonlat)


@pytest.mark.parametrize("weighted", [True, False])
def test_oracle_by_hand(weighted: bool) -> None:
    """The oracle itself, on the 3x3 raster of 1..9: a square covering 4, 5, 7 and 8 by 0.5625 each."""
    values = np.arange(1, 10, dtype="float64").reshape(3, 3)
    transform = Affine(1, 0, 0, 0, -1, 3)
    stats = ["mean", "count", "sum", "min", "variance"]
    got = _oracle(values, transform, shapely.box(0.25, 0.25, 1.75, 1.75), stats, weighted)
    assert got == {"count": 4, "mean": 6.0, "sum": 13.5 if weighted else 24.0, "min": 4.0, "variance": 2.5}
