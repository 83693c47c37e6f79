from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from reducer.dates import Date, to_millis
from reducer.errors import ArgumentError, CRSError, DateError, GeometryError
from reducer.features import Feature, FeatureCollection
from reducer.filters import Filter
from reducer.geometry import Geometry
from reducer.values import List, Number

TABLE = pd.DataFrame(
    {
        "cloud": [5.0, 50.0, np.nan, 20.0],
        "n": [1, 2, 3, 4],
        "name": ["S2A_T32", "S2B_T33", None, "L8_T32"],
        "flag": [True, False, True, False],
        "tags": [["a", "b"], ["b"], [], None],
    }
)


def mask(f, table=TABLE, geometry=None):
    return f._mask(table, geometry).tolist()


# -- comparisons ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("f", "expected"),
    [
        (Filter.eq("n", 2), [False, True, False, False]),
        (Filter.eq("n", 2.0), [False, True, False, False]),
        (Filter.eq("name", "L8_T32"), [False, False, False, True]),
        (Filter.eq("n", "2"), [False, False, False, False]),  # a string never equals a number
        (Filter.neq("cloud", 5), [False, True, True, True]),  # EE: passes unless equal; null != 5
        (Filter.neq("cloud", None), [True, True, False, True]),  # the non-null features
        (Filter.eq("cloud", None), [False, False, True, False]),  # null equals null
        (Filter.eq("name", None), [False, False, True, False]),
        (Filter.neq("name", None), [True, True, False, True]),
        (Filter.lt("cloud", 20), [True, False, False, False]),
        (Filter.lte("cloud", 20), [True, False, False, True]),
        (Filter.gt("cloud", 20), [False, True, False, False]),
        (Filter.gte("cloud", 20), [False, True, False, True]),
        (Filter.lt("name", "S2B"), [True, False, False, True]),  # strings order lexicographically
        (Filter.eq("flag", True), [True, False, True, False]),
        (Filter.rangeContains("n", 2, 3), [False, True, True, False]),
        (Filter.inList("n", [1, 4, 9]), [True, False, False, True]),
        (Filter.inList("name", ["S2B_T33", "x"]), [False, True, False, False]),
        (Filter.listContains("tags", "b"), [True, True, False, False]),
        (Filter.stringContains("name", "T32"), [True, False, False, True]),
        (Filter.stringStartsWith("name", "S2"), [True, True, False, False]),
        (Filter.stringEndsWith("name", "33"), [False, True, False, False]),
        (Filter.notNull(["cloud", "name"]), [True, True, False, True]),
        (Filter.notNull("tags"), [True, True, True, False]),
        (Filter.always(), [True] * 4),
        (Filter.never(), [False] * 4),
    ],
)
def test_comparisons(f, expected):
    assert mask(f) == expected


@pytest.mark.parametrize(
    "f",
    [
        Filter.eq("missing", 1),
        Filter.neq("missing", None),  # a missing property reads as null
        Filter.lt("missing", 1),
        Filter.gte("missing", 1),
        Filter.inList("missing", [1]),
        Filter.stringContains("missing", "a"),
        Filter.notNull(["cloud", "missing"]),
        Filter.rangeContains("missing", 0, 10),
        Filter.date("2020-01-01", "2030-01-01"),  # no system:time_start column
        Filter.calendarRange(1, 12, "month"),
    ],
)
def test_missing_properties_never_pass(f):
    assert mask(f) == [False] * 4
    assert mask(f.Not()) == [True] * 4


def test_null_and_missing_properties_follow_earth_engine():
    # Earth Engine: a missing property reads as null, null equals null, neq is Not(eq).
    assert mask(Filter.eq("missing", None)) == [True] * 4
    assert mask(Filter.neq("missing", 1)) == [True] * 4
    t = pd.DataFrame({"a": [1.0, None, None, 2.0], "b": [1.0, None, 3.0, None]})
    assert mask(Filter.eq(leftField="a", rightField="b"), t) == [True, True, False, False]
    assert mask(Filter.neq(leftField="a", rightField="b"), t) == [False, False, True, True]
    assert mask(Filter.neq("a", None).Not(), t) == mask(Filter.eq("a", None), t) == [False, True, True, False]
    # the idiom that used to keep nothing: features with a value
    fc = FeatureCollection(
        [Feature(Geometry.Point([0, 0]), {"pop10": v}) for v in (5, None, 7)] + [Feature(Geometry.Point([0, 0]), {})]
    )
    assert fc.filter(Filter.neq("pop10", None)).aggregate_array("pop10").getInfo() == [5, 7]
    assert fc.filter(Filter.eq("pop10", None)).size().getInfo() == 2


def test_empty_table():
    assert Filter.eq("n", 1)._mask(pd.DataFrame()).tolist() == []
    assert Filter.bounds(Geometry.Point([0, 0]))._mask(pd.DataFrame(), None).tolist() == []


