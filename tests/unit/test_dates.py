from __future__ import annotations

import ast
import sys
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import reducer
from reducer.dates import Date, date_from_name, to_millis
from reducer.errors import ArgumentError, DateError
from reducer.values import Number, to_info

DAY = 86_400_000
Y2000 = 946_684_800_000  # 2000-01-01T00:00:00Z


def iso(ms):
    return None if ms is None else Date(ms).format("yyyy-MM-dd").getInfo()


# -- to_millis ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1970-01-02", DAY),
        ("2000", Y2000),
        ("2000-01", Y2000),
        ("2000-001", Y2000),
        ("2000-032", Y2000 + 31 * DAY),
        ("2000-01-01T01:02:03", Y2000 + 3_723_000),
        ("2000-01-01T01:02:03.5", Y2000 + 3_723_500),
        ("2000-01-01 00:00:00Z", Y2000),
        ("2000-01-01T02:00:00+02:00", Y2000),
        ("2000-01-01T00:00-0130", Y2000 + 5_400_000),
        (Y2000, Y2000),
        (float(Y2000), Y2000),
        (np.int64(Y2000), Y2000),
        (datetime(2000, 1, 1), Y2000),
        (datetime(2000, 1, 1, 1, tzinfo=timezone(timedelta(hours=1))), Y2000),
        (date(2000, 1, 2), Y2000 + DAY),
        (pd.Timestamp("2000-01-01T00:00:00.001"), Y2000 + 1),
        (np.datetime64("2000-01-01T00:00:00.000000001"), Y2000),
        (np.array("2000-01-02", dtype="datetime64[ns]"), Y2000 + DAY),
        (np.array(["2000-01-02"], dtype="datetime64[ns]"), Y2000 + DAY),
        (Date("2000-01-01"), Y2000),
        (Number(5), 5),
    ],
)
def test_to_millis_accepts(value, expected):
    assert to_millis(value) == expected


def test_to_millis_time_zone_for_naive_values():
    assert to_millis("2000-01-01T01:00", tz="Europe/Paris") == Y2000
    assert to_millis(datetime(2000, 1, 1, 1), tz="Europe/Paris") == Y2000
    assert to_millis("2000-01-01T00:00Z", tz="Europe/Paris") == Y2000  # an explicit offset wins


@pytest.mark.parametrize(
    "value",
    ["2024-13-01", "2024-02-30", "2023-366", "yesterday", "", None, True, float("nan"), pd.NaT, [2024]],
)
def test_to_millis_rejects_with_a_clear_message(value):
    with pytest.raises(DateError) as info:
        to_millis(value)
    msg = str(info.value)
    assert repr(value) in msg
    assert "ISO string" in msg and "milliseconds" in msg


def test_unknown_time_zone():
    with pytest.raises(DateError, match="unknown time zone 'Mars/Olympus'"):
        to_millis("2000-01-01", tz="Mars/Olympus")


# -- date_from_name -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("ndvi_2024-06-01.tif", "2024-06-01"),
        ("ndvi_2024_06_01.tif", "2024-06-01"),
        ("ndvi_20240601.tif", "2024-06-01"),
        ("S2B_MSIL2A_20240601T101559_N0510_R065_T32TQM.tif", "2024-06-01"),
        ("MOD13Q1.A2024153.h18v04.061.tif", "2024-06-01"),
        ("2024152.tif", "2024-05-31"),  # leap year: day 152 is 31 May
        ("2023152.tif", "2023-06-01"),
        ("/data/2020-01-01/scene_2024-06-01.tif", "2024-06-01"),  # the file name, not the folder
        ("LC08_L2SP_190024_20240601_20240610_02_T1.tif", "2024-06-01"),  # leftmost wins
        ("x_20240610_2024-06-01.tif", "2024-06-01"),  # separated beats compact
        ("x_2024153_20240610.tif", "2024-06-10"),  # 8 digits beat 7
        ("x_20241301_20240602.tif", "2024-06-02"),  # month 13 skipped, next one taken
        ("2024366_x.tif", "2024-12-31"),
    ],
)
def test_date_from_name_finds(name, expected):
    assert iso(date_from_name(name)) == expected


@pytest.mark.parametrize(
    "name",
    [
        "tile_20241301.tif",  # month 13
        "tile_20240632.tif",  # day 32
        "tile_20230229.tif",  # not a leap year
        "tile_2024367.tif",  # day of year 367
        "tile_2023366.tif",  # 366 in a non-leap year
        "tile_2024000.tif",  # day of year 0
        "tile_2024-06-32.tif",
        "tile_2024-06_01.tif",  # mixed separators
        "id_202406011234.tif",  # a 12-digit id
        "stamp_20240601101010.tif",  # 14 digits
        "id_120240601.tif",  # 9 digits
        "v12024-06-01.tif",  # glued to more digits
        "year_18000101.tif",  # year out of range
        "plain.tif",
        "",
    ],
)
def test_date_from_name_rejects(name):
    assert date_from_name(name) is None


