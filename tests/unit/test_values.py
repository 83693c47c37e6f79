from __future__ import annotations

import json
import math
import threading
import time
from datetime import UTC, datetime

import numpy as np
import pytest
import shapely

import reducer as ee
from reducer import regions
from reducer.dates import Date
from reducer.errors import ArgumentError
from reducer.values import (
    ComputedObject,
    Dictionary,
    List,
    Number,
    String,
    Thunk,
    parse_set_args,
    to_info,
    to_json_value,
    unwrap,
    wrap,
)

# -- ComputedObject and Thunk ---------------------------------------------------------------------


def test_lazy_thunk_runs_once_and_only_on_getinfo():
    calls = []
    n = Number._lazy(lambda: calls.append(1) or 4)
    doubled = n.multiply(2).add(1)
    assert calls == []
    assert doubled.getInfo() == 9
    assert n.getInfo() == 4
    assert calls == [1]


def test_thunk_is_thread_safe():
    calls = []

    def slow():
        calls.append(1)
        time.sleep(0.05)
        return 7

    t = Thunk(slow)
    results = []
    threads = [threading.Thread(target=lambda: results.append(t())) for _ in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert results == [7] * 8
    assert calls == [1]


def test_objects_are_immutable():
    n = Number(1)
    with pytest.raises(AttributeError, match="immutable"):
        n.foo = 2


def test_wrapping_a_number_shares_the_value():
    a = Number._lazy(lambda: 3)
    b = Number(a)
    assert b._thunk is a._thunk


def test_generic_computed_object_and_aside():
    seen = []
    v = ComputedObject._lazy(lambda: {"x": np.int64(1)})
    assert v.aside(seen.append) is v
    assert seen == [v]
    assert v.getInfo() == {"x": 1}
    assert repr(ComputedObject._lazy(lambda: 1)) == "ee.ComputedObject(<lazy>)"
    assert repr(Number(2)) == "ee.Number(2)"


# -- Number ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        (lambda: Number(2).add(3), 5),
        (lambda: Number(2).subtract(3), -1),
        (lambda: Number(2).multiply(3.5), 7.0),
        (lambda: Number(7).divide(2), 3.5),
        (lambda: Number(7).divide(0), 0),
        (lambda: Number(2).pow(10), 1024),
        (lambda: Number(16).sqrt(), 4.0),
        (lambda: Number(-3).abs(), 3),
        (lambda: Number(2.5).round(), 3),
        (lambda: Number(-2.5).round(), -2),
        (lambda: Number(-2.4).floor(), -3),
        (lambda: Number(-2.4).ceil(), -2),
        (lambda: Number(-7.9).int(), -7),
        (lambda: Number(2**31).int(), -(2**31)),
        (lambda: Number(3).toFloat(), 3.0),
        (lambda: Number(3).min(2), 2),
        (lambda: Number(3).max(Number(5)), 5),
        (lambda: Number(3).eq(3.0), 1),
        (lambda: Number(3).neq(3), 0),
        (lambda: Number(3).lt(4), 1),
        (lambda: Number(3).lte(3), 1),
        (lambda: Number(3).gt(4), 0),
        (lambda: Number(3).gte(4), 0),
        (lambda: Number(-7).mod(3), -1),
        (lambda: Number(np.float32(1.5)).add(np.int64(1)), 2.5),
        (lambda: Number.parse("42"), 42),
    ],
)
def test_number_ops(expr, expected):
    got = expr().getInfo()
    assert got == expected
    assert type(got) is type(expected)


def test_number_sqrt_of_negative_is_null():
    assert Number(-1).sqrt().getInfo() is None


@pytest.mark.parametrize(
    ("value", "pattern", "expected"),
    [
        (3.14159, "%.2f", "3.14"),
        (42, "%05d", "00042"),
        (1234567, "%,d", "1,234,567"),
        (255, "%x", "ff"),
        (3.0, "%s", "3.0"),
        (7, "id_%d_x", "id_7_x"),
        (0.000123, "%.2e", "1.23e-04"),
        (-5, "%(d", "(5)"),
    ],
)
def test_number_format(value, pattern, expected):
    assert Number(value).format(pattern).getInfo() == expected


def test_number_format_rejects_bad_patterns():
    with pytest.raises(ArgumentError, match="exactly one conversion"):
        Number(1).format("%d and %d").getInfo()
    with pytest.raises(ArgumentError, match="needs an integer"):
        Number(1.5).format("%d").getInfo()