def test_ee_keyword_names_and_field_to_field():
    assert mask(Filter.eq(leftField="n", rightValue=3)) == [False, False, True, False]
    t = pd.DataFrame({"a": [1, 2, None], "b": [1, 3, 1]})
    assert mask(Filter.eq(leftField="a", rightField="b"), t) == [True, False, False]
    assert mask(Filter.lt(leftField="a", rightField="b"), t) == [False, True, False]
    assert mask(Filter.gt(leftValue=2, rightField="b"), t) == [True, False, True]
    assert mask(Filter.inList(leftField="n", rightValue=[2])) == [False, True, False, False]


def test_computed_values_are_unwrapped():
    assert mask(Filter.eq("n", Number(1).add(1))) == [False, True, False, False]
    assert mask(Filter.inList("n", List([1, 2]))) == [True, True, False, False]
    assert mask(Filter.gt("cloud", Number._lazy(lambda: 10))) == [False, True, False, True]


def test_bad_filter_construction():
    with pytest.raises(ArgumentError, match="cannot be built directly"):
        Filter()
    with pytest.raises(ArgumentError, match="missing the value"):
        Filter.eq("n")
    with pytest.raises(ArgumentError, match="missing the property name"):
        Filter.eq(rightValue=1)
    with pytest.raises(ArgumentError, match="not both"):
        Filter.eq("n", 1, rightField="m")
    with pytest.raises(ArgumentError, match="expected ee.Filter objects, got 'n'"):
        Filter.And("n")


# -- metadata ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("operator", "value", "expected"),
    [
        ("equals", 2, [False, True, False, False]),
        ("not_equals", 2, [True, False, True, True]),
        ("less_than", 2, [True, False, False, False]),
        ("greater_than", 2, [False, False, True, True]),
        ("not_less_than", 2, [False, True, True, True]),
        ("not_greater_than", 2, [True, True, False, False]),
        ("EQUALS", 2, [False, True, False, False]),
    ],
)
def test_metadata_numeric_operators(operator, value, expected):
    assert mask(Filter.metadata("n", operator, value)) == expected


@pytest.mark.parametrize(
    ("operator", "value", "expected"),
    [
        ("starts_with", "S2", [True, True, False, False]),
        ("ends_with", "T32", [True, False, False, True]),
        ("contains", "2B", [False, True, False, False]),
        ("not_starts_with", "S2", [False, False, True, True]),  # Not(...): the null row passes
        ("not_ends_with", "T32", [False, True, True, False]),
        ("not_contains", "2B", [True, False, True, True]),
    ],
)
def test_metadata_string_operators(operator, value, expected):
    assert mask(Filter.metadata("name", operator, value)) == expected


def test_metadata_unknown_operator():
    with pytest.raises(ArgumentError, match=r"unknown operator 'like'.*'equals'"):
        Filter.metadata("n", "like", 1)


# -- logic ----------------------------------------------------------------------------------------


def test_and_or_not():
    lo, hi = Filter.gt("n", 1), Filter.lt("n", 4)
    assert mask(Filter.And(lo, hi)) == [False, True, True, False]
    assert mask(Filter.And([lo, hi])) == [False, True, True, False]
    assert mask(Filter.Or(lo.Not(), hi.Not())) == [True, False, False, True]
    assert mask(Filter.And()) == [True] * 4
    assert mask(Filter.Or()) == [False] * 4
    assert mask(Filter.And(lo, hi).Not().Not()) == [False, True, True, False]
    assert repr(Filter.And(lo, hi.Not())) == "ee.Filter.And(ee.Filter.gt('n', 1), ee.Filter.Not(ee.Filter.lt('n', 4)))"
    assert Filter.eq("n", 1).getInfo() == {"type": "Filter", "name": "eq", "args": ["n", 1]}


def test_filters_are_immutable():
    f = Filter.eq("n", 1)
    with pytest.raises(AttributeError):
        f._name = "x"


# -- dates ----------------------------------------------------------------------------------------

DAYS = ["2024-01-01", "2024-01-31T23:59:59.999", "2024-02-01", "2024-06-15T10:30", "2024-12-31"]
TIMES = pd.DataFrame({"system:time_start": [to_millis(d) for d in DAYS]})


def test_date_start_inclusive_end_exclusive():
    assert mask(Filter.date("2024-01-01", "2024-02-01"), TIMES) == [True, True, False, False, False]
    assert mask(Filter.date(Date("2024-02-01"), Date("2025-01-01")), TIMES) == [False, False, True, True, True]
    assert mask(Filter.date("2024-02-01"), TIMES) == [False, False, True, False, False]  # 1 ms
    assert mask(Filter.date(to_millis("2024-06-15T10:30")), TIMES) == [False, False, False, True, False]
    assert mask(Filter.date("2025-01-01", "2024-01-01"), TIMES) == [False] * 5


def test_date_filter_on_datetime_and_null_times():
    t = pd.DataFrame({"system:time_start": pd.to_datetime(["2024-01-10", None, "2024-03-01"], utc=True)})
    assert mask(Filter.date("2024-01-01", "2024-02-01"), t) == [True, False, False]
    assert mask(Filter.gt("system:time_start", "2024-02-01"), t) == [False, False, True]
    t = pd.DataFrame({"system:time_start": [to_millis("2024-01-10"), np.nan]})
    assert mask(Filter.date("2024-01-01", "2024-02-01"), t) == [True, False]


