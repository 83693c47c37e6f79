"""``reducer.stats.kernels``: block intermediates, their exact merge, and the dense-stack kernels.

Oracles: the 3×3 raster of 1..9 under the canonical square (covered by 0.25, 0.5 and 1), computed
by hand; brute-force numpy per feature; and, for the stack kernels, the segment statistics they
specialise.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reducer.stats.kernels import (
    KINDS,
    Gathered,
    chunk_stats,
    combine_partials,
    empty_partial,
    scatter,
    stack_mode,
    stack_quantile,
    stack_stats,
)
from reducer.stats.segments import Segments, majority, weighted_quantile
from tests.common import VALUES_3x3

ROW_KINDS = [k for k in KINDS if k != "vals"]
W_SQUARE = np.array([[0.25, 0.5, 0.25], [0.5, 1, 0.5], [0.25, 0.5, 0.25]])


def one_feature(values: np.ndarray, weights: np.ndarray, kinds=ROW_KINDS):
    """All pixels of ``values`` (bands, y, x) as one feature (id 0) with the given weights."""
    flat = values.reshape(values.shape[0], -1)
    w = weights.ravel()
    pixel = np.flatnonzero(w > 0)
    return chunk_stats(flat, pixel, w[pixel], np.array([0]), np.array([0]), kinds)


# -- chunk_stats by hand ---------------------------------------------------------------------------


# the square over 1..9: corners 1, 3, 7, 9 by 0.25, edges 2, 4, 6, 8 by 0.5, the centre 5 by 1
SQUARE_BY_HAND = {
    "w": 4 * 0.25 + 4 * 0.5 + 1,  # 4
    "w2": 4 * 0.25**2 + 4 * 0.5**2 + 1,  # 2.25
    "wx": 0.25 * (1 + 3 + 7 + 9) + 0.5 * (2 + 4 + 6 + 8) + 5,  # 20: the mean is 5
    "m2": 0.25 * (16 + 4 + 4 + 16) + 0.5 * (9 + 1 + 1 + 9),  # sum w (x - 5)^2 = 20
    "m3": 0.25 * (-64 - 8 + 8 + 64) + 0.5 * (-27 - 1 + 1 + 27),  # symmetric: 0
    "m4": 0.25 * (256 + 16 + 16 + 256) + 0.5 * (81 + 1 + 1 + 81),  # 218
    "min": 1.0,
    "max": 9.0,
    "prod": 362880.0,  # 9!: weights are ignored
    "anynz": 1.0,
    "allnz": 1.0,
}


@pytest.mark.parametrize("kind", ROW_KINDS)
def test_square_over_1_to_9_by_hand(kind):
    fids, out = one_feature(VALUES_3x3[None].astype("f8"), W_SQUARE, [kind])
    assert fids.tolist() == [0]
    assert out[kind].shape == (1, 1)
    assert out[kind][0, 0] == pytest.approx(SQUARE_BY_HAND[kind], abs=1e-12)


def test_masked_pixels_are_left_out_band_by_band():
    v = np.stack([VALUES_3x3, VALUES_3x3]).astype("f8")
    v[1, 1, 1] = np.nan  # the centre (weight 1) masked in band 1 only
    v[0, 0, 0] = 0.0  # a zero in band 0
    _, out = one_feature(v, W_SQUARE)
    assert out["w"][0].tolist() == [4.0, 3.0]
    assert out["wx"][0].tolist() == [19.75, 15.0]
    assert out["allnz"][0].tolist() == [0.0, 1.0] and out["anynz"][0].tolist() == [1.0, 1.0]
    assert out["prod"][0].tolist() == [0.0, 362880.0 / 5]


def test_vals_gathers_valid_entries_with_their_order_key():
    v = np.array([[1.0, np.nan, 3.0, 4.0], [np.nan, np.nan, 30.0, 40.0]])
    fids, out = chunk_stats(
        v,
        np.arange(4),
        np.array([1.0, 0.5, 0.25, 1.0]),
        np.array([0, 2]),
        np.array([5, 8]),
        ["vals"],
        np.arange(4) + 100,
    )
    g = out["vals"]
    assert fids.tolist() == [5, 8]
    assert g.fid.tolist() == [5, 8, 8]  # pixel 1 is masked in every band: not an entry
    assert g.pixel.tolist() == [100, 102, 103]
    assert g.weight.tolist() == [1.0, 0.25, 1.0]
    np.testing.assert_array_equal(g.values, [[1.0, 3.0, 4.0], [np.nan, 30.0, 40.0]])


# -- chunk_stats against numpy, feature by feature -----------------------------------------------------


@st.composite
def entries(draw, max_n=40):
    n = draw(st.integers(1, max_n))
    n_feat = draw(st.integers(1, 5))
    fid = np.sort(np.array(draw(st.lists(st.integers(0, n_feat - 1), min_size=n, max_size=n))))
    pool = [np.nan, -3.0, -0.5, 0.0, 1.0, 2.5, 4.0, 1e3]
    vals = np.array(draw(st.lists(st.sampled_from(pool), min_size=2 * n, max_size=2 * n))).reshape(2, n)
    w = np.array(draw(st.lists(st.floats(0.01, 1.0), min_size=n, max_size=n)))
    return fid, vals, w


def chunk(fid, vals, w, kinds, offset=0):
    starts = np.flatnonzero(np.r_[True, fid[1:] != fid[:-1]])
    return chunk_stats(vals, np.arange(len(fid)), w, starts, fid[starts], kinds, order=np.arange(len(fid)) + offset)


def brute(x: np.ndarray, w: np.ndarray) -> dict[str, float]:
    """The documented definition of each kind on one feature's valid values x with weights w."""
    if len(x) == 0:
        return {"w": 0.0, "w2": 0.0, "wx": 0.0, "m2": 0.0, "m3": 0.0, "m4": 0.0, "min": np.inf, "max": -np.inf}
    mean = np.sum(w * x) / np.sum(w)
    return {
        "w": np.sum(w),
        "w2": np.sum(w * w),
        "wx": np.sum(w * x),
        "m2": np.sum(w * (x - mean) ** 2),
        "m3": np.sum(w * (x - mean) ** 3),
        "m4": np.sum(w * (x - mean) ** 4),
        "min": np.min(x),
        "max": np.max(x),
        "prod": np.prod(x),
        "anynz": float(np.any(x != 0)),
        "allnz": float(np.all(x != 0)),
    }


