"""Building, filtering and mapping expressions reads no pixel; getInfo reads only touched blocks."""

from __future__ import annotations

import dask
import geopandas as gpd
import numpy as np
import pytest
import shapely
from affine import Affine

import reducer as ee
from reducer.sources import READ_COUNTER
from tests.common import write_tif

CRS = "EPSG:32633"


class ComputeCounter(dask.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.tasks = 0

    def _start(self, dsk):
        self.tasks += 1


@pytest.fixture
def stack(tmp_path):
    t = Affine(10, 0, 600000, 0, -10, 5000000)
    paths = []
    for m in range(1, 5):
        data = np.full((256, 256), m, "float32")
        paths.append(write_tif(tmp_path / f"s_2024-0{m}-01.tif", data, transform=t, tiled=True, blocksize=64))
    return paths


def test_building_reads_no_pixels(stack):
    READ_COUNTER.reset()
    with ComputeCounter() as cc:
        fields = ee.FeatureCollection(
            gpd.GeoDataFrame(geometry=[shapely.box(600010, 4999000, 600300, 4999900)], crs=CRS)
        )
        ic = (
            ee.ImageCollection([str(p) for p in stack])
            .filterDate("2024-02-01", "2024-05-01")
            .filterBounds(fields)
            .map(lambda i: i.set("doy", 1))
            .select("B1")
            .sort("system:time_start", False)
            .limit(2)
        )
        result = ic.reduceRegions(fields, ee.Reducer.mean().combine(ee.Reducer.max(), sharedInputs=True), scale=10)
        assert ic.size().getInfo() == 2
    assert READ_COUNTER.reads == 0
    assert cc.tasks == 0
    info = result.getInfo()
    assert [f["properties"]["mean"] for f in info["features"]] == [4.0, 3.0]
    assert READ_COUNTER.reads > 0


def test_reads_only_touched_blocks(tmp_path):
    # 256-px file tiles are read in blocks of ~1024 px: a small field in one corner reads one block of four,
    # and of that block only the file tile the field is in
    t = Affine(10, 0, 600000, 0, -10, 5000000)
    path = write_tif(tmp_path / "big.tif", np.ones((2048, 2048), "float32"), transform=t, tiled=True, blocksize=256)
    img = ee.Image(str(path))
    small = gpd.GeoDataFrame(geometry=[shapely.box(600005, 4999985, 600015, 4999995)], crs=CRS)
    READ_COUNTER.reset()
    img.reduceRegions(ee.FeatureCollection(small), ee.Reducer.mean()).getInfo()
    assert READ_COUNTER.reads == 1
    assert READ_COUNTER.pixels == 256 * 256 and READ_COUNTER.tiles == 1
