"""Cross-checks of the reducer catalog on generated fields.

Weighted order statistics and categorical statistics against exactextract; unweighted ones against
rasterstats; fits, regressions and correlations against numpy/scipy on the pixels (and covered
fractions) that exactextract reports; trends over time against numpy per pixel.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import reducer as ee
from tests.common import write_tif
from tests.integration.test_crosscheck import CRS, H, T, W, _fields

rasterstats = pytest.importorskip("rasterstats")
exactextract = pytest.importorskip("exactextract")


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    rng = np.random.default_rng(7)
    tmp = tmp_path_factory.mktemp("catalog")
    x = rng.normal(100, 20, (H, W)).astype("float32")
    x[rng.random((H, W)) < 0.05] = -9999
    x[40:55, 60:80] = -9999
    y = (0.5 * np.where(x == -9999, 0, x) + rng.normal(0, 8, (H, W))).astype("float32")
    cls = rng.integers(1, 7, (H, W)).astype("int16")
    cls[rng.random((H, W)) < 0.05] = 0
    paths = {
        "x": write_tif(tmp / "x.tif", x, transform=T, nodata=-9999, tiled=True, blocksize=32),
        "y": write_tif(tmp / "y.tif", y, transform=T, tiled=True, blocksize=32),
        "xy": write_tif(tmp / "xy.tif", np.stack([x, y]), transform=T, nodata=-9999, descriptions=["x", "y"]),
        "cls": write_tif(tmp / "cls.tif", cls, transform=T, nodata=0, tiled=True, blocksize=32),
    }
    return paths, _fields(rng)


def frame(path, fields, reducer):
    return ee.Image(str(path)).reduceRegions(ee.FeatureCollection(fields), reducer).to_pandas()


def floats(series):
    return np.array([np.nan if v is None else float(v) for v in series], float)


def test_weighted_quantiles_equal_exactextract(data):
    paths, fields = data
    red = ee.Reducer.median().combine(ee.Reducer.percentile([10, 25, 90]), sharedInputs=True)
    got = frame(paths["x"], fields, red)
    ops = ["median", "quantile(q=0.1)", "quantile(q=0.25)", "quantile(q=0.9)", "count"]
    ref = exactextract.exact_extract(str(paths["x"]), fields, ops, output="pandas")
    empty = ref["count"].to_numpy() == 0
    assert empty.any() and not empty.all()
    for mine, theirs in [("median", "median"), ("p10", "quantile_10"), ("p25", "quantile_25"), ("p90", "quantile_90")]:
        assert got[mine][empty].isna().all()
        np.testing.assert_allclose(
            floats(got[mine])[~empty], ref[theirs][~empty].astype(float), rtol=1e-6, err_msg=mine
        )


def test_weighted_categorical_equals_exactextract(data):
    paths, fields = data
    red = (
        ee.Reducer.majority()
        .combine(ee.Reducer.minority(), sharedInputs=True)
        .combine(ee.Reducer.unique(), sharedInputs=True)
        .combine(ee.Reducer.frac(), sharedInputs=True)
        .combine(ee.Reducer.frequencyHistogram(), sharedInputs=True)
    )
    got = frame(paths["cls"], fields, red)
    ref = exactextract.exact_extract(
        str(paths["cls"]), fields, ["majority", "minority", "variety", "unique", "frac", "count"], output="pandas"
    )
    full = ref["count"].to_numpy() > 0
    assert list(floats(got["majority"])[full]) == list(ref["majority"][full].astype(float))
    assert list(floats(got["minority"])[full]) == list(ref["minority"][full].astype(float))
    assert list(floats(got["unique"])[full]) == list(ref["variety"][full].astype(float))
    for k in np.flatnonzero(full):
        want = {str(int(v)): f for v, f in zip(ref["unique"][k], ref["frac"][k], strict=True)}
        mine = got["frac"].iloc[k]
        assert sorted(mine) == sorted(want)
        for c in want:
            assert mine[c] == pytest.approx(want[c], rel=1e-6)
        hist = got["histogram"].iloc[k]
        assert sum(hist.values()) == pytest.approx(ref["count"][k], rel=1e-6)
    assert got.loc[~full, ["majority", "minority", "unique", "frac"]].isna().all().all()


def test_unweighted_equals_rasterstats(data):
    paths, fields = data
    geoms = list(fields.geometry)
    red = (
        ee.Reducer.median()
        .combine(ee.Reducer.percentile([10, 90]), sharedInputs=True)
        .combine(ee.Reducer.range(), sharedInputs=True)
        .unweighted()
    )
    got = frame(paths["x"], fields, red)
    ref = rasterstats.zonal_stats(geoms, str(paths["x"]), stats="median percentile_10 percentile_90 range")
    for mine, theirs in [("median", "median"), ("p10", "percentile_10"), ("p90", "percentile_90"), ("range", "range")]:
        want = np.array([np.nan if r[theirs] is None else r[theirs] for r in ref], float)
        np.testing.assert_allclose(floats(got[mine]), want, rtol=1e-6, err_msg=mine)

    red = (
        ee.Reducer.majority()
        .combine(ee.Reducer.minority(), sharedInputs=True)
        .combine(ee.Reducer.unique(), sharedInputs=True)
        .combine(ee.Reducer.frequencyHistogram(), sharedInputs=True)
        .unweighted()
    )
    got = frame(paths["cls"], fields, red)
    ref = rasterstats.zonal_stats(geoms, str(paths["cls"]), stats="majority minority unique")
    cat = rasterstats.zonal_stats(geoms, str(paths["cls"]), categorical=True)
    for mine in ("majority", "minority", "unique"):
        want = [r[mine] for r in ref]
        assert [None if v is None or (isinstance(v, float) and math.isnan(v)) else v for v in got[mine]] == want
    for hist, want in zip(got["histogram"], cat, strict=True):
        assert (hist or {}) == {str(k): v for k, v in want.items()}


def _pixels(path, fields):
    """Per feature: exactextract's cell ids, values and covered fractions (valid cells only)."""
    df = exactextract.exact_extract(str(path), fields, ["cell_id", "values", "coverage"], output="pandas")
    return [pd.Series(v, index=c).astype(float) for c, v in zip(df["cell_id"], df["values"], strict=True)], [
        pd.Series(w, index=c).astype(float) for c, w in zip(df["cell_id"], df["coverage"], strict=True)
    ]


