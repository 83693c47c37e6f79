"""Every reducer on the 3×3 raster of 1..9, weighted and unweighted, against numpy/scipy oracles.

Pixel sets: the square (0.5,0.5)–(2.5,2.5) covers the corners by 0.25, the edges by 0.5 and the centre
by 1; its centre-in pixels (GDAL's rule on the boundary) are 2, 3, 5, 6, 8, 9. TOP_LEFT covers 1, 2
fully and 4, 5 by 0.8, and their centres are inside.
"""

from __future__ import annotations

import math
from bisect import bisect_right

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from scipy import stats

import reducer as ee
from tests.common import CRS, EMPTY, OUTSIDE, SQUARE, TOP_LEFT, VALUES_3x3, local_box, write_tif

V = VALUES_3x3.astype("f8").ravel()
Y = np.round(V**1.5, 3)  # second input for two-input reducers
C = V % 3  # a class band
W_SQUARE = np.array([0.25, 0.5, 0.25, 0.5, 1, 0.5, 0.25, 0.5, 0.25])
W_TOP_LEFT = np.array([1, 1, 0, np.float32(0.8), np.float32(0.8), 0, 0, 0, 0])
CENTRE = {"square": np.array([2, 3, 5, 6, 8, 9]) - 1, "top_left": np.array([1, 2, 4, 5]) - 1}
WEIGHTS = {"square": W_SQUARE, "top_left": W_TOP_LEFT}
GEOMS = {"square": SQUARE, "top_left": TOP_LEFT}


def pixels(geom: str, weighted: bool) -> tuple[np.ndarray, np.ndarray]:
    """Row-major pixel indices and weights of a region."""
    if weighted:
        idx = np.flatnonzero(WEIGHTS[geom] > 0)
        return idx, WEIGHTS[geom][idx]
    idx = CENTRE[geom]
    return idx, np.ones(len(idx))


# -- independent oracles ----------------------------------------------------------------------------


def ee_quantile(x, w, q):
    """exactextract's weighted quantile, element by element as in weighted_quantiles.cpp."""
    order = np.argsort(x, kind="stable")
    x, w = list(x[order]), list(w[order])
    n = len(x)
    s, cum = [], 0.0
    for i in range(n):
        s.append(0.0 if i == 0 else i * w[i] + (n - 1) * cum)
        cum += w[i]
    t = q * (n - 1) * cum
    r = bisect_right(s, t)
    if r == 0:
        return x[0]
    if r == n:
        return x[-1]
    return x[r - 1] + (t - s[r - 1]) * (x[r] - x[r - 1]) / (s[r] - s[r - 1])


def wmoment(x, w, k):
    m = np.sum(w * x) / np.sum(w)
    return np.sum(w * (x - m) ** k) / np.sum(w)


def buckets(lo, hi, max_buckets):
    """Brute force: the smallest power-of-2 width that fits [lo, hi] in max_buckets buckets."""
    for e in range(-30, 30):
        width = 2.0**e
        bmin = math.floor(lo / width) * width
        n = math.floor((hi - bmin) / width) + 1
        if n <= max_buckets:
            return bmin, width, n
    raise AssertionError


def hist_counts(x, w, bmin, width, n):
    idx = np.floor((x - bmin) / width).astype(int)
    return np.array([w[idx == k].sum() for k in range(n)]), np.array(
        [
            (w * x)[idx == k].sum() / w[idx == k].sum() if (idx == k).any() else bmin + (k + 0.5) * width
            for k in range(n)
        ]
    )


def key(v):
    return str(int(v)) if float(v).is_integer() else str(v)


def wls(x, y, w):
    A = np.c_[x, np.ones_like(x)] * np.sqrt(w)[:, None]
    return np.linalg.lstsq(A, y * np.sqrt(w), rcond=None)[0]


def wcorr(x, y, w):
    mx, my = np.average(x, weights=w), np.average(y, weights=w)
    return np.sum(w * (x - mx) * (y - my)) / np.sqrt(np.sum(w * (x - mx) ** 2) * np.sum(w * (y - my) ** 2))


