"""Per-segment statistics: the gathered statistics of every reducer, on :class:`Segments`.

A :class:`Segments` holds entries (a weight and the values of every input) grouped into
contiguous segments. The same functions serve every caller:

- ``reduceRegion(s)``: a segment is a feature, its entries the pixels it covers (gathered across
  blocks, sorted by pixel), weighted by the covered fraction or 1 (unweighted);
- ``ImageCollection.reduce``: a segment is a pixel, its entries the images (in collection order),
  each with weight 1 (:meth:`Segments.from_stack`);
- ``FeatureCollection.reduceColumns``: one segment, its entries the features.

Each statistic is a function ``f(segments, params) -> (n_seg,)`` of the segments of the output's
inputs (one row per input, entries where every input is valid) and the output's parameters; a
blueprint in :mod:`reducer.stats.aggregations` names it. Float results use NaN for "no value"; dict
and list results are object arrays with ``None``.

Statistics are vectorised over segments where reasonable (a sort by (segment, value) and cumulative
weights for quantiles; runs of equal values for modes and frequencies); regressions, histograms and
lists loop over segments. Decomposable statistics (``mean``, ``variance``, ...) are computed with the
block kernels of :mod:`reducer.stats.kernels` on the segments (:func:`dense_from_segments`), so each
statistic has one definition.

Weighted quantiles follow exactextract's definition (``weighted_quantiles.cpp``): merge equal values
into one entry with their summed weight, as exactextract does (not in a segment whose weights are all
1, an unweighted reduction); sort by value;
``s_0 = 0``, ``s_i = i w_i + (n - 1) sum_{j<i} w_j``, ``S_n = (n - 1) sum w``; the q-quantile
interpolates linearly at ``q S_n`` between the entries whose ``s`` bracket it. With all weights 1
this is numpy's default (linear) percentile.

"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

from .kernels import chunk_stats, scatter

__all__ = [
    "Segments",
    "weighted_quantile",
    "bucket_rule",
    "dense_from_segments",
    "to_number",
    "python_value",
    "percentile",
    "interval_mean",
    "majority",
    "minority",
    "count_distinct",
    "unique",
    "frequency_histogram",
    "frac",
    "histogram",
    "auto_histogram",
    "fixed_histogram",
    "first",
    "last",
    "to_list",
    "count_every",
    "linear_fit_scale",
    "linear_fit_offset",
    "regression_coefficients",
    "regression_residuals",
    "sens_slope",
    "sens_offset",
    "pearson_correlation",
    "pearson_p_value",
    "spearman_correlation",
    "kendall_tau",
    "kendall_p_value",
]


class Segments:
    """Entries grouped into ``n_seg`` contiguous segments.

    Parameters
    ----------
    offsets
        ``(n_seg + 1,)`` entry offsets: segment ``k`` is ``offsets[k]:offsets[k + 1]`` (may be empty).
    weight
        ``(n,)`` entry weights (> 0).
    values
        ``(n_rows, n)`` values, NaN where an input is masked or null.
    nulls
        True when a NaN is a null input that reducers such as ``countEvery`` and ``first`` see
        (property columns); False when it is a masked pixel, which no reducer sees.
    labels
        Per row, ``None`` or an array of labels that integer codes in that row stand for (strings in
        property columns).

    Examples
    --------
    >>> s = Segments(np.array([0, 3, 3, 5]), np.ones(5), np.array([[3.0, 1, 2, 9, 7]]))
    >>> s.n_seg, s.counts.tolist()
    (3, [3, 0, 2])
    >>> weighted_quantile(s, 0.5).tolist()
    [2.0, nan, 8.0]
    """

    __slots__ = ("offsets", "weight", "values", "nulls", "labels", "_memo")

    def __init__(
        self,
        offsets: np.ndarray,
        weight: np.ndarray,
        values: np.ndarray,
        *,
        nulls: bool = False,
        labels: Sequence[Any] | None = None,
    ):
        self.offsets = np.asarray(offsets, dtype="i8")
        self.weight = np.asarray(weight, dtype="f8")
        self.values = np.atleast_2d(np.asarray(values, dtype="f8"))
        self.nulls = nulls
        self.labels = tuple(labels) if labels is not None else (None,) * self.values.shape[0]
        self._memo: dict[Any, Any] = {}

    @classmethod
    def from_ids(cls, seg_ids: np.ndarray, n_seg: int, weight: np.ndarray, values: np.ndarray, **kw: Any) -> Segments:
        """Segments from a sorted segment id per entry."""
        offsets = np.searchsorted(np.asarray(seg_ids), np.arange(n_seg + 1), side="left")
        return cls(offsets, weight, values, **kw)

    @classmethod
    def from_stack(cls, values: np.ndarray) -> Segments:
        """Segments from a dense ``(n_entries, n_rows, n_seg)`` stack (pixels over time).

        Segment ``k`` holds column ``k``'s entries in order, each with weight 1; an entry that is NaN
        in every row is left out.

        Examples
        --------
        >>> v = np.array([[1.0, np.nan], [np.nan, np.nan], [3.0, 4.0]]).reshape(3, 1, 2)
        >>> seg = Segments.from_stack(v)
        >>> seg.offsets.tolist(), seg.values.tolist()
        ([0, 2, 3], [[1.0, 3.0, 4.0]])
        """
        values = np.asarray(values, dtype="f8")
        n_t, n_rows, n_seg = values.shape
        flat = values.transpose(1, 2, 0).reshape(n_rows, n_seg * n_t)
        keep = ~np.isnan(flat).all(axis=0)
        counts = keep.reshape(n_seg, n_t).sum(axis=1)
        offsets = np.concatenate([[0], np.cumsum(counts)])
        return cls(offsets, np.ones(int(offsets[-1])), flat[:, keep])

    @property
    def n_seg(self) -> int:
        """The number of segments."""
        return len(self.offsets) - 1

    @property
    def n(self) -> int:
        """The number of entries."""
        return self.values.shape[1]

    @property
    def counts(self) -> np.ndarray:
        """Entries per segment."""
        return np.diff(self.offsets)

    def memo(self, key: Any, fn: Callable[[], Any]) -> Any:
        """``fn()``, computed once per segments object and key."""
        if key not in self._memo:
            self._memo[key] = fn()
        return self._memo[key]

    @property
    def seg_ids(self) -> np.ndarray:
        """The segment of each entry."""
        return self.memo("seg_ids", lambda: np.repeat(np.arange(self.n_seg), self.counts))

    def take(self, keep: np.ndarray, rows: Sequence[int] | None = None) -> Segments:
        """The entries where ``keep`` (a boolean mask), optionally only some rows."""
        rows = list(range(self.values.shape[0])) if rows is None else list(rows)
        counts = np.bincount(self.seg_ids[keep], minlength=self.n_seg)
        offsets = np.concatenate([[0], np.cumsum(counts)])
        return Segments(
            offsets,
            self.weight[keep],
            self.values[np.ix_(rows, keep)] if len(rows) else np.empty((0, int(keep.sum()))),
            nulls=self.nulls,
            labels=[self.labels[r] for r in rows],
        )

    def select(self, rows: Sequence[int], keep_null: bool = False, force: bool = False) -> Segments:
        """The given rows, keeping the entries where all of them are valid (cached).

        With ``keep_null`` (and null inputs, see ``nulls``), entries with nulls are kept; with
        ``force``, all entries are kept (masked pixels too).
        """
        rows = tuple(int(r) for r in rows)
        keep_null = force or (keep_null and self.nulls)

        def run() -> Segments:
            if keep_null:
                keep = np.ones(self.n, bool)
            else:
                keep = ~np.isnan(self.values[list(rows)]).any(axis=0)
            if keep.all() and rows == tuple(range(self.values.shape[0])):
                return self
            return self.take(keep, rows)

        return self.memo(("select", rows, keep_null), run)

    def sorted_view(self, row: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """``(order, x, w, seg)`` sorted by (segment, value of ``row``), stable within ties."""

        def run() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
            x = self.values[row]
            counts = self.counts
            longest = int(counts.max()) if self.n_seg else 0
            if 0 < longest <= 256 and self.n_seg * longest <= 4 * self.n + 4096:
                # many short segments (pixels over time): sort each row of a padded table
                pos = np.arange(self.n) - self.offsets[:-1][self.seg_ids]
                table = np.full((self.n_seg, longest), np.inf)
                table[self.seg_ids, pos] = x
                idx = np.argsort(table, axis=1, kind="stable")  # padding sorts last, after real +inf
                keep = np.arange(longest)[None, :] < counts[:, None]
                order = (self.offsets[:-1, None] + idx)[keep]
            else:
                order = np.lexsort((x, self.seg_ids))
            return order, x[order], self.weight[order], self.seg_ids[order]

        return self.memo(("sorted", row), run)

    def runs(self, row: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Distinct values per segment: ``(segment, value, weight sum, count)`` of each run, by value."""

        def run() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
            _, x, w, sid = self.sorted_view(row)
            if len(x) == 0:
                e = np.empty(0)
                return e.astype("i8"), e, e, e.astype("i8")
            new = np.ones(len(x), bool)
            new[1:] = (sid[1:] != sid[:-1]) | (x[1:] != x[:-1])
            rid = np.cumsum(new) - 1
            starts = np.flatnonzero(new)
            return sid[starts], x[starts], np.bincount(rid, weights=w), np.bincount(rid)

        return self.memo(("runs", row), run)

    def label(self, row: int, x: float) -> Any:
        """A value as a Python object: its label, an int when integral, else a float."""
        labels = self.labels[row] if row < len(self.labels) else None
        if x is None or (isinstance(x, float) and math.isnan(x)):
            return None
        if labels is not None:
            return labels[int(x)]
        return to_number(x)


