"""``reducer.reducers``: the ee.Reducer DSL, its output naming and reducing plain columns.

Oracles: Earth Engine's naming rules written as a table; the combinators' input mapping by hand;
``reduce_columns`` against Python and numpy on the same values.
"""

from __future__ import annotations

import statistics
from collections import Counter

import numpy as np
import pytest

from reducer.errors import ArgumentError, ReducerInputError
from reducer.reducers import Column, Output, Reducer, reduce_columns, resolve_columns, time_columns
from reducer.values import List

MEAN_MAX = Reducer.mean().combine(Reducer.max(), sharedInputs=True)
FIT = Reducer.linearFit()

# (reducer, bands, rule, names): Earth Engine's rules (the house style's golden list)
NAMING = [
    # reduceRegion: a single output is named after its band; several give <band>_<output>
    (Reducer.mean(), ["NDVI"], "region", ["NDVI"]),
    (Reducer.mean(), ["a", "b"], "region", ["a", "b"]),
    (MEAN_MAX, ["NDVI"], "region", ["NDVI_mean", "NDVI_max"]),
    (MEAN_MAX, ["a", "b"], "region", ["a_mean", "a_max", "b_mean", "b_max"]),
    # reduceRegions on a one-band image: the output names
    (Reducer.mean(), ["NDVI"], "regions", ["mean"]),
    (MEAN_MAX, ["NDVI"], "regions", ["mean", "max"]),
    (Reducer.mean(), ["a", "b"], "regions", ["a", "b"]),
    (MEAN_MAX, ["a", "b"], "regions", ["a_mean", "a_max", "b_mean", "b_max"]),
    # percentiles
    (Reducer.percentile([10, 90]), ["x"], "regions", ["p10", "p90"]),
    (Reducer.percentile([2.5]), ["x"], "regions", ["p2.5"]),
    (Reducer.percentile([10, 90], ["lo", "hi"]), ["x"], "regions", ["lo", "hi"]),
    # ImageCollection.reduce: always <band>_<output>
    (Reducer.median(), ["NDVI"], "collection", ["NDVI_median"]),
    (MEAN_MAX, ["a", "b"], "collection", ["a_mean", "a_max", "b_mean", "b_max"]),
    # a reducer with several inputs reads the bands in order and keeps its output names
    (FIT, ["x", "y"], "region", ["scale", "offset"]),
    (FIT, ["x", "y"], "collection", ["scale", "offset"]),
    (Reducer.mean().combine(Reducer.max()), ["a", "b"], "regions", ["mean", "max"]),
    # reduceColumns: the output names
    (MEAN_MAX, ["v"], "columns", ["mean", "max"]),
    (FIT, ["x", "y"], "columns", ["scale", "offset"]),
    # renamed and prefixed outputs
    (Reducer.minMax().combine(Reducer.count(), "n_"), ["a", "b"], "regions", ["min", "max", "n_count"]),
    (Reducer.minMax().setOutputs(["lo", None]), ["v"], "regions", ["lo"]),
    (Reducer.mean().forEach(["x", "y"]), ["a", "b"], "regions", ["x", "y"]),
    (MEAN_MAX.forEach(["x", "y"]), ["a", "b"], "regions", ["x_mean", "x_max", "y_mean", "y_max"]),
]


@pytest.mark.parametrize(("reducer", "bands", "rule", "names"), NAMING)
def test_output_names(reducer, bands, rule, names):
    cols = resolve_columns(reducer, bands, ["float32"] * len(bands), rule)
    assert [c.name for c in cols] == names


def test_columns_map_inputs_to_bands():
    cols = resolve_columns(MEAN_MAX, ["a", "b"], ["f4", "f4"], "region")
    assert [(c.name, c.band, c.bands, c.output.stat) for c in cols] == [
        ("a_mean", 0, (0,), "mean"),
        ("a_max", 0, (0,), "max"),
        ("b_mean", 1, (1,), "mean"),
        ("b_max", 1, (1,), "max"),
    ]
    (scale, _) = resolve_columns(FIT, ["x", "y"], ["f4", "f4"], "region")
    assert scale.bands == (0, 1) and scale.band == 0
    assert Column("c", 2, Reducer.mean().outputs[0]).bands == (2,)


