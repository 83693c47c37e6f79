"""Result shapes (reducer.output) and the reduction entry points (reducer.regions), on a 3x3 oracle."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

import reducer as ee
from reducer.errors import CRSError, MaxPixelsError
from reducer.output import band_stat_table, explain, fc_info, long_frame, reduction_to_xarray, wide_frame
from reducer.regions import reduce_region, reduce_regions
from reducer.sources import open_raster
from tests.common import CRS, OUTSIDE, SQUARE, TOP_LEFT, TRANSFORM_3x3, VALUES_3x3, write_tif

DAY = 86_400_000


@pytest.fixture
def rasters(tmp_path):
    # two dates: the 3x3 values, then the values times 10
    return [
        open_raster(write_tif(tmp_path / "a_2024-01-01.tif", VALUES_3x3)),
        open_raster(write_tif(tmp_path / "b_2024-01-02.tif", VALUES_3x3 * 10)),
    ]


@pytest.fixture
def features():
    return gpd.GeoDataFrame(
        {"name": ["square", "top", "out"]},
        geometry=[SQUARE, TOP_LEFT, OUTSIDE],
        crs=CRS,
        index=pd.Index(["s", "t", "o"], name="system:index"),
    )


def _centre_in(shape):
    """GDAL's centre-in rule (rasterio.features.geometry_mask, as rasterstats uses it) on the 3x3 grid."""
    from rasterio.features import geometry_mask

    return geometry_mask([shape], out_shape=(3, 3), transform=TRANSFORM_3x3, invert=True)


def _unweighted_means():
    return {k: float(VALUES_3x3[_centre_in(g)].mean()) for k, g in (("s", SQUARE), ("t", TOP_LEFT))}


def test_long_frame_is_image_major_with_ids_and_dates(rasters, features):
    red = reduce_regions(rasters, lambda: features, ee.Reducer.mean().unweighted())
    out = long_frame(red)
    assert list(out.index) == ["a_2024-01-01_s", "a_2024-01-01_t", "a_2024-01-01_o"] + [
        "b_2024-01-02_s",
        "b_2024-01-02_t",
        "b_2024-01-02_o",
    ]
    oracle = _unweighted_means()
    expected = [oracle["s"], oracle["t"], np.nan, 10 * oracle["s"], 10 * oracle["t"], np.nan]
    np.testing.assert_allclose(out["mean"].to_numpy(), expected)
    assert out["system:time_start"].tolist() == [1704067200000] * 3 + [1704067200000 + DAY] * 3
    assert out["name"].tolist() == ["square", "top", "out"] * 2 and out.crs == features.crs


def _frame_per_image(red):
    """Oracle for ``long_frame``: one frame per image, as the first engine built it, then concatenated."""
    gdf, per_image = red.result()
    frames = []
    for img, (columns, values) in zip(red.images, per_image, strict=True):
        part = gdf.copy()
        for c in columns:
            v = values[c.name]
            part[c.name] = v.astype("i8") if c.integer and not np.isnan(v).any() else v
        if red.per_image_ids:
            idx = str(img.properties.get("system:index", ""))
            part["system:time_start"] = img.properties.get("system:time_start")
            part["image_id"] = idx
            part.index = [f"{idx}_{fid}" for fid in gdf.index]
            part.index.name = gdf.index.name
        frames.append(part)
    return gpd.GeoDataFrame(pd.concat(frames), geometry=gdf.geometry.name, crs=gdf.crs)