def test_fits_and_correlations_on_two_bands(data):
    paths, fields = data
    xs, ws = _pixels(paths["x"], fields)
    ys, _ = _pixels(paths["y"], fields)
    img = ee.Image(str(paths["xy"]))
    red = (
        ee.Reducer.linearFit()
        .combine(ee.Reducer.pearsonsCorrelation(), sharedInputs=True)
        .combine(ee.Reducer.spearmansCorrelation(), "s_", sharedInputs=True)
        .combine(ee.Reducer.kendallsCorrelation(2), "k_", sharedInputs=True)
        .combine(ee.Reducer.sensSlope(), "sen_", sharedInputs=True)
    )
    got = img.reduceRegions(ee.FeatureCollection(fields), red).to_pandas()
    reg = (
        img.select("x")
        .addBands(ee.Image(1).rename("one"))
        .addBands(img.select("y"))
        .reduceRegions(ee.FeatureCollection(fields), ee.Reducer.linearRegression(2, 1))
        .to_pandas()
    )
    checked = 0
    for k in range(len(fields)):
        cells = xs[k].index.intersection(ys[k].index)
        if len(cells) < 3:
            assert got["scale"].iloc[k] is None or np.isnan(got["scale"].iloc[k]) or len(cells) == 2
            continue
        x, y, w = xs[k][cells].to_numpy(), ys[k][cells].to_numpy(), ws[k][cells].to_numpy()
        A = np.c_[x, np.ones_like(x)] * np.sqrt(w)[:, None]
        scale, offset = np.linalg.lstsq(A, y * np.sqrt(w), rcond=None)[0]
        assert got["scale"].iloc[k] == pytest.approx(scale, rel=1e-6)
        assert got["offset"].iloc[k] == pytest.approx(offset, rel=1e-6, abs=1e-6)
        assert reg["coefficients"].iloc[k] == [pytest.approx([scale], rel=1e-6), pytest.approx([offset], rel=1e-5)]
        mx, my = np.average(x, weights=w), np.average(y, weights=w)
        r = np.sum(w * (x - mx) * (y - my)) / math.sqrt(np.sum(w * (x - mx) ** 2) * np.sum(w * (y - my) ** 2))
        assert got["correlation"].iloc[k] == pytest.approx(r, rel=1e-6)
        assert got["s_correlation"].iloc[k] == pytest.approx(stats.spearmanr(x, y).statistic, rel=1e-9)
        tau = stats.kendalltau(x, y, method="asymptotic")
        assert got["k_tau"].iloc[k] == pytest.approx(tau.statistic, rel=1e-9)
        assert got["k_p-value"].iloc[k] == pytest.approx(tau.pvalue, rel=1e-6)
        t = abs(r) * math.sqrt((len(x) - 2) / (1 - r * r))
        assert got["p-value"].iloc[k] == pytest.approx(2 * stats.t.sf(t, len(x) - 2), rel=1e-6)
        ts = stats.theilslopes(y, x)
        assert got["sen_slope"].iloc[k] == pytest.approx(ts.slope, rel=1e-9)
        assert got["sen_offset"].iloc[k] == pytest.approx(ts.intercept, rel=1e-9)
        checked += 1
    assert checked > 10


