"""``reducer.stats.evaluate``: the output evaluator, its contexts, the composite outputs and the blueprints.

Oracles: each statistic computed directly on each segment (numpy, or the segment function on that
segment alone); the segment path against the stack path on the same entries (one definition per
statistic); hand-computed groups and weights.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reducer.reducers import Reducer
from reducer.stats import (
    AGGREGATIONS,
    COMPOSITES,
    KINDS,
    STATISTICS,
    Aggregation,
    Segments,
    SegmentsContext,
    StackContext,
    evaluate,
    needed_kinds,
)
from reducer.stats import segments as sg
from reducer.stats.evaluate import gather_modes


@dataclass(frozen=True)
class Out:
    """An output that is not the DSL's: the evaluator only reads these five fields."""

    name: str
    stat: str
    inputs: tuple = (0,)
    params: tuple = ()
    mode: str = "weighted"


def context(seg: Segments, outputs) -> SegmentsContext:
    kinds = set().union(*needed_kinds(outputs).values()) if outputs else set()
    return SegmentsContext(seg, sorted(kinds))


# -- the blueprints ------------------------------------------------------------------------------------


def test_every_blueprint_is_complete():
    assert AGGREGATIONS.keys() == STATISTICS.keys() | COMPOSITES.keys()
    assert not STATISTICS.keys() & COMPOSITES.keys()
    for name, agg in AGGREGATIONS.items():
        assert agg.name == name
        assert set(agg.needs) <= set(KINDS)
        if agg.compose is not None:
            assert not agg.needs and agg.finalize is None and agg.segment is None
        elif agg.gathered:
            assert agg.needs == ("vals",) and callable(agg.segment) and agg.finalize is None
        else:
            assert callable(agg.finalize) and agg.segment is None and agg.stack is None
        if agg.stack is not None:
            assert agg.gathered and agg.scalar


@pytest.mark.parametrize(
    "kwargs",
    [
        {},  # nothing to compute it with
        {"needs": ("w",)},  # kinds without finalize
        {"needs": ("vals",)},  # gathered without a segment function
        {"needs": ("w",), "finalize": lambda d: d["w"], "segment": sg.first},  # both
        {"needs": ("wz",), "finalize": lambda d: d["wz"]},  # an unknown kind
        {"needs": ("w",), "finalize": lambda d: d["w"], "keeps_nulls": True},  # nulls, nowhere to see them
    ],
)
def test_a_half_defined_blueprint_is_refused(kwargs):
    with pytest.raises(ValueError, match="Aggregation 'x'"):
        Aggregation("x", **kwargs)


def test_blueprints_are_frozen():
    with pytest.raises(AttributeError):
        STATISTICS["mean"].needs = ("w",)  # type: ignore[misc]


# -- evaluate on segments ------------------------------------------------------------------------------


GROUPS = [[3.0, 1.0, 3.0, 2.0], [], [5.0], [-1.0, 4.0, 4.0, 0.5, 2.0]]
WEIGHTS = [[0.5, 1.0, 0.25, 1.0], [], [0.3], [1.0, 0.5, 0.5, 1.0, 0.75]]

NUMPY = {  # the statistic of one segment's values x with weights w, straight from its definition
    "mean": lambda x, w: np.average(x, weights=w),
    "sum": lambda x, w: np.sum(x * w),
    "count": lambda x, w: len(x),
    "variance": lambda x, w: np.average((x - np.average(x, weights=w)) ** 2, weights=w),
    "stdDev": lambda x, w: np.sqrt(np.average((x - np.average(x, weights=w)) ** 2, weights=w)),
    "min": lambda x, w: np.min(x),
    "max": lambda x, w: np.max(x),
    "range": lambda x, w: np.ptp(x),
    "product": lambda x, w: np.prod(x),
    "anyNonZero": lambda x, w: float(np.any(x != 0)),
    "allNonZero": lambda x, w: float(np.all(x != 0)),
}