@pytest.mark.parametrize("per_image_ids", [True, False])
def test_long_frame_by_column_equals_a_frame_per_image(tmp_path, rasters, features, per_image_ids):
    """The frame is built by column; the oracle concatenates one frame per image. Outputs that only some
    images have (a two-band image among one-band ones), integer counts, an undated image, and a feature
    property named like an output all come out with the oracle's columns, dtypes, order and index."""
    two = open_raster(write_tif(tmp_path / "c_2024-01-03.tif", np.stack([VALUES_3x3, VALUES_3x3 + 1])))
    undated = open_raster(write_tif(tmp_path / "undated.tif", VALUES_3x3 * 2))
    imgs = [rasters[0], two, undated, rasters[1]]
    feats = features.assign(count=[9, 9, 9], area=[1.5, 2.5, None])
    red = reduce_regions(
        imgs,
        lambda: feats,
        ee.Reducer.mean().combine(ee.Reducer.count(), sharedInputs=True),
        per_image_ids=per_image_ids,
    )
    got, want = long_frame(red), _frame_per_image(red)
    assert isinstance(got, gpd.GeoDataFrame) and got.crs == want.crs and got.geometry.name == want.geometry.name
    assert len(got.columns) > len(feats.columns) + 2  # the two-band image added its own outputs
    pd.testing.assert_frame_equal(pd.DataFrame(got), pd.DataFrame(want))


def test_image_reduce_regions_keeps_feature_ids(rasters, features):
    out = long_frame(reduce_regions(rasters[:1], lambda: features, ee.Reducer.count(), per_image_ids=False))
    expected = [int(_centre_in(SQUARE).sum()), int(_centre_in(TOP_LEFT).sum()), 0]
    assert list(out.index) == ["s", "t", "o"] and out["count"].tolist() == expected == [6, 4, 0]


def test_wide_frame_and_xarray_agree_with_the_long_form(rasters, features):
    red = reduce_regions(rasters, lambda: features, ee.Reducer.mean().combine(ee.Reducer.max(), sharedInputs=True))
    wide = wide_frame(red)
    assert list(wide.columns.names) == ["output", "time"]
    assert wide["max"].loc["t"].tolist() == [5.0, 50.0]  # the largest value under TOP_LEFT, per date
    cube = reduction_to_xarray(red)
    assert dict(cube.sizes) == {"geometry": 3, "time": 2}
    np.testing.assert_allclose(cube["mean"].values, wide["mean"].to_numpy())
    long = long_frame(red)
    np.testing.assert_allclose(cube["max"].values.T.reshape(-1), long["max"].to_numpy())


def test_fc_info_is_earth_engines_shape(features):
    info = fc_info(features.assign(v=[1.5, 2.0, None]), {"title": "x"})
    assert info["type"] == "FeatureCollection" and info["properties"] == {"title": "x"}
    assert info["columns"] == {"name": "String", "system:index": "String", "v": "Float"}
    first = info["features"][0]
    assert first["id"] == "s" and first["properties"] == {"name": "square", "v": 1.5}
    lon, lat = first["geometry"]["coordinates"][0][0]
    assert 14 < lon < 16 and 36 < lat < 37  # EPSG:4326, reprojected from UTM 33N


def test_geojson_list_equals_geos_geojson_for_every_kind():
    """Oracle: GEOS's own GeoJSON, parsed. Every kind, holes, multiparts, a mix of types in one array,
    empties, 3-D, collections, rings and None; coordinates with all 17 digits survive exactly."""
    import json

    from hypothesis import given, settings
    from hypothesis import strategies as st

    from reducer.output import geojson_list

    ring = [(0.1, 0.2), (10.000000000000002, 0.3), (10.5, 9.7), (0.4, 10.9), (0.1, 0.2)]
    hole = [(2, 2), (3, 2), (3, 3), (2, 2)]
    kinds = [
        shapely.Point(1 / 3, 2 / 7),
        shapely.LineString([(0, 0), (1, 1 / 3), (2, 0)]),
        shapely.Polygon(ring, [hole]),
        shapely.Polygon(ring),
        shapely.MultiPoint([(0, 0), (1, 2)]),
        shapely.MultiLineString([[(0, 0), (1, 1)], [(2, 2), (3, 1), (4, 4)]]),
        shapely.MultiPolygon([shapely.Polygon(ring, [hole]), shapely.box(20, 20, 21, 22)]),
        shapely.MultiPolygon([shapely.box(0, 0, 1, 1)]),
        shapely.Polygon(),
        shapely.Point(),
        shapely.Point(1, 2, 3),
        shapely.from_wkt("LINESTRING M (0 0 5, 1 1 6)"),
        shapely.GeometryCollection([shapely.Point(0, 0), shapely.box(0, 0, 1, 1)]),
        shapely.LinearRing([(0, 0), (1, 0), (1, 1)]),
        None,
    ]

    def oracle(geoms):
        return [None if g is None else json.loads(shapely.to_geojson(g)) for g in geoms]

    assert geojson_list(kinds) == oracle(kinds)
    assert geojson_list(kinds[::-1] * 3) == oracle(kinds[::-1] * 3)

    @settings(max_examples=40, deadline=None)
    @given(st.lists(st.tuples(st.sampled_from(range(len(kinds))), st.floats(-1e6, 1e6)), max_size=30))
    def shuffled(picks):
        geoms = [None if kinds[i] is None else shapely.transform(kinds[i], lambda xy, d=d: xy + d) for i, d in picks]
        assert geojson_list(geoms) == oracle(geoms)

    shuffled()


