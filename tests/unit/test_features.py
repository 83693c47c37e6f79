from __future__ import annotations

import json
import threading

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

import reducer as ee
from reducer.errors import ArgumentError, CRSError, GeometryError, InputFileError
from reducer.features import Feature, FeatureCollection
from reducer.filters import Filter
from reducer.geometry import Geometry
from reducer.values import ComputedObject, Number

UTM = "EPSG:32633"


@pytest.fixture
def gdf():
    """Three squares in UTM 33N (100 m, 10 m, 1 m); an int, a float with a gap, a string."""
    return gpd.GeoDataFrame(
        {
            "code": np.array([10, 20, 30], dtype="int64"),
            "value": [1.5, np.nan, 3.0],
            "name": ["a", "b", "c"],
        },
        geometry=[
            shapely.box(500000, 0, 500100, 100),
            shapely.box(600000, 0, 600010, 10),
            shapely.box(700000, 0, 700001, 1),
        ],
        crs=UTM,
    )


# -- Feature --------------------------------------------------------------------------------------


def test_feature_getinfo_shape_and_sorted_properties():
    f = Feature(Geometry.Point([500000, 0], UTM), {"z": np.int64(1), "a": np.float32(0.5), "n": float("nan")})
    info = f.getInfo()
    assert list(info) == ["type", "geometry", "properties"]  # no id
    assert info["type"] == "Feature"
    assert info["geometry"]["type"] == "Point"
    assert info["geometry"]["coordinates"] == pytest.approx([15.0, 0.0])  # GeoJSON in EPSG:4326
    assert list(info["properties"]) == ["a", "n", "z"]
    assert info["properties"] == {"a": 0.5, "n": None, "z": 1}
    assert type(info["properties"]["z"]) is int


@pytest.mark.parametrize(
    "geometry",
    [
        Geometry.Point([1, 2]),
        {"type": "Point", "coordinates": [1, 2]},
        shapely.Point(1, 2),
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [1, 2]}, "properties": {}},
    ],
)
def test_feature_geometry_inputs(geometry):
    assert Feature(geometry).geometry().getInfo() == {"type": "Point", "coordinates": [1.0, 2.0]}


def test_feature_from_geojson_feature_with_id_and_from_feature():
    d = {"type": "Feature", "id": 7, "geometry": None, "properties": {"a": 1}}
    f = Feature(d)
    assert f.id().getInfo() == "7"
    assert f.getInfo() == {"type": "Feature", "geometry": None, "id": "7", "properties": {"a": 1}}
    g = Feature(f, {"b": 2})
    assert g.getInfo()["properties"] == {"a": 1, "b": 2}
    assert Feature(f)._thunk is f._thunk


def test_feature_properties_api():
    f = Feature(None, {"a": 1, "b": "x", "system:time_start": 5, "system:index": "id1"})
    assert f.id().getInfo() == "id1"
    assert f.get("a").getInfo() == 1
    assert f.get("system:index").getInfo() == "id1"
    assert f.get("missing").getInfo() is None
    assert Number(f.get("a")).add(1).getInfo() == 2
    assert f.getNumber("a").getInfo() == 1
    assert f.getString("b").getInfo() == "x"
    assert f.propertyNames().getInfo() == ["a", "b", "system:index", "system:time_start"]
    assert f.toDictionary().getInfo() == {"a": 1, "b": "x"}
    assert f.toDictionary(["a", "system:time_start"]).getInfo() == {"a": 1, "system:time_start": 5}
    g = f.set("c", 3).set({"d": 4}).set("e", 5, "f", 6)
    assert g.toDictionary().getInfo() == {"a": 1, "b": "x", "c": 3, "d": 4, "e": 5, "f": 6}
    assert f.toDictionary().getInfo() == {"a": 1, "b": "x"}  # unchanged: immutable
    assert f.set("system:index", "new").id().getInfo() == "new"
    with pytest.raises(ArgumentError, match="key, value pairs"):
        f.set("a", 1, "b")


def test_every_set_parses_its_arguments_the_same_way():
    objects = [Feature(None, {}), FeatureCollection([]), ee.Image(1), ee.ImageCollection([ee.Image(1)])]
    for obj in objects:
        where = f"{type(obj).__name__}.set"
        for args in [("a", 1, "b", "x"), ({"a": 1, "b": "x"},), (ee.Dictionary({"a": 1, "b": "x"}),)]:
            out = obj.set(*args)
            assert [out.get("a").getInfo(), out.get("b").getInfo()] == [1, "x"], (where, args)
        assert obj.set("c", Number(2).add(1)).get("c").getInfo() == 3
        assert obj.set().get("a").getInfo() is None  # no arguments: nothing set
        with pytest.raises(ArgumentError, match=rf"^{where}: expected key, value pairs or a dictionary"):
            obj.set("a", 1, "b")


