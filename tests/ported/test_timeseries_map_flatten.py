"""Ported script: a per-field time series with ``images.map(lambda img: img.reduceRegions(...)).flatten()``.

The Earth Engine tutorial form, run as written (only the import and the data paths changed): monthly
images, fields from a GeoPackage, one mean per (month, field). Numbers are checked against numpy on
the arrays written, ids against Earth Engine's ``<image index>_<feature id>`` rule.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
from affine import Affine

import reducer as ee
import reducer.regions
from tests.common import CRS, write_tif

X0, Y0 = 600000.0, 5000000.0
T = Affine(10, 0, X0, 0, -10, Y0)


def _month(m: int) -> np.ndarray:
    rng = np.random.default_rng(m)
    return rng.uniform(0, 1, (12, 12)).astype("float32")


@pytest.fixture
def data(tmp_path):
    for m in (1, 2, 3):
        write_tif(tmp_path / f"ndvi_2024-{m:02d}-15.tif", _month(m), transform=T, crs=CRS)
    # fields aligned on whole pixels: rows r0:r1, columns c0:c1
    cells = {"a": (0, 3, 0, 4), "b": (5, 9, 2, 6), "c": (8, 12, 8, 12)}
    geoms = [shapely.box(X0 + 10 * c0, Y0 - 10 * r1, X0 + 10 * c1, Y0 - 10 * r0) for r0, r1, c0, c1 in cells.values()]
    gdf = gpd.GeoDataFrame({"name": list(cells)}, geometry=geoms, crs=CRS)
    gdf.to_file(tmp_path / "fields.gpkg")
    return tmp_path, cells


def _oracle(cells):
    out = {}
    for m in (1, 2, 3):
        arr = _month(m).astype("float64")
        for fid, (r0, r1, c0, c1) in enumerate(cells.values()):
            out[(f"ndvi_2024-{m:02d}-15", str(fid))] = arr[r0:r1, c0:c1].mean()
    return out


def _count_reductions(monkeypatch):
    calls = []
    real = reducer.regions.reduce_images

    def counting(request, geoms, crs):
        calls.append(len(request.images))
        return real(request, geoms, crs)

    monkeypatch.setattr(reducer.regions, "reduce_images", counting)
    return calls


def test_map_reduce_regions_flatten(data, monkeypatch):
    folder, cells = data
    calls = _count_reductions(monkeypatch)

    # --- the script ---
    images = ee.ImageCollection(str(folder / "ndvi_*.tif"))
    fields = ee.FeatureCollection(str(folder / "fields.gpkg"))

    def per_image(img):
        return img.reduceRegions(collection=fields, reducer=ee.Reducer.mean(), scale=10)

    series = images.map(per_image).flatten()
    info = series.getInfo()
    # --- end of the script ---

    assert calls == [3]  # one reduction over the three images: features and weights once
    oracle = _oracle(cells)
    got = {f["id"]: f["properties"] for f in info["features"]}
    assert list(got) == [f"{img}_{fid}" for img, fid in oracle]  # image-major, as flatten orders them
    for (img, fid), mean in oracle.items():
        props = got[f"{img}_{fid}"]
        assert props["mean"] == pytest.approx(mean, rel=1e-6)
        assert props["name"] == list(cells)[int(fid)]
        assert set(props) == {"mean", "name"}  # the features' own properties, nothing added

    # the same numbers as ImageCollection.reduceRegions, which adds system:time_start and image_id
    direct = images.reduceRegions(fields, ee.Reducer.mean(), 10).getInfo()
    assert [f["id"] for f in direct["features"]] == list(got)
    assert [f["properties"]["mean"] for f in direct["features"]] == [p["mean"] for p in got.values()]


def test_map_then_feature_map_is_still_one_reduction(data, monkeypatch):
    folder, cells = data
    calls = _count_reductions(monkeypatch)

    images = ee.ImageCollection(str(folder / "ndvi_*.tif"))
    fields = ee.FeatureCollection(str(folder / "fields.gpkg"))

    def per_image(img):
        stats = img.reduceRegions(fields, ee.Reducer.mean(), 10)
        return stats.map(lambda f: f.set("date", img.date().format("YYYY-MM-dd")))

    table = images.map(per_image).flatten().to_pandas()

    assert calls == [3]
    oracle = _oracle(cells)
    assert table["mean"].to_numpy() == pytest.approx(np.array(list(oracle.values())), rel=1e-6)
    assert table["date"].tolist() == [f"2024-{m:02d}-15" for m in (1, 2, 3) for _ in cells]


def test_map_to_features_with_reduce_region(data):
    folder, cells = data
    images = ee.ImageCollection(str(folder / "ndvi_*.tif"))
    point = ee.Geometry.Point([X0 + 35, Y0 - 55], CRS)  # row 5, column 3

    def sample(img):
        value = img.reduceRegion(ee.Reducer.first(), point, 10)
        return ee.Feature(point, value).set("millis", img.date().millis())

    fc = images.map(sample)
    assert isinstance(fc, ee.FeatureCollection)
    info = fc.getInfo()
    assert [f["id"] for f in info["features"]] == [f"ndvi_2024-{m:02d}-15" for m in (1, 2, 3)]
    assert [f["properties"]["B1"] for f in info["features"]] == pytest.approx(
        [float(_month(m)[5, 3]) for m in (1, 2, 3)], rel=1e-6
    )
    assert fc.aggregate_array("millis").getInfo() == [ee.Date(f"2024-{m:02d}-15").millis().getInfo() for m in (1, 2, 3)]


def test_map_keeps_system_index_of_each_image(data):
    folder, _ = data
    images = ee.ImageCollection(str(folder / "ndvi_*.tif"))
    scaled = images.map(lambda i: i.multiply(0.1).copyProperties(i, ["system:time_start"]))
    assert scaled.aggregate_array("system:index").getInfo() == images.aggregate_array("system:index").getInfo()
    first = scaled.first().reduceRegion(ee.Reducer.first(), ee.Geometry.Point([X0 + 5, Y0 - 5], CRS), 10)
    assert first.getInfo()["B1"] == pytest.approx(float(_month(1)[0, 0]) * 0.1, rel=1e-6)


def test_map_mixed_results_are_refused(data):
    folder, _ = data
    images = ee.ImageCollection(str(folder / "ndvi_*.tif"))
    first = images.first().get("system:index").getInfo()
    with pytest.raises(ee.errors.ArgumentError, match="mix of"):
        images.map(lambda i: i if i.get("system:index").getInfo() == first else ee.Feature(None))
    with pytest.raises(ee.errors.ArgumentError, match="must return an ee.Image"):
        images.map(lambda i: 3)


def test_map_to_features_is_one_reduction_with_weights_once(data, monkeypatch):
    folder, cells = data
    calls = _count_reductions(monkeypatch)

    # --- the script: a mean per image over a field, as features ---
    images = ee.ImageCollection(str(folder / "ndvi_*.tif"))
    r0, r1, c0, c1 = cells["b"]
    box = [X0 + 10 * c0, Y0 - 10 * r1, X0 + 10 * c1, Y0 - 10 * r0]

    def per_image(img):  # a new geometry and reducer in each call, as scripts often write them
        field = ee.Geometry.Rectangle(box, CRS, False)
        return ee.Feature(None, img.reduceRegion(reducer=ee.Reducer.mean(), geometry=field, scale=10)).set(
            "date", img.date().format("YYYY-MM-dd")
        )

    table = images.map(per_image).getInfo()
    # --- end of the script ---

    assert calls == [3]  # the three reduceRegion calls ran as one reduction over the three images
    expected = [_month(m).astype("float64")[r0:r1, c0:c1].mean() for m in (1, 2, 3)]
    assert [f["properties"]["B1"] for f in table["features"]] == pytest.approx(expected, rel=1e-6)
    assert [f["properties"]["date"] for f in table["features"]] == [f"2024-{m:02d}-15" for m in (1, 2, 3)]