def test_explain_reads_nothing(rasters, features):
    from reducer.sources import READ_COUNTER

    before = READ_COUNTER.reads
    plan = explain(reduce_regions(rasters, lambda: features, ee.Reducer.mean()))
    assert READ_COUNTER.reads == before
    assert plan["images"] == 2 and plan["features"] == 3 and plan["blocks_to_read"] == 2


def test_features_without_crs_are_refused(rasters, features):
    red = reduce_regions(rasters, lambda: features.set_crs(None, allow_override=True), ee.Reducer.mean())
    with pytest.raises(CRSError, match="no CRS"):
        red.result()


def test_reduce_region_best_effort_coarsens_until_it_fits(rasters):
    square = ee.Geometry(shapely.box(500000, 4000000, 500003, 4000003), proj=CRS)
    with pytest.raises(MaxPixelsError):
        reduce_region(rasters[0], ee.Reducer.count(), square, None, None, None, False, 4)
    out = reduce_region(rasters[0], ee.Reducer.count(), square, None, None, None, True, 4)
    assert 1 <= out["B1"] <= 4  # coarser pixels: at most maxPixels of them
    assert reduce_region(rasters[0], ee.Reducer.sum(), square, None, None, None, False, 1e7) == {"B1": 45.0}


def test_band_stat_table_long_and_wide(rasters):
    values = np.arange(2 * 1 * 2 * 3, dtype="f8").reshape(2, 1, 2, 3)  # image, band, stat, feature
    long, rows = band_stat_table(values, ["f0", "f1", "f2"], "id", rasters, ["B1"], ["mean", "max"], wide=False)
    assert list(long.columns) == ["id", "date", "image", "band", "statistic", "value"]
    assert len(long) == 12 and rows.tolist() == [0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2]
    first = long.iloc[0]
    assert (first["id"], first["date"], first["statistic"], first["value"]) == ("f0", "2024-01-01", "mean", 0.0)
    wide, _ = band_stat_table(values, ["f0", "f1", "f2"], "id", rasters, ["B1"], ["mean", "max"], wide=True)
    assert list(wide.columns) == ["id", "band", "statistic", "2024-01-01", "2024-01-02"]
    assert wide["2024-01-02"].tolist() == [values[1, 0, s, f] for f in range(3) for s in range(2)]


def test_joint_reductions_group_only_equal_arguments_and_check_them(rasters, features):
    from reducer.errors import ArgumentError
    from reducer.regions import PendingRegion, reduce_jointly, reduce_regions_jointly

    mean = ee.Reducer.mean().unweighted()
    a = reduce_regions(rasters[:1], lambda: features, mean, maxPixelsPerRegion=100)
    b = reduce_regions(rasters[1:], lambda: features, mean, maxPixelsPerRegion=200)
    # the same frame object for all, as in map(...).flatten(); different limits are not one request
    assert reduce_jointly([a, b]) == 0
    c = reduce_regions(rasters[1:], lambda: features, mean, maxPixelsPerRegion=100)
    a2 = reduce_regions(rasters[:1], lambda: features, mean, maxPixelsPerRegion=100)
    assert reduce_jointly([a2, c]) == 1
    oracle = _unweighted_means()
    assert c.result()[1][0][1]["mean"][1] == pytest.approx(10 * oracle["t"])

    point = ee.Geometry.Point([500001.5, 4000001.5], CRS)
    bad = [PendingRegion(r, mean, point, None, None, None, False, "x") for r in rasters]
    with pytest.raises(ArgumentError, match="maxPixels='x'"):
        reduce_regions_jointly(bad)