def test_feature_set_geometry_select_copy_properties():
    f = Feature(Geometry.Point([1, 2]), {"a1": 1, "a2": 2, "b": 3})
    assert f.setGeometry(None).geometry().getInfo() is None
    assert f.setGeometry(Geometry.Point([3, 4])).geometry().coordinates().getInfo() == [3.0, 4.0]
    sel = f.select(["b", "a.*"])
    assert sel.propertyNames().getInfo() == ["a1", "a2", "b"]
    assert f.select(["b"], ["x"]).toDictionary().getInfo() == {"x": 3}
    assert f.select(["b"], retainGeometry=False).getInfo()["geometry"] is None
    with pytest.raises(ArgumentError, match="1 properties selected"):
        f.select(["b"], ["x", "y"]).getInfo()
    src = Feature(None, {"p": 1, "q": 2, "system:time_start": 9})
    dst = Feature(None, {"r": 0})
    assert dst.copyProperties(src).toDictionary().getInfo() == {"p": 1, "q": 2, "r": 0}
    assert dst.copyProperties(src, exclude=["q"]).toDictionary().getInfo() == {"p": 1, "r": 0}
    assert dst.copyProperties(src, ["system:time_start"]).get("system:time_start").getInfo() == 9
    with pytest.raises(ArgumentError, match="not both"):
        dst.copyProperties(src, ["p"], ["q"])


def test_feature_geometry_methods():
    f = Feature(Geometry.Rectangle([0, 0, 10, 10], UTM), {"k": 1})
    assert f.area().getInfo() == 100.0
    assert f.perimeter().getInfo() == 40.0
    assert f.buffer(-1).area().getInfo() == pytest.approx(64.0)
    assert f.buffer(-1).get("k").getInfo() == 1
    assert f.centroid(proj=UTM).geometry().coordinates().getInfo() == pytest.approx([5.0, 5.0])
    assert f.intersects(Geometry.Point([5, 5], UTM)).getInfo() is True
    assert f.intersection(Geometry.Rectangle([5, 5, 20, 20], UTM)).area().getInfo() == 25.0
    assert f.difference(Geometry.Rectangle([5, 0, 20, 20], UTM)).area().getInfo() == 50.0
    with pytest.raises(GeometryError, match="has no geometry"):
        Feature(None).area().getInfo()


def test_feature_is_lazy_over_lazy_values():
    calls = []
    n = Number._lazy(lambda: calls.append(1) or 5)
    f = Feature(None, {"a": 1}).set("b", n)
    assert calls == []
    assert f.get("b").getInfo() == 5
    assert calls == [1]


# -- FeatureCollection sources --------------------------------------------------------------------


def check_collection(fc, n=3):
    info = fc.getInfo()
    assert info["type"] == "FeatureCollection"
    assert [f["id"] for f in info["features"]] == [str(i) for i in range(n)]
    assert info["columns"]["system:index"] == "String"
    first = info["features"][0]
    assert first["geometry"]["type"] == "Polygon"
    assert shapely.geometry.shape(first["geometry"]).bounds[:2] == pytest.approx((15.0, 0.0))  # EPSG:4326
    assert first["properties"]["code"] == 10 and first["properties"]["name"] == "a"
    assert info["features"][1]["properties"]["value"] is None
    return info


@pytest.mark.parametrize(("suffix", "driver"), [(".gpkg", "GPKG"), (".shp", "ESRI Shapefile"), (".geojson", "GeoJSON")])
def test_collection_from_vector_files(tmp_path, gdf, suffix, driver):
    path = tmp_path / f"features{suffix}"
    gdf.to_file(path, driver=driver)
    fc = FeatureCollection(path)
    info = check_collection(fc)
    assert info["columns"]["code"] in ("Long", "Integer")
    assert info["columns"]["value"] == "Float"
    assert info["columns"]["name"] == "String"
    assert FeatureCollection(str(path)).size().getInfo() == 3


def test_collection_from_geoparquet(tmp_path, gdf):
    path = tmp_path / "features.parquet"
    gdf.to_parquet(path)
    info = check_collection(FeatureCollection(path))
    assert info["columns"] == {"code": "Long", "name": "String", "system:index": "String", "value": "Float"}
    assert FeatureCollection(path)._gdf().crs.to_epsg() == 32633


