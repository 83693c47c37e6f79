"""``reducer.stats.segments``: :class:`Segments` and the gathered statistics.

Oracles: hand-computed cases on the 3×3 raster of 1..9 under the canonical square; a direct
implementation of each documented definition (exactextract's weighted quantile, weight sums per
value); numpy and scipy on each segment alone (which also checks that the vectorised functions keep
segments apart).
"""

from __future__ import annotations

import math
from collections import defaultdict

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from reducer.stats import segments as sg
from reducer.stats.kernels import chunk_stats
from reducer.stats.segments import Segments, bucket_rule, dense_from_segments, weighted_quantile
from tests.common import VALUES_3x3

W_SQUARE = np.array([0.25, 0.5, 0.25, 0.5, 1, 0.5, 0.25, 0.5, 0.25])
SQUARE = Segments(np.array([0, 9]), W_SQUARE, VALUES_3x3.reshape(1, 9).astype("f8"))


def segments_of(groups: list[list[float]], weights: list[list[float]] | None = None, rows: int = 1) -> Segments:
    """Segments from per-segment value lists (rows > 1: the rows' values of each entry, one after the other)."""
    counts = [len(g) // rows for g in groups]
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype("i8")
    flat = [v for g in groups for v in g]
    values = np.array(flat, dtype="f8").reshape(-1, rows).T if flat else np.empty((rows, 0))
    w = np.ones(len(flat) // rows) if weights is None else np.array([v for g in weights for v in g], dtype="f8")
    return Segments(offsets, w, values)


# -- the container ------------------------------------------------------------------------------------


def test_offsets_counts_and_segment_ids():
    s = segments_of([[3.0, 1.0], [], [2.0, 2.0, 5.0]])
    assert s.n_seg == 3 and s.n == 5
    assert s.counts.tolist() == [2, 0, 3]
    assert s.seg_ids.tolist() == [0, 0, 2, 2, 2]
    assert Segments.from_ids(np.array([0, 0, 2, 2, 2]), 3, s.weight, s.values).offsets.tolist() == [0, 2, 2, 5]


def test_take_and_select():
    s = Segments(
        np.array([0, 2, 4]), np.array([1.0, 2.0, 3.0, 4.0]), np.array([[1.0, np.nan, 3.0, 4.0], [5, 6, np.nan, 8]])
    )
    one = s.select([0])
    assert one.offsets.tolist() == [0, 1, 3] and one.values.tolist() == [[1.0, 3.0, 4.0]]
    assert one.weight.tolist() == [1.0, 3.0, 4.0]
    both = s.select([0, 1])
    assert both.values.tolist() == [[1.0, 4.0], [5.0, 8.0]] and both.counts.tolist() == [1, 1]
    assert s.select([0, 1], force=True) is s  # every entry kept
    assert s.select([0, 1], keep_null=True).n == 2  # no null inputs here: masked entries still go
    nulls = Segments(s.offsets, s.weight, s.values, nulls=True)
    assert nulls.select([0], keep_null=True).n == 4
    assert s.select([0]) is s.select([0])  # cached


def test_from_stack_drops_entries_masked_in_every_row():
    v = np.array([[[1.0, np.nan]], [[np.nan, np.nan]], [[3.0, 4.0]]])  # 3 images, 1 band, 2 pixels
    s = Segments.from_stack(v)
    assert s.offsets.tolist() == [0, 2, 3] and s.values.tolist() == [[1.0, 3.0, 4.0]]
    assert s.weight.tolist() == [1.0, 1.0, 1.0]


def test_label_and_numbers():
    s = Segments(np.array([0, 2]), np.ones(2), np.array([[0.0, 1.0], [2.0, 2.5]]), labels=[np.array(["a", "b"]), None])
    assert s.label(0, 1.0) == "b" and s.label(1, 2.0) == 2 and s.label(1, 2.5) == 2.5
    assert s.label(1, float("nan")) is None
    assert [sg.to_number(x) for x in (3.0, -0.0, 2.5, 2.0**60)] == [3, 0, 2.5, 2.0**60]
    assert sg.python_value(np.float64(np.inf), False) is None and sg.python_value(2.6, True) == 3


# -- weighted quantiles ---------------------------------------------------------------------------------


def quantile_by_definition(x: list[float], w: list[float], q: float) -> float:
    """exactextract's weighted quantile, written out: s_i = i w_i + (n - 1) sum_{j<i} w_j, at q S_n.

    As exactextract's ``m_freq`` does, equal values are one entry with their weights summed (unless
    every weight is 1: an unweighted reduction keeps numpy's percentile).
    """
    if not x:
        return math.nan
    if all(wi == 1 for wi in w):
        order = sorted(range(len(x)), key=lambda i: x[i])
        xs, ws = [x[i] for i in order], [w[i] for i in order]
    else:
        merged: dict[float, float] = {}
        for xi, wi in zip(x, w, strict=True):
            merged[xi] = merged.get(xi, 0.0) + wi
        xs = sorted(merged)
        ws = [merged[v] for v in xs]
    n = len(xs)
    s, cum = [], 0.0
    for i, wi in enumerate(ws):
        s.append(i * wi + (n - 1) * cum)
        cum += wi
    target = q * (n - 1) * cum
    if target <= s[0]:
        return xs[0]
    for i in range(1, n):
        if s[i] > target:
            return xs[i - 1] + (target - s[i - 1]) * (xs[i] - xs[i - 1]) / (s[i] - s[i - 1])
    return xs[-1]


@st.composite
def weighted_groups(draw, max_seg=4, max_n=8):
    n_seg = draw(st.integers(1, max_seg))
    groups, weights = [], []
    for _ in range(n_seg):
        n = draw(st.integers(0, max_n))
        groups.append(draw(st.lists(st.sampled_from([-4.0, -1.5, 0.0, 1.0, 2.0, 2.5, 10.0]), min_size=n, max_size=n)))
        weights.append(draw(st.lists(st.floats(0.05, 1.0), min_size=n, max_size=n)))
    return groups, weights


@settings(max_examples=80, deadline=None)
@given(weighted_groups(), st.sampled_from([0.0, 0.1, 0.25, 0.5, 0.75, 0.9, 1.0]))
def test_weighted_quantile_is_the_documented_definition(gw, q):
    groups, weights = gw
    got = weighted_quantile(segments_of(groups, weights), q)
    expected = [quantile_by_definition(g, w, q) for g, w in zip(groups, weights, strict=True)]
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12, equal_nan=True)


@settings(max_examples=60, deadline=None)
@given(weighted_groups(), st.sampled_from([0.0, 0.2, 0.5, 0.99, 1.0]))
def test_unit_weight_quantile_is_numpys_percentile(gw, q):
    groups, _ = gw
    got = weighted_quantile(segments_of(groups), q)
    expected = [np.percentile(g, 100 * q) if g else np.nan for g in groups]
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12, equal_nan=True)