# one-input: (reducer factory, oracle(x, w, centre_count) -> {output: value})
ONE = [
    (ee.Reducer.mean, lambda x, w, n: {"mean": np.average(x, weights=w)}),
    (ee.Reducer.sum, lambda x, w, n: {"sum": np.sum(w * x)}),
    (ee.Reducer.count, lambda x, w, n: {"count": n}),
    (ee.Reducer.countEvery, lambda x, w, n: {"count": n}),
    (ee.Reducer.variance, lambda x, w, n: {"variance": wmoment(x, w, 2)}),
    (ee.Reducer.stdDev, lambda x, w, n: {"stdDev": math.sqrt(wmoment(x, w, 2))}),
    (
        ee.Reducer.sampleVariance,
        lambda x, w, n: {
            "variance": np.sum(w * (x - np.average(x, weights=w)) ** 2) / (w.sum() - (w**2).sum() / w.sum())
        },
    ),
    (
        ee.Reducer.sampleStdDev,
        lambda x, w, n: {
            "stdDev": math.sqrt(np.sum(w * (x - np.average(x, weights=w)) ** 2) / (w.sum() - (w**2).sum() / w.sum()))
        },
    ),
    (ee.Reducer.skew, lambda x, w, n: {"skew": wmoment(x, w, 3) / wmoment(x, w, 2) ** 1.5}),
    (ee.Reducer.kurtosis, lambda x, w, n: {"kurtosis": wmoment(x, w, 4) / wmoment(x, w, 2) ** 2 - 3}),
    (ee.Reducer.min, lambda x, w, n: {"min": x.min()}),
    (ee.Reducer.max, lambda x, w, n: {"max": x.max()}),
    (ee.Reducer.minMax, lambda x, w, n: {"min": x.min(), "max": x.max()}),
    (ee.Reducer.range, lambda x, w, n: {"range": x.max() - x.min()}),
    (ee.Reducer.product, lambda x, w, n: {"product": np.prod(x)}),
    (ee.Reducer.anyNonZero, lambda x, w, n: {"any": 1}),
    (ee.Reducer.allNonZero, lambda x, w, n: {"all": 1}),
    (ee.Reducer.median, lambda x, w, n: {"median": ee_quantile(x, w, 0.5)}),
    (
        lambda: ee.Reducer.percentile([10, 2.5, 90]),
        lambda x, w, n: {
            "p10": ee_quantile(x, w, 0.1),
            "p2.5": ee_quantile(x, w, 0.025),
            "p90": ee_quantile(x, w, 0.9),
        },
    ),
    (
        lambda: ee.Reducer.intervalMean(25, 75),
        lambda x, w, n: {
            "mean": np.average(
                x[(x >= ee_quantile(x, w, 0.25)) & (x <= ee_quantile(x, w, 0.75))],
                weights=w[(x >= ee_quantile(x, w, 0.25)) & (x <= ee_quantile(x, w, 0.75))],
            )
        },
    ),
    # all values distinct: the largest weight wins, ties to the smallest value
    (ee.Reducer.mode, lambda x, w, n: {"mode": min(x[w == w.max()])}),
    (ee.Reducer.majority, lambda x, w, n: {"majority": min(x[w == w.max()])}),
    (ee.Reducer.minority, lambda x, w, n: {"minority": min(x[w == w.min()])}),
    (ee.Reducer.frequencyHistogram, lambda x, w, n: {"histogram": {key(v): c for v, c in zip(x, w, strict=True)}}),
    (ee.Reducer.frac, lambda x, w, n: {"frac": {key(v): c / w.sum() for v, c in zip(x, w, strict=True)}}),
    (ee.Reducer.countDistinct, lambda x, w, n: {"count": len(set(x))}),
    (ee.Reducer.countDistinctNonNull, lambda x, w, n: {"count": len(set(x))}),
    (ee.Reducer.unique, lambda x, w, n: {"unique": len(set(x))}),
    (ee.Reducer.first, lambda x, w, n: {"first": x[0]}),
    (ee.Reducer.firstNonNull, lambda x, w, n: {"first": x[0]}),
    (ee.Reducer.last, lambda x, w, n: {"last": x[-1]}),
    (ee.Reducer.lastNonNull, lambda x, w, n: {"last": x[-1]}),
    (ee.Reducer.toList, lambda x, w, n: {"list": list(x)}),
    (
        lambda: ee.Reducer.histogram(4),
        lambda x, w, n: (
            lambda b: {
                "histogram": {
                    "bucketMin": b[0],
                    "bucketWidth": b[1],
                    "histogram": list(hist_counts(x, w, *b)[0]),
                    "bucketMeans": list(hist_counts(x, w, *b)[1]),
                }
            }
        )(buckets(x.min(), x.max(), 4)),
    ),
    (
        lambda: ee.Reducer.autoHistogram(4, None, None, True),
        lambda x, w, n: (
            lambda b: {"histogram": [[b[0] + k * b[1], c] for k, c in enumerate(np.cumsum(hist_counts(x, w, *b)[0]))]}
        )(buckets(x.min(), x.max(), 4)),
    ),
    (
        lambda: ee.Reducer.fixedHistogram(0, 10, 5),
        lambda x, w, n: {"histogram": [[2 * k, w[(x >= 2 * k) & (x < 2 * k + 2)].sum()] for k in range(5)]},
    ),
    (
        lambda: ee.Reducer.fixedHistogram(2, 6, 2, True),
        lambda x, w, n: {"histogram": [[2, w[(x >= 2) & (x < 4)].sum()], [4, w[(x >= 2) & (x < 6)].sum()]]},
    ),
]

