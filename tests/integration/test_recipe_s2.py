"""Earth Engine's Sentinel-2 recipe, ported: QA60 cloud mask, NDVI, EVI, monthly medians, field statistics.

The script below is the usual Earth Engine one with ``import reducer as ee``. Its numbers are checked
against an independent computation: numpy on the pixels read with rasterio for the composites, and
rasterstats (centre-in, so ``.unweighted()``) for the field means and counts.
"""

from __future__ import annotations

import warnings

import geopandas as gpd
import numpy as np
import pytest
import rasterio
import shapely
from affine import Affine

import reducer as ee
from reducer.sources import READ_COUNTER
from tests.common import write_tif

rasterstats = pytest.importorskip("rasterstats")

CRS = "EPSG:32633"
T = Affine(10, 0, 600000, 0, -10, 5000600)
H, W = 60, 60
DATES = ["2024-05-03", "2024-05-13", "2024-05-23", "2024-06-02", "2024-06-12", "2024-06-22", "2024-07-02"]
BANDS = ["B2", "B4", "B8", "QA60"]
CLOUD, CIRRUS = 1 << 10, 1 << 11


def _scene(rng, k):
    yy, xx = np.mgrid[0:H, 0:W]
    vigour = 0.5 + 0.4 * np.sin(xx / 9.0 + k / 3) * np.cos(yy / 11.0)
    nir = 2500 + 2500 * vigour + rng.normal(0, 120, (H, W))
    red = 1200 - 700 * vigour + rng.normal(0, 60, (H, W))
    blue = 600 + rng.normal(0, 40, (H, W))
    qa = np.zeros((H, W), "uint16")
    cy, cx = rng.integers(5, 55, 2)
    cloud = (yy - cy) ** 2 + (xx - cx) ** 2 < rng.integers(60, 200)
    qa[cloud] = CLOUD
    qa[(rng.random((H, W)) < 0.04)] |= CIRRUS
    qa[(rng.random((H, W)) < 0.02)] |= 1  # bits other than 10 and 11 do not mask
    data = np.stack([blue, red, nir]).clip(1, 10000).round().astype("uint16")
    return np.concatenate([data, qa[None]])


@pytest.fixture(scope="module")
def scenes(tmp_path_factory):
    rng = np.random.default_rng(2024)
    tmp = tmp_path_factory.mktemp("s2")
    arrays = {}
    for k, d in enumerate(DATES):
        data = _scene(rng, k)
        path = write_tif(tmp / f"S2_{d}.tif", data, transform=T, descriptions=BANDS)
        valid = np.ones((H, W), bool)
        if k == 1:  # a scene edge: a per-dataset mask hides the first 12 columns in every band
            valid[:, :12] = False
            with rasterio.open(path, "r+") as dst:
                dst.write_mask(np.where(valid, 255, 0).astype("uint8"))
        arrays[d] = (data, valid)
    return tmp, arrays


@pytest.fixture(scope="module")
def fields():
    x0, y0 = 600000, 5000600
    geoms = [
        shapely.box(x0 + 20, y0 - 200, x0 + 180, y0 - 40),
        shapely.box(x0 + 300, y0 - 330, x0 + 560, y0 - 220),
        shapely.Polygon([(x0 + 50, y0 - 560), (x0 + 290, y0 - 420), (x0 + 260, y0 - 590)]),
        shapely.Point(x0 + 420, y0 - 450).buffer(90),
        shapely.box(x0 + 540, y0 - 120, x0 + 700, y0 - 20),  # crosses the raster's east edge
        shapely.box(x0 + 2000, y0 - 200, x0 + 2100, y0 - 100),  # outside: no pixel
    ]
    return gpd.GeoDataFrame({"field": [f"f{i}" for i in range(len(geoms))]}, geometry=geoms, crs=CRS)


# -- the ported script ---------------------------------------------------------------------------------


def mask_s2_clouds(image):
    qa = image.select("QA60")
    cloud_bit_mask = 1 << 10
    cirrus_bit_mask = 1 << 11
    mask = qa.bitwiseAnd(cloud_bit_mask).eq(0).And(qa.bitwiseAnd(cirrus_bit_mask).eq(0))
    return image.updateMask(mask).divide(10000).copyProperties(image, ["system:time_start"])


def add_indices(image):
    ndvi = image.normalizedDifference(["B8", "B4"]).rename("NDVI")
    evi = image.expression(
        "2.5 * ((NIR - RED) / (NIR + 6 * RED - 7.5 * BLUE + 1))",
        {"NIR": image.select("B8"), "RED": image.select("B4"), "BLUE": image.select("B2")},
    ).rename("EVI")
    return image.addBands(ndvi).addBands(evi)