@settings(max_examples=60, deadline=None)
@given(entries())
def test_chunk_stats_is_numpy_per_feature(e):
    fid, vals, w = e
    n_feat = int(fid.max()) + 1
    dense = scatter(chunk(fid, vals, w, ROW_KINDS), n_feat, 2, ROW_KINDS)
    for f in range(n_feat):
        for b in range(2):
            x = vals[b, fid == f]
            ok = ~np.isnan(x)
            expected = brute(x[ok], w[fid == f][ok])
            for k, v in expected.items():
                got = dense[k][f, b]
                assert got == pytest.approx(v, rel=1e-9, abs=1e-6), (k, f, b)


@settings(max_examples=60, deadline=None)
@given(entries(), st.data())
def test_combined_chunks_equal_the_whole(e, data):
    """combine(chunk(a), chunk(b)) == chunk(a + b) for every kind, whatever the order of the parts."""
    fid, vals, w = e
    if len(fid) < 2:
        return
    cut = data.draw(st.integers(1, len(fid) - 1))
    kinds = ROW_KINDS + ["vals"]
    whole = chunk(fid, vals, w, kinds)
    a = chunk(fid[:cut], vals[:, :cut], w[:cut], kinds)
    b = chunk(fid[cut:], vals[:, cut:], w[cut:], kinds, cut)
    for parts in ([a, b], [b, a]):
        fids, merged = combine_partials(parts)
        assert fids.tolist() == whole[0].tolist()
        for k in ROW_KINDS:
            if k in ("min", "max", "anynz", "allnz"):  # sums are float sums: up to rounding
                np.testing.assert_array_equal(merged[k], whole[1][k], err_msg=k)
            else:
                np.testing.assert_allclose(merged[k], whole[1][k], rtol=1e-9, atol=1e-6, err_msg=k)
        for x, y in zip(merged["vals"], whole[1]["vals"], strict=True):
            np.testing.assert_array_equal(x, y)


def test_combine_keeps_a_single_or_empty_partial():
    kinds = ["w", "wx"]
    empty = empty_partial(kinds, 1)
    one = chunk_stats(np.array([[2.0]]), np.array([0]), np.array([1.0]), np.array([0]), np.array([3]), kinds)
    assert combine_partials([empty, one]) is one
    assert combine_partials([empty, empty]) is empty


