"""Named collections: Earth Engine ids mapped to local sources by a TOML (or YAML) catalog file."""

from __future__ import annotations

import os

import numpy as np
import pytest
import rioxarray  # noqa: F401  (registers .rio)
import xarray as xr

import reducer as ee
from reducer.errors import ArgumentError, CatalogError, InputFileError
from reducer.sources.catalog import get_catalog, looks_like_id
from tests.common import CRS, TRANSFORM_3x3, VALUES_3x3, write_tif

POINT = ee.FeatureCollection([ee.Feature(ee.Geometry.Point([500001.5, 4000001.5], proj=CRS))])  # the 5 of 1..9


@pytest.fixture(autouse=True)
def no_catalog(monkeypatch):
    monkeypatch.delenv("REDUCER_CATALOG", raising=False)
    ee.set_catalog(None)
    yield
    ee.set_catalog(None)


@pytest.fixture
def files(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    for k, name in enumerate(["MOD13Q1.A2024001.tif", "MOD13Q1.A2024017.tif", "MOD13Q1.A2024033.tif"]):
        write_tif(data / name, VALUES_3x3 * (k + 1))
    write_tif(data / "dem.tif", VALUES_3x3 * 100)
    write_tif(data / "scene_x.tif", VALUES_3x3)
    return tmp_path


def write(path, text):
    path.write_text(text)
    return path


def test_unmapped_ids_show_how_to_map_them(files):
    with pytest.raises(CatalogError) as info:
        ee.ImageCollection("COPERNICUS/S2_SR_HARMONIZED")
    msg = str(info.value)
    assert '["COPERNICUS/S2_SR_HARMONIZED"]' in msg and "stac = " in msg and "REDUCER_CATALOG" in msg
    assert isinstance(info.value, KeyError) and isinstance(info.value, ee.ReducerError)
    with pytest.raises(CatalogError) as info:
        ee.Image("USGS/SRTMGL1_003")
    assert '["USGS/SRTMGL1_003"]' in str(info.value) and 'path = "' in str(info.value)
    # with a catalog in use, the message names it and what it maps
    cat = write(files / "catalog.toml", '["USGS/SRTMGL1_003"]\npath = "data/dem.tif"\n')
    ee.set_catalog(cat)
    with pytest.raises(CatalogError, match=r"maps \['USGS/SRTMGL1_003'\]"):
        ee.ImageCollection("NASA/NASADEM_HGT/001")
    # a missing file is still a missing file, not an id
    with pytest.raises(InputFileError, match="does not exist"):
        ee.Image(str(files / "nope.tif"))


def test_catalog_entries(files, monkeypatch):
    cat = write(
        files / "catalog.toml",
        """
["USGS/SRTMGL1_003"]
path = "data/dem.tif"          # relative to this file
bands = ["elevation"]

["MODIS/061/MOD13Q1"]
glob = "data/MOD13Q1.*.tif"
date_regex = 'A(\\d{7})'
date_format = "yyyyDDD"
bands = ["NDVI"]

["TEST/DATED"]
path = "data/scene_x.tif"
date = "2024-03-01"
""",
    )
    monkeypatch.setenv("REDUCER_CATALOG", str(cat))
    assert get_catalog().ids() == ["MODIS/061/MOD13Q1", "TEST/DATED", "USGS/SRTMGL1_003"]
    dem = ee.Image("USGS/SRTMGL1_003")
    assert dem.bandNames().getInfo() == ["elevation"]
    assert dem.get("system:id").getInfo() == "USGS/SRTMGL1_003"
    assert dem.reduceRegion(ee.Reducer.mean()).getInfo() == {"elevation": 500.0}
    modis = ee.ImageCollection("MODIS/061/MOD13Q1")
    assert modis.size().getInfo() == 3
    assert modis.first().bandNames().getInfo() == ["NDVI"]
    assert modis.aggregate_array("system:id").getInfo()[0] == "MODIS/061/MOD13Q1/MOD13Q1.A2024001"
    dates = [ee.Date(t).format("yyyy-MM-dd").getInfo() for t in modis.aggregate_array("system:time_start").getInfo()]
    assert dates == ["2024-01-01", "2024-01-17", "2024-02-02"]
    assert modis.filterDate("2024-01-10", "2024-02-01").size().getInfo() == 1
    out = modis.reduceRegions(POINT, ee.Reducer.mean()).getInfo()
    assert [f["properties"]["mean"] for f in out["features"]] == [5.0, 10.0, 15.0]
    assert ee.Image("TEST/DATED").date().format("yyyy-MM-dd").getInfo() == "2024-03-01"
    with pytest.raises(ArgumentError, match="3 images"):
        ee.Image("MODIS/061/MOD13Q1")
    # set_catalog wins over the environment variable
    other = write(files / "other.toml", '["MODIS/061/MOD13Q1"]\npath = "data/dem.tif"\n')
    ee.set_catalog(other)
    assert ee.ImageCollection("MODIS/061/MOD13Q1").size().getInfo() == 1
    ee.set_catalog(None)
    assert ee.ImageCollection("MODIS/061/MOD13Q1").size().getInfo() == 3


def test_catalog_cube_and_edits_are_picked_up(files):
    times = np.array(["2024-01-01", "2024-02-01"], dtype="datetime64[ns]")
    ds = xr.Dataset(
        {"t2m": (("time", "y", "x"), np.stack([VALUES_3x3, VALUES_3x3 + 1]))},
        coords={
            "time": times,
            "x": TRANSFORM_3x3.c + 0.5 + np.arange(3),
            "y": TRANSFORM_3x3.f - 0.5 - np.arange(3),
        },
    ).rio.write_crs(CRS)
    ds.to_zarr(files / "era5.zarr", consolidated=False)
    cat = write(files / "catalog.toml", '["ECMWF/ERA5"]\ncube = "era5.zarr"\nbands = ["t2m"]\n')
    ee.set_catalog(cat)
    ic = ee.ImageCollection("ECMWF/ERA5")
    assert ic.size().getInfo() == 2
    assert ic.first().bandNames().getInfo() == ["t2m"]
    out = ic.reduceRegions(POINT, ee.Reducer.mean())
    assert [f["properties"]["mean"] for f in out.getInfo()["features"]] == [5.0, 6.0]
    # the file is re-read when it changes
    write(cat, '["ECMWF/ERA5"]\ncube = "era5.zarr"\n\n["X/Y"]\npath = "data/dem.tif"\n')
    os.utime(cat, ns=(os.stat(cat).st_atime_ns, os.stat(cat).st_mtime_ns + 10**9))
    assert ee.Image("X/Y").bandNames().getInfo() == ["B1"]


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("[COPERNICUS/S2]\npath = 'a.tif'\n", "not valid TOML"),
        ('["A/B"]\npath = "a.tif"\nglob = "*.tif"\n', "exactly one of"),
        ('["A/B"]\nstac = "a.json"\ncloud = 3\n', "unknown key"),
        ('"A/B" = 3\n', "must be a table"),
    ],
)
def test_bad_catalogs(files, text, match):
    with pytest.raises(CatalogError, match=match):
        ee.set_catalog(write(files / "bad.toml", text))


def test_missing_catalog_file(files, monkeypatch):
    with pytest.raises(InputFileError, match="does not exist"):
        ee.set_catalog(files / "missing.toml")
    monkeypatch.setenv("REDUCER_CATALOG", str(files / "missing.toml"))
    with pytest.raises(InputFileError, match="REDUCER_CATALOG"):
        ee.ImageCollection("COPERNICUS/S2")
    # paths keep working whatever the catalog
    assert ee.ImageCollection(str(files / "data" / "MOD*.tif")).size().getInfo() == 3


def test_yaml_catalog(files):
    pytest.importorskip("yaml")
    cat = write(files / "catalog.yaml", '"USGS/SRTMGL1_003":\n  path: data/dem.tif\n  bands: [elevation]\n')
    ee.set_catalog(cat)
    assert ee.Image("USGS/SRTMGL1_003").bandNames().getInfo() == ["elevation"]


def test_looks_like_id():
    assert looks_like_id("COPERNICUS/S2_SR_HARMONIZED")
    assert looks_like_id("projects/sat-io/open-datasets/ESA/ESA_WorldCover_v100")
    assert not looks_like_id("data/x.tif") and not looks_like_id("/abs/path") and not looks_like_id("s2/*")