def test_quantiles_of_the_square_by_hand():
    # sorted 1..9 with weights .25 .5 .25 .5 1 .5 .25 .5 .25 (W = 4, n = 9): s_i = i w_i + 8 sum_{j<i} w_j,
    # S_n = 32; the median's target is 16, which s_4 = 4 + 8 * 1.5 = 16 meets exactly: 5
    assert weighted_quantile(SQUARE, 0.5).tolist() == [5.0]
    assert weighted_quantile(SQUARE, 0.0).tolist() == [1.0] and weighted_quantile(SQUARE, 1.0).tolist() == [9.0]
    # the 25th percentile: target 8; s_2 = 0.5 + 8 * 0.75 = 6.5, s_3 = 1.5 + 8 * 1 = 9.5 -> 3 + 1.5 / 3 = 3.5
    assert weighted_quantile(SQUARE, 0.25).tolist() == [3.5]


def test_quantile_with_infinities_does_not_make_nan():
    s = segments_of([[1.0, np.inf, np.inf], [3.0, 4.0, np.inf], [-np.inf, np.inf]])
    got = weighted_quantile(s, 0.5)
    assert got[0] == np.inf and got[1] == 4.0
    assert np.isnan(got[2])  # halfway between -inf and inf: undefined


# -- modes, frequencies, distinct values ----------------------------------------------------------------