TWO = [
    (ee.Reducer.linearFit, lambda x, y, w: dict(zip(["scale", "offset"], wls(x, y, w), strict=True))),
    (
        lambda: ee.Reducer.linearRegression(1),
        lambda x, y, w: {
            "coefficients": [[np.sum(w * x * y) / np.sum(w * x * x)]],
            "residuals": [math.sqrt(np.sum(w * (y - x * np.sum(w * x * y) / np.sum(w * x * x)) ** 2) / w.sum())],
        },
    ),
    (
        ee.Reducer.sensSlope,
        lambda x, y, w: dict(zip(["slope", "offset"], stats.theilslopes(y, x)[:2], strict=True)),
    ),
    (
        ee.Reducer.pearsonsCorrelation,
        lambda x, y, w: {"correlation": wcorr(x, y, w)},
    ),
    (ee.Reducer.spearmansCorrelation, lambda x, y, w: {"correlation": stats.spearmanr(x, y).statistic}),
    (
        lambda: ee.Reducer.kendallsCorrelation(2),
        lambda x, y, w: dict(zip(["tau", "p-value"], stats.kendalltau(x, y, method="asymptotic"), strict=True)),
    ),
    (lambda: ee.Reducer.toList(2), lambda x, y, w: {"list": [[a, b] for a, b in zip(x, y, strict=True)]}),
]


@pytest.fixture(scope="module")
def image(tmp_path_factory):
    tif = write_tif(
        tmp_path_factory.mktemp("cat") / "xyc.tif",
        np.stack([VALUES_3x3, Y.reshape(3, 3), C.reshape(3, 3)]).astype("float32"),
        descriptions=["x", "y", "c"],
    )
    return ee.Image(str(tif))


@pytest.fixture(scope="module")
def fc():
    return ee.FeatureCollection(gpd.GeoDataFrame({"name": list(GEOMS)}, geometry=list(GEOMS.values()), crs=CRS))


def run(img, fc, red):
    return [f["properties"] for f in img.reduceRegions(fc, red).getInfo()["features"]]


def approx(got, want):
    if isinstance(want, dict):
        assert isinstance(got, dict) and sorted(got) == sorted(want), (got, want)
        for k in want:
            approx(got[k], want[k])
    elif isinstance(want, list | tuple):
        assert isinstance(got, list) and len(got) == len(want), (got, want)
        for a, b in zip(got, want, strict=True):
            approx(a, b)
    else:
        assert got == pytest.approx(float(want), rel=1e-6, abs=1e-12), (got, want)


@pytest.mark.parametrize("weighted", [True, False], ids=["weighted", "unweighted"])
@pytest.mark.parametrize(("make", "oracle"), ONE, ids=[f"{i}" for i in range(len(ONE))])
def test_one_input(image, fc, make, oracle, weighted):
    red = make() if weighted else make().unweighted()
    ps = run(image.select("x"), fc, red)
    for geom, p in zip(GEOMS, ps, strict=True):
        idx, w = pixels(geom, weighted)
        want = oracle(V[idx], w, len(CENTRE[geom]))
        for k, v in want.items():
            approx(p[k], v)