def test_number_rejects_non_numbers_now_and_lazily():
    with pytest.raises(ArgumentError, match=r"expected a number, got 'abc'"):
        Number("abc")
    with pytest.raises(ArgumentError, match="None"):
        Number(None)
    lazy = Number(ComputedObject._lazy(lambda: "x"))  # no error until evaluated
    with pytest.raises(ArgumentError, match="got 'x'"):
        lazy.getInfo()
    with pytest.raises(ArgumentError, match="expected a number"):
        Number(1).add("2")


# -- String ---------------------------------------------------------------------------------------


def test_string_methods():
    s = String("hello")
    assert s.cat(" world").getInfo() == "hello world"
    assert s.length().getInfo() == 5
    assert s.slice(1, -1).getInfo() == "ell"
    assert s.slice(-2).getInfo() == "lo"
    assert s.slice(2, 100).getInfo() == "llo"
    assert s.compareTo("hellp").getInfo() == -1
    assert s.compareTo("hello").getInfo() == 0
    assert s.compareTo("a").getInfo() == 1
    assert s.equals("hello").getInfo() is True
    assert s.equals(5).getInfo() is False
    assert s.toUpperCase().getInfo() == "HELLO"
    assert String("a,b").split(",").getInfo() == ["a", "b"]
    assert String("a1b1").replace("1", "-", "g").getInfo() == "a-b-"
    with pytest.raises(ArgumentError, match="expected a string, got 3"):
        String(3)


# -- List -----------------------------------------------------------------------------------------


def test_list_methods():
    lst = List([3, 1, 2])
    assert lst.get(0).getInfo() == 3
    assert lst.get(-1).getInfo() == 2
    assert lst.length().getInfo() == 3
    assert lst.size().getInfo() == 3
    assert lst.add(4).getInfo() == [3, 1, 2, 4]
    assert lst.cat([5, 6]).getInfo() == [3, 1, 2, 5, 6]
    assert lst.cat(List([7])).getInfo() == [3, 1, 2, 7]
    assert lst.slice(1).getInfo() == [1, 2]
    assert lst.slice(-2, None).getInfo() == [1, 2]
    assert lst.slice(0, 3, 2).getInfo() == [3, 2]
    assert lst.sort().getInfo() == [1, 2, 3]
    assert lst.sort(["c", "a", "b"]).getInfo() == [1, 2, 3]
    assert lst.reverse().getInfo() == [2, 1, 3]
    assert lst.contains(2).getInfo() is True
    assert lst.contains(9).getInfo() is False
    assert lst.indexOf(2).getInfo() == 2
    assert List([1, [2, [3, [4]]], []]).flatten().getInfo() == [1, 2, 3, 4]
    assert List(["b", 2, "a", 1]).sort().getInfo() == [1, 2, "a", "b"]
    assert List([1, 1, 2]).distinct().getInfo() == [1, 2]
    assert List(["a", "b"]).join("-").getInfo() == "a-b"
    assert List.sequence(0, 10, 5).getInfo() == [0, 5, 10]
    assert List.repeat("x", 2).getInfo() == ["x", "x"]


def test_list_map_gets_ee_objects():
    seen = []

    def fn(x):
        seen.append(type(x).__name__)
        return x.multiply(2) if isinstance(x, Number) else x.cat("!")

    out = List([1, "a"]).map(fn)
    assert seen == []  # lazy
    assert out.getInfo() == [2, "a!"]
    assert seen == ["Number", "String"]


def test_list_errors():
    with pytest.raises(ArgumentError, match="out of range for a list of 3"):
        List([1, 2, 3]).get(3).getInfo()
    with pytest.raises(ArgumentError, match="expected a list"):
        List("abc")
    with pytest.raises(ArgumentError, match="keys has 1 elements"):
        List([1, 2]).sort([1]).getInfo()


def test_list_holds_computed_objects():
    lst = List([Number(1).add(1), String("a")])
    assert lst.getInfo() == [2, "a"]
    assert Number(lst.get(0)).add(1).getInfo() == 3


# -- Dictionary -----------------------------------------------------------------------------------