def segments() -> Segments:
    counts = [len(g) for g in GROUPS]
    return Segments(
        np.concatenate([[0], np.cumsum(counts)]),
        np.array([w for ws in WEIGHTS for w in ws]),
        np.array([[v for g in GROUPS for v in g]]),
    )


@pytest.mark.parametrize("stat", sorted(NUMPY))
def test_decomposable_outputs_are_their_definition(stat):
    out = Out(stat, stat, mode="centre" if STATISTICS[stat].centre_only else "weighted")  # as the DSL picks it
    got = evaluate(out, (0,), context(segments(), [out]))
    for k, (g, w) in enumerate(zip(GROUPS, WEIGHTS, strict=True)):
        if g:
            assert got[k] == pytest.approx(NUMPY[stat](np.array(g), np.array(w))), k
        else:
            assert got[k] == 0 if stat == "count" else np.isnan(got[k])


@pytest.mark.parametrize("stat", sorted(a.name for a in STATISTICS.values() if a.gathered and a.name.count(".") == 0))
def test_gathered_outputs_are_their_segment_function_on_each_segment_alone(stat):
    params = {"percentile": (30.0,), "intervalMean": (10.0, 90.0), "histogram": (4, None, None)}
    params |= {"autoHistogram": (4, None, None, False), "fixedHistogram": (0.0, 6.0, 3, False), "toList": (None, 0)}
    out = Out(stat, stat, params=params.get(stat, ()))
    got = evaluate(out, (0,), context(segments(), [out]))
    for k, (g, w) in enumerate(zip(GROUPS, WEIGHTS, strict=True)):
        alone = Segments(np.array([0, len(g)]), np.array(w, dtype="f8"), np.array([g], dtype="f8").reshape(1, -1))
        expected = STATISTICS[stat].segment(alone, out.params)[0]
        assert repr(got[k]) == repr(expected), (stat, k)


def test_unweighted_outputs_see_weight_one():
    seg = segments()
    w, c = Out("mean", "mean"), Out("mean", "mean", mode="centre")
    ctx = context(seg, [w, c])
    assert evaluate(c, (0,), ctx)[0] == pytest.approx(np.mean(GROUPS[0]))
    assert evaluate(w, (0,), ctx)[0] == pytest.approx(np.average(GROUPS[0], weights=WEIGHTS[0]))
    p = Out("p50", "percentile", params=(50.0,), mode="centre")
    assert evaluate(p, (0,), context(seg, [p]))[3] == np.median(GROUPS[3])


def test_bands_map_inputs_to_rows():
    seg = Segments(np.array([0, 3]), np.ones(3), np.array([[1.0, 2.0, 3.0], [10.0, 20.0, 60.0]]))
    out = Out("max", "max", inputs=(1,))
    assert evaluate(out, (0, 0), context(seg, [out])).tolist() == [3.0]  # input 1 reads row 0
    assert evaluate(out, (1, 1), context(seg, [out])).tolist() == [60.0]
    fit = Out("scale", "linearFit.scale", inputs=(0, 1))
    assert evaluate(fit, (1, 0), context(seg, [fit]))[0] == pytest.approx(np.polyfit([10, 20, 60], [1, 2, 3], 1)[0])


def test_nulls_reach_count_every_first_and_last_only():
    seg = Segments(np.array([0, 4]), np.ones(4), np.array([[np.nan, 2.0, np.nan, 5.0]]), nulls=True)
    outs = {s: Out(s, s) for s in ("countEvery", "count", "first", "last", "firstNonNull", "lastNonNull", "mean")}
    ctx = context(seg, list(outs.values()))
    got = {s: evaluate(o, (0,), ctx)[0] for s, o in outs.items()}
    assert got["countEvery"] == 4 and got["count"] == 2 and got["mean"] == 3.5
    assert np.isnan(got["first"]) and got["last"] == 5.0
    assert got["firstNonNull"] == 2.0 and got["lastNonNull"] == 5.0