# -- Date -----------------------------------------------------------------------------------------


def test_date_getinfo_and_millis():
    d = Date("2000-01-01")
    assert d.getInfo() == {"type": "Date", "value": Y2000}
    assert d.millis().getInfo() == Y2000
    assert Date(d)._thunk is d._thunk
    assert repr(d) == "ee.Date('2000-01-01T00:00:00.000')"


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        (None, "2024-03-05T07:08:09"),
        ("yyyy-MM-dd", "2024-03-05"),
        ("YYYY-MM-dd", "2024-03-05"),
        ("yyyyMMdd'T'HHmmss", "20240305T070809"),
        ("DDD", "065"),
        ("DD", "65"),
        ("D", "65"),
        ("yy/M/d", "24/3/5"),
        ("HH:mm:ss.SSS", "07:08:09.012"),
        ("SS", "01"),
        ("'day' D 'of' yyyy", "day 65 of 2024"),
        ("'It''s' h a", "It's 7 AM"),
        ("MMM MMMM", "Mar March"),
        ("EEE EEEE e", "Tue Tuesday 2"),
        ("w", "10"),
        ("Z ZZ", "+0000 +00:00"),
        ("yyyy_MM_dd-HH", "2024_03_05-07"),
    ],
)
def test_format_joda(pattern, expected):
    d = Date("2024-03-05T07:08:09.012Z")
    assert d.format(pattern).getInfo() == expected


def test_format_with_time_zone_and_errors():
    d = Date("2024-01-01T00:30:00Z")
    assert d.format("yyyy-MM-dd HH:mm", "America/New_York").getInfo() == "2023-12-31 19:30"
    with pytest.raises(ArgumentError, match="'T' is not a Joda-Time pattern letter"):
        d.format("yyyy-MM-ddTHH")
    with pytest.raises(ArgumentError, match="unclosed quote"):
        d.format("yyyy 'x")


@pytest.mark.parametrize(
    ("start", "delta", "unit", "expected"),
    [
        ("2024-01-31", 1, "month", "2024-02-29"),
        ("2023-01-31", 1, "month", "2023-02-28"),
        ("2024-01-31", 2, "month", "2024-03-31"),
        ("2024-03-31", -1, "month", "2024-02-29"),
        ("2024-05-31", 1, "month", "2024-06-30"),
        ("2024-12-31", 1, "month", "2025-01-31"),
        ("2024-02-29", 1, "year", "2025-02-28"),
        ("2024-02-29", 4, "year", "2028-02-29"),
        ("2024-02-29", -1, "years", "2023-02-28"),
        ("2024-01-01", 1, "week", "2024-01-08"),
        ("2024-02-28", 1, "day", "2024-02-29"),
        ("2024-01-01", -1, "day", "2023-12-31"),
        ("2024-01-01", 36, "hour", "2024-01-02"),
    ],
)
def test_advance(start, delta, unit, expected):
    assert Date(start).advance(delta, unit).format("yyyy-MM-dd").getInfo() == expected


def test_advance_fractions_and_errors():
    assert Date("2024-01-01").advance(1.5, "day").millis().getInfo() == to_millis("2024-01-02T12:00")
    assert Date("2024-01-01").advance(90, "minute").format("HH:mm").getInfo() == "01:30"
    assert Date("2024-01-01").advance(0.5, "month").format().getInfo() == "2024-01-16T12:00:00"
    with pytest.raises(ArgumentError, match="unknown unit 'fortnight'"):
        Date("2024-01-01").advance(1, "fortnight")


def test_advance_days_in_a_time_zone_keeps_the_wall_clock():
    # 2024-03-10 is the DST switch in New York: a day later is still noon local time
    d = Date("2024-03-09T12:00", "America/New_York").advance(1, "day", "America/New_York")
    assert d.format("yyyy-MM-dd HH:mm", "America/New_York").getInfo() == "2024-03-10 12:00"


@pytest.mark.parametrize(
    ("unit", "expected"),
    [("year", 2024), ("month", 3), ("week", 10), ("day", 5), ("hour", 7), ("minute", 8), ("second", 9)],
)
def test_get(unit, expected):
    assert Date("2024-03-05T07:08:09Z").get(unit).getInfo() == expected


