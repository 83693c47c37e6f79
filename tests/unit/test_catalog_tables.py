"""The named catalog maps table ids to vector files, and 'COLL/ID/member' to one image of a mapped collection."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely

import reducer as ee
from reducer.errors import ArgumentError, CatalogError
from tests.common import CRS, ORIGIN, VALUES_3x3, write_tif


@pytest.fixture
def catalog(tmp_path):
    (tmp_path / "modis").mkdir()
    for k, day in enumerate(("001", "017")):
        write_tif(tmp_path / "modis" / f"MOD13Q1.A2024{day}.h25v08.061.tif", VALUES_3x3 * (k + 1))
    gdf = gpd.GeoDataFrame(
        {"NAME": ["a", "b"]},
        geometry=[shapely.box(ORIGIN[0], ORIGIN[1] - 2, ORIGIN[0] + 2, ORIGIN[1]), shapely.box(*ORIGIN, *ORIGIN)],
        crs=CRS,
    )
    gdf.to_file(tmp_path / "states.gpkg", layer="states")
    cat = tmp_path / "catalog.toml"
    cat.write_text(
        '["MODIS/061/MOD13Q1"]\nglob = "modis/*.tif"\nbands = ["NDVI"]\n\n'
        '["TIGER/2018/States"]\ntable = "states.gpkg"\nlayer = "states"\n'
    )
    ee.set_catalog(str(cat))
    yield tmp_path
    ee.set_catalog(None)


def test_table_ids_map_to_vector_files(catalog):
    states = ee.FeatureCollection("TIGER/2018/States")
    assert states.aggregate_array("NAME").getInfo() == ["a", "b"]
    img = ee.ImageCollection("MODIS/061/MOD13Q1").first()
    got = img.reduceRegions(states.filter('NAME == "a"'), ee.Reducer.sum(), 1).getInfo()["features"]
    assert got[0]["properties"]["sum"] == pytest.approx(float(VALUES_3x3[:2, :2].sum()))
    with pytest.raises(ArgumentError, match="use ee.FeatureCollection"):
        ee.ImageCollection("TIGER/2018/States")
    with pytest.raises(ArgumentError, match="use ee.ImageCollection"):
        ee.FeatureCollection("MODIS/061/MOD13Q1")
    with pytest.raises(CatalogError, match=r'table = "/path/to/features.gpkg"'):
        ee.FeatureCollection("TIGER/2020/Counties")


def test_collection_member_ids(catalog):
    img = ee.Image("MODIS/061/MOD13Q1/MOD13Q1.A2024017.h25v08.061")
    assert img.get("system:id").getInfo() == "MODIS/061/MOD13Q1/MOD13Q1.A2024017.h25v08.061"
    region = ee.Geometry(shapely.box(ORIGIN[0], ORIGIN[1] - 3, ORIGIN[0] + 3, ORIGIN[1]), CRS)
    assert img.reduceRegion(ee.Reducer.max(), region, 1).getInfo() == {"NDVI": float(np.max(VALUES_3x3 * 2))}
    with pytest.raises(CatalogError, match="has no image 'nope'"):
        ee.Image("MODIS/061/MOD13Q1/nope")