def weight_sums(x: list[float], w: list[float]) -> dict[float, float]:
    out: dict[float, float] = defaultdict(float)
    for v, wi in zip(x, w, strict=True):
        out[v] += wi
    return dict(out)


@settings(max_examples=60, deadline=None)
@given(weighted_groups())
def test_majority_minority_frequencies_against_weight_sums(gw):
    groups, weights = gw
    s = segments_of(groups, weights)
    maj, mino = sg.majority(s, ()), sg.minority(s, ())
    hist, frac = sg.frequency_histogram(s, ()), sg.frac(s, ())
    distinct, unique = sg.count_distinct(s, ()), sg.unique(s, ())
    for k, (g, w) in enumerate(zip(groups, weights, strict=True)):
        sums = weight_sums(g, w)
        if not sums:
            assert np.isnan(maj[k]) and np.isnan(mino[k]) and hist[k] is None and frac[k] is None
            assert distinct[k] == 0 and np.isnan(unique[k])
            continue
        best, worst = max(sums.values()), min(sums.values())
        assert maj[k] == min(v for v, t in sums.items() if t == best)
        assert mino[k] == min(v for v, t in sums.items() if t == worst)
        assert hist[k].keys() == {str(sg.to_number(v)) for v in sums}
        for v, t in sums.items():
            assert hist[k][str(sg.to_number(v))] == pytest.approx(t)
            assert frac[k][str(sg.to_number(v))] == pytest.approx(t / sum(w))
        assert distinct[k] == unique[k] == len(sums)


def test_mode_ties_and_counts_by_hand():
    s = segments_of([[2.0, 2.0, 1.0, 1.0, 3.0], [7.0]])
    assert sg.majority(s, ()).tolist() == [1.0, 7.0]  # 1 and 2 twice each: the smaller
    assert sg.minority(s, ()).tolist() == [3.0, 7.0]
    assert sg.frequency_histogram(s, ()).tolist() == [{"1": 2, "2": 2, "3": 1}, {"7": 1}]
    weighted = segments_of([[2.0, 1.0, 1.0]], [[1.0, 0.25, 0.5]])
    assert sg.majority(weighted, ()).tolist() == [2.0]  # weight 1 beats 0.75


# -- histograms -----------------------------------------------------------------------------------------


def bucket_rule_by_search(lo: float, hi: float, max_buckets: int | None, min_width: float | None):
    """The documented rule, by trying powers of 2 from small to large."""
    max_b = 1
    while max_b < (max_buckets or 256):
        max_b *= 2
    if hi <= lo:
        width = float(min_width) if min_width else 1.0
        return math.floor(lo / width) * width, width, 1
    for e in range(-60, 60):
        width = 2.0**e
        bmin = math.floor(lo / width) * width
        if math.floor((hi - bmin) / width) < max_b or width > hi - lo:
            break
    if min_width and width < min_width:
        width = float(min_width)
        bmin = math.floor(lo / width) * width
    return bmin, width, int(math.floor((hi - bmin) / width)) + 1


@pytest.mark.parametrize(
    ("lo", "hi", "max_buckets", "min_width"),
    [(1, 9, 4, None), (1, 9, None, None), (0.3, 0.35, 10, None), (-5, 1000, 100, None), (2, 2, None, None),
     (2, 2, None, 0.5), (0, 1, 8, 0.5), (-3.7, -1.2, 3, None), (100, 101, 1, None)],
)  # fmt: skip
def test_bucket_rule_is_the_documented_rule(lo, hi, max_buckets, min_width):
    got = bucket_rule(lo, hi, max_buckets, min_width)
    assert got == bucket_rule_by_search(lo, hi, max_buckets, min_width)
    bmin, width, n = got
    assert bmin <= lo and bmin + n * width > hi  # the buckets hold every value, the last one holds hi
    assert math.log2(width).is_integer() or width == min_width


