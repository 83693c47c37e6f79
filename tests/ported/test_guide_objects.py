"""Ported snippets: Earth Engine's object model in guide style (ee.List, ee.Dictionary, ee.DateRange,
ee.Algorithms.If, ee.data), run as written against local files, checked against plain Python/numpy."""

from __future__ import annotations

import random

import numpy as np
import pytest

import reducer as ee
from tests.common import VALUES_3x3, write_tif


@pytest.fixture
def catalog(tmp_path):
    for d in (1, 2, 3):
        write_tif(tmp_path / f"scene_2024-01-0{d}.tif", VALUES_3x3 * d)
    write_tif(tmp_path / "dem.tif", VALUES_3x3 + 100)
    cat = tmp_path / "catalog.toml"
    cat.write_text('["LOCAL/SCENES"]\nglob = "scene_*.tif"\n\n["LOCAL/DEM"]\npath = "dem.tif"\nbands = ["elevation"]\n')
    ee.set_catalog(str(cat))
    yield tmp_path
    ee.set_catalog(None)


def test_list_methods_against_python():
    rng = random.Random(3)
    values = [rng.randint(0, 9) for _ in range(12)]
    lst = ee.List(values)
    assert lst.reduce(ee.Reducer.sum()).getInfo() == sum(values)
    assert lst.reduce(ee.Reducer.mean()).getInfo() == pytest.approx(np.mean(values))
    assert lst.reduce(ee.Reducer.minMax()).getInfo() == {"max": max(values), "min": min(values)}
    assert lst.iterate(lambda x, acc: ee.Number(acc).multiply(2).add(x), 0).getInfo() == _fold(values)
    assert lst.frequency(values[0]).getInfo() == values.count(values[0])
    assert lst.rotate(5).getInfo() == values[-5:] + values[:-5]
    assert lst.insert(-1, "x").getInfo() == values[:-1] + ["x"] + values[-1:]
    assert lst.set(2, "y").getInfo() == values[:2] + ["y"] + values[3:]
    assert lst.swap(0, -1).getInfo() == [values[-1], *values[1:-1], values[0]]
    assert lst.splice(2, 3, ["a", "b"]).getInfo() == values[:2] + ["a", "b"] + values[5:]
    assert lst.removeAll([values[0], values[1]]).getInfo() == [v for v in values if v not in values[:2]]
    assert lst.remove(values[3]).getInfo() == values[: values.index(values[3])] + values[values.index(values[3]) + 1 :]
    assert lst.containsAll(values[:4]).getInfo() is True and lst.containsAll([99]).getInfo() is False
    assert lst.equals(values).getInfo() is True and lst.equals(values[::-1]).getInfo() is (values == values[::-1])
    assert sorted(lst.shuffle(7).getInfo()) == sorted(values) and lst.shuffle(7).getInfo() == lst.shuffle(7).getInfo()
    pairs = ee.List([[i, str(i), i * i] for i in range(4)])
    assert pairs.unzip().getInfo() == [list(range(4)), [str(i) for i in range(4)], [i * i for i in range(4)]]
    assert ee.List.sequence(1, 10, 3).zip(ee.List.repeat("a", 2)).getInfo() == [[1, "a"], [4, "a"]]


def _fold(values):
    acc = 0
    for v in values:
        acc = acc * 2 + v
    return acc


def test_dictionary_select_rename_and_combine_after_empty_reduction():
    d = ee.Dictionary({"B4": 0.1, "B8": 0.5, "QA": 3})
    assert d.select(["B.*"]).getInfo() == {"B4": 0.1, "B8": 0.5}
    assert d.rename(["B4", "B8"], ["red", "nir"]).getInfo() == {"QA": 3, "nir": 0.5, "red": 0.1}
    empty = ee.Dictionary({"B4": None, "B8": None})  # reduceRegion over no valid pixel
    assert empty.combine({"n": 0}).rename(["B4"], ["red"]).getInfo() == {"B8": None, "n": 0, "red": None}


def test_date_range_and_if(catalog):
    col = ee.ImageCollection("LOCAL/SCENES")
    jan = ee.DateRange("2024-01-01", "2024-01-03")
    assert col.filterDate(jan).size().getInfo() == 2
    assert jan.contains(ee.Date("2024-01-02")).getInfo() is True
    assert jan.contains(ee.DateRange("2024-01-02", "2024-01-04")).getInfo() is False
    assert jan.intersection(ee.DateRange("2024-01-02", "2024-02-01")).getInfo()["dates"] == [
        ee.Date("2024-01-02").millis().getInfo(),
        ee.Date("2024-01-03").millis().getInfo(),
    ]
    assert ee.DateRange.unbounded().contains("1900-01-01").getInfo() is True

    def composite(c):
        return ee.Image(ee.Algorithms.If(c.size().gt(0), c.mean(), ee.Image(0)))

    mean = composite(col.filterDate(jan)).reduceRegion(ee.Reducer.mean(), None, 1).getInfo()
    assert mean == {"B1": pytest.approx(float((VALUES_3x3 * 1.5).mean()))}
    empty = col.filterDate("2030-01-01", "2030-02-01")
    assert composite(empty).bandNames().getInfo() == ["constant"]
    assert ee.Number(ee.Algorithms.If(empty.size(), 1, 2)).getInfo() == 2


def test_data_get_asset_and_compute_value(catalog):
    info = ee.data.getAsset("LOCAL/SCENES")
    assert info["type"] == "IMAGE_COLLECTION" and info["id"] == "LOCAL/SCENES" and info["size"] == 3
    assert info["startTime"] == "2024-01-01T00:00:00.000Z" and info["endTime"] == "2024-01-03T00:00:00.000Z"
    dem = ee.data.getAsset("projects/earthengine-public/assets/LOCAL/DEM")
    assert dem["type"] == "IMAGE" and [b["id"] for b in dem["bands"]] == ["elevation"]
    assert ee.data.getInfo("LOCAL/NOTHING") is None
    with pytest.raises(ee.errors.CatalogError):
        ee.data.getAsset("LOCAL/NOTHING")
    total = ee.Image("LOCAL/DEM").reduceRegion(ee.Reducer.sum(), None, 1)
    assert ee.data.computeValue(total) == {"elevation": float((VALUES_3x3 + 100).sum())}
