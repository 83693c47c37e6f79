"""Issue 13, section 4: ImageCollection aggregates, distinct, iterate; Image.geometry; string filters."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from pyproj import Transformer

import reducer as ee
from reducer.errors import ArgumentError
from tests.common import CRS, ORIGIN, TRANSFORM_3x3, VALUES_3x3, write_tif

CLOUDS = [12.5, 40.0, None, 7.0, 40.0]
TILES = ["T33UUP", "T33UVP", "T33UUP", "T32TQM", "T33UVP"]


@pytest.fixture
def ic(tmp_path):
    images = []
    for k, (c, t) in enumerate(zip(CLOUDS, TILES, strict=True)):
        path = write_tif(tmp_path / f"scene_{k}.tif", VALUES_3x3 + k)
        img = ee.Image(str(path)).set({"tile": t, "system:time_start": k * 86_400_000})
        images.append(img if c is None else img.set("CLOUDY_PIXEL_PERCENTAGE", c))
    return ee.ImageCollection(images)


def test_image_collection_aggregates_match_numpy(ic):
    vals = np.array([c for c in CLOUDS if c is not None])
    p = "CLOUDY_PIXEL_PERCENTAGE"
    assert ic.aggregate_count(p).getInfo() == len(vals)
    assert ic.aggregate_sum(p).getInfo() == pytest.approx(vals.sum())
    assert ic.aggregate_mean(p).getInfo() == pytest.approx(vals.mean())
    assert ic.aggregate_min(p).getInfo() == vals.min()
    assert ic.aggregate_max(p).getInfo() == vals.max()
    assert ic.aggregate_first(p).getInfo() == CLOUDS[0]
    assert ic.aggregate_total_var(p).getInfo() == pytest.approx(vals.var())
    assert ic.aggregate_sample_sd(p).getInfo() == pytest.approx(vals.std(ddof=1))
    assert ic.aggregate_count_distinct(p).getInfo() == len(set(vals.tolist()))
    stats = ic.aggregate_stats(p).getInfo()
    assert stats["mean"] == pytest.approx(vals.mean())
    assert stats["sum_sq"] == pytest.approx((vals**2).sum())
    assert stats["total_count"] == len(CLOUDS)
    assert stats["valid_count"] == len(vals)
    hist = ic.aggregate_histogram("tile").getInfo()
    assert hist == pd.Series(TILES).value_counts().sort_index().to_dict()
    assert ic.reduceColumns(ee.Reducer.median(), [p]).getInfo() == {"median": float(np.median(vals))}


def test_distinct_and_iterate(ic):
    firsts = [t for k, t in enumerate(TILES) if t not in TILES[:k]]
    assert ic.distinct("tile").aggregate_array("tile").getInfo() == firsts
    assert ic.distinct(["tile", "CLOUDY_PIXEL_PERCENTAGE"]).size().getInfo() == len(
        {(t, c) for t, c in zip(TILES, CLOUDS, strict=True)}
    )
    # a running sum of a property (Earth Engine's iterate idiom)
    total = ic.iterate(lambda img, acc: ee.Number(acc).add(ee.Number(img.get("system:time_start"))), 0)
    assert ee.Number(total).getInfo() == sum(k * 86_400_000 for k in range(len(CLOUDS)))
    # iterate to an image: the per-pixel sum of all images
    summed = ee.Image(ic.iterate(lambda img, acc: ee.Image(acc).add(img), ee.Image(0)))
    region = ee.Geometry(shapely.box(ORIGIN[0], ORIGIN[1] - 3, ORIGIN[0] + 3, ORIGIN[1]), CRS)
    got = summed.reduceRegion(ee.Reducer.sum(), region, 1).getInfo()
    expected = sum((VALUES_3x3 + k).sum() for k in range(len(CLOUDS)))
    assert list(got.values()) == [pytest.approx(float(expected))]


def test_image_geometry_is_the_footprint(tmp_path):
    path = write_tif(tmp_path / "a.tif", VALUES_3x3)
    img = ee.Image(str(path))
    xmin, ymin, xmax, ymax = ORIGIN[0], ORIGIN[1] - 3, ORIGIN[0] + 3, ORIGIN[1]
    tr = Transformer.from_crs(CRS, "EPSG:4326", always_xy=True)
    expected = tr.transform_bounds(xmin, ymin, xmax, ymax, densify_pts=21)
    got = shapely.geometry.shape(img.geometry().getInfo()).bounds
    assert got == pytest.approx(expected, abs=1e-9)
    assert img.geometry().area(1).getInfo() == pytest.approx(
        gpd.GeoSeries([shapely.box(*expected)], crs="EPSG:4326").to_crs(CRS).area[0], rel=1e-3
    )
    assert shapely.geometry.shape(img.get("system:footprint").getInfo()).bounds == pytest.approx(expected)
    assert TRANSFORM_3x3.a == 1  # the footprint is the 3x3 grid's extent


def test_string_filters_match_pandas(tmp_path):
    rng = np.random.default_rng(3)
    names = ["x", "y", "z", "x", "w", "y"]
    pops = rng.integers(0, 30, len(names)).tolist()
    pops[4] = None
    gdf = gpd.GeoDataFrame(
        {"name": names, "pop": pops, "area": rng.uniform(0, 20, len(names))},
        geometry=[shapely.Point(i, 0) for i in range(len(names))],
        crs="EPSG:4326",
    )
    path = tmp_path / "places.geojson"
    gdf.to_file(path)
    fc = ee.FeatureCollection(str(path))
    df = pd.DataFrame({"name": names, "pop": pops, "area": gdf["area"]})
    pop = df["pop"].astype("float64")
    cases = {
        'name == "x" || pop > 10': (df["name"] == "x") | (pop > 10),
        "pop >= 5 && name != 'y'": (pop >= 5) & (df["name"] != "y"),
        "!(pop < 20)": ~(pop < 20),  # Not: a null pop passes, as Not(lt) does in Earth Engine
        "10 < pop": pop > 10,
        "pop > area": pop > df["area"],
        '(name == "x" || name == "z") && area <= 10.5': df["name"].isin(["x", "z"]) & (df["area"] <= 10.5),
        "pop == null": pop.isna(),
    }
    for text, expected in cases.items():
        got = fc.filter(text).aggregate_array("system:index").getInfo()
        assert got == [str(i) for i in np.flatnonzero(expected.to_numpy())], text
    for bad in ("pop >", "pop > 1 &&", "(pop > 1", "pop ~ 3", "__import__('os')"):
        with pytest.raises(ArgumentError, match="filter string"):
            fc.filter(bad)


def test_image_collection_string_filter(ic):
    got = ic.filter("CLOUDY_PIXEL_PERCENTAGE < 20 || tile == 'T33UVP'").aggregate_array("system:index").getInfo()
    keep = [
        k for k, (c, t) in enumerate(zip(CLOUDS, TILES, strict=True)) if (c is not None and c < 20) or t == "T33UVP"
    ]
    assert got == [f"scene_{k}" for k in keep]