def test_needed_kinds_by_mode():
    r = Reducer.mean().combine(Reducer.count(), sharedInputs=True).combine(Reducer.median(), sharedInputs=True)
    assert needed_kinds(r.outputs) == {"weighted": {"w", "wx", "vals"}, "centre": {"w"}}
    assert needed_kinds(r.unweighted().outputs) == {"centre": {"w", "wx", "vals"}}
    assert needed_kinds(r.all_touched().outputs) == {"touched": {"w", "wx", "vals"}}
    assert needed_kinds(Reducer.sum().repeat(2).outputs) == {"weighted": {"w", "wx"}}
    grouped = Reducer.sum().combine(Reducer.count(), sharedInputs=True).group(1).outputs
    assert needed_kinds(grouped) == {"weighted": {"vals"}, "centre": {"vals"}}
    assert gather_modes(grouped[0]) == {"weighted", "centre"}
    assert needed_kinds(Reducer.mean().splitWeights().outputs) == {"centre": {"vals"}}
    assert needed_kinds([]) == {}


# -- the stack context: the same statistics, computed on a dense stack ---------------------------------


SCALAR_ONE_INPUT = sorted(
    a.name for a in STATISTICS.values() if a.scalar and a.name.count(".") == 0 and not a.keeps_nulls
)
PARAMS = {"percentile": (37.5,), "intervalMean": (20.0, 70.0)}


@st.composite
def stacks(draw):
    n_t, n_rows, n_seg = draw(st.integers(0, 8)), draw(st.integers(1, 2)), draw(st.integers(1, 10))
    pool = [np.nan, np.nan, -2.0, 0.0, 0.5, 1.0, 3.0, 7.25]
    flat = draw(st.lists(st.sampled_from(pool), min_size=n_t * n_rows * n_seg, max_size=n_t * n_rows * n_seg))
    return np.array(flat, dtype="f8").reshape(n_t, n_rows, n_seg)


@settings(max_examples=40, deadline=None)
@given(stacks(), st.sampled_from(SCALAR_ONE_INPUT + ["first", "last"]), st.booleans())
def test_stack_context_equals_segments_context_on_the_same_entries(values, stat, weighted):
    out = Out(stat, stat, inputs=(0,), params=PARAMS.get(stat, ()), mode="weighted" if weighted else "centre")
    row = values.shape[1] - 1
    kinds = sorted(set().union(*needed_kinds([out]).values()))
    stacked = evaluate(out, (row,), StackContext(values, kinds))
    gathered = evaluate(out, (row,), SegmentsContext(Segments.from_stack(values), kinds))
    np.testing.assert_allclose(stacked, gathered, rtol=1e-12, atol=1e-12, equal_nan=True, err_msg=stat)


@settings(max_examples=25, deadline=None)
@given(stacks())
def test_stack_context_two_input_statistics_use_the_gathered_entries(values):
    if values.shape[1] < 2:
        return
    out = Out("slope", "sensSlope.slope", inputs=(0, 1))
    stacked = evaluate(out, (0, 1), StackContext(values, ["vals"]))
    gathered = evaluate(out, (0, 1), SegmentsContext(Segments.from_stack(values), ["vals"]))
    np.testing.assert_array_equal(stacked, gathered)


def test_stack_context_by_hand():
    # 3 images, 1 band, 3 pixels: pixel 0 is 1, 2, 6; pixel 1 is masked but once; pixel 2 never valid
    v = np.array([[1.0, np.nan, np.nan], [2.0, 4.0, np.nan], [6.0, np.nan, np.nan]]).reshape(3, 1, 3)
    outs = {
        "mean": Out("mean", "mean"),
        "median": Out("median", "percentile", params=(50.0,)),
        "count": Out("count", "count", mode="centre"),
        "mode": Out("mode", "mode"),
        "variance": Out("variance", "variance"),
    }
    ctx = StackContext(v, sorted(set().union(*needed_kinds(list(outs.values())).values())))
    got = {k: evaluate(o, (0,), ctx).tolist() for k, o in outs.items()}
    assert got["mean"][:2] == [3.0, 4.0] and got["median"][:2] == [2.0, 4.0] and got["mode"][:2] == [1.0, 4.0]
    assert got["count"] == [3.0, 1.0, 0.0]  # 0 where no image is valid
    assert got["variance"][:2] == [pytest.approx(np.var([1, 2, 6])), 0.0]
    assert all(np.isnan(got[k][2]) for k in ("mean", "median", "mode", "variance"))
    with pytest.raises(ValueError, match="n_entries, n_rows, n_seg"):
        StackContext(np.zeros((3, 4)), [])