def test_dictionary_methods():
    d = Dictionary({"b": 2, "a": 1})
    assert list(d.getInfo()) == ["a", "b"]
    assert d.keys().getInfo() == ["a", "b"]
    assert d.values().getInfo() == [1, 2]
    assert d.values(["b"]).getInfo() == [2]
    assert d.get("a").getInfo() == 1
    assert d.get("z", 0).getInfo() == 0
    assert d.contains("a").getInfo() is True
    assert d.contains("z").getInfo() is False
    assert d.set("c", Number(3)).getInfo() == {"a": 1, "b": 2, "c": 3}
    assert d.size().getInfo() == 2
    assert d.combine({"a": 10, "c": None}).getInfo() == {"a": 10, "b": 2, "c": None}
    assert d.combine({"a": 10}, overwrite=False).getInfo() == {"a": 1, "b": 2}
    assert d.select(["a"]).getInfo() == {"a": 1}
    assert d.remove(["a"]).getInfo() == {"b": 2}
    assert d.rename(["a"], ["x"]).getInfo() == {"b": 2, "x": 1}
    assert Dictionary.fromLists(["k"], [5]).getInfo() == {"k": 5}
    assert Dictionary().getInfo() == {}


def test_dictionary_missing_key_names_the_key():
    with pytest.raises(ArgumentError, match=r"key 'z' not found; keys are \['a'\]"):
        Dictionary({"a": 1}).get("z").getInfo()


# -- to_info, unwrap, wrap ------------------------------------------------------------------------


def test_to_info_converts_to_json_like_python():
    value = {
        "i": np.int32(3),
        "f": np.float64(1.5),
        "nan": float("nan"),
        "npnan": np.float32("nan"),
        "b": np.bool_(True),
        "arr": np.array([1, 2]),
        "t": (1, (2, 3)),
        "nested": [{"n": Number(2)}],
        "d64": np.datetime64("1970-01-01T00:00:01"),
        "dt": datetime(1970, 1, 1, 0, 0, 2, tzinfo=UTC),
        "geom": shapely.Point(1, 2),
    }
    info = to_info(value)
    assert info == {
        "i": 3,
        "f": 1.5,
        "nan": None,
        "npnan": None,
        "b": True,
        "arr": [1, 2],
        "t": [1, [2, 3]],
        "nested": [{"n": 2}],
        "d64": {"type": "Date", "value": 1000},
        "dt": {"type": "Date", "value": 2000},
        "geom": {"type": "Point", "coordinates": [1.0, 2.0]},
    }
    assert type(info["i"]) is int and type(info["f"]) is float and type(info["b"]) is bool


def test_to_info_sorts_keys_on_request():
    assert list(to_info({"b": 1, "a": {"d": 1, "c": 2}}, sort_keys=True)) == ["a", "b"]
    assert list(to_info({"b": 1, "a": {"d": 1, "c": 2}}, sort_keys=True)["a"]) == ["c", "d"]


# -- to_json_value: the one rule for reducer outputs ------------------------------------------------


@pytest.mark.parametrize(
    ("value", "integer", "expected"),
    [
        (None, None, None),
        (np.float64("nan"), None, None),
        (float("inf"), True, None),
        (np.float32("-inf"), False, None),
        (np.float32(0.5), None, 0.5),
        (np.float64(2.6), True, 3),
        (np.float64(-2.6), True, -3),
        (np.int64(7), None, 7),
        (np.int64(7), False, 7.0),
        (np.uint8(7), True, 7),
        (3, False, 3.0),
        (np.bool_(True), None, True),
        (np.bool_(False), True, False),
        ("text", True, "text"),
    ],
)
def test_to_json_value_scalars(value, integer, expected):
    out = to_json_value(value, integer)
    assert out == expected and type(out) is type(expected)


def test_to_json_value_containers_and_computed_objects():
    out = to_json_value({"b": [np.int64(1), np.float32("nan")], "a": (np.float64(0.5), {"y": 1, "x": 2})}, True, True)
    assert out == {"a": [0.5, {"x": 2, "y": 1}], "b": [1, None]}
    assert list(out) == ["a", "b"] and list(out["a"][1]) == ["x", "y"]
    assert type(out["b"][0]) is int and type(out["a"][0]) is float
    assert json.loads(json.dumps(out)) == out
    assert to_json_value(Number(7).divide(2), integer=True) == 4 and to_json_value(Number(7).divide(2)) == 3.5
    assert to_json_value(Dictionary({"b": np.int64(2), "a": 1})) == {"a": 1, "b": 2}
    assert to_json_value(Date("1970-01-02")) == {"type": "Date", "value": 86_400_000}
    assert to_json_value(np.array([1.5, np.nan])) == [1.5, None]