def test_collection_from_geodataframe_and_geoseries(gdf):
    check_collection(FeatureCollection(gdf))
    fc = FeatureCollection(gdf.geometry)
    assert fc.size().getInfo() == 3
    assert fc.getInfo()["columns"] == {"system:index": "String"}


def test_geodataframe_ids_index_and_geometry_column(gdf):
    renamed = gdf.rename_geometry("geom")
    assert FeatureCollection(renamed)._gdf().geometry.name == "geometry"
    with_ids = gdf.assign(**{"system:index": ["x", "y", "z"]})
    assert FeatureCollection(with_ids).aggregate_array("system:index").getInfo() == ["x", "y", "z"]
    labelled = gdf.set_axis(pd.Index(["p", "q", "r"], name="system:index"))
    assert FeatureCollection(labelled).aggregate_array("system:index").getInfo() == ["p", "q", "r"]
    filtered = gdf.iloc[[2, 0]]  # a plain index: ids are row positions
    assert FeatureCollection(filtered).aggregate_array("system:index").getInfo() == ["0", "1"]


def test_collection_from_features_keeps_explicit_ids():
    feats = [Feature(None, {"v": 1}), Feature(None, {"v": 2, "system:index": "mine"}), Feature(None, {"v": 3})]
    assert FeatureCollection(feats).aggregate_array("system:index").getInfo() == ["0", "mine", "2"]


def test_collection_from_feature_geometry_dict_and_collection():
    assert FeatureCollection(Feature(Geometry.Point([1, 2]), {"a": 1})).first().get("a").getInfo() == 1
    one = FeatureCollection(Geometry.Point([1, 2])).getInfo()["features"]
    assert one == [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [1.0, 2.0]}, "id": "0", "properties": {}}
    ]
    geojson = {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "geometry": {"type": "Point", "coordinates": [1, 2]}, "properties": {"a": 1}},
            {"type": "Feature", "id": "f2", "geometry": None, "properties": {"a": 2}},
        ],
    }
    fc = FeatureCollection(geojson)
    assert fc.aggregate_array("system:index").getInfo() == ["0", "f2"]
    assert FeatureCollection(fc)._thunk is fc._thunk
    assert FeatureCollection([]).size().getInfo() == 0
    assert FeatureCollection({"type": "FeatureCollection", "features": []}).getInfo()["features"] == []


def test_mixed_crs_features_go_to_4326():
    fc = FeatureCollection([Feature(Geometry.Point([500000, 0], UTM)), Feature(Geometry.Point([1, 1]))])
    assert fc._gdf().crs.to_epsg() == 4326
    assert fc._gdf().geometry.iloc[0].x == pytest.approx(15.0)
    same = FeatureCollection([Feature(Geometry.Point([500000, 0], UTM))])
    assert same._gdf().crs.to_epsg() == 32633


# -- errors ---------------------------------------------------------------------------------------


def test_missing_file_names_the_path(tmp_path):
    path = tmp_path / "nope.gpkg"
    with pytest.raises(InputFileError, match="nope.gpkg' does not exist"):
        FeatureCollection(path)


def test_unreadable_file(tmp_path):
    path = tmp_path / "bad.gpkg"
    path.write_text("not a geopackage")
    with pytest.raises(InputFileError, match="cannot read"):
        FeatureCollection(path)


@pytest.mark.filterwarnings("ignore:'crs' was not provided")
def test_shapefile_without_prj_is_a_crs_error(tmp_path, gdf):
    path = tmp_path / "noprj.shp"
    gdf.set_crs(None, allow_override=True).to_file(path)
    assert not (tmp_path / "noprj.prj").exists()
    with pytest.raises(CRSError) as info:
        FeatureCollection(path)
    assert "noprj.shp" in str(info.value) and "set_crs(" in str(info.value)


def test_geodataframe_without_crs_is_a_crs_error(gdf):
    with pytest.raises(CRSError, match=r"has no CRS.*gdf.set_crs\('EPSG:4326'\)"):
        FeatureCollection(gdf.set_crs(None, allow_override=True))


def test_geoparquet_without_crs_is_a_crs_error(tmp_path, gdf):
    path = tmp_path / "nocrs.parquet"
    gdf.set_crs(None, allow_override=True).to_parquet(path)
    with pytest.raises(CRSError, match="nocrs.parquet"):
        FeatureCollection(path)


