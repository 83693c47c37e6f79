"""Ported snippets: computed values wherever Earth Engine takes them (API-doc and guide style).

Every argument may be a computed object in Earth Engine; these are the forms scripts use, run as
written on GeoTIFFs written here, with numbers checked against numpy.
"""

from __future__ import annotations

import numpy as np
import pytest

import reducer as ee
from tests.common import CRS, ORIGIN, VALUES_3x3, write_tif


@pytest.fixture
def col(tmp_path):
    for k in range(3):
        write_tif(
            tmp_path / f"scene_2024-01-0{k + 1}.tif",
            np.stack([VALUES_3x3 + k, VALUES_3x3 * 10]),
            descriptions=["red", "nir"],
        )
    return ee.ImageCollection(str(tmp_path / "scene_*.tif"))


CENTRE = ee.Geometry.Point([ORIGIN[0] + 1.5, ORIGIN[1] - 1.5], CRS)  # the pixel of value 5


def test_to_list_with_computed_size(col):
    images = col.toList(col.size())
    assert images.size().getInfo() == 3
    second = ee.Image(images.get(1))
    assert second.get("system:index").getInfo() == "scene_2024-01-02"
    value = second.reduceRegion(ee.Reducer.first(), CENTRE, 1).getInfo()
    assert value == {"nir": float(VALUES_3x3[1, 1] * 10), "red": float(VALUES_3x3[1, 1] + 1)}


def test_scale_from_projection_and_reducer_by_name(col):
    img = col.first()
    out = img.reduceRegion(reducer="mean", geometry=None, scale=img.projection().nominalScale())
    assert out.getInfo() == {"nir": float((VALUES_3x3 * 10).mean()), "red": float(VALUES_3x3.mean())}
    assert img.reduceRegion("first", CENTRE, 1).getInfo()["red"] == float(VALUES_3x3[1, 1])
    fc = ee.FeatureCollection([ee.Feature(CENTRE, {"k": 1})])
    props = img.reduceRegions(fc, "max", 1).first().toDictionary().getInfo()
    assert props == {"k": 1, "nir": float(VALUES_3x3[1, 1] * 10), "red": float(VALUES_3x3[1, 1])}


def test_lists_and_property_names_as_arguments(col):
    img = col.first().set({"cloud": 12, "sensor": "x"})
    assert img.toDictionary(ee.List(["cloud", "sensor"])).getInfo() == {"cloud": 12, "sensor": "x"}
    copy = ee.Image(1).copyProperties(img, img.propertyNames())
    assert copy.get("cloud").getInfo() == 12 and copy.get("system:index").getInfo() == "scene_2024-01-01"
    renamed = img.select(ee.List(["nir", "red"]), ee.List(["NIR", "RED"]))
    assert renamed.bandNames().getInfo() == ["NIR", "RED"]
    sums = renamed.reduceRegion(ee.Reducer.sum(), None, 1).getInfo()
    assert sums == {"NIR": float((VALUES_3x3 * 10).sum()), "RED": float(VALUES_3x3.sum())}


def test_images_from_computed_objects(col):
    three = ee.Image(ee.Number(3))
    assert three.bandNames().getInfo() == ["constant"]
    assert three.reduceRegion(ee.Reducer.first(), CENTRE, 1, CRS).getInfo() == {"constant": 3}
    first = col.first()
    holder = ee.Image(0).set("match", first)  # an image stored in a property, as joins store them
    back = ee.Image(holder.get("match"))
    assert back.bandNames().getInfo() == ["red", "nir"]
    assert back.reduceRegion(ee.Reducer.max(), None, 1).getInfo()["red"] == float(VALUES_3x3.max())
    both = ee.Image([first.select("red"), ee.Image(2)])
    assert both.bandNames().getInfo() == ["red", "constant"]
    added = ee.Image(1).addBands([first.select("red"), first.select("nir")])
    assert added.bandNames().getInfo() == ["constant", "red", "nir"]
    means = added.reduceRegion(ee.Reducer.mean(), None, 1).getInfo()
    assert means == {"constant": 1.0, "nir": float((VALUES_3x3 * 10).mean()), "red": float(VALUES_3x3.mean())}


def test_earth_engine_keyword_names():
    f = ee.Feature(geom=None, opt_properties={"a": 1})
    assert f.getInfo() == {"type": "Feature", "geometry": None, "properties": {"a": 1}}
    g = ee.Feature(geometry=ee.Geometry.Point([1, 2]), metadata={"b": 2})
    assert g.get("b").getInfo() == 2 and g.geometry().coordinates().getInfo() == [1, 2]
    with pytest.raises(ee.errors.ArgumentError, match="Unrecognized arguments"):
        ee.Feature(geometri=None)
    fc = ee.FeatureCollection(args=[f, g])
    assert fc.size().getInfo() == 2


def test_computed_arguments_stay_lazy_in_lazy_calls(col):
    # a Feature built from a reduceRegion result reads no pixel until it is evaluated
    import reducer.regions

    calls = []
    real = reducer.regions.reduce_images

    def counting(*args):
        calls.append(1)
        return real(*args)

    reducer.regions.reduce_images = counting
    try:
        f = ee.Feature(CENTRE, col.first().reduceRegion(ee.Reducer.first(), CENTRE, 1))
        assert calls == []
        assert f.get("red").getInfo() == float(VALUES_3x3[1, 1]) and calls == [1]
    finally:
        reducer.regions.reduce_images = real
