"""ee.ui.Chart: the plotted data (Line2D x/y, bars, legend labels), options, trend lines; wide tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import rioxarray  # noqa: F401  (registers .rio)
import shapely
import xarray as xr
from affine import Affine
from scipy.stats import theilslopes

import reducer as ee
from reducer import engine
from reducer.errors import ArgumentError
from reducer.sources import READ_COUNTER
from tests.common import write_tif

CRS = "EPSG:32633"
T = Affine(10, 0, 500000, 0, -10, 4000040)
DATES = ["2024-01-15", "2024-03-01", "2024-04-20", "2024-07-01"]
LEFT = shapely.box(500000, 4000000, 500020, 4000040)
RIGHT = shapely.box(500020, 4000000, 500040, 4000040)


def _image(left: float, right: float, date: str, second: float | None = None) -> ee.Image:
    """A 4x4 image: ``left`` in the two left columns, ``right`` in the two right ones."""
    a = np.array([[left, left, right, right]] * 4, dtype="f8")
    bands = [a] if second is None else [a, np.full((4, 4), second)]
    names = ["NDVI"] if second is None else ["NDVI", "EVI"]
    arr = xr.DataArray(np.stack(bands), dims=("band", "y", "x"), coords={"band": names})
    arr = arr.rio.write_crs(CRS).rio.write_transform(T)
    return ee.Image(arr, time=date)


@pytest.fixture
def ic():
    vals = [(0.2, 0.8), (0.4, 0.7), (0.5, 0.9), (0.9, 0.3)]
    return ee.ImageCollection([_image(lv, rv, d, second=lv / 2) for (lv, rv), d in zip(vals, DATES, strict=True)])


@pytest.fixture
def regions():
    import geopandas as gpd

    return ee.FeatureCollection(gpd.GeoDataFrame({"name": ["left", "right"]}, geometry=[LEFT, RIGHT], crs=CRS))


def _lines(fig):
    ax = fig.axes[0]
    return [line for line in ax.get_lines() if not line.get_label().startswith("_")]


def _legend(fig):
    legend = fig.axes[0].get_legend()
    return None if legend is None else [t.get_text() for t in legend.get_texts()]


def _dates(values):
    return pd.to_datetime(values).to_numpy()


# -- image.series ----------------------------------------------------------------------------------


def test_series_plots_one_line_per_band_against_dates(ic, tmp_path):
    chart = ee.ui.Chart.image.series(ic, ee.Geometry(LEFT, proj=CRS, geodesic=False), ee.Reducer.mean(), 10)
    fig = chart.figure()
    lines = _lines(fig)
    assert [line.get_label() for line in lines] == ["NDVI", "EVI"]
    np.testing.assert_array_equal(lines[0].get_xdata(), _dates(DATES))
    np.testing.assert_allclose(lines[0].get_ydata(), [0.2, 0.4, 0.5, 0.9])
    np.testing.assert_allclose(lines[1].get_ydata(), [0.1, 0.2, 0.25, 0.45])
    assert _legend(fig) == ["NDVI", "EVI"]
    assert fig.axes[0].get_legend().get_title().get_text() == "Band"
    assert fig.axes[0].get_xlabel() == "Date (UTC)"
    out = chart.save(tmp_path / "series.png")
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert [p.name for p in tmp_path.iterdir()] == ["series.png"]  # no temporary file left


def test_series_sorts_by_date_and_keeps_gaps(tmp_path):
    data = np.full((4, 4), 0.5, "float32")
    masked = data.copy()
    masked[:, :] = -1
    paths = [
        write_tif(tmp_path / "n_2024-05-01.tif", data * 2, transform=T, nodata=-1),
        write_tif(tmp_path / "n_2024-02-01.tif", data, transform=T, nodata=-1),
        write_tif(tmp_path / "n_2024-03-01.tif", masked, transform=T, nodata=-1),
    ]
    chart = ee.ui.Chart.image.series(ee.ImageCollection([str(p) for p in paths]), ee.Geometry(LEFT, proj=CRS))
    [line] = _lines(chart.figure())
    np.testing.assert_array_equal(line.get_xdata(), _dates(["2024-02-01", "2024-03-01", "2024-05-01"]))
    np.testing.assert_array_equal(line.get_ydata(), [0.5, np.nan, 1.0])  # under the cloud: a gap
    chart.setOptions({"interpolateNulls": True})
    [line] = _lines(chart.figure())
    np.testing.assert_array_equal(line.get_ydata(), [0.5, 1.0])


def test_series_reads_through_the_engine_once_and_lazily(ic, monkeypatch, tmp_path):
    paths = [write_tif(tmp_path / f"p_{d}.tif", np.ones((4, 4), "float32"), transform=T) for d in DATES]
    calls = []
    real = engine.compute
    monkeypatch.setattr(engine, "compute", lambda *objs: calls.append(1) or real(*objs))
    READ_COUNTER.reset()
    chart = ee.ui.Chart.image.series(ee.ImageCollection([str(p) for p in paths]), ee.Geometry(LEFT, proj=CRS))
    chart.setOptions({"title": "t"}).trendline()
    assert READ_COUNTER.reads == 0 and calls == []
    chart.figure()
    chart.save(tmp_path / "x.png")
    assert chart.trends() == {"B1": pytest.approx(0.0, abs=1e-15)}
    assert calls == [1] and READ_COUNTER.reads > 0


# -- image.seriesByRegion --------------------------------------------------------------------------


def test_series_by_region_names_series_by_property(ic, regions):
    chart = ee.ui.Chart.image.seriesByRegion(ic, regions, ee.Reducer.mean(), "NDVI", 10, seriesProperty="name")
    fig = chart.figure()
    lines = _lines(fig)
    assert [line.get_label() for line in lines] == ["left", "right"]
    np.testing.assert_allclose(lines[0].get_ydata(), [0.2, 0.4, 0.5, 0.9])
    np.testing.assert_allclose(lines[1].get_ydata(), [0.8, 0.7, 0.9, 0.3])
    np.testing.assert_array_equal(lines[1].get_xdata(), _dates(DATES))
    assert fig.axes[0].get_legend().get_title().get_text() == "name"
    assert fig.axes[0].get_ylabel() == "mean of NDVI"
    # by default: the features' ids, and the first band
    default = ee.ui.Chart.image.seriesByRegion(ic, regions, ee.Reducer.max())
    assert list(default.to_pandas().columns) == ["0", "1"]


def test_series_by_region_equals_wide_reduction(ic, regions):
    chart = ee.ui.Chart.image.seriesByRegion(ic, regions, ee.Reducer.mean(), "NDVI", seriesProperty="name")
    wide = ic.select("NDVI").reduceRegions(regions, ee.Reducer.mean()).to_pandas(wide=True)
    np.testing.assert_array_equal(chart.to_pandas().to_numpy(), wide.to_numpy().T)
    np.testing.assert_array_equal(chart.to_pandas().index, wide.columns)


def test_trendlines_ols_and_sens(ic, regions):
    chart = ee.ui.Chart.image.seriesByRegion(ic, regions, ee.Reducer.mean(), "NDVI", seriesProperty="name")
    df = chart.to_pandas()
    days = pd.DatetimeIndex(df.index).as_unit("ms").asi8 / 86_400_000
    ols = {c: np.polyfit(days, df[c].to_numpy(), 1)[0] for c in df.columns}
    sens = {c: theilslopes(df[c].to_numpy(), days)[0] for c in df.columns}
    got = chart.trendline("ols").trends()
    assert got.keys() == ols.keys()
    np.testing.assert_allclose([got[c] for c in ols], list(ols.values()), rtol=1e-9)
    np.testing.assert_allclose(list(chart.trends("sens").values()), list(sens.values()), rtol=1e-12)
    np.testing.assert_allclose(list(chart.trends(per="year").values()), np.array(list(ols.values())) * 365.25)
    fig = chart.figure()
    ax = fig.axes[0]
    labels = [line.get_label() for line in ax.get_lines()]
    assert labels[0] == "left" and labels[2] == "right"
    assert labels[1] == f"left trend ({ols['left']:+.3g}/day)"
    trend = ax.get_lines()[1]
    assert trend.get_linestyle() == "--"
    np.testing.assert_array_equal(trend.get_xdata(), _dates([DATES[0], DATES[-1]]))
    slope, intercept = np.polyfit(days, df["left"].to_numpy(), 1)
    np.testing.assert_allclose(trend.get_ydata(), intercept + slope * days[[0, -1]], rtol=1e-9)
    assert _legend(fig) == labels
    chart.trendline("sens", per="year")
    sens_line = chart.figure().axes[0].get_lines()[3]
    assert sens_line.get_label() == f"right trend ({sens['right'] * 365.25:+.3g}/year)"


# -- day of year -----------------------------------------------------------------------------------


def test_doy_series_and_by_year():
    images = [
        _image(0.2, 0, "2023-03-01"),  # day 60
        _image(0.4, 0, "2024-02-29"),  # day 60 of a leap year
        _image(0.6, 0, "2024-03-01"),  # day 61
        _image(0.8, 0, "2023-06-01"),  # day 152
        _image(0.1, 0, "2023-12-31"),  # day 365, after endDay
    ]
    ic = ee.ImageCollection(images)
    region = ee.Geometry(LEFT, proj=CRS)
    doy = ee.ui.Chart.image.doySeries(ic, region, ee.Reducer.mean(), 10, ee.Reducer.mean(), 1, 200)
    [line] = _lines(doy.figure())
    np.testing.assert_array_equal(line.get_xdata(), [60, 61, 152])
    np.testing.assert_allclose(line.get_ydata(), [0.3, 0.6, 0.8])
    assert doy.figure().axes[0].get_xlabel() == "Day of year"
    by_year = ee.ui.Chart.image.doySeriesByYear(ic, "NDVI", region, ee.Reducer.mean(), 10, ee.Reducer.max(), 1, 366)
    fig = by_year.figure()
    lines = _lines(fig)
    assert [line.get_label() for line in lines] == ["2023", "2024"]
    np.testing.assert_array_equal(lines[0].get_xdata(), [60, 61, 152, 365])
    np.testing.assert_allclose(lines[0].get_ydata(), [0.2, np.nan, 0.8, 0.1], rtol=1e-12)
    np.testing.assert_allclose(lines[1].get_ydata(), [0.4, 0.6, np.nan, np.nan], rtol=1e-12)
    assert fig.axes[0].get_legend().get_title().get_text() == "Year"


# -- feature.byFeature -----------------------------------------------------------------------------


def test_by_feature_categories():
    fc = ee.FeatureCollection(
        [ee.Feature(None, {"field": f, "mean": m, "max": x}) for f, m, x in [("F1", 0.5, 0.9), ("F2", 0.3, 0.4)]]
    )
    chart = ee.ui.Chart.feature.byFeature(fc, "field", ["mean", "max"]).setChartType("ColumnChart")
    fig = chart.figure()
    ax = fig.axes[0]
    heights = [round(p.get_height(), 9) for p in ax.patches]
    assert heights == [0.5, 0.3, 0.9, 0.4]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["F1", "F2"]
    assert _legend(fig) == ["mean", "max"]
    # all numeric properties by default, x = the ids
    assert list(ee.ui.Chart.feature.byFeature(fc).to_pandas().columns) == ["mean", "max"]
    with pytest.raises(ArgumentError, match="not properties"):
        ee.ui.Chart.feature.byFeature(fc, "field", ["nope"]).to_pandas()


# -- options and types -----------------------------------------------------------------------------


def test_options_change_the_figure(ic):
    chart = ee.ui.Chart.image.series(ic, ee.Geometry(LEFT, proj=CRS))
    same = chart.setOptions(
        {
            "title": "NDVI at the field",
            "hAxis": {"title": "Date"},
            "vAxis": {"title": "NDVI (-)", "viewWindow": {"min": 0, "max": 1}},
            "colors": ["CC0000", "#00AA00"],
            "lineWidth": 3,
            "series": {1: {"lineDashStyle": [4, 4], "labelInLegend": "EVI (scaled)"}},
            "trendlines": {0: {"type": "linear", "color": "000000"}},
        }
    )
    assert same is chart  # as in Earth Engine, setOptions changes the chart and returns it
    fig = chart.figure()
    ax = fig.axes[0]
    assert ax.get_title() == "NDVI at the field"
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("Date", "NDVI (-)")
    assert ax.get_ylim() == (0, 1)
    lines = ax.get_lines()
    assert [line.get_label() for line in lines][::2] == ["NDVI", "EVI (scaled)"]
    assert lines[0].get_color() == "#CC0000" and lines[0].get_linewidth() == 3
    assert lines[1].get_color() == "#000000" and lines[1].get_label().startswith("NDVI trend")
    assert len(lines) == 3  # a trend line for series 0 only
    chart.setOptions({"legend": {"position": "none"}})
    assert _legend(chart.figure()) is None


def test_chart_types_and_errors(ic):
    chart = ee.ui.Chart.image.series(ic, ee.Geometry(LEFT, proj=CRS)).setChartType("ScatterChart")
    lines = _lines(chart.figure())
    assert all(line.get_linestyle() == "None" and line.get_marker() == "o" for line in lines)
    assert chart.setChartType("AreaChart").getChartType() == "AreaChart"
    assert len(chart.figure().axes[0].collections) == 2  # one filled area per series
    with pytest.raises(ArgumentError, match="LineChart"):
        chart.setChartType("PieChart")
    with pytest.raises(ArgumentError, match="one value per band"):
        ee.ui.Chart.image.series(ic, LEFT, ee.Reducer.minMax())
    with pytest.raises(ArgumentError, match="'sens'"):
        chart.trendline("loess")


def test_chart_from_data_table(tmp_path):
    import datetime as dt

    table = [["date", "a"], [dt.date(2024, 1, 1), 1.0], [dt.date(2024, 1, 11), 2.0], [dt.date(2024, 1, 21), None]]
    chart = ee.ui.Chart(table, "LineChart", {"title": "t"})
    [line] = _lines(chart.figure())
    np.testing.assert_array_equal(line.get_xdata(), _dates(["2024-01-01", "2024-01-11", "2024-01-21"]))
    np.testing.assert_array_equal(line.get_ydata(), [1.0, 2.0, np.nan])
    assert chart.trends() == {"a": pytest.approx(0.1)}
    rows = chart.getDataTable()
    assert rows[0] == ["date", "a"] and rows[3][1] is None
    assert chart.save(tmp_path / "t.svg").read_text().lstrip().startswith("<?xml")


# -- time series as data ---------------------------------------------------------------------------


def test_wide_and_xarray_agree_with_long_form(ic, regions):
    red = ee.Reducer.mean().combine(ee.Reducer.max(), sharedInputs=True)
    result = ic.select("NDVI").reduceRegions(regions, red)
    long = result.to_pandas()
    wide = result.to_pandas(wide=True)
    assert wide.columns.names == ["output", "time"]
    assert wide.index.tolist() == ["0", "1"]
    assert wide["mean"].columns.tolist() == list(pd.to_datetime(DATES))
    np.testing.assert_allclose(wide["mean"].loc["1"].to_numpy(), [0.8, 0.7, 0.9, 0.3])
    for (fid, t), row in long.assign(fid=[i.split("_")[-1] for i in long.index]).groupby(["fid", "system:time_start"]):
        assert wide[("max", pd.Timestamp(t, unit="ms"))].loc[fid] == row["max"].iloc[0]
    cube = result.to_xarray()
    np.testing.assert_array_equal(cube["mean"].to_numpy(), wide["mean"].to_numpy())
    single = ic.select("NDVI").reduceRegions(regions, ee.Reducer.mean()).to_pandas(wide=True)
    assert single.columns.name == "time" and single.shape == (2, 4)
    with pytest.raises(ArgumentError, match="reduceRegions"):
        regions.to_pandas(wide=True)
