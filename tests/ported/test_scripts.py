"""Earth Engine scripts, written as an Earth Engine user writes them, run on local data behind the same ids.

Each test is one script: only the import (``import reducer as ee``) and the data (a TOML catalog, see
``conftest.py``) differ from what runs on Earth Engine. Each script's numbers are checked against a
numpy/shapely computation on the arrays the data was written from.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import shapely
from pyproj import Transformer

import reducer as ee

from .conftest import CRS, FIELDS, LANDSAT_NAMES, MODIS_TILES, PLANTS, S2_NAMES, pixel_box, pixel_centre

JANUARY = [n for n in S2_NAMES if n.startswith("202401")]


def _rows(name_or_box):
    r0, c0, r1, c1 = FIELDS[name_or_box] if isinstance(name_or_box, str) else name_or_box
    return slice(r0, r1), slice(c0, c1)


def _nanmean(a):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return float(np.nanmean(a))


def _millis(day: str) -> int:
    return int(pd.Timestamp(day, tz="UTC").timestamp() * 1000)


# 1. The tutorial time series: NDVI at a point over a month, with getRegion.
def test_tutorial_ndvi_series_at_a_point(catalog):
    r, c = 7, 4
    point = ee.Geometry.Point(list(pixel_centre(r, c)), CRS)

    s2 = ee.ImageCollection("COPERNICUS/S2_SR_HARMONIZED").filterBounds(point).filterDate("2024-01-01", "2024-02-01")

    def add_ndvi(image):
        ndvi = image.normalizedDifference(["B8", "B4"]).rename("NDVI")
        return image.addBands(ndvi)

    series = s2.map(add_ndvi).select("NDVI").getRegion(point, 10).getInfo()
    header, rows = series[0], series[1:]

    assert header == ["id", "longitude", "latitude", "time", "NDVI"]
    expected = []
    for name in JANUARY:
        b4, b8 = catalog.s2[name]["B4"][r, c].astype(float), catalog.s2[name]["B8"][r, c].astype(float)
        expected.append([name, _millis(name[:8]), (b8 - b4) / (b8 + b4)])
    assert [[row[0], row[3]] for row in rows] == [e[:2] for e in expected]
    assert [row[4] for row in rows] == pytest.approx([e[2] for e in expected])
    lon, lat = Transformer.from_crs(CRS, "EPSG:4326", always_xy=True).transform(*pixel_centre(r, c))
    assert rows[0][1:3] == pytest.approx([lon, lat])


# 2. The guide's reduceRegion snippet: mean, min and max elevation in a polygon, keyword arguments.
def test_guide_reduce_region_with_a_combined_reducer(catalog):
    region = ee.Geometry(pixel_box(*FIELDS["north"]), CRS)

    srtm = ee.Image("USGS/SRTMGL1_003")
    stats = srtm.reduceRegion(
        reducer=ee.Reducer.mean().combine(reducer2=ee.Reducer.minMax(), sharedInputs=True),
        geometry=region,
        scale=10,
        maxPixels=1e9,
    ).getInfo()

    px = catalog.dem[_rows("north")]
    assert stats["elevation_mean"] == pytest.approx(float(px.mean()), rel=1e-6)
    assert stats["elevation_min"] == pytest.approx(float(px.min()))
    assert stats["elevation_max"] == pytest.approx(float(px.max()))


# 3. Zonal statistics over a table asset: reduceRegions, then the values as a list.
def test_zonal_statistics_over_a_table_id(catalog):
    fields = ee.FeatureCollection("users/me/fields")
    dem = ee.Image("USGS/SRTMGL1_003")
    zonal = dem.reduceRegions(collection=fields, reducer=ee.Reducer.mean(), scale=10)
    names = zonal.aggregate_array("name").getInfo()
    means = zonal.aggregate_array("mean").getInfo()

    assert names == list(FIELDS)
    assert means == pytest.approx([float(catalog.dem[_rows(n)].mean()) for n in FIELDS], rel=1e-6)


# 4. The Sentinel-2 cloud-probability join (s2cloudless), a masked median composite.
def test_sentinel2_cloud_probability_join(catalog):
    aoi = ee.Geometry(pixel_box(*FIELDS["south"]), CRS)
    start, end = "2024-01-01", "2024-02-01"
    CLD_PRB_THRESH = 40

    s2_sr_col = ee.ImageCollection("COPERNICUS/S2_SR_HARMONIZED").filterBounds(aoi).filterDate(start, end)
    s2_cloudless_col = ee.ImageCollection("COPERNICUS/S2_CLOUD_PROBABILITY").filterBounds(aoi).filterDate(start, end)
    joined = ee.ImageCollection(
        ee.Join.saveFirst("s2cloudless").apply(
            **{
                "primary": s2_sr_col,
                "secondary": s2_cloudless_col,
                "condition": ee.Filter.equals(**{"leftField": "system:index", "rightField": "system:index"}),
            }
        )
    )

    def mask_clouds(img):
        cld_prb = ee.Image(img.get("s2cloudless")).select("probability")
        is_cloud = cld_prb.gt(CLD_PRB_THRESH).rename("clouds")
        return img.updateMask(is_cloud.Not())

    composite = joined.map(mask_clouds).median()
    result = composite.select("B4").reduceRegion(ee.Reducer.mean(), aoi, 10).getInfo()

    stack = np.stack(
        [np.where(catalog.prob[n] > CLD_PRB_THRESH, np.nan, catalog.s2[n]["B4"].astype(float)) for n in JANUARY]
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        median = np.nanmedian(stack, axis=0)
    assert result["B4"] == pytest.approx(_nanmean(median[_rows("south")]))
    assert joined.size().getInfo() == len(JANUARY)


# 5. A MODIS tile mosaic: two tiles on their own grids, one day, scaled NDVI over an area across both.
def test_modis_tile_mosaic(catalog):
    box = (4, 5, 10, 15)  # columns 5..14: half on each tile
    region = ee.Geometry(pixel_box(*box), CRS)

    modis = ee.ImageCollection("MODIS/061/MOD13Q1").filterDate("2024-01-01", "2024-01-02")
    ndvi = modis.select("NDVI").mosaic().multiply(0.0001)
    mean = ndvi.reduceRegion(ee.Reducer.mean(), region, 10).get("NDVI").getInfo()
    ids = modis.aggregate_array("system:index").getInfo()

    whole = np.concatenate([catalog.modis[("2024001", t)] for t in MODIS_TILES], axis=1) * 0.0001
    assert mean == pytest.approx(float(whole[_rows(box)].mean()))
    assert ids == [f"MOD13Q1.A2024001.{t}.061" for t in MODIS_TILES]


# 6. A Landsat 8 Collection 2 composite: QA_PIXEL cloud and shadow bits, scale factors, median, NDVI.
def test_landsat_qa_composite(catalog):
    aoi = ee.Geometry(pixel_box(*FIELDS["east"]), CRS)

    def mask_l8sr(image):
        qa = image.select("QA_PIXEL")
        cloud = qa.bitwiseAnd(1 << 3).neq(0)
        shadow = qa.bitwiseAnd(1 << 4).neq(0)
        optical = image.select("SR_B.").multiply(0.0000275).add(-0.2)
        return image.addBands(optical, None, True).updateMask(cloud.Or(shadow).Not())

    composite = (
        ee.ImageCollection("LANDSAT/LC08/C02/T1_L2").filterDate("2024-01-01", "2024-03-01").map(mask_l8sr).median()
    )
    ndvi = composite.normalizedDifference(["SR_B5", "SR_B4"]).rename("NDVI")
    value = ndvi.reduceRegion(ee.Reducer.mean(), aoi, 10).getInfo()["NDVI"]

    bands = {}
    for b in ("SR_B4", "SR_B5"):
        stack = []
        for n in LANDSAT_NAMES:
            scene = catalog.landsat[n]
            bad = (scene["QA_PIXEL"] & (1 << 3)) | (scene["QA_PIXEL"] & (1 << 4))
            stack.append(np.where(bad != 0, np.nan, scene[b] * 0.0000275 - 0.2))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            bands[b] = np.nanmedian(np.stack(stack), axis=0)
    expected = (bands["SR_B5"] - bands["SR_B4"]) / (bands["SR_B5"] + bands["SR_B4"])
    assert value == pytest.approx(_nanmean(expected[_rows("east")]))


# 7. The time-series idiom: map each image to a Feature holding its regional mean.
def test_map_images_to_features_time_series(catalog):
    region = ee.Geometry(pixel_box(*FIELDS["north"]), CRS)
    s2 = ee.ImageCollection("COPERNICUS/S2_SR_HARMONIZED").filterDate("2024-01-01", "2024-03-01")

    def to_feature(img):
        mean = img.select("B8").reduceRegion(ee.Reducer.mean(), region, 10)
        return ee.Feature(None, mean).set("date", img.date().format("YYYY-MM-dd"))

    series = ee.FeatureCollection(s2.map(to_feature))
    got = dict(zip(series.aggregate_array("date").getInfo(), series.aggregate_array("B8").getInfo(), strict=True))

    expected = {f"{n[:4]}-{n[4:6]}-{n[6:8]}": float(catalog.s2[n]["B8"][_rows("north")].mean()) for n in S2_NAMES}
    assert got == pytest.approx(expected)


# 8. The portable zonal time series: map(reduceRegions) and flatten.
def test_map_reduce_regions_flatten(catalog):
    fields = ee.FeatureCollection("users/me/fields")
    s2 = ee.ImageCollection("COPERNICUS/S2_SR_HARMONIZED").filterDate("2024-01-01", "2024-02-01").select("B4")

    def zonal(img):
        return img.reduceRegions(collection=fields, reducer=ee.Reducer.mean(), scale=10).map(
            lambda f: f.set("image", img.get("system:index"))
        )

    table = s2.map(zonal).flatten()
    rows = zip(
        table.aggregate_array("image").getInfo(),
        table.aggregate_array("name").getInfo(),
        table.aggregate_array("mean").getInfo(),
        strict=True,
    )
    got = {(i, n): m for i, n, m in rows}
    expected = {(i, n): float(catalog.s2[i]["B4"][_rows(n)].mean()) for i in JANUARY for n in FIELDS}
    assert got == pytest.approx(expected)


# 9. Table filters as the API docs write them: a filter string, neq against null, aggregates.
def test_table_filters_and_aggregates(catalog):
    plants = ee.FeatureCollection("WRI/GPPD/power_plants")
    big_or_solar = plants.filter('fuel1 == "Solar" || capacitymw > 100')
    total = big_or_solar.aggregate_sum("capacitymw").getInfo()
    with_capacity = plants.filter(ee.Filter.neq("capacitymw", None)).size().getInfo()
    stats = plants.aggregate_stats("capacitymw").getInfo()
    fuels = plants.aggregate_histogram("fuel1").getInfo()

    df = pd.DataFrame({"fuel1": [p[1] for p in PLANTS], "cap": [p[2] for p in PLANTS]}, dtype=object)
    cap = df["cap"].astype(float)
    keep = (df["fuel1"] == "Solar") | (cap > 100)
    assert total == pytest.approx(cap[keep].sum())
    assert with_capacity == int(cap.notna().sum())
    assert stats["mean"] == pytest.approx(cap.mean())
    assert stats["max"] == pytest.approx(cap.max())
    assert stats["sample_sd"] == pytest.approx(cap.std(ddof=1))
    assert fuels == df["fuel1"].value_counts().sort_index().to_dict()


# 10. A spatial join: power plants within 60 m of each field, with their distances.
def test_within_distance_join_of_plants_to_fields(catalog):
    fields = ee.FeatureCollection("users/me/fields")
    plants = ee.FeatureCollection("WRI/GPPD/power_plants")
    spatial_filter = ee.Filter.withinDistance(distance=60, leftField=".geo", rightField=".geo", maxError=1)
    save_all = ee.Join.saveAll(matchesKey="plants", measureKey="distance")
    joined = save_all.apply(fields, plants, spatial_filter).getInfo()["features"]

    got = {
        f["properties"]["name"]: {
            p["properties"]["name"]: p["properties"]["distance"] for p in f["properties"]["plants"]
        }
        for f in joined
    }
    expected = {}
    for field, box in FIELDS.items():
        poly = pixel_box(*box)
        near = {}
        for k, (rc, _, _) in enumerate(PLANTS):
            d = poly.distance(shapely.Point(*pixel_centre(*rc)))  # UTM metres (scale factor 0.9996)
            assert abs(d - 60) > 1  # no pair sits on the limit
            if d <= 60:
                near[f"plant{k}"] = d
        if near:
            expected[field] = near
    assert set(got) == set(expected)
    for field, near in expected.items():
        assert set(got[field]) == set(near)
        for name, d in near.items():
            assert got[field][name] == pytest.approx(d, rel=1e-3, abs=0.05)


# 11. Counting clear observations per pixel, and one image by its full id.
def test_clear_observation_count_and_image_by_id(catalog):
    aoi = ee.Geometry(pixel_box(*FIELDS["north"]), CRS)
    probs = ee.ImageCollection("COPERNICUS/S2_CLOUD_PROBABILITY")
    clear = probs.map(lambda img: img.select("probability").lt(30)).sum().rename("clear")
    total = clear.reduceRegion(ee.Reducer.sum(), aoi, 10).get("clear").getInfo()
    one = ee.Image(f"COPERNICUS/S2_CLOUD_PROBABILITY/{S2_NAMES[1]}")
    cloudy = one.gt(70).reduceRegion(ee.Reducer.mean(), aoi, 10).getInfo()["probability"]

    assert total == pytest.approx(sum(int((catalog.prob[n][_rows("north")] < 30).sum()) for n in S2_NAMES))
    assert cloudy == pytest.approx(float((catalog.prob[S2_NAMES[1]][_rows("north")] > 70).mean()))


# 12. Collection metadata, as scripts inspect it: dates, distinct tiles, iterate, stats over images.
def test_collection_metadata_calls(catalog):
    s2 = ee.ImageCollection("COPERNICUS/S2_SR_HARMONIZED")
    dates = s2.aggregate_array("system:time_start").map(lambda t: ee.Date(t).format("YYYY-MM-dd")).getInfo()
    first_dates = s2.sort("system:time_start", False).limit(2).aggregate_array("system:index").getInfo()
    latest = s2.aggregate_max("system:time_start").getInfo()
    n_days = s2.iterate(lambda img, acc: ee.Number(acc).add(1), 0)
    footprint = s2.first().geometry()

    assert dates == [f"{n[:4]}-{n[4:6]}-{n[6:8]}" for n in S2_NAMES]
    assert first_dates == S2_NAMES[::-1][:2]
    assert latest == _millis(S2_NAMES[-1][:8])
    assert ee.Number(n_days).getInfo() == len(S2_NAMES)
    area = footprint.area(1).getInfo()
    assert area == pytest.approx(pixel_box(0, 0, 20, 20).area, rel=2e-3)