@pytest.mark.parametrize(
    ("value", "unit", "in_unit", "expected"),
    [
        ("2024-01-01", "day", "year", 0),
        ("2024-12-31", "day", "year", 365),
        ("2023-12-31", "day", "year", 364),
        ("2024-03-05", "month", "year", 2),
        ("2024-03-05", "day", "month", 4),
        ("2024-03-05T07:08", "hour", "day", 7),
        ("2024-03-05T07:08", "minute", "day", 428),
        ("2024-03-05", "day", "week", 1),  # a Tuesday; Monday is 0
        ("2024-01-15", "week", "year", 2),
    ],
)
def test_get_relative(value, unit, in_unit, expected):
    assert Date(value).getRelative(unit, in_unit).getInfo() == expected


def test_get_relative_checks_units():
    with pytest.raises(ArgumentError, match="must be smaller"):
        Date("2024-01-01").getRelative("year", "day")


def test_get_fraction_and_difference():
    assert Date("2024-01-01T12:00").getFraction("day").getInfo() == 0.5
    assert Date("2024-02-16").getFraction("month").getInfo() == 15 / 29
    assert Date("2024-03-06T12:00").getFraction("week").getInfo() == 2.5 / 7  # Monday 4 March
    assert Date("2020-01-15").difference(Date("2020-01-01"), "day").getInfo() == 14.0
    assert Date("2020-01-01").difference("2020-01-15", "week").getInfo() == -2.0
    assert Date("2021-01-01").difference("2020-01-01", "year").getInfo() == 366 / 365.2425
    assert Date.unitRatio("week", "day").getInfo() == 7.0


def test_update_from_ymd_and_parse():
    assert Date("2024-06-15T10:20:30").update(2023, 2, 28).format().getInfo() == "2023-02-28T10:20:30"
    assert Date("2024-06-15").update(hour=5, minute=6, second=7.25).format("HH:mm:ss.SSS").getInfo() == ("05:06:07.250")
    with pytest.raises(DateError, match="not a date"):
        Date("2024-06-15").update(month=2, day=30).getInfo()
    assert Date.fromYMD(2000, 1, 1).millis().getInfo() == Y2000
    with pytest.raises(DateError):
        Date.fromYMD(2023, 2, 29).getInfo()
    assert Date.parse("yyyyMMdd", "20000101").millis().getInfo() == Y2000
    assert Date.parse("dd/MM/yyyy HH:mm", "02/01/2000 06:00").millis().getInfo() == Y2000 + DAY + 6 * 3_600_000
    assert Date.parse("yyyy-DDD", "2000-032").millis().getInfo() == Y2000 + 31 * DAY
    assert Date.parse("d MMMM yyyy", "1 January 2000").millis().getInfo() == Y2000
    assert Date.parse("yyyy-MM-dd'T'HH:mmZZ", "2000-01-01T02:00+02:00").millis().getInfo() == Y2000
    with pytest.raises(DateError, match="does not match the pattern"):
        Date.parse("yyyy-MM-dd", "01/01/2000").getInfo()


def test_dates_are_lazy_over_computed_values():
    calls = []
    n = Number._lazy(lambda: calls.append(1) or Y2000)
    d = Date(n).advance(1, "day")
    assert calls == []
    assert d.millis().getInfo() == Y2000 + DAY
    assert calls == [1]


def test_date_from_datetime_round_trip():
    dt = datetime(2024, 6, 1, 12, 30, tzinfo=UTC)
    assert Date(dt).format("yyyy-MM-dd'T'HH:mm").getInfo() == "2024-06-01T12:30"


# -- layering: values and _time never import dates ------------------------------------------------


def _imports(module: str) -> set[str]:
    """Every module ``reducer/<module>.py`` imports, at the top or inside functions (relative ones with dots)."""
    tree = ast.parse((Path(reducer.__file__).parent / f"{module}.py").read_text())
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            out.add("." * node.level + (node.module or ""))
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
    return out


def test_values_builds_on_time_not_on_dates():
    assert {m for m in _imports("values") if m.startswith(".")} <= {"._time", ".errors", ".stats.segments"}
    assert ".dates" not in _imports("values")
    assert "._time" in _imports("dates") and ".values" in _imports("dates")


def test_time_is_a_leaf_module():
    imports = _imports("_time")
    assert {m for m in imports if m.startswith(".")} == {".errors"}
    outside = {m.split(".")[0] for m in imports if not m.startswith(".")} - set(sys.stdlib_module_names)
    assert outside <= {"numpy", "pandas"}


def test_to_millis_evaluates_any_computed_object():
    # values' getInfo of a datetime and dates' Date both go through reducer._time.to_millis
    assert to_millis(Number(DAY)) == DAY
    assert to_millis(Date("1970-01-02")) == DAY
    assert to_info(datetime(1970, 1, 2, tzinfo=UTC)) == {"type": "Date", "value": DAY}