def _per_record(gdf: gpd.GeoDataFrame) -> list[dict]:
    """The oracle: each row as pandas' own record dict, each value converted on its own."""
    from reducer.values import to_info

    cols = [c for c in gdf.columns if c != "geometry"]
    return [to_info(rec, sort_keys=True) for rec in pd.DataFrame(gdf[cols]).to_dict("records")]


def _typed(x):
    """A value with the types of everything in it, so that 1, 1.0 and True differ."""
    if isinstance(x, dict):
        return {k: _typed(v) for k, v in x.items()}
    if isinstance(x, list):
        return [_typed(v) for v in x]
    return (type(x).__name__, x)


def test_fc_info_properties_match_a_per_record_conversion_for_every_column_type():
    n = 6
    gdf = gpd.GeoDataFrame(
        {
            "z_float": [1.5, np.nan, -0.0, np.inf, 2.0, 3.25],
            "i64": np.array([3, 3, 2**40, -1, 3, 0], dtype="i8"),
            "u8": np.array([1, 2, 1, 255, 0, 1], dtype="u1"),
            "flag": [True, False, True, True, False, True],
            "name": pd.array(["a", "b", None, "a", "a", "c"], dtype="string"),
            "obj_str": np.array(["x", None, "y", "x", "x", "y"], dtype=object),
            "mixed": np.array([1, 1.0, True, "1", None, np.float64("nan")], dtype=object),
            "lists": np.array([[1, 2], [1, 2], [], [np.int64(3)], None, [1.5]], dtype=object),
            "when": pd.to_datetime(["2024-01-01", None, "2024-01-01", "2024-01-02", "2024-01-03", "2024-01-01"]),
            "nullable": pd.array([1, None, 1, 2, None, 7], dtype="Int64"),
            "cat": pd.Categorical(["p", "q", "p", "p", None, "q"]),
            "A_upper": np.arange(n, dtype="f4") / 4,
        },
        geometry=[shapely.Point(i, i) for i in range(n)],
        crs="EPSG:4326",
        index=pd.Index([f"f{i}" for i in range(n)], name="system:index"),
    )
    info = fc_info(gdf, {})
    got = [f["properties"] for f in info["features"]]
    expected = _per_record(gdf)
    assert _typed(got) == _typed(expected)
    assert [list(p) for p in got] == [list(p) for p in expected]  # keys in the same (sorted) order
    assert [f["id"] for f in info["features"]] == list(gdf.index)
    assert info["columns"]["name"] == "String" and info["columns"]["i64"] == "Long"
    # mutable values are each row's own: changing one row's list or date leaves the others alone
    got[0]["lists"].append(99)
    assert got[1]["lists"] == [1, 2]
    got[0]["when"]["value"] = 0
    assert got[2]["when"]["value"] != 0


def test_fc_info_of_an_all_missing_string_column():
    gdf = gpd.GeoDataFrame(
        {"s": pd.array([None, None], dtype="string")}, geometry=[shapely.Point(0, 0)] * 2, crs="EPSG:4326"
    )
    info = fc_info(gdf, {})
    assert [f["properties"] for f in info["features"]] == _per_record(gdf)
    assert info["columns"]["s"] == "Object"


def test_a_long_local_computation_hands_freed_memory_back(monkeypatch):
    import dask

    from reducer import compute as compute_module

    calls = []
    monkeypatch.setattr(compute_module, "release_freed_memory", lambda: calls.append(1) or True)
    monkeypatch.setattr(compute_module, "TRIM_AFTER_S", 3600.0)
    assert compute_module.compute(dask.delayed(sum)([1, 2])) == (3,)
    assert calls == []  # a short computation: nothing to release
    monkeypatch.setattr(compute_module, "TRIM_AFTER_S", 0.0)
    assert compute_module.compute(dask.delayed(sum)([1, 2])) == (3,)
    assert calls == [1]


