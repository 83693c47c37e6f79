"""sampleRegions, sample, getRegion and point_query on hand-computable rasters."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
import shapely
from affine import Affine
from pyproj import Transformer

import reducer as ee
from reducer import sampling
from reducer.errors import ArgumentError, BandError, CRSError
from reducer.sources import READ_COUNTER
from tests.common import CRS, OUTSIDE, TOP_LEFT, TRANSFORM_3x3, VALUES_3x3, local_box, write_tif


@pytest.fixture
def tif(tmp_path):
    return write_tif(tmp_path / "v_2024-03-01.tif", VALUES_3x3)


@pytest.fixture
def holed(tmp_path):
    """The 3x3 raster with the centre (5) as nodata."""
    data = VALUES_3x3.copy()
    data[1, 1] = -1
    return write_tif(tmp_path / "h_2024-04-01.tif", data, nodata=-1)


@pytest.fixture
def computes(monkeypatch):
    """Count the calls to compute (reducer.compute, the one place that computes) made by sampling."""
    calls = []
    real = sampling.compute

    def counting(*objs):
        calls.append(len(objs))
        return real(*objs)

    monkeypatch.setattr(sampling, "compute", counting)
    return calls


def _fc(*geoms, **props):
    return ee.FeatureCollection(gpd.GeoDataFrame(props or None, geometry=list(geoms), crs=CRS))


def _centre(col, row):
    """The centre of pixel (row, col) of the 3x3 grid, in the raster CRS."""
    return shapely.Point(TRANSFORM_3x3.c + col + 0.5, TRANSFORM_3x3.f - row - 0.5)


# -- sampleRegions ---------------------------------------------------------------------------------


def test_sample_regions_polygon_takes_centre_in_pixels(tif, computes):
    fc = _fc(TOP_LEFT, OUTSIDE, name=["a", "out"])
    info = ee.Image(str(tif)).sampleRegions(fc).getInfo()
    feats = info["features"]
    assert [f["id"] for f in feats] == ["0_0", "0_1", "0_2", "0_3"]
    assert [f["properties"] for f in feats] == [{"B1": v, "name": "a"} for v in (1.0, 2.0, 4.0, 5.0)]
    assert all(f["geometry"] is None for f in feats)
    assert computes == [1]  # one band, one compute


def test_sample_regions_drops_masked_pixels_and_copies_chosen_properties(holed):
    fc = _fc(local_box(0, 0, 3, 3), local_box(1, 1, 2, 2), name=["all", "centre"], k=[1, 2])
    df = ee.Image(str(holed)).sampleRegions(fc, properties=["k"]).to_pandas()
    assert list(df.columns) == ["k", "B1"]
    assert df["B1"].tolist() == [1, 2, 3, 4, 6, 7, 8, 9]  # the centre feature had only the masked pixel
    assert df.index.tolist() == [f"0_{i}" for i in range(8)]
    assert df["k"].tolist() == [1] * 8


def test_sample_regions_points_and_geometries(tif):
    pts = [_centre(2, 0), shapely.Point(TRANSFORM_3x3.c + 0.1, TRANSFORM_3x3.f - 2.9), OUTSIDE.centroid]
    fc = _fc(*pts, pid=["p", "q", "r"])
    info = ee.Image(str(tif)).sampleRegions(fc, geometries=True).getInfo()
    got = [(f["id"], f["properties"]["pid"], f["properties"]["B1"]) for f in info["features"]]
    assert got == [("0_0", "p", 3.0), ("1_0", "q", 7.0)]  # the point outside gives no feature
    to_ll = Transformer.from_crs(CRS, "EPSG:4326", always_xy=True)
    # geometries are pixel centres, in EPSG:4326
    lon, lat = to_ll.transform(TRANSFORM_3x3.c + 0.5, TRANSFORM_3x3.f - 2.5)
    np.testing.assert_allclose(info["features"][1]["geometry"]["coordinates"], [lon, lat], rtol=1e-12)


def test_sample_regions_multiband_drops_pixel_masked_in_any_band(tmp_path):
    data = np.stack([VALUES_3x3, VALUES_3x3 * 10]).astype("float32")
    data[1, 0, 0] = -1  # band 2 masked at the first pixel
    path = write_tif(tmp_path / "m.tif", data, nodata=-1, descriptions=["a", "b"])
    df = ee.Image(str(path)).sampleRegions(_fc(TOP_LEFT)).to_pandas()
    assert df[["a", "b"]].to_numpy().tolist() == [[2, 20], [4, 40], [5, 50]]


def test_sample_regions_integer_band_gives_integers(tmp_path):
    path = write_tif(tmp_path / "i.tif", VALUES_3x3.astype("int16"))
    info = ee.Image(str(path)).sampleRegions(_fc(TOP_LEFT)).getInfo()
    values = [f["properties"]["B1"] for f in info["features"]]
    assert values == [1, 2, 4, 5] and all(isinstance(v, int) for v in values)


def test_sample_regions_scale_and_reprojected_features(tif):
    # features in EPSG:4326 are moved to the raster grid; at scale 3 the grid is one pixel
    fc = ee.FeatureCollection(gpd.GeoDataFrame(geometry=[local_box(0, 0, 3, 3)], crs=CRS).to_crs(4326))
    df = ee.Image(str(tif)).sampleRegions(fc).to_pandas()
    assert df["B1"].tolist() == list(range(1, 10))
    coarse = ee.Image(str(tif)).sampleRegions(ee.FeatureCollection(_fc(local_box(0, 0, 3, 3))), scale=3)
    assert coarse.size().getInfo() == 1


def test_sample_regions_is_lazy(tif):
    READ_COUNTER.reset()
    out = ee.Image(str(tif)).sampleRegions(_fc(TOP_LEFT))
    assert READ_COUNTER.reads == 0
    assert out.size().getInfo() == 4
    assert READ_COUNTER.reads > 0


def test_sample_regions_empty_collection(tif):
    empty = ee.FeatureCollection(gpd.GeoDataFrame(geometry=[], crs=CRS))
    assert ee.Image(str(tif)).sampleRegions(empty).getInfo()["features"] == []


# -- sample ----------------------------------------------------------------------------------------


def test_sample_all_pixels_by_default(holed):
    info = ee.Image(str(holed)).sample().getInfo()
    assert [f["properties"]["B1"] for f in info["features"]] == [1, 2, 3, 4, 6, 7, 8, 9]
    assert [f["id"] for f in info["features"]] == [str(i) for i in range(8)]
    keep = ee.Image(str(holed)).sample(dropNulls=False).getInfo()["features"]
    assert len(keep) == 9 and keep[4]["properties"]["B1"] is None


def test_sample_is_deterministic_and_matches_numpy(tmp_path):
    rng = np.random.default_rng(3)
    data = rng.normal(size=(40, 50)).astype("float32")
    t = Affine(10, 0, 500000, 0, -10, 4000400)
    path = write_tif(tmp_path / "r.tif", data, transform=t, tiled=True, blocksize=16)
    img = ee.Image(str(path))
    a = img.sample(numPixels=25, seed=7, geometries=True).to_geopandas()
    b = img.sample(numPixels=25, seed=7, geometries=True).to_geopandas()
    c = img.sample(numPixels=25, seed=8).to_pandas()
    assert len(a) == 25
    assert a["B1"].tolist() == b["B1"].tolist()
    assert a["B1"].tolist() != c["B1"].tolist()
    # the value of each sample is the numpy value at its pixel centre
    rows, cols = rasterio_index(t, a.geometry.x.to_numpy(), a.geometry.y.to_numpy())
    np.testing.assert_array_equal(a["B1"].to_numpy(), data[rows, cols].astype("f8"))
    # the draw is numpy's: sorted flat indices from default_rng(seed).choice
    picked = np.sort(np.random.default_rng(7).choice(data.size, 25, replace=False))
    np.testing.assert_array_equal(a["B1"].to_numpy(), data.ravel()[picked].astype("f8"))
    assert img.sample(factor=0.1).size().getInfo() == 200
    assert img.sample(numPixels=10_000).size().getInfo() == 2000


def rasterio_index(t, x, y):
    from rasterio.transform import rowcol

    r, c = rowcol(t, x, y)
    return np.asarray(r), np.asarray(c)


def test_sample_region_restricts_pixels(tif):
    region = ee.Geometry(TOP_LEFT, proj=CRS, geodesic=False)
    assert sorted(ee.Image(str(tif)).sample(region).aggregate_array("B1").getInfo()) == [1, 2, 4, 5]
    assert ee.Image(str(tif)).sample(region, numPixels=2, seed=1).size().getInfo() == 2


def test_sample_argument_errors(tif):
    img = ee.Image(str(tif))
    with pytest.raises(ArgumentError, match="factor or numPixels"):
        img.sample(factor=0.5, numPixels=3)
    with pytest.raises(ArgumentError, match=r"factor=2"):
        img.sample(factor=2)


# -- getRegion -------------------------------------------------------------------------------------


def test_get_region_point_rows(tif, holed):
    ic = ee.ImageCollection([str(tif), str(holed)])
    point = ee.Geometry(_centre(1, 1), proj=CRS)
    rows = ic.getRegion(point).getInfo()
    lon, lat = Transformer.from_crs(CRS, "EPSG:4326", always_xy=True).transform(_centre(1, 1).x, _centre(1, 1).y)
    assert rows[0] == ["id", "longitude", "latitude", "time", "B1"]
    assert rows[1][0] == "v_2024-03-01" and rows[2][0] == "h_2024-04-01"
    assert rows[1][3] == 1709251200000 and rows[2][3] == 1711929600000
    assert [r[4] for r in rows[1:]] == [5.0, None]  # masked: None, and the row is kept
    np.testing.assert_allclose([rows[1][1], rows[1][2]], [lon, lat], rtol=1e-12)


def test_get_region_polygon_and_dataframe(tif, computes):
    ic = ee.ImageCollection([str(tif)])
    rows = ic.getRegion(ee.Geometry(TOP_LEFT, proj=CRS, geodesic=False))
    df = ee.region_to_dataframe(rows)
    assert df["B1"].tolist() == [1.0, 2.0, 4.0, 5.0]
    assert list(df.columns) == ["id", "longitude", "latitude", "time", "datetime", "B1"]
    assert (df["datetime"] == pd.Timestamp("2024-03-01")).all()
    assert computes == [1]


def test_get_region_union_of_bands_and_outside(tmp_path, tif):
    two = write_tif(tmp_path / "two.tif", np.stack([VALUES_3x3, VALUES_3x3 + 100]), descriptions=["B1", "X"])
    ic = ee.ImageCollection([str(tif), str(two)])
    rows = ic.getRegion(ee.Geometry(_centre(0, 0), proj=CRS)).getInfo()
    assert rows == [
        ["id", "longitude", "latitude", "time", "B1", "X"],
        [rows[1][0], rows[1][1], rows[1][2], rows[1][3], 1.0, None],
        [rows[2][0], rows[2][1], rows[2][2], None, 1.0, 101.0],
    ]
    outside = ic.getRegion(ee.Geometry(OUTSIDE.centroid, proj=CRS)).getInfo()
    assert outside == [["id", "longitude", "latitude", "time", "B1", "X"]]


def test_region_to_dataframe_rejects_other_input():
    with pytest.raises(ArgumentError, match="list of lists"):
        ee.region_to_dataframe({"a": 1})


# -- point_query -----------------------------------------------------------------------------------


def test_point_query_hand_values(tif, holed):
    x0, y0 = TRANSFORM_3x3.c, TRANSFORM_3x3.f
    pts = [(x0 + 1.5, y0 - 1.5), (x0 + 1.0, y0 - 1.0), (x0 + 2.0, y0 - 1.0), (x0 + 5, y0 + 5)]
    assert ee.point_query(pts, str(tif), interpolate="nearest", crs=CRS) == [5.0, 5.0, 6.0, None]
    # bilinear at a corner of four pixels: their mean; at a centre: the pixel itself
    assert ee.point_query(pts, str(tif), crs=CRS) == [5.0, 3.0, 4.0, None]
    # a masked neighbour: rasterstats falls back to arr[round(1 - y), round(x)] of the four, rounding half
    # to even: the upper left one at a corner; None on the masked pixel itself
    assert ee.point_query(pts[:3], str(holed), crs=CRS) == [None, 1.0, 2.0]


def test_point_query_inputs_and_errors(tif):
    img = ee.Image(str(tif))
    p = _centre(0, 2)
    gdf = gpd.GeoDataFrame(geometry=[p], crs=CRS)
    assert ee.point_query(gdf, img, "B1") == [7.0]
    assert ee.point_query(ee.FeatureCollection(gdf.to_crs(4326)), img, interpolate="nearest") == [7.0]
    assert ee.point_query([ee.Geometry(p, proj=CRS)], img) == [7.0]
    assert ee.point_query(gdf, img, geojson_out=True, property_name="v")[0]["properties"] == {"v": 7.0}
    line = shapely.LineString([_centre(0, 0), _centre(2, 2)])
    assert ee.point_query([line], img, crs=CRS) == [[1.0, 9.0]]
    with pytest.raises(CRSError, match="crs="):
        ee.point_query([p], img)
    with pytest.raises(BandError, match="from 1 to 1"):
        ee.point_query(gdf, img, band=2)
    with pytest.raises(ArgumentError, match="nearest"):
        ee.point_query(gdf, img, interpolate="cubic")


def test_sample_regions_with_a_world_polygon_in_lonlat_takes_every_pixel(tif):
    # the features move into the grid's CRS as the engine moves them (clipped and densified), so a
    # polygon over the whole world still covers a UTM raster: every valid pixel of the 3x3 file
    world = ee.FeatureCollection(
        gpd.GeoDataFrame({"name": ["world"]}, geometry=[shapely.box(-180, -90, 180, 90)], crs=4326)
    )
    feats = ee.Image(str(tif)).sampleRegions(world).getInfo()["features"]
    with rasterio.open(tif) as src:
        data = src.read(1, masked=True)
    assert sorted(f["properties"]["B1"] for f in feats) == sorted(float(v) for v in data.compressed())