def test_plain_parquet_is_an_input_error(tmp_path):
    path = tmp_path / "plain.parquet"
    pd.DataFrame({"a": [1]}).to_parquet(path)
    with pytest.raises(InputFileError, match="without GeoParquet metadata"):
        FeatureCollection(path)


def test_geojson_without_crs_is_4326(tmp_path):
    path = tmp_path / "plain.geojson"
    path.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {"type": "Feature", "geometry": {"type": "Point", "coordinates": [1, 2]}, "properties": {}}
                ],
            }
        )
    )
    fc = FeatureCollection(path)
    assert fc._gdf().crs.to_epsg() == 4326
    assert fc.first().geometry().getInfo() == {"type": "Point", "coordinates": [1.0, 2.0]}


def test_bad_sources():
    with pytest.raises(ArgumentError, match=r"FeatureCollection\(42\)"):
        FeatureCollection(42)
    with pytest.raises(ArgumentError, match="list item 'x' is not a Feature"):
        FeatureCollection(["x"])
    with pytest.raises(ArgumentError, match="expected an ee.Filter"):
        FeatureCollection([]).filter(42)
    with pytest.raises(ArgumentError, match="filter string 'x': expected a comparison"):
        FeatureCollection([]).filter("x")  # a string is Earth Engine's filter string


# -- laziness -------------------------------------------------------------------------------------


def test_map_is_not_called_until_getinfo(gdf):
    calls = []

    def fn(f):
        calls.append(f.id().getInfo())
        return f.set("double", Number(f.get("code")).multiply(2))

    fc = FeatureCollection(gdf).map(fn).filter(Filter.gt("double", 25)).sort("double", False)
    size = fc.size()
    assert calls == []
    assert size.getInfo() == 2
    assert calls == ["0", "1", "2"]
    assert fc.aggregate_array("double").getInfo() == [60, 40]
    assert calls == ["0", "1", "2"]  # evaluated once, cached


def test_file_is_read_once_and_only_when_needed(tmp_path, gdf, monkeypatch):
    path = tmp_path / "f.gpkg"
    gdf.to_file(path)
    reads = []
    real = gpd.read_file
    monkeypatch.setattr(gpd, "read_file", lambda *a, **k: reads.append(1) or real(*a, **k))
    fc = FeatureCollection(path)
    derived = fc.filter(Filter.eq("name", "b")).limit(1)
    assert reads == []
    assert derived.first().get("code").getInfo() == 20
    assert fc.size().getInfo() == 3
    assert reads == [1]