@settings(max_examples=40, deadline=None)
@given(weighted_groups())
def test_histograms_count_every_weight_once(gw):
    groups, weights = gw
    s = segments_of(groups, weights)
    hist, auto = sg.histogram(s, (8, None, None)), sg.auto_histogram(s, (8, None, None, True))
    fixed = sg.fixed_histogram(s, (-4.0, 4.0, 4, False))
    for k, (g, w) in enumerate(zip(groups, weights, strict=True)):
        if not g:
            assert hist[k] is None and auto[k] is None and fixed[k] is None
            continue
        assert sum(hist[k]["histogram"]) == pytest.approx(sum(w))
        assert auto[k][-1][1] == pytest.approx(sum(w))  # cumulative
        inside = [(v, wi) for v, wi in zip(g, w, strict=True) if -4.0 <= v < 4.0]
        expected = [sum(wi for v, wi in inside if e <= v < e + 2.0) for e in (-4.0, -2.0, 0.0, 2.0)]
        assert [c for _, c in fixed[k]] == pytest.approx(expected)
        assert [e for e, _ in fixed[k]] == [-4, -2, 0, 2]


def test_histogram_of_the_square_by_hand():
    (h,) = sg.histogram(SQUARE, (4, None, None))
    # 1..9 in 4 buckets: width 4 from 0 -> [0, 4): 1, 2, 3; [4, 8): 4..7; [8, 12): 8, 9
    assert (h["bucketMin"], h["bucketWidth"]) == (0, 4)
    assert h["histogram"] == [0.25 + 0.5 + 0.25, 0.5 + 1 + 0.5 + 0.25, 0.5 + 0.25]
    assert h["bucketMeans"] == pytest.approx(
        [(0.25 * 1 + 0.5 * 2 + 0.25 * 3) / 1, (2 + 5 + 3 + 1.75) / 2.25, 6.25 / 0.75]
    )


# -- order -------------------------------------------------------------------------------------------------


def test_first_last_and_lists_keep_entry_order():
    s = segments_of([[3.0, 1.0, 2.0], [], [5.0]])
    assert sg.first(s, ()).tolist()[::2] == [3.0, 5.0] and sg.last(s, ()).tolist()[::2] == [2.0, 5.0]
    assert np.isnan(sg.first(s, ())[1])
    assert sg.to_list(s, (None, 0)).tolist() == [[3, 1, 2], None, [5]]
    pairs = Segments(np.array([0, 3]), np.ones(3), np.array([[1.0, 2.0, np.nan], [4.0, np.nan, 6.0]]))
    assert sg.to_list(pairs, (2, 1)).tolist() == [[[1, 4], [2, None]]]  # the second input is optional
    labelled = Segments(np.array([0, 2]), np.ones(2), np.array([[1.0, 0.0]]), labels=[np.array(["a", "b"])])
    assert sg.first(labelled, ()).tolist() == ["b"] and sg.to_list(labelled, (None, 0)).tolist() == [["b", "a"]]
    assert sg.count_every(s, ()).tolist() == [3.0, 0.0, 1.0]


# -- two inputs ---------------------------------------------------------------------------------------------


@st.composite
def xy_groups(draw):
    groups = []
    for _ in range(draw(st.integers(1, 3))):
        n = draw(st.integers(3, 9))
        xs = draw(st.lists(st.integers(-5, 5), min_size=n, max_size=n))
        ys = draw(st.lists(st.integers(-5, 5), min_size=n, max_size=n))
        groups.append([(float(x), float(y)) for x, y in zip(xs, ys, strict=True)])
    return groups


def xy_segments(groups, weights=None):
    return segments_of([[v for p in g for v in p] for g in groups], weights, rows=2)