def to_number(x: float) -> int | float:
    """A number as Earth Engine writes it: an int when it is whole, else a float.

    Examples
    --------
    >>> to_number(3.0), to_number(0.5), to_number(np.float32(2))
    (3, 0.5, 2)
    """
    x = float(x)
    return int(x) if x.is_integer() and abs(x) < 2**53 else x


def python_value(v: Any, integer: bool) -> Any:
    """One statistic's value as plain Python: None for NaN, an int for whole-number statistics.

    Dicts and lists (object results) pass through.

    Examples
    --------
    >>> python_value(np.float64(2.0), True), python_value(2.0, False), python_value(np.nan, False)
    (2, 2.0, None)
    >>> python_value({"1": 2}, False)
    {'1': 2}
    """
    if isinstance(v, float | np.floating):
        if not np.isfinite(v):
            return None
        return int(round(float(v))) if integer else float(v)
    return v


def _key(x: Any) -> str:
    """A value as a dictionary key, as Earth Engine writes it (``"3"``, ``"0.5"``)."""
    return str(x)


def _nan(n: int) -> np.ndarray:
    return np.full(n, np.nan)


def _objects(n: int) -> np.ndarray:
    return np.full(n, None, dtype=object)


# -- quantiles, modes, frequencies ------------------------------------------------------------------


