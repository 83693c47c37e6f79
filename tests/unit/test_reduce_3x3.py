"""Hand-computable reductions on the 3×3 raster of 1..9."""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pytest

import reducer as ee
from reducer.errors import MaxPixelsError, ReducerInputError
from tests.common import CRS, EMPTY, OUTSIDE, SQUARE, TOP_LEFT, VALUES_3x3, local_box, write_tif


@pytest.fixture
def tif(tmp_path):
    return write_tif(tmp_path / "r_2024-05-01.tif", VALUES_3x3)


def fc_of(*geoms, crs=CRS):
    return ee.FeatureCollection(
        gpd.GeoDataFrame({"name": [f"f{i}" for i in range(len(geoms))]}, geometry=list(geoms), crs=crs)
    )


def props(fc):
    return [f["properties"] for f in fc.getInfo()["features"]]


# (reducer, geometry, expected) computed by hand from the cell values and covered fractions
W_SQUARE = np.array([[0.25, 0.5, 0.25], [0.5, 1, 0.5], [0.25, 0.5, 0.25]])
W_TOP_LEFT = np.array([[1, 1, 0], [0.8, 0.8, 0], [0, 0, 0]])


def wmean(w):
    return float((w * VALUES_3x3).sum() / w.sum())


def wvar(w):
    m = wmean(w)
    return float((w * (VALUES_3x3 - m) ** 2).sum() / w.sum())


CASES = [
    (ee.Reducer.mean(), SQUARE, {"mean": 5.0}),
    (ee.Reducer.sum(), SQUARE, {"sum": 20.0}),
    (ee.Reducer.variance(), SQUARE, {"variance": 5.0}),
    (ee.Reducer.stdDev(), SQUARE, {"stdDev": math.sqrt(5.0)}),
    (ee.Reducer.minMax(), SQUARE, {"min": 1.0, "max": 9.0}),
    (ee.Reducer.count(), TOP_LEFT, {"count": 4}),
    (ee.Reducer.mean(), TOP_LEFT, {"mean": wmean(W_TOP_LEFT)}),
    (ee.Reducer.variance(), TOP_LEFT, {"variance": wvar(W_TOP_LEFT)}),
    (ee.Reducer.sum(), TOP_LEFT, {"sum": 1 + 2 + 0.8 * (4 + 5)}),
    (ee.Reducer.mean().unweighted(), TOP_LEFT, {"mean": 3.0}),
    (ee.Reducer.sum().unweighted(), TOP_LEFT, {"sum": 12.0}),
    (ee.Reducer.variance().unweighted(), TOP_LEFT, {"variance": float(np.var([1, 2, 4, 5]))}),
    (ee.Reducer.minMax().unweighted(), TOP_LEFT, {"min": 1.0, "max": 5.0}),
    (ee.Reducer.max(), local_box(0, 0, 2.1, 1), {"max": 9.0}),  # touches the 9 cell by 0.1
    (ee.Reducer.max().unweighted(), local_box(0, 0, 2.1, 1), {"max": 8.0}),  # its centre is outside
]


@pytest.mark.parametrize(("red", "geom", "expected"), CASES)
def test_hand_computed(tif, red, geom, expected):
    [p] = props(ee.Image(str(tif)).reduceRegions(fc_of(geom), red))
    for k, v in expected.items():
        assert p[k] == pytest.approx(v, rel=1e-7), k  # exactextract fractions are float32


def test_nodata_excluded(tmp_path):
    tif = write_tif(tmp_path / "n.tif", np.where(VALUES_3x3 == 2, -9999, VALUES_3x3).astype("float32"), nodata=-9999)
    red = ee.Reducer.mean().combine(ee.Reducer.count(), sharedInputs=True)
    [p] = props(ee.Image(str(tif)).reduceRegions(fc_of(TOP_LEFT), red))
    assert p["mean"] == pytest.approx((1 + 0.8 * 9) / 2.6, rel=1e-7)
    assert p["count"] == 3
    [p] = props(ee.Image(str(tif)).reduceRegions(fc_of(TOP_LEFT), ee.Reducer.mean().unweighted()))
    assert p["mean"] == pytest.approx(10 / 3, rel=1e-7)


def test_empty_outside_and_all_nodata_give_none(tmp_path, tif):
    red = (
        ee.Reducer.mean().combine(ee.Reducer.minMax(), sharedInputs=True).combine(ee.Reducer.count(), sharedInputs=True)
    )
    ps = props(ee.Image(str(tif)).reduceRegions(fc_of(EMPTY, OUTSIDE, SQUARE), red))
    for p in ps[:2]:
        assert p["mean"] is None and p["min"] is None and p["max"] is None
        assert p["count"] == 0
    assert ps[2]["mean"] == 5.0
    nd = write_tif(tmp_path / "nd.tif", np.full((3, 3), -1, "int16"), nodata=-1)
    [p] = props(ee.Image(str(nd)).reduceRegions(fc_of(SQUARE), red))
    assert p["mean"] is None and p["count"] == 0


def test_overlapping_features_are_independent(tif):
    ps = props(ee.Image(str(tif)).reduceRegions(fc_of(SQUARE, TOP_LEFT, SQUARE), ee.Reducer.mean()))
    assert [p["mean"] for p in ps] == pytest.approx([5.0, wmean(W_TOP_LEFT), 5.0], rel=1e-7)


def test_reprojected_features_match(tif):
    # the same square given in EPSG:4326 gives the same answer within reprojection round-off
    g = gpd.GeoSeries([TOP_LEFT], crs=CRS).to_crs("EPSG:4326")
    [p] = props(ee.Image(str(tif)).reduceRegions(fc_of(g.iloc[0], crs="EPSG:4326"), ee.Reducer.mean()))
    assert p["mean"] == pytest.approx(wmean(W_TOP_LEFT), rel=1e-6)