@settings(max_examples=40, deadline=None)
@given(xy_groups())
def test_fits_and_correlations_are_scipys_per_segment(groups):
    s = xy_segments(groups)
    outs = {
        "scale": sg.linear_fit_scale(s, ()),
        "offset": sg.linear_fit_offset(s, ()),
        "r": sg.pearson_correlation(s, ()),
        "p": sg.pearson_p_value(s, ()),
        "rho": sg.spearman_correlation(s, ()),
        "tau": sg.kendall_tau(s, (2,)),
        "tau_p": sg.kendall_p_value(s, (2,)),
        "sens": sg.sens_slope(s, ()),
        "sens_offset": sg.sens_offset(s, ()),
    }
    for k, g in enumerate(groups):
        x, y = np.array(g).T
        if np.ptp(x) > 0:
            slope, intercept = np.polyfit(x, y, 1)
            assert outs["scale"][k] == pytest.approx(slope, abs=1e-9)
            assert outs["offset"][k] == pytest.approx(intercept, abs=1e-9)
            ts = stats.theilslopes(y, x)
            assert outs["sens"][k] == pytest.approx(ts.slope) and outs["sens_offset"][k] == pytest.approx(ts.intercept)
        else:
            assert np.isnan(outs["scale"][k])
        if np.ptp(x) > 0 and np.ptp(y) > 0:
            r, p = stats.pearsonr(x, y)
            # near |r| = 1 the p-value is ill-conditioned (r = 1 - 2e-16 gives p = 1e-8): compare it loosely
            assert outs["r"][k] == pytest.approx(r, abs=1e-9) and outs["p"][k] == pytest.approx(p, abs=1e-6)
            assert outs["rho"][k] == pytest.approx(stats.spearmanr(x, y)[0], abs=1e-9)
            tau, tp = stats.kendalltau(x, y, method="asymptotic")
            assert outs["tau"][k] == pytest.approx(tau, abs=1e-9) and outs["tau_p"][k] == pytest.approx(tp, abs=1e-6)
        else:
            assert np.isnan(outs["r"][k]) and np.isnan(outs["tau"][k])


def test_weighted_fit_and_regression_against_numpy():
    g = [(0.0, 1.0), (1.0, 3.0), (2.0, 5.0), (3.0, 8.0)]
    w = [0.5, 1.0, 0.25, 1.0]
    s = xy_segments([g], [w])
    x, y = np.array(g).T
    slope, intercept = np.polyfit(x, y, 1, w=np.sqrt(w))
    assert sg.linear_fit_scale(s, ())[0] == pytest.approx(slope) and sg.linear_fit_offset(s, ())[0] == pytest.approx(
        intercept
    )
    beta = np.sum(np.array(w) * x * y) / np.sum(np.array(w) * x * x)  # no constant term
    assert sg.regression_coefficients(s, (1, 1))[0] == [[pytest.approx(beta)]]
    rms = np.sqrt(np.sum(np.array(w) * (y - beta * x) ** 2) / np.sum(w))
    assert sg.regression_residuals(s, (1, 1))[0] == [pytest.approx(rms)]
    assert sg.kendall_tau(segments_of([[1.0, 2.0, 3.0, 5.0]]), (1,)).tolist() == [1.0]  # against the sequence 0..3


def test_interval_mean_by_definition():
    s = segments_of([[1.0, 2.0, 3.0, 4.0, 100.0]], [[1.0, 1.0, 1.0, 1.0, 0.5]])
    lo, hi = weighted_quantile(s, 0.1)[0], weighted_quantile(s, 0.8)[0]
    x, w = s.values[0], s.weight
    inside = (x >= lo) & (x <= hi)
    assert sg.interval_mean(s, (10.0, 80.0))[0] == pytest.approx(np.average(x[inside], weights=w[inside]))


# -- decomposable statistics on segments -------------------------------------------------------------------


def test_dense_from_segments_is_the_block_kernel_per_segment():
    s = segments_of([[1.0, 2.0], [], [4.0, 8.0, 16.0]], [[1.0, 0.5], [], [0.25, 0.25, 1.0]])
    kinds = ["w", "wx", "m2", "min", "max"]
    dense = dense_from_segments(s, kinds)
    for k, idx in ((0, slice(0, 2)), (2, slice(2, 5))):
        _, one = chunk_stats(
            s.values[:, idx], np.arange(idx.stop - idx.start), s.weight[idx], np.array([0]), np.array([0]), kinds
        )
        for kind in kinds:
            assert dense[kind][k].tolist() == one[kind][0].tolist(), kind
    assert dense["w"][1, 0] == 0.0 and dense["min"][1, 0] == np.inf  # the empty segment: identities