def monthly_stats(folder, fields_fc):
    s2 = (
        ee.ImageCollection(str(folder))
        .filterDate("2024-05-01", "2024-07-01")
        .filterBounds(fields_fc)
        .map(mask_s2_clouds)
        .map(add_indices)
    )
    composites = [
        s2.filter(ee.Filter.calendarRange(m, m, "month"))
        .median()
        .set("system:index", f"2024-{m:02d}")
        .set("system:time_start", ee.Date(f"2024-{m:02d}-01").millis())
        for m in (5, 6)
    ]
    monthly = ee.ImageCollection(composites).select(["NDVI", "EVI"])
    reducer = ee.Reducer.mean().unweighted().combine(ee.Reducer.count(), sharedInputs=True)
    return monthly, monthly.reduceRegions(fields_fc, reducer, scale=10)


# -- the independent computation -------------------------------------------------------------------------


def numpy_monthly(arrays, month):
    ndvis, evis = [], []
    for d, (data, valid) in arrays.items():
        if int(d[5:7]) != month:
            continue
        blue, red, nir = (data[i].astype("f8") / 10000 for i in range(3))
        qa = data[3]
        clear = valid & ((qa & CLOUD) == 0) & ((qa & CIRRUS) == 0)
        ndvi = (nir - red) / (nir + red)
        evi = 2.5 * ((nir - red) / (nir + 6 * red - 7.5 * blue + 1))
        ndvis.append(np.where(clear, ndvi, np.nan))
        evis.append(np.where(clear, evi, np.nan))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmedian(ndvis, 0), np.nanmedian(evis, 0)


def rasterstats_of(tmp_path, name, arr, fields):
    path = write_tif(tmp_path / f"{name}.tif", np.nan_to_num(arr, nan=-9999.0), transform=T, nodata=-9999.0)
    return rasterstats.zonal_stats(fields, str(path), stats=["mean", "count"], nodata=-9999.0, all_touched=False)


def test_recipe_matches_numpy_and_rasterstats(scenes, fields, tmp_path):
    folder, arrays = scenes
    fc = ee.FeatureCollection(fields)
    READ_COUNTER.reset()
    monthly, stats = monthly_stats(folder, fc)
    assert monthly.size().getInfo() == 2
    assert monthly.first().bandNames().getInfo() == ["NDVI", "EVI"]
    assert READ_COUNTER.reads == 0  # building the whole script reads no pixel

    df = stats.to_pandas()
    assert READ_COUNTER.reads > 0
    assert len(df) == 2 * len(fields)
    assert {"NDVI_mean", "NDVI_count", "EVI_mean", "EVI_count"} <= set(df.columns)
    for m, month_id in ((5, "2024-05"), (6, "2024-06")):
        ndvi, evi = numpy_monthly(arrays, m)
        rows = df[df["image_id"] == month_id].reset_index(drop=True)
        assert list(rows["field"]) == list(fields["field"])
        for band, arr in (("NDVI", ndvi), ("EVI", evi)):
            expected = rasterstats_of(tmp_path, f"{band}_{m}", arr, fields)
            counts = [e["count"] for e in expected]
            assert list(rows[f"{band}_count"]) == counts
            for got, e in zip(rows[f"{band}_mean"], expected, strict=True):
                if e["mean"] is None:
                    assert got is None or np.isnan(got)
                else:
                    assert got == pytest.approx(e["mean"], rel=1e-6)
    # the outside field has no pixel; the edge field only those inside the raster
    assert df.loc[df["field"] == "f5", "NDVI_count"].tolist() == [0, 0]
    assert 0 < df.loc[df["field"] == "f4", "NDVI_count"].iloc[0] < 16 * 10


def test_composite_pixels_match_numpy(scenes, fields):
    folder, arrays = scenes
    monthly, _ = monthly_stats(folder, ee.FeatureCollection(fields))
    june = monthly.filter(ee.Filter.eq("system:index", "2024-06")).first()
    got = np.asarray(june.raster.stack(june.raster.grid).compute())
    ndvi, evi = numpy_monthly(arrays, 6)
    np.testing.assert_allclose(got[0], ndvi, rtol=1e-9, equal_nan=True)
    np.testing.assert_allclose(got[1], evi, rtol=1e-9, equal_nan=True)
    assert np.isnan(got[0]).sum() == np.isnan(ndvi).sum()


def test_getinfo_shape_and_cloud_free_counts(scenes, fields):
    folder, arrays = scenes
    _, stats = monthly_stats(folder, ee.FeatureCollection(fields))
    info = stats.getInfo()
    assert info["type"] == "FeatureCollection"
    first = info["features"][0]
    assert first["id"] == "2024-05_0"
    assert set(first["properties"]) >= {"field", "NDVI_mean", "EVI_count", "system:time_start", "image_id"}
    # per-pixel count of clear May observations, cross-checked for the first field
    clear = []
    for d, (data, valid) in arrays.items():
        if d.startswith("2024-05"):
            qa = data[3]
            clear.append(valid & ((qa & CLOUD) == 0) & ((qa & CIRRUS) == 0))
    any_clear = np.any(clear, axis=0)
    inside = rasterio.features.geometry_mask([fields.geometry[0]], (H, W), T, invert=True)
    assert first["properties"]["NDVI_count"] == int((any_clear & inside).sum())
