"""ee.Image and ee.ImageCollection: construction, metadata, band selection, filters and xarray sources."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import rioxarray  # noqa: F401
import shapely
import xarray as xr
from affine import Affine

import reducer as ee
from reducer.errors import BandError, CRSError, InputFileError
from tests.common import CRS, SQUARE, TRANSFORM_3x3, VALUES_3x3, write_tif

DAY = 86_400_000


def millis(s):
    return ee.Date(s).millis().getInfo()


@pytest.fixture
def monthly(tmp_path):
    t = Affine(10, 0, 600000, 0, -10, 5000000)
    for m in range(1, 7):
        write_tif(tmp_path / f"ndvi_2024-{m:02d}-15.tif", np.full((8, 8), m / 10, "float32"), transform=t)
    return tmp_path


def test_image_from_path_properties(tmp_path):
    p = write_tif(tmp_path / "scene_20240315.tif", np.stack([VALUES_3x3] * 3), descriptions=["red", "", "nir"])
    img = ee.Image(str(p))
    assert img.bandNames().getInfo() == ["red", "B2", "nir"]
    assert img.get("system:index").getInfo() == "scene_20240315"
    assert img.date().millis().getInfo() == millis("2024-03-15")
    assert img.date().format("yyyy-MM-dd").getInfo() == "2024-03-15"
    info = img.getInfo()
    assert info["type"] == "Image" and info["bands"][0]["id"] == "red"
    assert info["bands"][0]["crs"] == CRS and info["bands"][0]["dimensions"] == [3, 3]


def test_time_precedence_explicit_then_tag_then_name(tmp_path):
    p = write_tif(tmp_path / "x_2024-01-01.tif", VALUES_3x3, tags={"TIFFTAG_DATETIME": "2023:06:30 12:00:00"})
    assert ee.Image(str(p)).get("system:time_start").getInfo() == millis("2023-06-30T12:00:00")
    assert ee.Image(str(p), time="2020-02-02").get("system:time_start").getInfo() == millis("2020-02-02")
    q = write_tif(tmp_path / "y_2024001.tif", VALUES_3x3)
    assert ee.Image(str(q)).get("system:time_start").getInfo() == millis("2024-01-01")


def test_select_variants(tmp_path):
    p = write_tif(
        tmp_path / "s.tif", np.stack([VALUES_3x3 * k for k in (1, 2, 3, 4)]), descriptions=["B2", "B3", "B4", "B8"]
    )
    img = ee.Image(str(p))
    assert img.select("B4").bandNames().getInfo() == ["B4"]
    assert img.select(["B8", "B4"]).bandNames().getInfo() == ["B8", "B4"]
    assert img.select("B8", "B4").bandNames().getInfo() == ["B8", "B4"]
    assert img.select(["B4", "B8"], ["red", "nir"]).bandNames().getInfo() == ["red", "nir"]
    assert img.select("B[23]").bandNames().getInfo() == ["B2", "B3"]
    assert img.select(0, -1).bandNames().getInfo() == ["B2", "B8"]
    assert img.select(bandSelectors=["B3"], newNames=["g"]).bandNames().getInfo() == ["g"]
    with pytest.raises(BandError, match="did not match"):
        img.select("B9")
    with pytest.raises(BandError, match="one name per band"):
        img.select(["B4"], ["a", "b"])
    # selected bands read the right data
    out = img.select(["B8"], ["nir"]).reduceRegion(ee.Reducer.sum()).getInfo()
    assert out == {"nir": 45.0 * 4}


def test_rename_addbands_set_get(tmp_path):
    a = ee.Image(str(write_tif(tmp_path / "a.tif", VALUES_3x3)))
    b = ee.Image(str(write_tif(tmp_path / "b.tif", VALUES_3x3 * 2))).rename("two")
    img = a.rename(["one"]).addBands(b).set("k", 3).set({"m": "x"})
    assert img.bandNames().getInfo() == ["one", "two"]
    assert img.get("k").getInfo() == 3 and img.get("m").getInfo() == "x" and img.get("nope").getInfo() is None
    assert img.get("system:index").getInfo() == "a"  # properties of the first image
    # without overwrite a duplicate name gets Earth Engine's numerical suffix (algorithms.json, Image.addBands)
    assert img.addBands(b).addBands(b).bandNames().getInfo() == ["one", "two", "two_1", "two_2"]
    assert img.addBands(b).reduceRegion(ee.Reducer.sum()).getInfo()["two_1"] == 2 * VALUES_3x3.sum()
    assert img.addBands(b.multiply(1) if hasattr(b, "multiply") else b, overwrite=True).bandNames().getInfo() == [
        "one",
        "two",
    ]
    assert img.reduceRegion(ee.Reducer.mean()).getInfo() == {"one": 5.0, "two": 10.0}


def test_image_from_dataarray_and_constant():
    arr = xr.DataArray(VALUES_3x3, dims=("y", "x")).rio.write_transform(TRANSFORM_3x3).rio.write_crs(CRS)
    arr = arr.assign_coords(x=TRANSFORM_3x3.c + 0.5 + np.arange(3), y=TRANSFORM_3x3.f - 0.5 - np.arange(3))
    img = ee.Image(arr)
    fc = ee.FeatureCollection(gpd.GeoDataFrame(geometry=[SQUARE], crs=CRS))
    [f] = img.reduceRegions(fc, ee.Reducer.mean()).getInfo()["features"]
    assert f["properties"]["mean"] == 5.0
    with pytest.raises(CRSError, match="write_crs"):
        ee.Image(xr.DataArray(VALUES_3x3, dims=("y", "x")))
    # a constant has no grid of its own: it is evaluated on the one the reduction names
    out = ee.Image(7).reduceRegion(ee.Reducer.mean(), ee.Geometry(SQUARE, proj=CRS), scale=1, crs=CRS).getInfo()
    assert out == {"constant": 7.0}


def test_collection_sources(monthly):
    paths = sorted(str(p) for p in monthly.glob("*.tif"))
    by_glob = ee.ImageCollection(str(monthly / "ndvi_*.tif"))
    by_dir = ee.ImageCollection(str(monthly))
    by_list = ee.ImageCollection(paths)
    by_images = ee.ImageCollection([ee.Image(p) for p in paths])
    for ic in (by_glob, by_dir, by_list, by_images):
        assert ic.size().getInfo() == 6
        assert ic.aggregate_array("system:index").getInfo()[0] == "ndvi_2024-01-15"
    with pytest.raises(InputFileError, match="matched no file"):
        ee.ImageCollection(str(monthly / "nothing_*.tif"))
    info = by_glob.limit(1).getInfo()
    assert info["type"] == "ImageCollection" and len(info["features"]) == 1


def test_collection_methods(monthly):
    ic = ee.ImageCollection(str(monthly / "*.tif"))
    assert ic.filterDate("2024-02-15", "2024-04-15").size().getInfo() == 2  # end exclusive
    assert ic.filter(ee.Filter.calendarRange(5, 6, "month")).size().getInfo() == 2
    ic2 = ic.map(lambda i: i.set("month", i.date().get("month")))
    assert ic2.filterMetadata("month", "greater_than", 4).size().getInfo() == 2
    assert ic2.filter(ee.Filter.eq("month", 3)).first().get("system:index").getInfo() == "ndvi_2024-03-15"
    assert ic.sort("system:time_start", False).first().get("system:index").getInfo() == "ndvi_2024-06-15"
    assert ic.limit(2, "system:time_start", False).aggregate_array("system:index").getInfo() == [
        "ndvi_2024-06-15",
        "ndvi_2024-05-15",
    ]
    assert ic.merge(ic.limit(1)).size().getInfo() == 7
    assert len(ic.toList(3, 1).getInfo()) == 3
    inside = ee.Geometry.Point([600040, 4999960], proj="EPSG:32633")
    far = ee.Geometry.Point([10, 10])
    assert ic.filterBounds(inside).size().getInfo() == 6
    assert ic.filterBounds(far).size().getInfo() == 0
    fields = ee.FeatureCollection(gpd.GeoDataFrame(geometry=[shapely.box(600000, 4999950, 600030, 4999990)], crs=32633))
    assert ic.filterBounds(fields).size().getInfo() == 6
    assert ic.select("B1").first().bandNames().getInfo() == ["B1"]


def test_collection_from_xarray_and_to_xarray():
    times = np.array(["2024-01-01", "2024-02-01", "2024-03-01"], dtype="datetime64[ns]")
    data = np.stack([VALUES_3x3 * k for k in (1, 2, 3)])
    arr = xr.DataArray(
        data,
        dims=("time", "y", "x"),
        coords={"time": times, "x": TRANSFORM_3x3.c + 0.5 + np.arange(3), "y": TRANSFORM_3x3.f - 0.5 - np.arange(3)},
        name="ndvi",
    ).rio.write_crs(CRS)
    ic = ee.ImageCollection(arr)
    assert ic.size().getInfo() == 3
    assert ic.filterDate("2024-02-01", "2024-03-01").size().getInfo() == 1
    fc = ee.FeatureCollection(
        gpd.GeoDataFrame({"name": ["sq", "out"]}, geometry=[SQUARE, shapely.box(0, 0, 1, 1)], crs=CRS)
    )
    res = ic.reduceRegions(fc, ee.Reducer.mean().combine(ee.Reducer.count(), sharedInputs=True))
    ds = res.to_xarray()
    assert ds["mean"].dims == ("geometry", "time")
    assert ds["system:index"].values.tolist() == ["0", "1"] and ds["name"].values.tolist() == ["sq", "out"]
    np.testing.assert_allclose(ds["mean"].isel(geometry=0).values, [5.0, 10.0, 15.0])
    assert np.isnan(ds["mean"].isel(geometry=1).values).all()
    assert ds["count"].isel(geometry=1).values.tolist() == [0, 0, 0]
    assert list(ds["time"].values) == list(times)
    df = res.to_pandas()
    assert len(df) == 6 and set(df.columns) >= {"name", "mean", "count", "system:time_start", "image_id"}


def test_geographic_raster_evaluated_on_another_grid(tmp_path):
    # a lon/lat raster of 4x4 pixels of 0.01 degrees; at scale 2226 m (0.02 degrees) nearest takes every other pixel
    t = Affine(0.01, 0, 10.0, 0, -0.01, 50.0)
    data = np.arange(16, dtype="float32").reshape(4, 4)
    img = ee.Image(str(write_tif(tmp_path / "geo.tif", data, transform=t, crs="EPSG:4326")))
    native = img.reduceRegion(ee.Reducer.sum()).getInfo()
    assert native == {"B1": float(data.sum())}
    coarse = img.reduceRegion(ee.Reducer.count(), scale=0.02 * 111319.49079327357).getInfo()
    assert coarse == {"B1": 4}