def test_scatter_fills_each_kind_with_its_identity():
    part = chunk_stats(np.array([[2.0]]), np.array([0]), np.array([0.5]), np.array([0]), np.array([1]), ROW_KINDS)
    dense = scatter(part, 3, 1, ROW_KINDS + ["vals"])
    identity = {"w": 0, "w2": 0, "wx": 0, "m2": 0, "m3": 0, "m4": 0, "min": np.inf, "max": -np.inf, "prod": 1}
    identity |= {"anynz": 0, "allnz": 1}
    for k, v in identity.items():
        assert dense[k][[0, 2], 0].tolist() == [v, v], k
    assert dense["wx"][1, 0] == 1.0 and dense["prod"][1, 0] == 2.0
    assert isinstance(dense["vals"], Gathered) and len(dense["vals"].fid) == 0


def test_gathered_concat_sorts_by_feature_then_pixel():
    a = Gathered(np.array([1, 2]), np.array([5, 0]), np.array([1.0, 1.0]), np.array([[10.0, 20.0]]))
    b = Gathered(np.array([1, 1]), np.array([2, 9]), np.array([0.5, 0.5]), np.array([[30.0, 40.0]]))
    g = Gathered.concat([a, Gathered.empty(1), b])
    assert list(zip(g.fid.tolist(), g.pixel.tolist(), strict=True)) == [(1, 2), (1, 5), (1, 9), (2, 0)]
    assert g.values.tolist() == [[30.0, 10.0, 40.0, 20.0]]
    assert Gathered.concat([Gathered.empty(2)]).values.shape == (2, 0)


# -- dense stacks --------------------------------------------------------------------------------------


@st.composite
def stacks(draw):
    n_t, n_rows, n_seg = draw(st.integers(0, 9)), draw(st.integers(1, 2)), draw(st.integers(1, 12))
    pool = [np.nan, np.nan, -2.0, 0.0, 0.5, 1.0, 3.0, 7.25, np.inf, -np.inf]
    flat = draw(st.lists(st.sampled_from(pool), min_size=n_t * n_rows * n_seg, max_size=n_t * n_rows * n_seg))
    return np.array(flat, dtype="f8").reshape(n_t, n_rows, n_seg)


def finite(v: np.ndarray) -> np.ndarray:
    return np.where(np.isinf(v), np.nan, v)


@settings(max_examples=80, deadline=None)
@given(stacks())
def test_stack_stats_equal_the_block_kernels_on_the_same_entries(values):
    values = finite(values)  # infinities make moments NaN in both: compared below on finite values
    n_t, n_rows, n_seg = values.shape
    got = stack_stats(values, ROW_KINDS)
    # the same entries as segments: column k is segment k, weight 1
    seg = Segments.from_stack(values)
    ne = np.flatnonzero(seg.counts > 0)
    part = (
        chunk_stats(seg.values, np.arange(seg.n), seg.weight, seg.offsets[:-1][ne], ne, ROW_KINDS)
        if len(ne)
        else empty_partial(ROW_KINDS, n_rows)
    )
    expected = scatter(part, n_seg, n_rows, ROW_KINDS)
    for k in ROW_KINDS:
        assert got[k].shape == (n_seg, n_rows), k
        np.testing.assert_allclose(got[k], expected[k], rtol=1e-12, atol=1e-9, err_msg=k)


@settings(max_examples=80, deadline=None)
@given(stacks(), st.sampled_from([0.0, 0.1, 0.25, 0.5, 0.9, 1.0]))
def test_stack_quantile_is_the_unit_weight_quantile_bit_for_bit(values, q):
    table = values[:, 0]
    seg = Segments.from_stack(values[:, :1])
    np.testing.assert_array_equal(stack_quantile(table, q), weighted_quantile(seg, q))


@settings(max_examples=80, deadline=None)
@given(stacks(), st.sampled_from([0.0, 0.3, 0.5, 1.0]))
def test_stack_quantile_is_numpys_linear_percentile(values, q):
    table = finite(values[:, 0])
    expected = np.full(table.shape[1], np.nan)
    for k in range(table.shape[1]):
        x = table[:, k][~np.isnan(table[:, k])]
        if len(x):
            expected[k] = np.percentile(x, 100 * q)
    # interpolating between values of opposite sign rounds differently near 0 (numpy: -4.4e-16, ours:
    # -6.7e-16 between -1 and 1): an absolute tolerance at the scale of the data
    finite_abs = np.abs(table[np.isfinite(table)])
    atol = 1e-12 * (finite_abs.max() if finite_abs.size else 1.0)
    np.testing.assert_allclose(stack_quantile(table, q), expected, rtol=1e-12, atol=atol, equal_nan=True)