@pytest.mark.parametrize(
    ("reducer", "dtype", "integer"),
    [
        (Reducer.count(), "float32", True),  # a whole number whatever the band
        (Reducer.countDistinct(), "float64", True),
        (Reducer.min(), "uint8", True),  # one of the inputs: an integer band gives an integer
        (Reducer.mode(), "int16", True),
        (Reducer.first(), "int64", True),
        (Reducer.min(), "float32", False),
        (Reducer.mean(), "int32", False),  # arithmetic: a float
        (Reducer.sum(), "uint8", False),  # weighted sums of integers are not whole
        (Reducer.median(), "int32", False),
    ],
)
def test_integer_columns(reducer, dtype, integer):
    (col,) = resolve_columns(reducer, ["b"], [dtype], "region")
    assert col.integer is integer


def test_naming_errors():
    with pytest.raises(ReducerInputError, match="the reducer has 2 inputs but the image has 3 band"):
        resolve_columns(FIT, ["a", "b", "c"], ["f4"] * 3, "region")
    with pytest.raises(ArgumentError, match="expected an ee.Reducer"):
        resolve_columns("mean", ["a"], ["f4"], "region")


def test_time_columns_need_number_outputs():
    assert [c.name for c in time_columns(MEAN_MAX, ["B4"])] == ["B4_mean", "B4_max"]
    for r in (Reducer.toList(), Reducer.frequencyHistogram(), Reducer.sum().group(1)):
        with pytest.raises(ReducerInputError, match="list or dictionary per pixel"):
            time_columns(r, ["a", "b"][: r.n_inputs])


# -- the reducer object ------------------------------------------------------------------------------


def test_outputs_and_inputs_are_public_and_read_only():
    r = MEAN_MAX.combine(FIT)
    assert [o.name for o in r.outputs] == ["mean", "max", "scale", "offset"]
    assert [o.inputs for o in r.outputs] == [(0,), (0,), (1, 2), (1, 2)]  # FIT's inputs follow
    assert r.n_inputs == r.numInputs() == 3
    assert isinstance(r.getOutputs(), List) and r.getOutputs().getInfo() == ["mean", "max", "scale", "offset"]
    with pytest.raises(AttributeError):
        r.outputs = ()  # type: ignore[misc]
    with pytest.raises(AttributeError, match="immutable"):
        r._outputs = ()


def test_equal_reducers_hash_and_tokenize_alike():
    assert Reducer.mean() == Reducer.mean() and hash(Reducer.mean()) == hash(Reducer.mean())
    assert Reducer.mean() != Reducer.mean().unweighted()
    assert Reducer.percentile([10]) != Reducer.percentile([20])


def test_combinators_map_inputs():
    assert [o.inputs for o in Reducer.mean().forEach(["a", "b", "c"]).outputs] == [(0,), (1,), (2,)]
    (rep,) = Reducer.mean().repeat(3).outputs
    assert rep.stat == "repeat" and [c.inputs for c in rep.children()] == [(0,), (1,), (2,)]
    (grp,) = Reducer.sum().group(0, "class").outputs
    assert grp.inputs == (0, 1) and grp.children()[0].inputs == (1,) and grp.params[1:] == (0, "class")
    assert Reducer.sum().group(0).n_inputs == 2
    (split,) = Reducer.count().combine(Reducer.mean().splitWeights()).outputs[1:]
    assert split.inputs == (1, 2) and split.children()[0].inputs == (1,)
    with pytest.raises(ReducerInputError, match="same number of inputs"):
        Reducer.mean().combine(FIT, sharedInputs=True)
    with pytest.raises(NotImplementedError, match="one-input reducers"):
        FIT.splitWeights()


@pytest.mark.parametrize(
    ("reducer", "modes"),
    [
        (Reducer.mean(), ["weighted"]),
        (Reducer.count(), ["centre"]),  # count is always centre-in
        (Reducer.mean().unweighted(), ["centre"]),
        (Reducer.mean().combine(Reducer.count(), sharedInputs=True).all_touched(), ["touched", "touched"]),
        (Reducer.percentile([5, 95]).unweighted(), ["centre", "centre"]),
    ],
)
def test_output_modes(reducer, modes):
    assert [o.mode for o in reducer.outputs] == modes


def test_output_inputs_are_tuples():
    assert Output("m", "mean", 2).inputs == (2,) and Output("m", "mean", [0, 1]).inputs == (0, 1)


# -- reduce_columns ----------------------------------------------------------------------------------------


VALUES = [3, None, 1.5, 4, float("nan"), 4]
PRESENT = [3, 1.5, 4, 4]