@pytest.mark.parametrize("weighted", [True, False], ids=["weighted", "unweighted"])
@pytest.mark.parametrize(("make", "oracle"), TWO, ids=[f"{i}" for i in range(len(TWO))])
def test_two_inputs(image, fc, make, oracle, weighted):
    red = make() if weighted else make().unweighted()
    ps = run(image.select(["x", "y"]), fc, red)
    for geom, p in zip(GEOMS, ps, strict=True):
        idx, w = pixels(geom, weighted)
        for k, v in oracle(V[idx], Y[idx], w).items():
            approx(p[k], v)


def test_pearson_p_value_is_scipys(image, fc):
    ps = run(image.select(["x", "y"]), fc, ee.Reducer.pearsonsCorrelation().unweighted())
    for geom, p in zip(GEOMS, ps, strict=True):
        ref = stats.pearsonr(V[CENTRE[geom]], Y[CENTRE[geom]])
        assert p["correlation"] == pytest.approx(ref.statistic, rel=1e-9)
        assert p["p-value"] == pytest.approx(ref.pvalue, rel=1e-6)


def test_linear_regression_with_constant_matches_linear_fit(image, fc):
    img = image.select(["x"]).addBands(ee.Image(1).rename("one")).addBands(image.select("y"))
    [p, _] = run(img, fc, ee.Reducer.linearRegression(2, 1))
    idx, w = pixels("square", True)
    scale, offset = wls(V[idx], Y[idx], w)
    approx(p["coefficients"], [[scale], [offset]])
    assert len(p["residuals"]) == 1


def test_kendall_one_input_uses_sequence_numbers(image, fc):
    ps = run(image.select("y"), fc, ee.Reducer.kendallsCorrelation())
    for geom, p in zip(GEOMS, ps, strict=True):
        idx, _ = pixels(geom, True)
        ref = stats.kendalltau(np.arange(len(idx)), Y[idx], method="asymptotic")
        approx([p["tau"], p["p-value"]], [ref.statistic, ref.pvalue])


# -- combinators -----------------------------------------------------------------------------------------


def test_group_by_class(image, fc):
    red = ee.Reducer.sum().combine(ee.Reducer.count(), sharedInputs=True).group(1, "class")
    ps = run(image.select(["x", "c"]), fc, red)
    for geom, p in zip(GEOMS, ps, strict=True):
        idx, w = pixels(geom, True)
        groups = []
        for k in sorted(set(C[idx])):
            m = C[idx] == k
            groups.append(
                {"class": int(k), "sum": float(np.sum(w[m] * V[idx][m])), "count": int(np.sum(C[CENTRE[geom]] == k))}
            )
        approx(p["groups"], groups)
    # the group field may come first
    [p, _] = run(image.select(["c", "x"]), fc, ee.Reducer.mean().group())
    assert [g["group"] for g in p["groups"]] == [0, 1, 2]


def test_repeat_and_for_each(image, fc):
    img = image.select(["x", "y"])
    [p, _] = run(img, fc, ee.Reducer.mean().repeat(2))
    idx, w = pixels("square", True)
    approx(p["mean"], [np.average(V[idx], weights=w), np.average(Y[idx], weights=w)])
    [p, _] = run(img, fc, ee.Reducer.max().forEach(["a", "b"]))
    approx({k: p[k] for k in ("a", "b")}, {"a": 9.0, "b": Y.max()})
    [p, _] = run(img, fc, ee.Reducer.minMax().forEachBand(img))
    approx(
        {k: p[k] for k in ("x_min", "x_max", "y_min", "y_max")}, {"x_min": 1, "x_max": 9, "y_min": 1, "y_max": Y.max()}
    )
    assert ee.Reducer.minMax().forEachBand(img).getOutputs().getInfo() == ["x_min", "x_max", "y_min", "y_max"]


def test_split_weights_takes_weights_from_a_band(image, fc):
    [p, q] = run(image.select(["x", "c"]), fc, ee.Reducer.mean().splitWeights())
    for geom, got in (("square", p), ("top_left", q)):
        idx = CENTRE[geom]
        keep = C[idx] > 0
        assert got["mean"] == pytest.approx(np.average(V[idx][keep], weights=C[idx][keep]))
    with pytest.raises(NotImplementedError, match="one-input"):
        ee.Reducer.linearFit().splitWeights()