# -- composite outputs -----------------------------------------------------------------------------------


def test_repeat_lists_each_copy():
    seg = Segments(np.array([0, 3, 3]), np.ones(3), np.array([[1.0, 2.0, 6.0], [5.0, 5.0, 5.0]]))
    r = Reducer.mean().combine(Reducer.count(), sharedInputs=True).repeat(2)
    outs = r.outputs
    ctx = context(seg, outs)
    assert [o.name for o in outs] == ["mean", "count"]
    assert evaluate(outs[0], (0, 1), ctx).tolist() == [[3.0, 5.0], [None, None]]
    assert evaluate(outs[1], (0, 1), ctx).tolist() == [[3, 3], [0, 0]]


def test_group_by_class_on_the_square():
    # values 1..9 under the square's weights; class 1 on the first row, 2 on the others
    w = np.array([0.25, 0.5, 0.25, 0.5, 1, 0.5, 0.25, 0.5, 0.25])
    x = np.arange(1.0, 10.0)
    cls = np.array([1, 1, 1, 2, 2, 2, 2, 2, 2.0])
    seg = Segments(np.array([0, 9]), w, np.vstack([x, cls]))
    r = Reducer.sum().combine(Reducer.count(), sharedInputs=True).group(1, "class")
    (out,) = r.outputs
    (groups,) = evaluate(out, (0, 1), context(seg, [out])).tolist()
    expected = [
        {"class": int(c), "sum": float(np.sum((w * x)[cls == c])), "count": int(np.sum(cls == c))} for c in (1, 2)
    ]
    assert groups == expected


def test_group_labels_and_empty_segments():
    seg = Segments(
        np.array([0, 3, 3]),
        np.ones(3),
        np.array([[1.0, 2.0, 4.0], [1.0, 0.0, 1.0]]),
        labels=[None, np.array(["a", "b"])],
    )
    (out,) = Reducer.mean().group(1, "k").outputs
    assert evaluate(out, (0, 1), context(seg, [out])).tolist() == [
        [{"k": "a", "mean": 2.0}, {"k": "b", "mean": 2.5}],
        [],  # Earth Engine: an empty segment has no group
    ]


def test_split_weights_weight_by_the_second_input():
    x = np.array([1.0, 2.0, 4.0, 8.0])
    wt = np.array([0.0, 3.0, 1.0, np.nan])  # weight 0 and a masked weight leave entries out
    seg = Segments(np.array([0, 4]), np.full(4, 0.5), np.vstack([x, wt]))
    outs = Reducer.mean().combine(Reducer.sum(), sharedInputs=True).splitWeights().outputs
    ctx = context(seg, outs)
    assert evaluate(outs[0], (0, 1), ctx)[0] == pytest.approx(np.average([2.0, 4.0], weights=[3.0, 1.0]))
    assert evaluate(outs[1], (0, 1), ctx)[0] == pytest.approx(2.0 * 3.0 + 4.0 * 1.0)
    shifted = Reducer.count().combine(Reducer.mean().splitWeights()).outputs[1]  # inputs 1 and 2
    three = Segments(np.array([0, 4]), np.ones(4), np.vstack([x, x, wt]))
    assert evaluate(shifted, (0, 1, 2), context(three, [shifted]))[0] == pytest.approx(2.5)