@pytest.mark.parametrize(
    ("reducer", "output", "expected"),
    [
        (Reducer.sum(), "sum", sum(PRESENT)),
        (Reducer.mean(), "mean", statistics.fmean(PRESENT)),
        (Reducer.median(), "median", statistics.median(PRESENT)),
        (Reducer.min(), "min", min(PRESENT)),
        (Reducer.max(), "max", max(PRESENT)),
        (Reducer.count(), "count", len(PRESENT)),
        (Reducer.countEvery(), "count", len(VALUES)),  # nulls are inputs for countEvery
        (Reducer.variance(), "variance", statistics.pvariance(PRESENT)),
        (Reducer.sampleVariance(), "variance", statistics.variance(PRESENT)),
        (Reducer.mode(), "mode", statistics.mode(PRESENT)),
        (Reducer.product(), "product", float(np.prod(PRESENT))),
        (Reducer.countDistinct(), "count", len(set(PRESENT))),
        (Reducer.first(), "first", 3.0),
        (Reducer.toList(), "list", PRESENT),
        (Reducer.frequencyHistogram(), "histogram", {"1.5": 1, "3": 1, "4": 2}),
    ],
)
def test_reduce_columns_is_python_on_the_same_values(reducer, output, expected):
    got = reduce_columns(reducer, [VALUES], ["v"])[output]
    assert got == pytest.approx(expected)
    if reducer.outputs[0].stat in ("count", "countEvery", "countDistinct"):
        assert isinstance(got, int)


def test_reduce_columns_with_labels():
    k = ["b", "a", None, "b", "c", "b"]
    assert reduce_columns(Reducer.frequencyHistogram(), [k], ["k"]) == {"histogram": dict(Counter(x for x in k if x))}
    assert reduce_columns(Reducer.mode(), [k], ["k"]) == {"mode": "b"}
    assert reduce_columns(Reducer.min().combine(Reducer.max(), sharedInputs=True), [k], ["k"]) == {
        "max": "c",
        "min": "a",
    }
    assert reduce_columns(Reducer.count(), [k], ["k"]) == {"count": 5}
    assert reduce_columns(Reducer.first(), [[None, "x"]], ["k"]) == {"first": None}
    assert reduce_columns(Reducer.count(), [[[1, 2], [1, 2], {"a": 1}]], ["k"]) == {"count": 3}  # unhashable values
    v = [1.0, 2.0, 5.0, 1.0, 4.0, 3.0]
    got = reduce_columns(Reducer.sum().group(1, "k"), [v, k], ["v", "k"])["groups"]
    sums = {g: sum(x for x, y in zip(v, k, strict=True) if y == g) for g in ("a", "b", "c")}
    assert got == [{"k": g, "sum": sums[g]} for g in ("a", "b", "c")]


def test_reduce_columns_weights_and_empty_columns():
    v, w = [1.0, 2.0, 5.0, 7.0], [1.0, 2.0, 0.0, float("nan")]  # weight 0 and NaN leave rows out
    got = reduce_columns(Reducer.mean().combine(Reducer.sum(), sharedInputs=True), [v], ["v"], weights=w)
    assert got == {"mean": pytest.approx(np.average(v[:2], weights=w[:2])), "sum": pytest.approx(1.0 + 4.0)}
    assert reduce_columns(Reducer.sum().combine(Reducer.count(), sharedInputs=True), [[]], ["v"]) == {
        "count": 0,
        "sum": None,
    }
    assert reduce_columns(Reducer.mean(), [[None, None]], ["v"]) == {"mean": None}


def test_reduce_columns_errors():
    with pytest.raises(ReducerInputError, match="1 input.* but 2 selector"):
        reduce_columns(Reducer.mean(), [[1.0], [2.0]], ["a", "b"])
    with pytest.raises(ArgumentError, match=r"aggregate_sum: property 'k' is not numeric \('a' is not a number\)"):
        reduce_columns(Reducer.sum(), [[1, "a", True]], ["k"], where="aggregate_sum")
    with pytest.raises(ArgumentError, match="True is not a number"):
        reduce_columns(Reducer.mean(), [[1, True]], ["k"])
    with pytest.raises(ArgumentError, match="is not numeric"):
        reduce_columns(Reducer.mean().group(1), [["x", "y"], [1, 2]], ["v", "k"])
    with pytest.raises(ArgumentError, match="different lengths"):
        reduce_columns(FIT, [[1.0], [1.0, 2.0]], ["x", "y"])
    with pytest.raises(ArgumentError, match="expected an ee.Reducer"):
        reduce_columns("sum", [[1.0]], ["v"])
