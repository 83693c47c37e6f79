"""Golden output names: every reducer in every context that names outputs.

Columns: ``reduceRegion`` on a one-band image (band ``a``), on a two-band image (``a``, ``b``),
``reduceRegions`` on the same two images, and ``ImageCollection.reduce`` (one band; two bands for
reducers with two inputs). Region keys are sorted, as Earth Engine returns them; band order is
pinned for ``ImageCollection.reduce``. An error class name means the call must raise it: a reducer
with n inputs needs n bands, and list- or dictionary-valued outputs cannot be image bands.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest

import reducer as ee
from tests.common import CRS, SQUARE, VALUES_3x3, write_tif

R = ee.Reducer
REDUCERS = {
    "mean": R.mean(),
    "sum": R.sum(),
    "count": R.count(),
    "countEvery": R.countEvery(),
    "min": R.min(),
    "max": R.max(),
    "minMax": R.minMax(),
    "stdDev": R.stdDev(),
    "variance": R.variance(),
    "sampleStdDev": R.sampleStdDev(),
    "sampleVariance": R.sampleVariance(),
    "skew": R.skew(),
    "kurtosis": R.kurtosis(),
    "product": R.product(),
    "anyNonZero": R.anyNonZero(),
    "allNonZero": R.allNonZero(),
    "first": R.first(),
    "last": R.last(),
    "firstNonNull": R.firstNonNull(),
    "lastNonNull": R.lastNonNull(),
    "countDistinct": R.countDistinct(),
    "toList": R.toList(),
    "median": R.median(),
    "percentile": R.percentile([10, 2.5, 90]),
    "intervalMean": R.intervalMean(10, 90),
    "mode": R.mode(),
    "frequencyHistogram": R.frequencyHistogram(),
    "histogram": R.histogram(),
    "fixedHistogram": R.fixedHistogram(0, 10, 5),
    "autoHistogram": R.autoHistogram(),
    "majority": R.majority(),
    "minority": R.minority(),
    "unique": R.unique(),
    "range": R.range(),
    "frac": R.frac(),
    "kendallsCorrelation": R.kendallsCorrelation(),
    "linearFit": R.linearFit(),
    "linearRegression": R.linearRegression(1, 1),
    "sensSlope": R.sensSlope(),
    "pearsonsCorrelation": R.pearsonsCorrelation(),
    "spearmansCorrelation": R.spearmansCorrelation(),
    "kendallsCorrelation2": R.kendallsCorrelation(2),
    "toList2": R.toList(2),
    "group": R.sum().group(1),
    "repeat": R.mean().repeat(2),
    "forEach": R.minMax().forEach(["x", "y"]),
    "splitWeights": R.mean().splitWeights(),
    "combine": R.mean().combine(R.count(), "n_", sharedInputs=True),
    "combine2": R.mean().combine(R.max()),
}

# name: (reduceRegion 1 band, reduceRegion 2 bands, reduceRegions 1 band, reduceRegions 2 bands, ImageCollection.reduce)
GOLDEN = {
    "mean": (["a"], ["a", "b"], ["mean"], ["a", "b"], ["a_mean"]),
    "sum": (["a"], ["a", "b"], ["sum"], ["a", "b"], ["a_sum"]),
    "count": (["a"], ["a", "b"], ["count"], ["a", "b"], ["a_count"]),
    "countEvery": (["a"], ["a", "b"], ["count"], ["a", "b"], ["a_count"]),
    "min": (["a"], ["a", "b"], ["min"], ["a", "b"], ["a_min"]),
    "max": (["a"], ["a", "b"], ["max"], ["a", "b"], ["a_max"]),
    "minMax": (
        ["a_max", "a_min"],
        ["a_max", "a_min", "b_max", "b_min"],
        ["max", "min"],
        ["a_max", "a_min", "b_max", "b_min"],
        ["a_min", "a_max"],
    ),
    "stdDev": (["a"], ["a", "b"], ["stdDev"], ["a", "b"], ["a_stdDev"]),
    "variance": (["a"], ["a", "b"], ["variance"], ["a", "b"], ["a_variance"]),
    "sampleStdDev": (["a"], ["a", "b"], ["stdDev"], ["a", "b"], ["a_stdDev"]),
    "sampleVariance": (["a"], ["a", "b"], ["variance"], ["a", "b"], ["a_variance"]),
    "skew": (["a"], ["a", "b"], ["skew"], ["a", "b"], ["a_skew"]),
    "kurtosis": (["a"], ["a", "b"], ["kurtosis"], ["a", "b"], ["a_kurtosis"]),
    "product": (["a"], ["a", "b"], ["product"], ["a", "b"], ["a_product"]),
    "anyNonZero": (["a"], ["a", "b"], ["any"], ["a", "b"], ["a_any"]),
    "allNonZero": (["a"], ["a", "b"], ["all"], ["a", "b"], ["a_all"]),
    "first": (["a"], ["a", "b"], ["first"], ["a", "b"], ["a_first"]),
    "last": (["a"], ["a", "b"], ["last"], ["a", "b"], ["a_last"]),
    "firstNonNull": (["a"], ["a", "b"], ["first"], ["a", "b"], ["a_first"]),
    "lastNonNull": (["a"], ["a", "b"], ["last"], ["a", "b"], ["a_last"]),
    "countDistinct": (["a"], ["a", "b"], ["count"], ["a", "b"], ["a_count"]),
    "toList": (["a"], ["a", "b"], ["list"], ["a", "b"], "ReducerInputError"),
    "median": (["a"], ["a", "b"], ["median"], ["a", "b"], ["a_median"]),
    "percentile": (
        ["a_p10", "a_p2.5", "a_p90"],
        ["a_p10", "a_p2.5", "a_p90", "b_p10", "b_p2.5", "b_p90"],
        ["p10", "p2.5", "p90"],
        ["a_p10", "a_p2.5", "a_p90", "b_p10", "b_p2.5", "b_p90"],
        ["a_p10", "a_p2.5", "a_p90"],
    ),
    "intervalMean": (["a"], ["a", "b"], ["mean"], ["a", "b"], ["a_mean"]),
    "mode": (["a"], ["a", "b"], ["mode"], ["a", "b"], ["a_mode"]),
    "frequencyHistogram": (["a"], ["a", "b"], ["histogram"], ["a", "b"], "ReducerInputError"),
    "histogram": (["a"], ["a", "b"], ["histogram"], ["a", "b"], "ReducerInputError"),
    "fixedHistogram": (["a"], ["a", "b"], ["histogram"], ["a", "b"], "ReducerInputError"),
    "autoHistogram": (["a"], ["a", "b"], ["histogram"], ["a", "b"], "ReducerInputError"),
    "majority": (["a"], ["a", "b"], ["majority"], ["a", "b"], ["a_majority"]),
    "minority": (["a"], ["a", "b"], ["minority"], ["a", "b"], ["a_minority"]),
    "unique": (["a"], ["a", "b"], ["unique"], ["a", "b"], ["a_unique"]),
    "range": (["a"], ["a", "b"], ["range"], ["a", "b"], ["a_range"]),
    "frac": (["a"], ["a", "b"], ["frac"], ["a", "b"], "ReducerInputError"),
    "kendallsCorrelation": (
        ["a_p-value", "a_tau"],
        ["a_p-value", "a_tau", "b_p-value", "b_tau"],
        ["p-value", "tau"],
        ["a_p-value", "a_tau", "b_p-value", "b_tau"],
        ["a_tau", "a_p-value"],
    ),
    "linearFit": (
        "ReducerInputError",
        ["offset", "scale"],
        "ReducerInputError",
        ["offset", "scale"],
        ["scale", "offset"],
    ),
    "linearRegression": (
        "ReducerInputError",
        ["coefficients", "residuals"],
        "ReducerInputError",
        ["coefficients", "residuals"],
        "ReducerInputError",
    ),
    "sensSlope": (
        "ReducerInputError",
        ["offset", "slope"],
        "ReducerInputError",
        ["offset", "slope"],
        ["slope", "offset"],
    ),
    "pearsonsCorrelation": (
        "ReducerInputError",
        ["correlation", "p-value"],
        "ReducerInputError",
        ["correlation", "p-value"],
        ["correlation", "p-value"],
    ),
    "spearmansCorrelation": (
        "ReducerInputError",
        ["correlation"],
        "ReducerInputError",
        ["correlation"],
        ["correlation"],
    ),
    "kendallsCorrelation2": (
        "ReducerInputError",
        ["p-value", "tau"],
        "ReducerInputError",
        ["p-value", "tau"],
        ["tau", "p-value"],
    ),
    "toList2": ("ReducerInputError", ["list"], "ReducerInputError", ["list"], "ReducerInputError"),
    "group": ("ReducerInputError", ["groups"], "ReducerInputError", ["groups"], "ReducerInputError"),
    "repeat": ("ReducerInputError", ["mean"], "ReducerInputError", ["mean"], "ReducerInputError"),
    "forEach": (
        "ReducerInputError",
        ["x_max", "x_min", "y_max", "y_min"],
        "ReducerInputError",
        ["x_max", "x_min", "y_max", "y_min"],
        ["x_min", "x_max", "y_min", "y_max"],
    ),
    "splitWeights": ("ReducerInputError", ["mean"], "ReducerInputError", ["mean"], ["mean"]),
    "combine": (
        ["a_mean", "a_n_count"],
        ["a_mean", "a_n_count", "b_mean", "b_n_count"],
        ["mean", "n_count"],
        ["a_mean", "a_n_count", "b_mean", "b_n_count"],
        ["a_mean", "a_n_count"],
    ),
    "combine2": ("ReducerInputError", ["max", "mean"], "ReducerInputError", ["max", "mean"], ["mean", "max"]),
}


def test_every_reducer_has_a_golden_row():
    assert sorted(REDUCERS) == sorted(GOLDEN)


@pytest.fixture(scope="module")
def images(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("golden")
    one = ee.Image(str(write_tif(tmp / "a.tif", VALUES_3x3, descriptions=["a"])))
    two = ee.Image(str(write_tif(tmp / "ab.tif", np.stack([VALUES_3x3, 2 * VALUES_3x3]), descriptions=["a", "b"])))
    return one, two


def _names(fn, ordered=False):
    try:
        out = list(fn())
    except ee.errors.ReducerError as exc:
        return type(exc).__name__
    return out if ordered else sorted(out)


@pytest.mark.parametrize("name", list(GOLDEN))
def test_output_names(images, name):
    one, two = images
    red = REDUCERS[name]
    fc = ee.FeatureCollection(gpd.GeoDataFrame(geometry=[SQUARE], crs=CRS))
    geom = ee.Geometry(SQUARE, proj=CRS)
    ic = ee.ImageCollection([img.set("system:time_start", t) for t, img in enumerate([one, one])])
    ic2 = ee.ImageCollection([img.set("system:time_start", t) for t, img in enumerate([two, two])])
    got = (
        _names(lambda: one.reduceRegion(red, geom).getInfo()),
        _names(lambda: two.reduceRegion(red, geom).getInfo()),
        _names(lambda: one.reduceRegions(fc, red).getInfo()["features"][0]["properties"]),
        _names(lambda: two.reduceRegions(fc, red).getInfo()["features"][0]["properties"]),
        _names(lambda: (ic if red.numInputs() == 1 else ic2).reduce(red).bandNames().getInfo(), ordered=True),
    )
    assert got == GOLDEN[name]
