"""Cross-checks on generated fields: weighted = exactextract, unweighted and count = rasterstats."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
from affine import Affine

import reducer as ee
from tests.common import write_tif

rasterstats = pytest.importorskip("rasterstats")
exactextract = pytest.importorskip("exactextract")

CRS = "EPSG:32633"
T = Affine(10, 0, 600000, 0, -10, 5000000)
H = W = 120


def _fields(rng, n=30):
    """Irregular fields in the raster CRS: holed, multi-part, partly outside, overlapping."""
    geoms = []
    for k in range(n):
        cx, cy = 600000 + rng.uniform(-100, 1300), 5000000 - rng.uniform(-100, 1300)
        r = rng.uniform(25, 200)
        ang = np.sort(rng.uniform(0, 2 * np.pi, 9))
        rad = r * rng.uniform(0.6, 1.0, 9)
        poly = shapely.Polygon(np.c_[cx + rad * np.cos(ang), cy + rad * np.sin(ang)]).buffer(0)
        if k % 5 == 0:
            poly = poly.difference(shapely.Point(cx, cy).buffer(r * 0.3))
        if k % 7 == 0:
            poly = (
                shapely.MultiPolygon([poly, shapely.box(cx + 2 * r, cy, cx + 2.6 * r, cy + 0.5 * r)])
                if poly.geom_type == "Polygon"
                else poly
            )
        geoms.append(poly)
    return gpd.GeoDataFrame({"fid": range(n)}, geometry=geoms, crs=CRS)


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    rng = np.random.default_rng(42)
    tmp = tmp_path_factory.mktemp("xcheck")
    vals = rng.normal(100, 20, (H, W)).astype("float32")
    vals[rng.random((H, W)) < 0.05] = -9999
    vals[40:55, 60:80] = -9999  # a cloud
    tif = write_tif(tmp / "v.tif", vals, transform=T, nodata=-9999, tiled=True, blocksize=32)
    fields = _fields(rng)
    return tif, fields


def _ee_frame(tif, fields, reducer, crs=None):
    fc = ee.FeatureCollection(fields if crs is None else fields.to_crs(crs))
    return ee.Image(str(tif)).reduceRegions(fc, reducer).to_pandas()


@pytest.mark.parametrize("crs", [None, "EPSG:4326"])
def test_weighted_equals_exactextract(data, crs):
    tif, fields = data
    red = (
        ee.Reducer.mean()
        .combine(ee.Reducer.sum(), sharedInputs=True)
        .combine(ee.Reducer.variance(), sharedInputs=True)
        .combine(ee.Reducer.minMax(), sharedInputs=True)
    )
    got = _ee_frame(tif, fields, red, crs)
    ops = ["mean", "sum", "variance", "min", "max", "count"]
    ref = exactextract.exact_extract(str(tif), fields, ops, output="pandas")
    # exactextract gives 0 (sum) or NaN where a feature has no valid pixel; reducer gives None
    empty = ref["count"].to_numpy() == 0
    assert empty.any() and not empty.all()
    assert got.loc[empty, ["mean", "sum", "variance", "min", "max"]].isna().all().all()
    # both store fractions in float32, and a weight may be one float32 step from exactextract's (its
    # arithmetic is a few ulps less exact); reprojection to 4326 and back moves vertices by ~1e-9 m
    rel = 1e-7 if crs is None else 1e-6
    for k in ops[:-1]:
        np.testing.assert_allclose(got[k][~empty].astype(float), ref[k][~empty].astype(float), rtol=rel, err_msg=k)


def test_unweighted_equals_rasterstats(data):
    tif, fields = data
    red = (
        ee.Reducer.mean().combine(ee.Reducer.minMax(), sharedInputs=True).combine(ee.Reducer.count(), sharedInputs=True)
    )
    red = red.combine(ee.Reducer.sum(), sharedInputs=True).unweighted()
    got = _ee_frame(tif, fields, red)
    ref = rasterstats.zonal_stats(list(fields.geometry), str(tif), stats="mean min max count sum")
    assert list(got["count"]) == [r["count"] for r in ref]
    for k in ["mean", "min", "max", "sum"]:
        np.testing.assert_allclose(
            got[k].astype(float),
            np.array([np.nan if r[k] is None else r[k] for r in ref], float),
            rtol=1e-6,
            err_msg=k,
        )


def test_count_is_centre_in_even_when_weighted(data):
    tif, fields = data
    got = _ee_frame(tif, fields, ee.Reducer.count())
    ref = rasterstats.zonal_stats(list(fields.geometry), str(tif), stats="count")
    assert list(got["count"]) == [r["count"] for r in ref]


def test_peer_fixture_slope(tmp_path):
    from pathlib import Path

    root = Path(__file__).resolve().parents[3] / "shared" / "peerdata" / "rasterstats"
    if not root.exists():
        pytest.skip("shared peer data not present")
    polys = gpd.read_file(root / "polygons.shp")
    got = (
        ee.Image(str(root / "slope.tif"))
        .reduceRegions(ee.FeatureCollection(polys), ee.Reducer.mean().combine(ee.Reducer.count(), sharedInputs=True))
        .to_pandas()
    )
    ref_rs = rasterstats.zonal_stats(str(root / "polygons.shp"), str(root / "slope.tif"), stats="count")
    assert list(got["count"]) == [r["count"] for r in ref_rs]
    ref_ee = exactextract.exact_extract(str(root / "slope.tif"), polys, ["mean"], output="pandas")
    np.testing.assert_allclose(got["mean"].astype(float), ref_ee["mean"], rtol=1e-9)


def test_all_touched_equals_rasterstats_all_touched(data):
    tif, fields = data
    red = (
        ee.Reducer.mean().combine(ee.Reducer.count(), sharedInputs=True).combine(ee.Reducer.minMax(), sharedInputs=True)
    )
    got = _ee_frame(tif, fields, red.all_touched())
    ref = rasterstats.zonal_stats(list(fields.geometry), str(tif), stats="mean min max count", all_touched=True)
    assert list(got["count"]) == [r["count"] for r in ref]
    for k in ["mean", "min", "max"]:
        np.testing.assert_allclose(
            got[k].astype(float), np.array([np.nan if r[k] is None else r[k] for r in ref], float), rtol=1e-6, err_msg=k
        )


@pytest.mark.parametrize("kind", ["int16_dem", "float32_ndvi"])
def test_weighted_quantiles_equal_exactextract(tmp_path, kind):
    """exactextract merges equal values (one weight per distinct value) before it interpolates."""
    rng = np.random.default_rng(7)
    if kind == "int16_dem":
        # a smooth DEM with many repeated heights in each field
        yy, xx = np.mgrid[0:H, 0:W]
        vals = (700 + 0.8 * yy + 0.3 * xx + rng.integers(-3, 4, (H, W))).astype("int16")
        nodata = -32768
    else:
        vals = np.round(rng.uniform(-0.3, 0.9, (H, W)), 3).astype("float32")  # repeated NDVI values
        nodata = -9999
    vals[rng.random((H, W)) < 0.03] = nodata
    tif = write_tif(tmp_path / f"{kind}.tif", vals, transform=T, nodata=nodata, tiled=True, blocksize=32)
    fields = _fields(rng, n=40)
    red = ee.Reducer.median().combine(ee.Reducer.percentile([10, 90]), sharedInputs=True)
    got = _ee_frame(tif, fields, red)
    ops = ["median", "quantile(q=0.1)", "quantile(q=0.9)"]
    ref = exactextract.exact_extract(str(tif), fields, ops, output="pandas")
    for ours, theirs in [("median", "median"), ("p10", "quantile_10"), ("p90", "quantile_90")]:
        value = got[ours].astype(float).to_numpy()
        if kind == "int16_dem":
            # exactextract casts its quantile to the raster's type (truncation); reducer keeps the float
            value = np.trunc(value)
        np.testing.assert_allclose(value, ref[theirs].astype(float), rtol=1e-6, equal_nan=True, err_msg=ours)