def _fc_info_by_feature(gdf, props):
    """The straightforward construction: each row's properties and geometry converted on their own."""
    import json

    from reducer.output import column_type
    from reducer.values import to_info

    prop_cols = [c for c in gdf.columns if c != "geometry"]
    columns = {c: column_type(gdf[c]) for c in prop_cols}
    columns["system:index"] = "String"
    records = pd.DataFrame(gdf[prop_cols]).to_dict("records")
    features = []
    for fid, rec, geom in zip(gdf.index, records, gdf.geometry.values, strict=True):
        shape = None if geom is None else gpd.GeoSeries([geom], crs=gdf.crs).to_crs("EPSG:4326").iloc[0]
        gj = None if shape is None else json.loads(shapely.to_geojson(shape))
        features.append({"type": "Feature", "geometry": gj, "id": str(fid), "properties": to_info(rec, sort_keys=True)})
    out = {"type": "FeatureCollection", "columns": dict(sorted(columns.items()))}
    if props:
        out["properties"] = to_info(dict(props), sort_keys=True)
    out["features"] = features
    return out


def test_fc_info_by_column_equals_the_feature_by_feature_construction():
    import json

    rng = np.random.default_rng(7)
    n_feat, n_img = 40, 3
    # a reduction's shape: the same geometry objects repeat once per image (UTM, reprojected to EPSG:4326)
    shapes = [shapely.Point(500_000 + 100 * k, 5_300_000 - 50 * k).buffer(30 + k) for k in range(n_feat - 2)]
    shapes += [None, shapely.Point(500_000, 5_300_000)]
    geoms = shapes * n_img
    n = len(geoms)
    floats = rng.normal(size=n)
    floats[rng.random(n) < 0.2] = np.nan
    floats[rng.random(n) < 0.1] = np.inf
    floats[rng.random(n) < 0.1] = -np.inf
    mixed = [{"b": np.int64(1), "a": 2.5}, [1, np.float32(np.nan)], None, "x", pd.Timestamp("2024-01-02", tz="UTC")]
    mixed += [np.float64(np.nan), np.int32(4), True, 3, (1, "y")]
    frame = gpd.GeoDataFrame(
        {
            "mean": floats,
            "f32": floats.astype("f4"),
            "count": rng.integers(-(2**40), 2**40, n),
            "u8": rng.integers(0, 255, n).astype("u1"),
            "flag": rng.random(n) < 0.5,
            "name": [None if k % 7 == 0 else f"n{k}" for k in range(n)],
            "maybe": pd.array([None if k % 5 == 0 else k for k in range(n)], dtype="Int64"),
            "text": pd.array([None if k % 6 == 0 else f"t{k}" for k in range(n)], dtype="string"),
            "when": pd.to_datetime([None if k % 4 == 0 else 1_700_000_000_000 + k for k in range(n)], unit="ms"),
            "mixed": [mixed[k % len(mixed)] for k in range(n)],
            "empty": [None] * n,
        },
        geometry=gpd.GeoSeries(geoms, crs="EPSG:32633"),
        crs="EPSG:32633",
        index=pd.Index([f"img{k // n_feat}_{k % n_feat}" for k in range(n)], name="system:index"),
    )
    frame = frame[["mean", "name", "geometry", "count", "u8", "flag", "f32", "maybe", "text", "when", "mixed", "empty"]]
    props = {"z": np.float32(1.5), "a": [np.nan, 2]}
    got = fc_info(frame, props)
    want = _fc_info_by_feature(frame, props)
    # json text tells 1 from 1.0 and True, keeps key order and writes inf as Infinity
    assert json.dumps(got) == json.dumps(want)
    assert got["features"][0]["geometry"] is got["features"][n_feat]["geometry"]  # converted once per feature