def test_set_outputs_drops_empty_names_and_get_outputs():
    red = ee.Reducer.minMax().setOutputs(["lo", None])
    assert red.getOutputs().getInfo() == ["lo"]
    assert ee.Reducer.percentile([5], ["low"]).getOutputs().getInfo() == ["low"]


def test_combined_reducer_reads_each_block_once(image, fc):
    from reducer.engine import ReductionRequest, plan_reduction

    img = image.select("x")
    red = ee.Reducer.mean().combine(ee.Reducer.percentile([10, 50, 90]), sharedInputs=True)
    gdf = fc._gdf()
    plan = plan_reduction(ReductionRequest((img.raster,), red), np.asarray(gdf.geometry.values), gdf.crs)
    assert plan.explain()["blocks_to_read"] == 1
    [ip] = plan.images
    assert ip.kinds == {"weighted": ("w", "wx", "vals")}
    [p, _] = run(img, fc, red)
    assert p["mean"] == 5.0 and p["p50"] == 5.0


# -- empty regions ----------------------------------------------------------------------------------------


def test_empty_and_outside_give_none_and_zero_counts(image):
    fc = ee.FeatureCollection(gpd.GeoDataFrame(geometry=[EMPTY, OUTSIDE], crs=CRS))
    red = ee.Reducer.median()
    for r in [
        ee.Reducer.countDistinct(),
        ee.Reducer.frequencyHistogram(),
        ee.Reducer.first(),
        ee.Reducer.toList(),
        ee.Reducer.count(),
        ee.Reducer.unique(),
        ee.Reducer.histogram(),
        ee.Reducer.skew(),
        ee.Reducer.product(),
    ]:
        red = red.combine(r, sharedInputs=True)
    for p in run(image.select("x"), fc, red):
        assert p["count"] == 0
        assert all(v is None for k, v in p.items() if k != "count"), p


def test_ties_break_to_the_smallest_value(tmp_path):
    tif = write_tif(tmp_path / "t.tif", np.array([[3, 3, 1], [1, 2, 2], [5, 4, 4]], "int16"))
    fc = ee.FeatureCollection(gpd.GeoDataFrame(geometry=[local_box(0, 0, 3, 3)], crs=CRS))
    [p] = run(ee.Image(str(tif)), fc, ee.Reducer.majority().combine(ee.Reducer.minority(), sharedInputs=True))
    assert (p["majority"], p["minority"]) == (1, 5)  # 1, 2, 3, 4 twice each; 5 once
    assert isinstance(p["majority"], int)


# -- over time and over columns ------------------------------------------------------------------------------


def test_image_collection_reduce_per_pixel():
    rng = np.random.default_rng(3)
    stack = rng.normal(size=(6, 3, 3))
    stack[2, 1, 1] = np.nan
    imgs = [ee.Image(_da(stack[t])).rename("v").set("system:time_start", t * 86400000) for t in range(6)]
    ic = ee.ImageCollection(imgs)
    red = (
        ee.Reducer.median()
        .combine(ee.Reducer.percentile([20]), sharedInputs=True)
        .combine(ee.Reducer.sampleStdDev(), sharedInputs=True)
        .combine(ee.Reducer.first(), sharedInputs=True)
        .combine(ee.Reducer.kendallsCorrelation(), sharedInputs=True)
    )
    out = ic.reduce(red)
    assert out.bandNames().getInfo() == ["v_median", "v_p20", "v_stdDev", "v_first", "v_tau", "v_p-value"]
    got = {n: out.select(n).raster.stack(out.raster.grid).compute()[0] for n in out.bandNames().getInfo()}
    np.testing.assert_allclose(got["v_median"], np.nanmedian(stack, axis=0))
    np.testing.assert_allclose(got["v_p20"], np.nanpercentile(stack, 20, axis=0))
    np.testing.assert_allclose(got["v_stdDev"], np.nanstd(stack, axis=0, ddof=1))
    np.testing.assert_allclose(got["v_first"], stack[0])
    s = stack[:, 1, 1][~np.isnan(stack[:, 1, 1])]
    ref = stats.kendalltau(np.arange(len(s)), s, method="asymptotic")
    assert got["v_tau"][1, 1] == pytest.approx(ref.statistic) and got["v_p-value"][1, 1] == pytest.approx(ref.pvalue)
    with pytest.raises(ee.errors.ReducerInputError, match="list or dictionary"):
        ic.reduce(ee.Reducer.frequencyHistogram())