def test_trend_over_time_per_pixel():
    import rioxarray  # noqa: F401
    import xarray as xr

    n_t, ny, nx = 9, 16, 24
    rng = np.random.default_rng(11)
    days = np.arange(n_t) * 16.0
    ndvi = 0.2 + 0.004 * days[:, None, None] * rng.uniform(0.2, 1.5, (ny, nx)) + rng.normal(0, 0.02, (n_t, ny, nx))
    ndvi[rng.random((n_t, ny, nx)) < 0.15] = np.nan
    ndvi[:, 0, 0] = np.nan  # never valid
    coords = {
        "time": pd.Timestamp("2024-03-01") + pd.to_timedelta(days, "D"),
        "y": 5000000 - 10 * (np.arange(ny) + 0.5),
        "x": 600000 + 10 * (np.arange(nx) + 0.5),
    }
    ic = ee.ImageCollection(xr.DataArray(ndvi, dims=("time", "y", "x"), coords=coords).rio.write_crs(CRS))
    t0 = ic.first().get("system:time_start").getInfo()

    def add_time(img):
        t = (img.get("system:time_start").getInfo() - t0) / 86400000
        return img.rename("NDVI").addBands(ee.Image.constant(t).rename("t"))

    series = ic.map(add_time).select(["t", "NDVI"])
    red = (
        ee.Reducer.linearFit()
        .combine(ee.Reducer.sensSlope(), "sen_", sharedInputs=True)
        .combine(ee.Reducer.pearsonsCorrelation(), sharedInputs=True)
    )
    out = series.reduce(red)
    assert out.bandNames().getInfo() == ["scale", "offset", "sen_slope", "sen_offset", "correlation", "p-value"]
    got = dict(zip(out.bandNames().getInfo(), out.raster.stack(out.raster.grid).compute(), strict=True))
    assert np.isnan(got["scale"][0, 0])
    for i in range(ny):
        for j in range(nx):
            m = ~np.isnan(ndvi[:, i, j])
            if m.sum() < 3:
                continue
            slope, icpt = np.polyfit(days[m], ndvi[m, i, j], 1)
            assert got["scale"][i, j] == pytest.approx(slope, rel=1e-6)
            assert got["offset"][i, j] == pytest.approx(icpt, rel=1e-6)
            ts = stats.theilslopes(ndvi[m, i, j], days[m])
            assert got["sen_slope"][i, j] == pytest.approx(ts.slope, rel=1e-9)
            pr = stats.pearsonr(days[m], ndvi[m, i, j])
            assert got["correlation"][i, j] == pytest.approx(pr.statistic, rel=1e-9)
            assert got["p-value"][i, j] == pytest.approx(pr.pvalue, rel=1e-6)