def test_point_takes_containing_pixel(tif):
    from shapely import MultiPoint, Point

    from tests.common import ORIGIN

    pts = [Point(ORIGIN[0] + 1.5, ORIGIN[1] - 0.5), Point(ORIGIN[0] + 2.9, ORIGIN[1] - 2.9), Point(0, 0)]
    ps = props(ee.Image(str(tif)).reduceRegions(fc_of(*pts), ee.Reducer.mean()))
    assert [p["mean"] for p in ps] == [2.0, 9.0, None]
    mp = MultiPoint([(ORIGIN[0] + 0.5, ORIGIN[1] - 0.5), (ORIGIN[0] + 2.5, ORIGIN[1] - 2.5)])
    [p] = props(ee.Image(str(tif)).reduceRegions(fc_of(mp), ee.Reducer.mean()))
    assert p["mean"] == 5.0


def test_reduce_region_names_and_sorted_keys(tif):
    img = ee.Image(str(tif)).rename("elev")
    geom = ee.Geometry(SQUARE, proj=CRS) if _geometry_takes_shapely() else None
    out = img.reduceRegion(ee.Reducer.mean(), geom).getInfo()
    assert out == {"elev": 5.0}
    out = img.reduceRegion(ee.Reducer.minMax(), geom).getInfo()
    assert list(out) == ["elev_max", "elev_min"]
    assert out == {"elev_max": 9.0, "elev_min": 1.0}
    # whole image when no geometry is given
    assert img.reduceRegion(ee.Reducer.sum()).getInfo() == {"elev": 45.0}


def _geometry_takes_shapely():
    return True


def test_multiband_naming_and_two_input_reducer(tmp_path):
    data = np.stack([VALUES_3x3, VALUES_3x3 * 10])
    tif = write_tif(tmp_path / "mb.tif", data, descriptions=["a", "b"])
    img = ee.Image(str(tif))
    assert img.bandNames().getInfo() == ["a", "b"]
    [p] = props(img.reduceRegions(fc_of(SQUARE), ee.Reducer.mean()))
    assert (p["a"], p["b"]) == (5.0, 50.0)
    [p] = props(img.reduceRegions(fc_of(SQUARE), ee.Reducer.mean().combine(ee.Reducer.max(), sharedInputs=True)))
    assert (p["a_mean"], p["a_max"], p["b_mean"], p["b_max"]) == (5.0, 9.0, 50.0, 90.0)
    # without sharedInputs: two inputs, band a -> mean, band b -> max, named by outputs
    [p] = props(img.reduceRegions(fc_of(SQUARE), ee.Reducer.mean().combine(ee.Reducer.max())))
    assert (p["mean"], p["max"]) == (5.0, 90.0)
    with pytest.raises(ReducerInputError, match="2 inputs"):
        img.select("a").reduceRegions(fc_of(SQUARE), ee.Reducer.mean().combine(ee.Reducer.max())).getInfo()
    # outputPrefix and setOutputs
    red = ee.Reducer.mean().combine(ee.Reducer.max(), "x_", sharedInputs=True).setOutputs(["m", "mx"])
    [p] = props(img.select("a").reduceRegions(fc_of(SQUARE), red))
    assert (p["m"], p["mx"]) == (5.0, 9.0)
    [p] = props(img.select("a").reduceRegions(fc_of(SQUARE), ee.Reducer.mean().combine(ee.Reducer.max(), "x_", True)))
    assert (p["mean"], p["x_max"]) == (5.0, 9.0)


def test_max_pixels_and_best_effort(tmp_path):
    tif = write_tif(tmp_path / "big.tif", np.ones((100, 100), "float32"))
    img = ee.Image(str(tif))
    with pytest.raises(
        MaxPixelsError, match="Too many pixels in the region. Found 10000, but maxPixels allows only 100"
    ):
        img.reduceRegion(ee.Reducer.mean(), maxPixels=100).getInfo()
    out = img.reduceRegion(ee.Reducer.count(), maxPixels=100, bestEffort=True).getInfo()
    assert 0 < out["B1"] <= 100


def test_scale_coarsens_with_nearest(tif):
    # at scale 3 one pixel covers the raster; nearest resampling takes the value at its centre (5)
    out = ee.Image(str(tif)).reduceRegion(ee.Reducer.mean(), scale=3).getInfo()
    assert out == {"B1": 5.0}


def test_collection_reduce_regions_ids_and_time(tmp_path):
    paths = [write_tif(tmp_path / f"img_2024-0{m}-01.tif", VALUES_3x3 * m) for m in (1, 2, 3)]
    ic = ee.ImageCollection([str(p) for p in paths]).filterDate("2024-02-01", "2024-04-01")
    fc = ic.reduceRegions(fc_of(SQUARE, TOP_LEFT), ee.Reducer.mean())
    info = fc.getInfo()
    ids = [f["id"] for f in info["features"]]
    assert ids == ["img_2024-02-01_0", "img_2024-02-01_1", "img_2024-03-01_0", "img_2024-03-01_1"]
    means = [f["properties"]["mean"] for f in info["features"]]
    assert means == pytest.approx([10.0, 2 * wmean(W_TOP_LEFT), 15.0, 3 * wmean(W_TOP_LEFT)], rel=1e-7)
    t = [f["properties"]["system:time_start"] for f in info["features"]]
    assert t[0] == ee.Date("2024-02-01").millis().getInfo()
    assert info["features"][0]["properties"]["image_id"] == "img_2024-02-01"
    assert info["features"][0]["properties"]["name"] == "f0"