def _seg_cumsum(w: np.ndarray, sid: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Cumulative sum of ``w`` within each segment (entries sorted by segment)."""
    total = np.cumsum(w)
    base = np.concatenate([[0.0], total])[offsets[:-1]]
    return total - base[sid]


def _merge_equal_values(
    x: np.ndarray, w: np.ndarray, sid: np.ndarray, n_seg: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """One entry per distinct value in each weighted segment, its weights summed (exactextract's).

    Entries are sorted by (segment, value). A segment whose weights are all 1 (an unweighted
    reduction) keeps its entries, so that its quantiles stay numpy's linear percentile.
    Returns ``x, w, sid, counts, offsets`` of the merged entries.
    """
    unit = np.bincount(sid, weights=(w != 1), minlength=n_seg) == 0
    new = np.ones(len(x), dtype=bool)
    new[1:] = (x[1:] != x[:-1]) | (sid[1:] != sid[:-1]) | unit[sid[1:]]
    group = np.cumsum(new) - 1
    xm, sidm = x[new], sid[new]
    wm = np.bincount(group, weights=w)
    counts = np.bincount(sidm, minlength=n_seg)
    offsets = np.concatenate([[0], np.cumsum(counts)])
    return xm, wm, sidm, counts, offsets


def weighted_quantile(seg: Segments, q: float, row: int = 0) -> np.ndarray:
    """The weighted q-quantile of each segment, exactextract's definition; NaN for an empty segment.

    As exactextract does, equal values are first merged into one entry whose weight is their
    summed weight (a segment whose weights are all 1, an unweighted reduction, is left as it is).

    Examples
    --------
    With weights 1 it is numpy's linear percentile:

    >>> s = Segments(np.array([0, 4]), np.ones(4), np.array([[4.0, 1.0, 3.0, 2.0]]))
    >>> float(weighted_quantile(s, 0.25)[0]), float(np.percentile([4, 1, 3, 2], 25))
    (1.75, 1.75)

    With other weights, equal values count as one entry: 1, 1, 1 (weight 0.5 each) and 2 (weight 1)
    are 1 (weight 1.5) and 2 (weight 1), whose ``s`` are 0 and 2.5: the median, at 1.25, is half way.

    >>> s = Segments(np.array([0, 4]), np.array([0.5, 0.5, 0.5, 1.0]), np.array([[1.0, 1.0, 1.0, 2.0]]))
    >>> float(weighted_quantile(s, 0.5)[0])
    1.5
    """
    _, x, w, sid = seg.sorted_view(row)
    n_seg = seg.n_seg
    out = _nan(n_seg)
    if len(x) == 0:
        return out
    x, w, sid, counts, offsets = _merge_equal_values(x, w, sid, n_seg)
    starts = offsets[:-1]
    cum = _seg_cumsum(w, sid, offsets)
    pos = np.arange(len(x)) - starts[sid]
    s = pos * w + (counts[sid] - 1) * (cum - w)
    total = np.bincount(sid, weights=w, minlength=n_seg)
    target = q * (counts - 1) * total
    cnt = np.bincount(sid, weights=(s <= target[sid]), minlength=n_seg).astype("i8")
    ne = counts > 0
    first = cnt == 0
    last = cnt >= counts
    mid = ne & ~first & ~last
    out[ne & first] = x[starts[ne & first]]
    out[ne & last] = x[starts[ne & last] + counts[ne & last] - 1]
    r = starts[mid] + cnt[mid]
    left = r - 1
    # no interpolation on an entry or between equal values (an infinite neighbour would give NaN)
    with np.errstate(invalid="ignore"):
        interp = x[left] + (target[mid] - s[left]) * (x[r] - x[left]) / (s[r] - s[left])
    out[mid] = np.where((target[mid] == s[left]) | (x[r] == x[left]), x[left], interp)
    return out


def percentile(seg: Segments, params: tuple) -> np.ndarray:
    """The weighted ``params[0]``-th percentile of each segment (:func:`weighted_quantile`).

    Examples
    --------
    >>> s = Segments(np.array([0, 4, 4]), np.ones(4), np.array([[3.0, 1.0, 3.0, 2.0]]))  # 3 1 3 2 | (empty)
    >>> percentile(s, (50.0,)).tolist(), float(np.median([3, 1, 3, 2]))
    ([2.5, nan], 2.5)
    """
    return weighted_quantile(seg, float(params[0]) / 100.0)


def interval_mean(seg: Segments, params: tuple) -> np.ndarray:
    """The weighted mean of the entries between the ``params[0]``-th and ``params[1]``-th percentiles, inclusive.

    Examples
    --------
    The 25th and 75th percentiles of 1, 2, 3, 3 are 1.75 and 3: the mean of 2, 3, 3.

    >>> s = Segments(np.array([0, 4, 4]), np.ones(4), np.array([[3.0, 1.0, 3.0, 2.0]]))  # 3 1 3 2 | (empty)
    >>> interval_mean(s, (25.0, 75.0)).tolist()
    [2.6666666666666665, nan]
    """
    lo = weighted_quantile(seg, float(params[0]) / 100.0)
    hi = weighted_quantile(seg, float(params[1]) / 100.0)
    sid = seg.seg_ids
    x = seg.values[0]
    inside = (x >= lo[sid]) & (x <= hi[sid])
    w = np.where(inside, seg.weight, 0.0)
    wsum = np.bincount(sid, weights=w, minlength=seg.n_seg)
    wx = np.bincount(sid, weights=w * np.where(inside, x, 0.0), minlength=seg.n_seg)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(wsum > 0, wx / np.where(wsum > 0, wsum, 1), np.nan)


def _extreme_run(seg: Segments, largest: bool) -> np.ndarray:
    """The value with the largest (smallest) total weight per segment; ties go to the smallest value."""
    rsid, rx, rw, _ = seg.runs()
    out = _nan(seg.n_seg)
    if len(rx) == 0:
        return out
    best = np.full(seg.n_seg, -np.inf if largest else np.inf)
    (np.maximum if largest else np.minimum).at(best, rsid, rw)
    cand = rw == best[rsid]
    idx = np.full(seg.n_seg, len(rx))
    np.minimum.at(idx, rsid[cand], np.flatnonzero(cand))
    ok = idx < len(rx)
    out[ok] = rx[idx[ok]]
    return out


def majority(seg: Segments, params: tuple) -> np.ndarray:
    """The value with the largest total weight per segment (``mode``); ties go to the smallest value.

    Examples
    --------
    >>> s = Segments(np.array([0, 4, 4]), np.ones(4), np.array([[3.0, 1.0, 3.0, 2.0]]))  # 3 1 3 2 | (empty)
    >>> majority(s, ()).tolist()
    [3.0, nan]
    """
    return _extreme_run(seg, True)


def minority(seg: Segments, params: tuple) -> np.ndarray:
    """The value with the smallest total weight per segment; ties go to the smallest value.

    Examples
    --------
    >>> s = Segments(np.array([0, 4, 4]), np.ones(4), np.array([[3.0, 1.0, 3.0, 2.0]]))  # 3 1 3 2 | (empty)
    >>> minority(s, ()).tolist()
    [1.0, nan]
    """
    return _extreme_run(seg, False)


def count_distinct(seg: Segments, params: tuple) -> np.ndarray:
    """The number of distinct values per segment (0 for an empty one).

    Examples
    --------
    >>> s = Segments(np.array([0, 4, 4]), np.ones(4), np.array([[3.0, 1.0, 3.0, 2.0]]))  # 3 1 3 2 | (empty)
    >>> count_distinct(s, ()).tolist()
    [3.0, 0.0]
    """
    rsid = seg.runs()[0]
    return np.bincount(rsid, minlength=seg.n_seg).astype("f8")


def unique(seg: Segments, params: tuple) -> np.ndarray:
    """The number of distinct values per segment (NaN for an empty one).

    Examples
    --------
    >>> s = Segments(np.array([0, 4, 4]), np.ones(4), np.array([[3.0, 1.0, 3.0, 2.0]]))  # 3 1 3 2 | (empty)
    >>> unique(s, ()).tolist()
    [3.0, nan]
    """
    n = count_distinct(seg, params)
    return np.where(seg.counts > 0, n, np.nan)


def _run_dicts(seg: Segments, fn: Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]) -> np.ndarray:
    rsid, rx, rw, rn = seg.runs()
    out = _objects(seg.n_seg)
    if len(rx) == 0:
        return out
    vals = fn(rsid, rw, rn)
    bounds = np.searchsorted(rsid, np.arange(seg.n_seg + 1))
    for k in np.flatnonzero(seg.counts > 0):
        a, b = bounds[k], bounds[k + 1]
        out[k] = {_key(seg.label(0, x)): to_number(v) for x, v in zip(rx[a:b], vals[a:b], strict=True)}
    return out


def frequency_histogram(seg: Segments, params: tuple) -> np.ndarray:
    """``{value: weight sum}`` per segment, keys as Earth Engine writes them.

    Examples
    --------
    >>> s = Segments(np.array([0, 4, 4]), np.ones(4), np.array([[3.0, 1.0, 3.0, 2.0]]))  # 3 1 3 2 | (empty)
    >>> frequency_histogram(s, ()).tolist()
    [{'1': 1, '2': 1, '3': 2}, None]
    """
    return _run_dicts(seg, lambda rsid, rw, rn: rw)


def frac(seg: Segments, params: tuple) -> np.ndarray:
    """``{value: share of the segment's weight}`` per segment.

    Examples
    --------
    >>> s = Segments(np.array([0, 4, 4]), np.ones(4), np.array([[3.0, 1.0, 3.0, 2.0]]))  # 3 1 3 2 | (empty)
    >>> frac(s, ()).tolist()
    [{'1': 0.25, '2': 0.25, '3': 0.5}, None]
    """
    total = np.bincount(seg.seg_ids, weights=seg.weight, minlength=seg.n_seg)
    return _run_dicts(seg, lambda rsid, rw, rn: rw / total[rsid])


# -- histograms ---------------------------------------------------------------------------------------


def _pow2_at_least(n: float) -> int:
    return 1 << max(0, math.ceil(math.log2(max(n, 1))))


def bucket_rule(lo: float, hi: float, max_buckets: int | None, min_width: float | None) -> tuple[float, float, int]:
    """``(bucketMin, bucketWidth, n)`` for values in ``[lo, hi]``, as reducer buckets histograms.

    ``maxBuckets`` (default 256) is rounded up to a power of 2; the width is the smallest power of 2
    (any integer exponent) that is at least ``minBucketWidth`` and fits ``[lo, hi]`` in that many
    buckets; ``bucketMin`` is ``lo`` rounded down to a multiple of the width. The last bucket holds
    ``hi``. A single value gets one bucket of width ``minBucketWidth`` or 1.

    Examples
    --------
    >>> bucket_rule(1.0, 9.0, 4, None)
    (0.0, 4.0, 3)
    >>> bucket_rule(1.0, 9.0, None, None)
    (1.0, 0.0625, 129)
    """
    max_b = _pow2_at_least(max_buckets if max_buckets else 256)
    if hi <= lo:
        width = float(min_width) if min_width else 1.0
        return math.floor(lo / width) * width, width, 1
    width = 2.0 ** math.ceil(math.log2((hi - lo) / max_b))
    while True:
        bmin = math.floor(lo / width) * width
        if math.floor((hi - bmin) / width) < max_b or width > hi - lo:
            break
        width *= 2
    if min_width and width < min_width:
        width = float(min_width)
        bmin = math.floor(lo / width) * width
    n = int(math.floor((hi - bmin) / width)) + 1
    return bmin, width, n


def _per_segment(seg: Segments, fn: Callable[[np.ndarray, np.ndarray], Any]) -> np.ndarray:
    out = _objects(seg.n_seg)
    for k in np.flatnonzero(seg.counts > 0):
        a, b = seg.offsets[k], seg.offsets[k + 1]
        out[k] = fn(seg.values[:, a:b], seg.weight[a:b])
    return out


def _bucket_counts(x: np.ndarray, w: np.ndarray, bmin: float, width: float, n: int) -> tuple[np.ndarray, np.ndarray]:
    idx = np.clip(np.floor((x - bmin) / width).astype("i8"), 0, n - 1)
    return np.bincount(idx, weights=w, minlength=n), np.bincount(idx, weights=w * x, minlength=n)


def histogram(seg: Segments, params: tuple) -> np.ndarray:
    """Earth Engine's histogram dictionary per segment; ``params`` are ``(maxBuckets, minBucketWidth, maxRaw)``.

    Buckets follow :func:`bucket_rule`.

    Examples
    --------
    >>> s = Segments(np.array([0, 4, 4]), np.ones(4), np.array([[3.0, 1.0, 3.0, 2.0]]))  # 3 1 3 2 | (empty)
    >>> histogram(s, (4, None, None)).tolist()[0]
    {'bucketMeans': [1.0, 2.0, 3.0], 'bucketMin': 1, 'bucketWidth': 1, 'histogram': [1, 1, 2]}
    """
    max_buckets, min_width, _ = params

    def one(v: np.ndarray, w: np.ndarray) -> dict:
        x = v[0]
        bmin, width, n = bucket_rule(float(x.min()), float(x.max()), max_buckets, min_width)
        counts, sums = _bucket_counts(x, w, bmin, width, n)
        centres = bmin + (np.arange(n) + 0.5) * width
        with np.errstate(invalid="ignore", divide="ignore"):
            means = np.where(counts > 0, sums / np.where(counts > 0, counts, 1), centres)
        return {
            "bucketMeans": [float(m) for m in means],
            "bucketMin": to_number(bmin),
            "bucketWidth": to_number(width),
            "histogram": [to_number(c) for c in counts],
        }

    return _per_segment(seg, one)


def _cumulate(counts: np.ndarray, cumulative: bool) -> np.ndarray:
    return np.cumsum(counts) if cumulative else counts


def auto_histogram(seg: Segments, params: tuple) -> np.ndarray:
    """``[[bucket lower edge, count], ...]`` per segment; ``params`` end with ``cumulative``.

    Examples
    --------
    >>> s = Segments(np.array([0, 4, 4]), np.ones(4), np.array([[3.0, 1.0, 3.0, 2.0]]))  # 3 1 3 2 | (empty)
    >>> auto_histogram(s, (4, None, None, False)).tolist()
    [[[1, 1], [2, 1], [3, 2]], None]
    """
    max_buckets, min_width, _, cumulative = params

    def one(v: np.ndarray, w: np.ndarray) -> list:
        x = v[0]
        bmin, width, n = bucket_rule(float(x.min()), float(x.max()), max_buckets, min_width)
        counts = _cumulate(_bucket_counts(x, w, bmin, width, n)[0], cumulative)
        return [[to_number(bmin + i * width), to_number(c)] for i, c in enumerate(counts)]

    return _per_segment(seg, one)


def fixed_histogram(seg: Segments, params: tuple) -> np.ndarray:
    """``[[lower edge, count], ...]`` over ``params = (min, max, steps, cumulative)``; values outside are left out.

    Examples
    --------
    >>> s = Segments(np.array([0, 4, 4]), np.ones(4), np.array([[3.0, 1.0, 3.0, 2.0]]))  # 3 1 3 2 | (empty)
    >>> fixed_histogram(s, (0.0, 4.0, 2, False)).tolist()
    [[[0, 1], [2, 3]], None]
    """
    lo, hi, steps, cumulative = float(params[0]), float(params[1]), int(params[2]), bool(params[3])
    width = (hi - lo) / steps
    edges = lo + np.arange(steps) * width

    def one(v: np.ndarray, w: np.ndarray) -> list:
        x = v[0]
        inside = (x >= lo) & (x < hi)
        idx = np.clip(np.floor((x[inside] - lo) / width).astype("i8"), 0, steps - 1)
        counts = _cumulate(np.bincount(idx, weights=w[inside], minlength=steps), cumulative)
        return [[to_number(e), to_number(c)] for e, c in zip(edges, counts, strict=True)]

    return _per_segment(seg, one)


# -- order: first, last, lists ------------------------------------------------------------------------


def first(seg: Segments, params: tuple) -> np.ndarray:
    """The first entry of each segment (its label for label rows).

    Examples
    --------
    >>> s = Segments(np.array([0, 4, 4]), np.ones(4), np.array([[3.0, 1.0, 3.0, 2.0]]))  # 3 1 3 2 | (empty)
    >>> first(s, ()).tolist()
    [3.0, nan]
    """
    out = _objects(seg.n_seg) if seg.labels[0] is not None else _nan(seg.n_seg)
    ne = seg.counts > 0
    vals = seg.values[0][seg.offsets[:-1][ne]]
    out[ne] = [seg.label(0, v) for v in vals] if seg.labels[0] is not None else vals
    return out


def last(seg: Segments, params: tuple) -> np.ndarray:
    """The last entry of each segment (its label for label rows).

    Examples
    --------
    >>> s = Segments(np.array([0, 4, 4]), np.ones(4), np.array([[3.0, 1.0, 3.0, 2.0]]))  # 3 1 3 2 | (empty)
    >>> last(s, ()).tolist()
    [2.0, nan]
    """
    out = _objects(seg.n_seg) if seg.labels[0] is not None else _nan(seg.n_seg)
    ne = seg.counts > 0
    vals = seg.values[0][seg.offsets[1:][ne] - 1]
    out[ne] = [seg.label(0, v) for v in vals] if seg.labels[0] is not None else vals
    return out


def to_list(seg: Segments, params: tuple) -> np.ndarray:
    """The entries of each segment as a list; ``params = (tupleSize, numOptional)``.

    With a ``tupleSize`` each item is a list of the rows' values; the last ``numOptional`` rows may
    be null (None).

    Examples
    --------
    >>> s = Segments(np.array([0, 4, 4]), np.ones(4), np.array([[3.0, 1.0, 3.0, 2.0]]))  # 3 1 3 2 | (empty)
    >>> to_list(s, (None, 0)).tolist()
    [[3, 1, 3, 2], None]
    """
    tuple_size, num_optional = params
    n_rows = seg.values.shape[0]
    required = n_rows - int(num_optional or 0)
    keep = ~np.isnan(seg.values[:required]).any(axis=0) if required > 0 else np.ones(seg.n, bool)
    s = seg.take(keep) if not keep.all() else seg
    out = _objects(seg.n_seg)
    for k in np.flatnonzero(s.counts > 0):
        a, b = s.offsets[k], s.offsets[k + 1]
        cols = [[s.label(r, v) for v in s.values[r, a:b]] for r in range(n_rows)]
        out[k] = cols[0] if tuple_size is None else [list(t) for t in zip(*cols, strict=True)]
    return out


# -- two inputs: fits and correlations -----------------------------------------------------------------


def _moments2(seg: Segments) -> dict[str, np.ndarray]:
    """Weighted means and central second moments of rows 0 (x) and 1 (y) per segment."""

    def run() -> dict[str, np.ndarray]:
        sid, w, n_seg = seg.seg_ids, seg.weight, seg.n_seg
        x, y = seg.values[0], seg.values[1]
        W = np.bincount(sid, weights=w, minlength=n_seg)
        safe = np.where(W > 0, W, 1)
        mx = np.bincount(sid, weights=w * x, minlength=n_seg) / safe
        my = np.bincount(sid, weights=w * y, minlength=n_seg) / safe
        dx, dy = x - mx[sid], y - my[sid]
        return {
            "W": W,
            "n": seg.counts.astype("f8"),
            "mx": mx,
            "my": my,
            "sxx": np.bincount(sid, weights=w * dx * dx, minlength=n_seg),
            "syy": np.bincount(sid, weights=w * dy * dy, minlength=n_seg),
            "sxy": np.bincount(sid, weights=w * dx * dy, minlength=n_seg),
        }

    return seg.memo("moments2", run)


def linear_fit_scale(seg: Segments, params: tuple) -> np.ndarray:
    """The (weighted) least-squares slope of row 1 (y) on row 0 (x) per segment.

    Examples
    --------
    >>> xy = Segments(np.array([0, 4]), np.ones(4), np.array([[0.0, 1, 2, 3], [1.0, 3, 5, 8]]))  # (x, y) pairs
    >>> linear_fit_scale(xy, ()).tolist(), np.polyfit([0, 1, 2, 3], [1, 3, 5, 8], 1).round(6).tolist()
    ([2.3], [2.3, 0.8])
    """
    m = _moments2(seg)
    ok = (m["W"] > 0) & (m["sxx"] > 0)
    return np.where(ok, m["sxy"] / np.where(ok, m["sxx"], 1), np.nan)


def linear_fit_offset(seg: Segments, params: tuple) -> np.ndarray:
    """The (weighted) least-squares intercept of row 1 (y) on row 0 (x) per segment.

    Examples
    --------
    >>> xy = Segments(np.array([0, 4]), np.ones(4), np.array([[0.0, 1, 2, 3], [1.0, 3, 5, 8]]))  # (x, y) pairs
    >>> linear_fit_offset(xy, ()).tolist()
    [0.8000000000000003]
    """
    return _moments2(seg)["my"] - linear_fit_scale(seg, params) * _moments2(seg)["mx"]


def _pearson(seg: Segments) -> tuple[np.ndarray, np.ndarray]:
    def run() -> tuple[np.ndarray, np.ndarray]:
        from scipy import stats

        m = _moments2(seg)
        den = np.sqrt(m["sxx"] * m["syy"])
        ok = (m["n"] >= 2) & (den > 0)
        r = np.where(ok, m["sxy"] / np.where(ok, den, 1), np.nan)
        r = np.clip(r, -1.0, 1.0)
        n = m["n"]
        p = _nan(seg.n_seg)
        big = ok & (n > 2)
        with np.errstate(divide="ignore", invalid="ignore"):
            t = r[big] * np.sqrt((n[big] - 2) / np.maximum(1 - r[big] ** 2, 0.0))
        p[big] = 2 * stats.t.sf(np.abs(t), n[big] - 2)
        p[ok & (n == 2)] = 1.0
        return r, p

    return seg.memo("pearson", run)


def pearson_correlation(seg: Segments, params: tuple) -> np.ndarray:
    """Pearson's (weighted) correlation of rows 0 and 1 per segment.

    Examples
    --------
    >>> xy = Segments(np.array([0, 4]), np.ones(4), np.array([[0.0, 1, 2, 3], [1.0, 3, 5, 8]]))  # (x, y) pairs
    >>> from scipy.stats import pearsonr
    >>> round(float(pearson_correlation(xy, ())[0]), 12), round(float(pearsonr([0, 1, 2, 3], [1, 3, 5, 8])[0]), 12)
    (0.994376712684, 0.994376712684)
    """
    return _pearson(seg)[0]


def pearson_p_value(seg: Segments, params: tuple) -> np.ndarray:
    """The two-sided p-value of Pearson's correlation (Student's t with n - 2 degrees of freedom).

    Examples
    --------
    >>> xy = Segments(np.array([0, 4]), np.ones(4), np.array([[0.0, 1, 2, 3], [1.0, 3, 5, 8]]))  # (x, y) pairs
    >>> from scipy.stats import pearsonr
    >>> round(float(pearson_p_value(xy, ())[0]), 12), round(float(pearsonr([0, 1, 2, 3], [1, 3, 5, 8])[1]), 12)
    (0.005623287316, 0.005623287316)
    """
    return _pearson(seg)[1]


def _ranks(seg: Segments, row: int) -> np.ndarray:
    """Average ranks (1-based) of ``row`` within each segment, in entry order."""

    def run() -> np.ndarray:
        order, x, _, sid = seg.sorted_view(row)
        pos = np.arange(len(x)) - seg.offsets[:-1][sid]
        new = np.ones(len(x), bool)
        new[1:] = (sid[1:] != sid[:-1]) | (x[1:] != x[:-1])
        rid = np.cumsum(new) - 1
        avg = np.bincount(rid, weights=pos) / np.bincount(rid)
        ranks = np.empty(len(x))
        ranks[order] = avg[rid] + 1
        return ranks

    return seg.memo(("ranks", row), run)


def spearman_correlation(seg: Segments, params: tuple) -> np.ndarray:
    """Spearman's rank correlation of rows 0 and 1 (average ranks for ties).

    Examples
    --------
    >>> xy = Segments(np.array([0, 4]), np.ones(4), np.array([[0.0, 1, 2, 3], [1.0, 3, 5, 8]]))  # (x, y) pairs
    >>> spearman_correlation(xy, ()).tolist()
    [1.0]
    """
    ranked = Segments(seg.offsets, np.ones(seg.n), np.vstack([_ranks(seg, 0), _ranks(seg, 1)]))
    return _pearson(ranked)[0]


def _pairs(offsets: np.ndarray, max_pairs: int = 4_000_000) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Batches of all pairs ``i < j`` within each segment: ``(i, j, segment)`` index arrays."""
    counts = np.diff(offsets)
    n_pairs = counts * (counts - 1) // 2
    k = 0
    n_seg = len(counts)
    while k < n_seg:
        total = np.cumsum(n_pairs[k:])
        stop = k + max(1, int(np.searchsorted(total, max_pairs, side="right")))
        segs = np.arange(k, stop)
        c = counts[segs]
        entries = np.arange(offsets[k], offsets[stop])
        if len(entries) == 0:
            k = stop
            continue
        eseg = np.repeat(segs, c)
        epos = entries - offsets[eseg]
        reps = counts[eseg] - 1 - epos
        i = np.repeat(entries, reps)
        grp = np.repeat(np.cumsum(reps) - reps, reps)
        j = i + 1 + (np.arange(len(i)) - grp)
        yield i, j, np.repeat(eseg, reps)
        k = stop


def _sens(seg: Segments) -> tuple[np.ndarray, np.ndarray]:
    def run() -> tuple[np.ndarray, np.ndarray]:
        x, y = seg.values[0], seg.values[1]
        slopes, sids = [], []
        for i, j, s in _pairs(seg.offsets):
            dx = x[j] - x[i]
            ok = dx != 0
            slopes.append((y[j] - y[i])[ok] / dx[ok])
            sids.append(s[ok])
        slope = np.concatenate(slopes) if slopes else np.empty(0)
        sid = np.concatenate(sids) if sids else np.empty(0, "i8")
        order = np.argsort(sid, kind="stable")
        ps = Segments.from_ids(sid[order], seg.n_seg, np.ones(len(sid)), slope[order])
        m = weighted_quantile(ps, 0.5)
        unit = Segments(seg.offsets, np.ones(seg.n), seg.values[:2])
        offset = weighted_quantile(unit, 0.5, row=1) - m * weighted_quantile(unit, 0.5, row=0)
        return m, offset

    return seg.memo("sens", run)


def sens_slope(seg: Segments, params: tuple) -> np.ndarray:
    """Sen's slope of row 1 (y) on row 0 (x): the median of the pairwise slopes (weights ignored).

    Examples
    --------
    >>> xy = Segments(np.array([0, 4]), np.ones(4), np.array([[0.0, 1, 2, 3], [1.0, 3, 5, 8]]))  # (x, y) pairs
    >>> from scipy.stats import theilslopes
    >>> sens_slope(xy, ()).tolist(), float(theilslopes([1, 3, 5, 8], [0, 1, 2, 3]).slope)
    ([2.166666666666667], 2.166666666666667)
    """
    return _sens(seg)[0]


def sens_offset(seg: Segments, params: tuple) -> np.ndarray:
    """``median(y) - slope * median(x)`` with Sen's slope (scipy's ``theilslopes`` intercept).

    Examples
    --------
    >>> xy = Segments(np.array([0, 4]), np.ones(4), np.array([[0.0, 1, 2, 3], [1.0, 3, 5, 8]]))  # (x, y) pairs
    >>> sens_offset(xy, ()).tolist()
    [0.7499999999999996]
    """
    return _sens(seg)[1]


def _tie_sums(seg: Segments, row: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per segment: sum t(t-1)/2, sum t(t-1)(t-2), sum t(t-1)(2t+5) over groups of t tied values."""
    rsid, _, _, rn = seg.runs(row)
    t = rn.astype("f8")
    n = seg.n_seg
    return (
        np.bincount(rsid, weights=t * (t - 1) / 2, minlength=n),
        np.bincount(rsid, weights=t * (t - 1) * (t - 2), minlength=n),
        np.bincount(rsid, weights=t * (t - 1) * (2 * t + 5), minlength=n),
    )


def _kendall(seg: Segments) -> tuple[np.ndarray, np.ndarray]:
    def run() -> tuple[np.ndarray, np.ndarray]:
        from scipy import stats

        x, y = seg.values[0], seg.values[1]
        s = np.zeros(seg.n_seg)
        for i, j, k in _pairs(seg.offsets):
            s += np.bincount(k, weights=np.sign(x[j] - x[i]) * np.sign(y[j] - y[i]), minlength=seg.n_seg)
        n = seg.counts.astype("f8")
        tot = n * (n - 1) / 2
        xtie, x0, x1 = _tie_sums(seg, 0)
        ytie, y0, y1 = _tie_sums(seg, 1)
        ok = (n >= 2) & (xtie < tot) & (ytie < tot)
        with np.errstate(invalid="ignore", divide="ignore"):
            tau = np.clip(s / np.sqrt(tot - xtie) / np.sqrt(tot - ytie), -1, 1)
            m = n * (n - 1)
            var = (
                (m * (2 * n + 5) - x1 - y1) / 18 + 2 * xtie * ytie / m + np.where(n > 2, x0 * y0 / (9 * m * (n - 2)), 0)
            )
            z = s / np.sqrt(var)
        p = 2 * stats.norm.sf(np.abs(z))
        return np.where(ok, tau, np.nan), np.where(ok, p, np.nan)

    return seg.memo("kendall", run)


def _with_sequence(seg: Segments, params: tuple) -> Segments:
    if int(params[0] if params else 1) != 1:
        return seg
    pos = (np.arange(seg.n) - seg.offsets[:-1][seg.seg_ids]).astype("f8")
    return seg.memo("sequence", lambda: Segments(seg.offsets, seg.weight, np.vstack([pos, seg.values[0]])))


def kendall_tau(seg: Segments, params: tuple) -> np.ndarray:
    """Kendall's tau-b of rows 0 and 1, or of the sequence number and row 0 when ``params[0]`` is 1.

    Examples
    --------
    >>> xy = Segments(np.array([0, 4]), np.ones(4), np.array([[0.0, 1, 2, 3], [1.0, 3, 5, 8]]))  # (x, y) pairs
    >>> kendall_tau(xy, (2,)).tolist(), kendall_tau(xy, (1,)).tolist()
    ([1.0], [1.0])
    """
    return _kendall(_with_sequence(seg, params))[0]


def kendall_p_value(seg: Segments, params: tuple) -> np.ndarray:
    """The two-sided p-value of Kendall's tau (normal approximation with ties).

    Examples
    --------
    >>> xy = Segments(np.array([0, 4]), np.ones(4), np.array([[0.0, 1, 2, 3], [1.0, 3, 5, 8]]))  # (x, y) pairs
    >>> from scipy.stats import kendalltau
    >>> kendall_p_value(xy, (2,)).tolist(), float(kendalltau([0, 1, 2, 3], [1, 3, 5, 8], method="asymptotic")[1])
    ([0.04154006700988516], 0.04154006700988516)
    """
    return _kendall(_with_sequence(seg, params))[1]


def _regression(seg: Segments, params: tuple) -> tuple[np.ndarray, np.ndarray]:
    num_x, num_y = int(params[0]), int(params[1])

    def run() -> tuple[np.ndarray, np.ndarray]:
        coef, resid = _objects(seg.n_seg), _objects(seg.n_seg)
        for k in np.flatnonzero(seg.counts > num_x):
            a, b = seg.offsets[k], seg.offsets[k + 1]
            X, Y = seg.values[:num_x, a:b].T, seg.values[num_x : num_x + num_y, a:b].T
            sw = np.sqrt(seg.weight[a:b])[:, None]
            beta, _, rank, _ = np.linalg.lstsq(X * sw, Y * sw, rcond=None)
            if rank < num_x:
                continue
            r = Y - X @ beta
            rms = np.sqrt((seg.weight[a:b][:, None] * r * r).sum(axis=0) / seg.weight[a:b].sum())
            coef[k] = [[float(v) for v in row] for row in beta]
            resid[k] = [float(v) for v in rms]
        return coef, resid

    return seg.memo(("regression", num_x, num_y), run)


def regression_coefficients(seg: Segments, params: tuple) -> np.ndarray:
    """The ``numX`` × ``numY`` least-squares coefficients (no constant term); ``params = (numX, numY)``.

    Examples
    --------
    >>> xy = Segments(np.array([0, 4]), np.ones(4), np.array([[0.0, 1, 2, 3], [1.0, 3, 5, 8]]))  # (x, y) pairs
    >>> regression_coefficients(xy, (1, 1)).tolist(), 37 / 14
    ([[[2.642857142857143]]], 2.642857142857143)
    """
    return _regression(seg, params)[0]


def regression_residuals(seg: Segments, params: tuple) -> np.ndarray:
    """The root mean square residual of each dependent row; ``params = (numX, numY)``.

    Examples
    --------
    >>> xy = Segments(np.array([0, 4]), np.ones(4), np.array([[0.0, 1, 2, 3], [1.0, 3, 5, 8]]))  # (x, y) pairs
    >>> regression_residuals(xy, (1, 1)).tolist()
    [[0.5509731650193397]]
    """
    return _regression(seg, params)[1]


def count_every(seg: Segments, params: tuple) -> np.ndarray:
    """The number of entries of each segment, nulls included (``countEvery`` in ``reduceColumns``).

    Examples
    --------
    >>> s = Segments(np.array([0, 4, 4]), np.ones(4), np.array([[3.0, 1.0, 3.0, 2.0]]))  # 3 1 3 2 | (empty)
    >>> count_every(s, ()).tolist()
    [4.0, 0.0]
    """
    return seg.counts.astype("f8")


# -- decomposable statistics on segments -----------------------------------------------------------------


def dense_from_segments(seg: Segments, kinds: Sequence[str]) -> dict[str, np.ndarray]:
    """Decomposable intermediates ``{kind: (n_seg, n_rows)}`` of each segment, via the block kernels."""
    kinds = [k for k in kinds if k != "vals"]
    n_rows = seg.values.shape[0]
    ne = np.flatnonzero(seg.counts > 0)
    if len(ne) == 0:
        part = (np.empty(0, "i8"), {k: np.empty((0, n_rows)) for k in kinds})
    else:
        # drop empty segments: the kernels need each segment non-empty
        part = chunk_stats(seg.values, np.arange(seg.n), seg.weight, seg.offsets[:-1][ne], ne, kinds, order=None)
    return scatter(part, seg.n_seg, n_rows, kinds)