def _da(a):
    import rioxarray  # noqa: F401
    import xarray as xr

    return xr.DataArray(a, dims=("y", "x"), coords={"y": [2.5, 1.5, 0.5], "x": [0.5, 1.5, 2.5]}).rio.write_crs(CRS)


def test_reduce_columns_and_aggregates():
    fc = ee.FeatureCollection(
        gpd.GeoDataFrame(
            {"v": [3.0, 1.0, None, 2.0, 3.0], "w": [1, 2, 1, 1, 0.5], "lc": ["a", "b", None, "a", "c"]},
            geometry=gpd.points_from_xy(range(5), range(5)),
            crs=CRS,
        )
    )
    v = np.array([3.0, 1.0, 2.0, 3.0])
    assert fc.reduceColumns(ee.Reducer.median(), ["v"]).getInfo() == {"median": 2.5}
    assert fc.reduceColumns(ee.Reducer.countEvery(), ["v"]).getInfo() == {"count": 5}
    assert fc.reduceColumns(ee.Reducer.count(), ["v"]).getInfo() == {"count": 4}
    assert fc.reduceColumns(ee.Reducer.toList(), ["v"]).getInfo() == {"list": [3, 1, 2, 3]}
    assert fc.reduceColumns(ee.Reducer.frequencyHistogram(), ["lc"]).getInfo() == {
        "histogram": {"a": 2, "b": 1, "c": 1}
    }
    assert fc.reduceColumns(ee.Reducer.mode(), ["lc"]).getInfo() == {"mode": "a"}
    got = fc.reduceColumns(ee.Reducer.mean(), ["v"], ["w"]).getInfo()
    assert got["mean"] == pytest.approx(np.average(v, weights=[1, 2, 1, 0.5]))
    got = fc.reduceColumns(ee.Reducer.sum().group(1, "lc"), ["v", "lc"]).getInfo()
    assert got == {"groups": [{"lc": "a", "sum": 5.0}, {"lc": "b", "sum": 1.0}, {"lc": "c", "sum": 3.0}]}
    assert fc.aggregate_histogram("lc").getInfo() == {"a": 2, "b": 1, "c": 1}
    assert fc.aggregate_count_distinct("v").getInfo() == 3
    assert fc.aggregate_product("v").getInfo() == 18
    assert fc.aggregate_sample_var("v").getInfo() == pytest.approx(np.var(v, ddof=1))
    assert fc.aggregate_total_sd("v").getInfo() == pytest.approx(np.std(v))
    st = fc.aggregate_stats("v").getInfo()
    assert st["mean"] == pytest.approx(2.25) and st["valid_count"] == 4 and st["total_count"] == 5
    with pytest.raises(ee.errors.ReducerInputError, match="selector"):
        fc.reduceColumns(ee.Reducer.linearFit(), ["v"]).getInfo()
    with pytest.raises(ee.errors.ArgumentError, match="not numeric"):
        fc.reduceColumns(ee.Reducer.mean(), ["lc"]).getInfo()
    assert isinstance(pd.DataFrame(), pd.DataFrame)


def test_dict_outputs_over_time_in_every_result_shape(tmp_path, fc):
    paths = [write_tif(tmp_path / f"img_2024-0{m}-01.tif", VALUES_3x3 * m) for m in (1, 2)]
    red = ee.Reducer.median().combine(ee.Reducer.frequencyHistogram().unweighted(), sharedInputs=True)
    res = ee.ImageCollection([str(p) for p in paths]).reduceRegions(fc, red)
    ds = res.to_xarray()
    assert ds["histogram"].dtype == object and ds["histogram"].values[1, 1] == {"2": 1, "4": 1, "8": 1, "10": 1}
    wide = res.to_pandas(wide=True)
    assert wide["median"].shape == (2, 2) and wide["histogram"].iloc[1, 0] == {"1": 1, "2": 1, "4": 1, "5": 1}