def test_regions_to_python_follows_the_rule():
    # reduceRegion's outputs: typed by the statistic (count is an integer, mean a float)
    assert [regions.to_python(np.float64(2.4), True), regions.to_python(np.int32(5), False)] == [2, 5.0]
    assert type(regions.to_python(np.int32(5), False)) is float
    assert regions.to_python(np.float64("nan"), True) is None and regions.to_python(np.float64("inf")) is None
    assert list(regions.to_python({"b": np.int64(1), "a": 2})) == ["a", "b"]


# -- parse_set_args: the arguments of every ee set() -----------------------------------------------


def test_parse_set_args_pairs_and_dicts():
    assert parse_set_args(("a", 1), "X.set") == {"a": 1}
    assert parse_set_args(("a", 1, String("b"), 2, 3, "three"), "X.set") == {"a": 1, "b": 2, "3": "three"}
    assert parse_set_args(({"b": 1, 2: "x"},), "X.set") == {"b": 1, "2": "x"}
    assert parse_set_args((Dictionary({"a": 1}),), "X.set") == {"a": 1}
    assert parse_set_args((ComputedObject._lazy(lambda: {"a": 1}),), "X.set") == {"a": 1}
    assert parse_set_args((), "X.set") == {}  # as Earth Engine's Python client: nothing set
    assert list(parse_set_args(("z", 1, "a", 2), "X.set")) == ["z", "a"]  # the order given


def test_parse_set_args_keeps_or_evaluates_values():
    n = Number(1).add(1)
    assert parse_set_args(("a", n), "X.set")["a"] is n
    assert parse_set_args(({"a": n},), "X.set")["a"] is n
    assert parse_set_args(("a", n), "X.set", evaluate=True) == {"a": 2}
    assert parse_set_args(({"a": n, "b": [1]},), "X.set", evaluate=True) == {"a": 2, "b": [1]}


@pytest.mark.parametrize("args", [("a",), ("a", 1, "b"), (Number(1),), ([("a", 1)],)])
def test_parse_set_args_rejects_what_is_neither_pairs_nor_a_dict(args):
    with pytest.raises(ArgumentError, match=r"^Feature\.set: expected key, value pairs or a dictionary, got \("):
        parse_set_args(args, "Feature.set")


def test_unwrap_and_wrap():
    assert unwrap(Number(1).add(1)) == 2
    assert unwrap([1]) == [1]
    assert isinstance(wrap(1.5), Number)
    assert isinstance(wrap("s"), String)
    assert isinstance(wrap((1, 2)), List)
    assert isinstance(wrap({"a": 1}), Dictionary)
    n = Number(1)
    assert wrap(n) is n
    assert math.isclose(wrap(np.float32(0.5)).getInfo(), 0.5)


def test_combine_keeps_null_keys_and_never_lets_a_null_overwrite():
    assert ee.Dictionary({"a": None}).combine({"b": 1}).getInfo() == {"a": None, "b": 1}
    assert ee.Dictionary({"a": 1}).combine({"a": None}).getInfo() == {"a": 1}
    assert ee.Dictionary({"a": None}).combine({"a": 2}).getInfo() == {"a": 2}
    assert ee.Dictionary({"a": 1}).combine({"a": 2}, False).getInfo() == {"a": 1}


@pytest.mark.filterwarnings("ignore:none of the 1 features overlaps")
def test_reduce_region_without_valid_pixel_then_rename(tmp_path):
    from tests.common import CRS, OUTSIDE, write_tif

    img = ee.Image(str(write_tif(tmp_path / "a.tif", np.arange(1, 10, dtype="float32").reshape(3, 3))))
    stats = img.reduceRegion(ee.Reducer.mean(), ee.Geometry(OUTSIDE, CRS, False), 1)
    out = ee.Dictionary({"extra": 1}).combine(stats).rename(["B1"], ["mean_b1"])
    assert out.getInfo() == {"extra": 1, "mean_b1": None}


def test_number_cast_of_a_missing_property_is_null():
    f = ee.Feature(None, {"a": 1})
    assert ee.Number(f.get("missing")).getInfo() is None
    assert ee.String(f.get("missing")).getInfo() is None
    with pytest.raises(ee.errors.ArgumentError):
        ee.Number(None)