def test_stack_quantile_by_hand():
    table = np.array(
        [
            [1.0, 5.0, np.inf, np.nan, 3.0],
            [2.0, np.nan, np.inf, np.nan, np.inf],
            [4.0, np.nan, 1.0, np.nan, 4.0],
            [3.0, np.nan, np.nan, np.nan, np.nan],
        ]
    )
    # median of 1..4 is 2.5; one value is itself; [1, inf, inf] is inf (no NaN from inf - inf);
    # no value is NaN; [3, 4, inf] is 4 (an entry: no 0 * inf)
    assert stack_quantile(table, 0.5).tolist()[:3] == [2.5, 5.0, np.inf]
    assert np.isnan(stack_quantile(table, 0.5)[3]) and stack_quantile(table, 0.5)[4] == 4.0
    assert stack_quantile(table, 0.0)[0] == 1.0 and stack_quantile(table, 1.0)[0] == 4.0


@settings(max_examples=80, deadline=None)
@given(stacks())
def test_stack_mode_is_the_unit_weight_majority(values):
    table = values[:, 0]
    seg = Segments.from_stack(values[:, :1])
    np.testing.assert_array_equal(stack_mode(table), majority(seg, ()))
    # brute force: the most frequent value, ties to the smallest (np.unique sorts)
    for k in range(table.shape[1]):
        x = table[:, k][~np.isnan(table[:, k])]
        if len(x):
            u, c = np.unique(x, return_counts=True)
            assert stack_mode(table)[k] == u[np.argmax(c)]
        else:
            assert np.isnan(stack_mode(table)[k])


def test_stack_mode_ties_go_to_the_smallest_value():
    table = np.array([[2.0, 9.0], [1.0, 9.0], [2.0, 8.0], [1.0, 8.0], [np.nan, 7.0]])
    assert stack_mode(table).tolist() == [1.0, 8.0]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("unit", [True, False])
@pytest.mark.parametrize("masked", [False, True])
def test_simple_kinds_fast_path_equals_the_general_path(dtype, unit, masked):
    """w, w2, wx, min and max take a shortcut (no float64 copies); it gives the general path's bits (taken
    here by also asking for m2), and a plain numpy oracle's sums and extremes, with masked entries too."""
    rng = np.random.default_rng(5)
    values = rng.normal(0, 100, (2, 400)).astype(dtype)
    pixel = np.sort(rng.choice(400, 150, replace=False))
    weight = np.broadcast_to(np.float32(1.0), pixel.shape) if unit else rng.random(pixel.size).astype("f4")
    if masked:
        values[rng.random(values.shape) < 0.1] = np.nan
        values[:, pixel[10]] = np.nan  # a segment of one masked entry
    starts = np.array([0, 10, 11, 90])
    fids = np.array([3, 5, 8, 9])
    kinds = ("w", "w2", "wx", "min", "max")
    _, fast = chunk_stats(values, pixel, weight, starts, fids, kinds)
    _, general = chunk_stats(values, pixel, weight, starts, fids, (*kinds, "m2"))
    for k in kinds:
        np.testing.assert_array_equal(fast[k], general[k], err_msg=k)
    segs = np.split(values[:, pixel].astype("f8"), starts[1:], axis=1)
    wsegs = np.split(np.asarray(weight, "f8"), starts[1:])
    for b in range(2):
        ok = [~np.isnan(s[b]) for s in segs]
        want_w = [w[k].sum() for w, k in zip(wsegs, ok, strict=True)]
        np.testing.assert_allclose(fast["w"][:, b], want_w, rtol=1e-12)
        np.testing.assert_allclose(fast["w2"][:, b], [(w[k] ** 2).sum() for w, k in zip(wsegs, ok, strict=True)])
        want_wx = [s[b][k] @ w[k] for s, w, k in zip(segs, wsegs, ok, strict=True)]
        np.testing.assert_allclose(fast["wx"][:, b], want_wx, rtol=1e-12, atol=1e-9)
        np.testing.assert_array_equal(
            fast["min"][:, b], [s[b][k].min(initial=np.inf) for s, k in zip(segs, ok, strict=True)]
        )
        np.testing.assert_array_equal(
            fast["max"][:, b], [s[b][k].max(initial=-np.inf) for s, k in zip(segs, ok, strict=True)]
        )