def test_lazy_collection_evaluates_once_across_threads():
    calls = []

    def thunk():
        calls.append(1)
        return FeatureCollection([Feature(None, {"v": 1})])._gdf()

    fc = FeatureCollection._lazy(thunk, meta="engine-plan")
    assert fc._meta == "engine-plan"
    assert repr(fc) == "ee.FeatureCollection(<lazy>)"
    threads = [threading.Thread(target=fc._gdf) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert calls == [1]
    assert repr(fc) == "ee.FeatureCollection(<1 features>)"


def test_transforms_do_not_mutate_the_cached_frame(gdf):
    fc = FeatureCollection(gdf)
    before = fc._gdf().copy()
    fc.select(["name"]).getInfo()
    fc.map(lambda f: f.set("x", 1)).getInfo()
    fc.to_geopandas()["name"] = "changed"
    pd.testing.assert_frame_equal(pd.DataFrame(fc._gdf()), pd.DataFrame(before))


# -- collection methods ---------------------------------------------------------------------------


def test_getinfo_columns_and_types():
    fc = FeatureCollection(
        [
            Feature(Geometry.Point([0, 0]), {"i": 1, "f": 1.5, "s": "a", "b": True, "l": [1, 2]}),
            Feature(Geometry.Point([1, 1]), {"i": 2, "f": float("nan"), "s": None}),
        ]
    ).set("title", "demo")
    info = fc.getInfo()
    assert info["columns"] == {
        "b": "Boolean",
        "f": "Float",
        "i": "Long",
        "l": "List",
        "s": "String",
        "system:index": "String",
    }
    assert info["properties"] == {"title": "demo"}
    assert info["features"][1]["properties"] == {"b": None, "f": None, "i": 2, "l": None, "s": None}
    assert fc.get("title").getInfo() == "demo"


def test_date_properties_in_collections():
    from reducer.dates import Date

    fc = FeatureCollection([Feature(None, {"system:time_start": Date(d)}) for d in ("2024-01-05", "2024-03-05")])
    assert fc.filterDate("2024-01-01", "2024-02-01").size().getInfo() == 1
    info = fc.getInfo()
    assert info["columns"]["system:time_start"] == "Date"
    assert info["features"][0]["properties"] == {"system:time_start": {"type": "Date", "value": 1704412800000}}


def test_filters_on_collections(gdf):
    fc = FeatureCollection(gdf)
    assert fc.filter(Filter.eq("name", "b")).aggregate_array("code").getInfo() == [20]
    assert fc.filterMetadata("code", "greater_than", 15).size().getInfo() == 2
    assert fc.filter(Filter.notNull(["value"])).aggregate_array("system:index").getInfo() == ["0", "2"]
    assert fc.filter(Filter.inList("system:index", ["1", "2"])).size().getInfo() == 2
    near = Geometry.Point([15.0, 0.0005])  # inside the first square only (reprojected to UTM)
    assert fc.filterBounds(near).aggregate_array("name").getInfo() == ["a"]
    assert fc.filterBounds(Geometry.Rectangle([14, -1, 17, 1])).size().getInfo() == 3
    assert fc.filter(Filter.eq("missing", 1)).size().getInfo() == 0
    dated = FeatureCollection([Feature(None, {"system:time_start": t}) for t in (0, 86_400_000)])
    assert dated.filterDate("1970-01-02", "1970-01-03").size().getInfo() == 1


def test_sort_limit_tolist_first(gdf):
    fc = FeatureCollection(gdf)
    assert fc.sort("code", False).aggregate_array("name").getInfo() == ["c", "b", "a"]
    assert fc.sort("value").aggregate_array("system:index").getInfo() == ["0", "2", "1"]  # null last
    assert fc.limit(2).aggregate_array("name").getInfo() == ["a", "b"]
    assert fc.limit(1, "code", False).first().get("name").getInfo() == "c"
    lst = fc.toList(2, 1)
    assert [f["id"] for f in lst.getInfo()] == ["1", "2"]
    assert Feature(lst.get(0)).get("name").getInfo() == "b"
    assert fc.first().id().getInfo() == "0"
    empty = fc.filter(Filter.never())
    assert empty.first().getInfo() is None
    assert empty.size().getInfo() == 0
    assert empty.getInfo()["features"] == []


def test_aggregates(gdf):
    fc = FeatureCollection(gdf)
    assert fc.aggregate_array("value").getInfo() == [1.5, 3.0]
    assert fc.aggregate_sum("code").getInfo() == 60
    assert fc.aggregate_mean("value").getInfo() == 2.25
    assert fc.aggregate_min("code").getInfo() == 10
    assert fc.aggregate_max("value").getInfo() == 3.0
    assert fc.aggregate_count("value").getInfo() == 2
    assert fc.aggregate_first("value").getInfo() == 1.5
    assert fc.aggregate_array("missing").getInfo() == []
    assert fc.aggregate_sum("missing").getInfo() == 0
    assert fc.aggregate_mean("missing").getInfo() is None
    with pytest.raises(ArgumentError, match="'a' is not a number"):
        fc.aggregate_sum("name").getInfo()


def test_merge_distinct_select(gdf):
    a = FeatureCollection(gdf)
    b = FeatureCollection([Feature(Geometry.Point([15, 0]), {"name": "d"})])
    merged = a.merge(b)
    assert merged.aggregate_array("system:index").getInfo() == ["1_0", "1_1", "1_2", "2_0"]
    assert merged._gdf().crs.to_epsg() == 32633
    assert merged.aggregate_array("name").getInfo() == ["a", "b", "c", "d"]
    dup = FeatureCollection([Feature(None, {"k": v, "o": i}) for i, v in enumerate([1, 2, 1, 2, 3])])
    assert dup.distinct("k").aggregate_array("o").getInfo() == [0, 1, 4]
    sel = a.select(["na.*", "code"], ["label", "id"])
    assert sel.first().toDictionary().getInfo() == {"id": 10, "label": "a"}
    assert a.select(["name"], retainGeometry=False).getInfo()["features"][0]["geometry"] is None
    assert a.flatten() is a


def test_geometry_union_and_iterate(gdf):
    fc = FeatureCollection(gdf)
    assert fc.geometry().area().getInfo() == pytest.approx(100 * 100 + 10 * 10 + 1)
    assert fc.union().size().getInfo() == 1
    total = fc.iterate(lambda f, acc: Number(f.get("code")).add(acc), 0)
    assert total.getInfo() == 60
    assert fc.bounds().type().getInfo() == "Polygon"


def test_python_exits(gdf):
    fc = FeatureCollection(gdf)
    out = fc.to_geopandas()
    assert isinstance(out, gpd.GeoDataFrame)
    assert out.index.name == "system:index" and out.index.tolist() == ["0", "1", "2"]
    assert out.crs.to_epsg() == 32633
    table = fc.to_pandas()
    assert type(table) is pd.DataFrame and "geometry" not in table.columns
    assert table.loc["1", "name"] == "b"


def test_map_errors_and_drop_nulls():
    fc = FeatureCollection([Feature(None, {"v": i}) for i in range(3)])
    assert fc.map(lambda f: None, dropNulls=True).size().getInfo() == 0
    with pytest.raises(ArgumentError, match="returned None"):
        fc.map(lambda f: None).getInfo()
    with pytest.raises(ArgumentError, match="must return an ee.Feature"):
        fc.map(lambda f: f.get("v")).getInfo()
    with pytest.raises(ArgumentError, match="expected a function"):
        fc.map(3)


def test_collection_from_lazy_list():
    calls = []
    lst = ComputedObject._lazy(lambda: calls.append(1) or [Feature(None, {"a": 1})])
    fc = FeatureCollection(lst)
    assert calls == []
    assert fc.size().getInfo() == 1


def test_collection_of_collections_flattens_as_earth_engine():
    a = ee.FeatureCollection([ee.Feature(ee.Geometry.Point([1, 2]), {"v": 1}), ee.Feature(None, {"v": 2})])
    b = ee.FeatureCollection([ee.Feature(None, {"w": "x"}).set("system:index", "k")])
    nested = ee.FeatureCollection([a, b])
    assert nested.size().getInfo() == 2
    info = nested.getInfo()
    assert [c["id"] for c in info["features"]] == ["0", "1"]
    assert [len(c["features"]) for c in info["features"]] == [2, 1]
    flat = nested.flatten().getInfo()
    assert [f["id"] for f in flat["features"]] == ["0_0", "0_1", "1_k"]
    present = [{k: v for k, v in f["properties"].items() if v is not None} for f in flat["features"]]
    assert present == [{"v": 1}, {"v": 2}, {"w": "x"}]  # a frame shows absent properties as None
    assert flat["features"][0]["geometry"] == {"type": "Point", "coordinates": [1.0, 2.0]}
    with pytest.raises(NotImplementedError, match="flatten"):
        nested.aggregate_array("v").getInfo()


def test_flatten_of_a_feature_list_keeps_the_features():
    feats = [ee.Feature(None, {"v": i}) for i in range(3)]
    fc = ee.FeatureCollection(feats).flatten()
    assert fc.aggregate_array("system:index").getInfo() == ["0", "1", "2"]
    assert fc.aggregate_sum("v").getInfo() == 0 + 1 + 2


def test_python_exits_hold_plain_values():
    f = ee.Feature(ee.Geometry.Point([1, 2]), {"a": 1})
    f = f.set("d", ee.Date("2024-01-02")).set("n", ee.Number(f.get("missing"))).set("g", ee.Geometry.Point([3, 4]))
    f = f.set("dd", ee.Dictionary({"x": ee.Number(2)})).set("l", ee.List([ee.Number(1).add(1)]))
    fc = ee.FeatureCollection([f])
    for frame in (fc.to_pandas(), fc.to_geopandas()):
        row = frame.iloc[0]
        assert row["d"] == pd.Timestamp("2024-01-02", tz="UTC")
        assert row["n"] is None or pd.isna(row["n"])
        assert row["g"].equals(shapely.Point(3, 4))
        assert row["dd"] == {"x": 2} and row["l"] == [2]
        assert not any(isinstance(v, ee.ComputedObject) for v in row.tolist())


def test_collection_of_collections_from_an_ee_list():
    a = ee.FeatureCollection([ee.Feature(None, {"v": 1})])
    b = ee.FeatureCollection([ee.Feature(None, {"v": 2}), ee.Feature(None, {"v": 3})])
    flat = ee.FeatureCollection(ee.List([a, b])).flatten()
    assert flat.aggregate_array("system:index").getInfo() == ["0_0", "1_0", "1_1"]
    assert flat.aggregate_sum("v").getInfo() == 1 + 2 + 3