def test_date_filters_on_ee_date_properties():
    t = pd.DataFrame({"system:time_start": [Date("2024-01-05"), None, Date("2024-03-05")]})
    assert mask(Filter.date("2024-01-01", "2024-02-01"), t) == [True, False, False]
    assert mask(Filter.calendarRange(3, 3, "month"), t) == [False, False, True]
    assert mask(Filter.gt("system:time_start", "2024-02-01"), t) == [False, False, True]
    t = pd.DataFrame({"when": [Date("2024-01-05"), Date("2024-03-05")]})
    assert mask(Filter.lt("when", Date("2024-02-01")), t) == [True, False]


def test_date_filter_rejects_bad_dates_at_build_time():
    with pytest.raises(DateError, match="'2024-02-30'"):
        Filter.date("2024-02-30")


def test_date_filter_lazy_dates():
    calls = []
    start = Date(Number._lazy(lambda: calls.append(1) or to_millis("2024-06-01")))
    f = Filter.date(start, start.advance(1, "month"))
    assert calls == []
    assert mask(f, TIMES) == [False, False, False, True, False]


@pytest.mark.parametrize(
    ("start", "end", "field", "expected"),
    [
        (1, None, "month", [True, True, False, False, False]),
        (1, 2, "month", [True, True, True, False, False]),
        (12, 1, "month", [True, True, False, False, True]),  # wraps: December to January
        (6, 8, "month", [False, False, False, True, False]),
        (32, 32, "day_of_year", [False, False, True, False, False]),
        (360, 31, "day_of_year", [True, True, False, False, True]),
        (31, 31, "day_of_month", [False, True, False, False, True]),
        (1, 1, "day_of_week", [True, False, False, False, False]),  # 2024-01-01 is a Monday
        (6, 7, "day_of_week", [False, False, False, True, False]),  # 2024-06-15 is a Saturday
        (10, 12, "hour", [False, False, False, True, False]),
        (23, 0, "hour", [True, True, True, False, True]),
        (30, 30, "minute", [False, False, False, True, False]),
        (59, 59, "second", [False, True, False, False, False]),
        (2024, 2024, "year", [True] * 5),
        (1, 1, "week", [True, False, False, False, True]),  # 2024-12-31 is in ISO week 1 of 2025
    ],
)
def test_calendar_range(start, end, field, expected):
    assert mask(Filter.calendarRange(start, end, field), TIMES) == expected


def test_calendar_range_default_field_and_errors():
    assert mask(Filter.calendarRange(1, 31), TIMES) == [True, True, False, False, False]
    assert mask(Filter.dayOfYear(366, 366), TIMES) == [False, False, False, False, True]
    with pytest.raises(ArgumentError, match="unknown field 'weekday'"):
        Filter.calendarRange(1, 2, "weekday")


# -- bounds ---------------------------------------------------------------------------------------

FOOTPRINTS = gpd.GeoSeries(
    [shapely.box(14, -1, 16, 1), shapely.box(20, 20, 21, 21), None, shapely.Polygon()], crs="EPSG:4326"
)
ROWS = pd.DataFrame(index=range(4))


def test_bounds_intersects_and_reprojects():
    assert mask(Filter.bounds(Geometry.Point([15, 0])), ROWS, FOOTPRINTS) == [True, False, False, False]
    utm_point = Geometry.Point([500000, 0], "EPSG:32633")  # (15, 0) in lon/lat
    assert mask(Filter.bounds(utm_point), ROWS, FOOTPRINTS) == [True, False, False, False]
    big = Geometry.Rectangle([0, -10, 30, 30])
    assert mask(Filter.bounds(big), ROWS, FOOTPRINTS) == [True, True, False, False]
    utm_footprints = FOOTPRINTS.to_crs("EPSG:32633")
    assert mask(Filter.bounds(Geometry.Point([15, 0])), ROWS, utm_footprints) == [True, False, False, False]


def test_bounds_accepts_features_shapely_and_collections():
    fc = FeatureCollection([Feature(Geometry.Point([15, 0])), Feature(Geometry.Point([20.5, 20.5]))])
    assert mask(Filter.bounds(fc), ROWS, FOOTPRINTS) == [True, True, False, False]
    assert mask(Filter.bounds(Feature(Geometry.Point([15, 0]))), ROWS, FOOTPRINTS) == [True, False, False, False]
    assert mask(Filter.bounds(shapely.Point(20.5, 20.5)), ROWS, FOOTPRINTS) == [False, True, False, False]


def test_bounds_without_geometries_or_crs():
    assert mask(Filter.bounds(Geometry.Point([15, 0])), ROWS, None) == [False] * 4
    with pytest.raises(CRSError, match="no CRS"):
        Filter.bounds(Geometry.Point([15, 0]))._mask(ROWS, gpd.GeoSeries([shapely.Point(0, 0)] * 4))
    with pytest.raises(GeometryError, match="expected a Geometry"):
        Filter.bounds("somewhere")
