"""Plain numpy kernels on (values, weights, feature segments). No dask, no xarray.

Per block, coverage entries are sorted by feature, so each feature's pixels are one
contiguous segment ``starts[k]:starts[k+1]``; reductions are ``ufunc.reduceat`` over segments.
A partial is ``(fids, {kind: array (n_fids, n_bands)})`` for the features present in a block.

Pixels over time come as a dense stack instead: ``(n_images, n_bands, n_pixels)``, NaN where an
image is masked, every entry with weight 1. :func:`stack_stats` gives the same intermediates along
the first axis, and :func:`stack_quantile` and :func:`stack_mode` are the unit-weight quantile and
mode of :mod:`reducer.stats.segments` on that layout: the same definitions, computed without
gathering the entries into segments (the evaluator uses them where they apply, for speed).

Intermediate kinds (x_i value, c_i weight of a valid pixel; exactextract's notation):

- ``w``: sum of c_i
- ``w2``: sum of c_i², for the sample variance with reliability weights
- ``wx``: sum of c_i x_i
- ``m2``, ``m3``, ``m4``: sums of c_i (x_i - mean)^k, merged exactly (Chan et al.; Pébay)
- ``min`` / ``max``: extremes of the valid x_i
- ``prod``: product of the valid x_i (weights ignored)
- ``anynz`` / ``allnz``: whether any / all valid x_i are non-zero (1 or 0)
- ``vals``: the gathered entries themselves, for statistics that cannot be decomposed (median,
  percentiles, histograms, regressions): a :class:`Gathered` of (feature, pixel, weight, values of
  every band), sorted by (feature, pixel). It is not a per-feature array.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import NamedTuple

import numpy as np

__all__ = [
    "KINDS",
    "Gathered",
    "chunk_stats",
    "combine_partials",
    "empty_partial",
    "scatter",
    "stack_stats",
    "stack_quantile",
    "stack_mode",
]

KINDS = ("w", "w2", "wx", "m2", "m3", "m4", "min", "max", "prod", "anynz", "allnz", "vals")
_FILL = {
    "w": 0.0,
    "w2": 0.0,
    "wx": 0.0,
    "m2": 0.0,
    "m3": 0.0,
    "m4": 0.0,
    "min": np.inf,
    "max": -np.inf,
    "prod": 1.0,
    "anynz": 0.0,
    "allnz": 1.0,
}
_MOMENTS = ("m2", "m3", "m4")


class Gathered(NamedTuple):
    """Entries of valid pixels, sorted by (feature, pixel): the ``vals`` intermediate.

    ``fid`` (n,) feature of each entry, ``pixel`` (n,) a grid-wide pixel order key, ``weight`` (n,)
    and ``values`` (n_bands, n), NaN where a band is masked (an entry has at least one valid band).
    """

    fid: np.ndarray
    pixel: np.ndarray
    weight: np.ndarray
    values: np.ndarray

    @staticmethod
    def empty(n_bands: int) -> Gathered:
        """No entry."""
        return Gathered(np.empty(0, "i8"), np.empty(0, "i8"), np.empty(0), np.empty((n_bands, 0)))

    @staticmethod
    def concat(parts: Sequence[Gathered]) -> Gathered:
        """Concatenate and sort by (feature, pixel) (stable)."""
        nonempty = [p for p in parts if len(p.fid)]
        if not nonempty:
            return parts[0] if parts else Gathered.empty(0)
        parts = nonempty
        if len(parts) == 1:
            return parts[0]
        fid = np.concatenate([p.fid for p in parts])
        pixel = np.concatenate([p.pixel for p in parts])
        order = np.lexsort((pixel, fid))
        return Gathered(
            fid[order],
            pixel[order],
            np.concatenate([p.weight for p in parts])[order],
            np.concatenate([p.values for p in parts], axis=1)[:, order],
        )


Partial = tuple[np.ndarray, dict[str, np.ndarray]]


def empty_partial(kinds: Iterable[str], n_bands: int) -> Partial:
    """A partial with no feature."""
    return np.empty(0, "i8"), {k: (Gathered.empty(n_bands) if k == "vals" else np.empty((0, n_bands))) for k in kinds}


def chunk_stats(
    values: np.ndarray,
    pixel: np.ndarray,
    weight: np.ndarray,
    starts: np.ndarray,
    fids: np.ndarray,
    kinds: Sequence[str],
    order: np.ndarray | None = None,
) -> Partial:
    """Per-feature intermediates for one block.

    Parameters
    ----------
    values
        ``(n_bands, n_pixels)`` block values, NaN where masked.
    pixel, weight
        Coverage entries in the block, sorted by feature: flat pixel index and weight.
    starts, fids
        Segment starts into ``pixel`` and the feature id of each segment (every segment non-empty).
    kinds
        Which intermediates to compute.
    order
        For ``vals``: a grid-wide order key of each entry (defaults to ``pixel``), so that entries
        gathered from several blocks sort the same whatever the blocks.

    Examples
    --------
    >>> v = np.array([[1.0, 2.0, np.nan, 4.0]])
    >>> fids, out = chunk_stats(v, np.array([0, 1, 2, 3]), np.array([0.5, 1, 1, 1]),
    ...                         np.array([0, 2]), np.array([7, 9]), ["w", "wx", "min"])
    >>> fids.tolist(), out["w"].ravel().tolist(), out["wx"].ravel().tolist(), out["min"].ravel().tolist()
    ([7, 9], [1.5, 1.0], [2.5, 4.0], [1.0, 4.0])
    """
    if len(pixel) == 0:
        return empty_partial(kinds, values.shape[0])
    raw = np.take(values, pixel, axis=1)  # in the block's own float dtype (take: 2-3x faster than [:, pixel])
    if raw.dtype.kind != "f":
        raw = raw.astype("f8")
    weight = np.asarray(weight)
    valid = ~np.isnan(raw)
    # most blocks have no masked pixel among the entries: then skip the masking copies
    all_valid = bool(valid.all())
    out: dict[str, np.ndarray] = {}
    counts = np.diff(np.append(starts, len(pixel)))
    simple = not (set(_MOMENTS) | {"prod", "anynz", "allnz", "vals"}) & set(kinds)
    if simple:
        # sums in float64 straight from the gathered values and the weights as stored, equal bit for bit
        # to the general path below without its float64 copies: a masked entry weighs 0, adds 0 and is
        # +-inf for the extremes
        unit = weight.strides[0] == 0 and len(weight) > 0 and weight[0] == 1  # centre-in: all 1
        if all_valid:  # most blocks: no masked pixel among the entries
            n_bands = raw.shape[0]
            if {"w", "w2"} & set(kinds):
                wsum = counts.astype("f8") if unit else np.add.reduceat(weight, starts, dtype="f8")
                if "w" in kinds:
                    out["w"] = np.repeat(wsum[:, None], n_bands, axis=1)
                if "w2" in kinds:
                    w2 = wsum if unit else np.add.reduceat(np.square(weight, dtype="f8"), starts)
                    out["w2"] = np.repeat(w2[:, None], n_bands, axis=1)
            if "wx" in kinds:
                wx = raw if unit else np.multiply(raw, weight, dtype="f8")
                out["wx"] = np.add.reduceat(wx, starts, axis=1, dtype="f8").T
            lo, hi = raw, raw
        else:
            wv = np.where(valid, weight, weight.dtype.type(0))
            if "w" in kinds:
                out["w"] = np.add.reduceat(wv, starts, axis=1, dtype="f8").T
            if "w2" in kinds:
                out["w2"] = np.add.reduceat(np.square(wv, dtype="f8"), starts, axis=1).T
            if "wx" in kinds:
                x0 = np.where(valid, raw, raw.dtype.type(0))
                out["wx"] = np.add.reduceat(np.multiply(x0, wv, dtype="f8"), starts, axis=1).T
            lo = np.where(valid, raw, raw.dtype.type(np.inf)) if "min" in kinds else raw
            hi = np.where(valid, raw, raw.dtype.type(-np.inf)) if "max" in kinds else raw
        if "min" in kinds:
            out["min"] = np.minimum.reduceat(lo, starts, axis=1).T.astype("f8")
        if "max" in kinds:
            out["max"] = np.maximum.reduceat(hi, starts, axis=1).T.astype("f8")
        return fids, {k: out[k] for k in kinds}
    v = raw.astype("f8", copy=False)
    weight = np.asarray(weight, "f8")  # weights may be stored as float32: sum them in float64
    if {"w", "w2", "wx", *_MOMENTS} & set(kinds):
        w = np.broadcast_to(np.asarray(weight, "f8"), v.shape) if all_valid else np.where(valid, weight, 0.0)
        wsum = np.add.reduceat(w, starts, axis=1)
        out["w"] = wsum.T
        if "w2" in kinds:
            out["w2"] = np.add.reduceat(w * w, starts, axis=1).T
        if "wx" in kinds or set(_MOMENTS) & set(kinds):
            x0 = v if all_valid else np.where(valid, v, 0.0)
            wx = np.add.reduceat(w * x0, starts, axis=1)
            out["wx"] = wx.T
            if set(_MOMENTS) & set(kinds):
                with np.errstate(invalid="ignore", divide="ignore"):
                    mean = np.where(wsum > 0, wx / wsum, 0.0)
                dev = np.where(valid, x0 - np.repeat(mean, counts, axis=1), 0.0)
                wdev = w * dev
                for p, k in enumerate(_MOMENTS, start=2):
                    if k in kinds:
                        out[k] = np.add.reduceat(wdev * dev ** (p - 1), starts, axis=1).T
    if "min" in kinds:
        out["min"] = np.minimum.reduceat(v if all_valid else np.where(valid, v, np.inf), starts, axis=1).T
    if "max" in kinds:
        out["max"] = np.maximum.reduceat(v if all_valid else np.where(valid, v, -np.inf), starts, axis=1).T
    if "prod" in kinds:
        out["prod"] = np.multiply.reduceat(np.where(valid, v, 1.0), starts, axis=1).T
    if "anynz" in kinds:
        out["anynz"] = np.maximum.reduceat(valid & (v != 0), starts, axis=1).T.astype("f8")
    if "allnz" in kinds:
        out["allnz"] = np.minimum.reduceat(~valid | (v != 0), starts, axis=1).T.astype("f8")
    if "vals" in kinds:
        keep = valid.any(axis=0)
        key = pixel if order is None else order
        out["vals"] = Gathered(
            np.repeat(fids, counts)[keep], np.asarray(key)[keep], np.asarray(weight, "f8")[keep], v[:, keep]
        )
    return fids, {k: out[k] for k in kinds}


def combine_partials(partials: Sequence[Partial]) -> Partial:
    """Merge partials: add sums, take extremes, merge moments exactly (Chan et al., Pébay).

    Examples
    --------
    Splitting [1, 2] | [3, 5] and merging gives the variance of all four values:

    >>> a = chunk_stats(np.array([[1.0, 2.0]]), np.arange(2), np.ones(2), np.array([0]), np.array([0]),
    ...                 ["w", "wx", "m2"])
    >>> b = chunk_stats(np.array([[3.0, 5.0]]), np.arange(2), np.ones(2), np.array([0]), np.array([0]),
    ...                 ["w", "wx", "m2"])
    >>> fids, out = combine_partials([a, b])
    >>> float(out["m2"][0, 0] / out["w"][0, 0]), float(np.var([1, 2, 3, 5]))
    (2.1875, 2.1875)
    """
    nonempty = [p for p in partials if len(p[0])]
    if len(nonempty) <= 1:
        return nonempty[0] if nonempty else partials[0]
    partials = nonempty
    fids = np.concatenate([p[0] for p in partials])
    kinds = list(partials[0][1])
    order = np.argsort(fids, kind="stable")
    fs = fids[order]
    first = np.ones(len(fs), bool)
    first[1:] = fs[1:] != fs[:-1]
    starts = np.flatnonzero(first)
    ufids = fs[starts]
    rows = [k for k in kinds if k != "vals"]
    cat = {k: np.concatenate([p[1][k] for p in partials])[order] for k in rows}
    out: dict[str, np.ndarray] = {}
    for k in rows:
        if k in ("w", "w2", "wx"):
            out[k] = np.add.reduceat(cat[k], starts, axis=0)
        elif k in ("min", "allnz"):
            out[k] = np.minimum.reduceat(cat[k], starts, axis=0)
        elif k in ("max", "anynz"):
            out[k] = np.maximum.reduceat(cat[k], starts, axis=0)
        elif k == "prod":
            out[k] = np.multiply.reduceat(cat[k], starts, axis=0)
    if set(_MOMENTS) & set(rows):
        # central moments about the merged mean: with d_i = mean_i - mean,
        # M2 = sum M2_i + w_i d_i^2; M3 = sum M3_i + 3 d_i M2_i + w_i d_i^3;
        # M4 = sum M4_i + 4 d_i M3_i + 6 d_i^2 M2_i + w_i d_i^4
        w, wx = cat["w"], cat["wx"]
        wtot = np.add.reduceat(w, starts, axis=0)
        wxtot = np.add.reduceat(wx, starts, axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean_i = np.where(w > 0, wx / np.where(w > 0, w, 1), 0.0)
            mean_t = np.where(wtot > 0, wxtot / np.where(wtot > 0, wtot, 1), 0.0)
        counts = np.diff(np.append(starts, len(fs)))
        d = np.where(w > 0, mean_i - np.repeat(mean_t, counts, axis=0), 0.0)
        m2 = cat["m2"]
        if "m2" in rows:
            out["m2"] = np.add.reduceat(m2 + w * d**2, starts, axis=0)
        if "m3" in rows:
            out["m3"] = np.add.reduceat(cat["m3"] + 3 * d * m2 + w * d**3, starts, axis=0)
        if "m4" in rows:
            m3 = cat["m3"] if "m3" in cat else 0.0
            out["m4"] = np.add.reduceat(cat["m4"] + 4 * d * m3 + 6 * d**2 * m2 + w * d**4, starts, axis=0)
    if "vals" in kinds:
        out["vals"] = Gathered.concat([p[1]["vals"] for p in partials])
    return ufids, {k: out[k] for k in kinds}


def scatter(partial: Partial, n_features: int, n_bands: int, kinds: Iterable[str]) -> dict[str, np.ndarray]:
    """Dense ``(n_features, n_bands)`` arrays from a partial, with each kind's identity elsewhere.

    ``vals`` is not scattered: it is passed through as gathered (empty when the partial lacks it).
    """
    fids, arrays = partial
    out: dict[str, np.ndarray] = {}
    for k in kinds:
        if k == "vals":
            out[k] = arrays.get("vals", Gathered.empty(n_bands))
            continue
        dense = np.full((n_features, n_bands), _FILL[k])
        if len(fids):
            dense[fids] = arrays[k]
        out[k] = dense
    return out


# -- dense stacks (pixels over time) -------------------------------------------------------------------


def stack_stats(values: np.ndarray, kinds: Sequence[str]) -> dict[str, np.ndarray]:
    """Intermediates of each column of a dense stack, every entry with weight 1.

    The same kinds as :func:`chunk_stats` (``vals`` aside), for segments that are the columns of
    ``values``: what :func:`scatter` of :func:`chunk_stats` gives on those segments, up to rounding.

    Parameters
    ----------
    values
        ``(n_entries, n_rows, n_seg)``, NaN where an entry is missing.
    kinds
        Which intermediates to compute (not ``vals``).

    Returns
    -------
    dict
        ``{kind: (n_seg, n_rows)}``, each kind's identity (0, +inf, 1, ...) where a column has no entry.

    Examples
    --------
    >>> v = np.array([[1.0, np.nan], [3.0, np.nan], [np.nan, np.nan]]).reshape(3, 1, 2)
    >>> out = stack_stats(v, ["w", "wx", "m2", "min"])
    >>> {k: a.ravel().tolist() for k, a in out.items()}
    {'w': [2.0, 0.0], 'wx': [4.0, 0.0], 'm2': [2.0, 0.0], 'min': [1.0, inf]}
    """
    v = np.asarray(values, dtype="f8")
    valid = ~np.isnan(v)
    all_valid = bool(valid.all())
    out: dict[str, np.ndarray] = {}
    kinds = list(kinds)
    need_sums = {"w", "w2", "wx", *_MOMENTS} & set(kinds)
    if need_sums:
        w = valid.sum(axis=0).astype("f8")
        out["w"] = out["w2"] = w  # w_i = 1: sum w_i^2 = sum w_i
        if "wx" in kinds or set(_MOMENTS) & set(kinds):
            x0 = v if all_valid else np.where(valid, v, 0.0)
            wx = x0.sum(axis=0)
            out["wx"] = wx
            if set(_MOMENTS) & set(kinds):
                with np.errstate(invalid="ignore", divide="ignore"):
                    mean = np.where(w > 0, wx / np.where(w > 0, w, 1.0), 0.0)
                dev = x0 - mean if all_valid else np.where(valid, x0 - mean, 0.0)
                for p, k in enumerate(_MOMENTS, start=2):
                    if k in kinds:
                        out[k] = (dev * dev ** (p - 1)).sum(axis=0)
    if "min" in kinds:
        out["min"] = (v if all_valid else np.where(valid, v, np.inf)).min(axis=0, initial=np.inf)
    if "max" in kinds:
        out["max"] = (v if all_valid else np.where(valid, v, -np.inf)).max(axis=0, initial=-np.inf)
    if "prod" in kinds:
        out["prod"] = np.where(valid, v, 1.0).prod(axis=0)
    if "anynz" in kinds:
        out["anynz"] = (valid & (v != 0)).any(axis=0).astype("f8")
    if "allnz" in kinds:
        out["allnz"] = (~valid | (v != 0)).all(axis=0).astype("f8")
    return {k: out[k].T for k in kinds}


def _sorted_columns(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each column sorted (NaN last) and its number of valid entries."""
    s = np.sort(np.asarray(values, dtype="f8"), axis=0)
    n = (~np.isnan(s)).sum(axis=0)
    return s, n


def stack_quantile(values: np.ndarray, q: float) -> np.ndarray:
    """The q-quantile of each column, entries of weight 1: numpy's linear percentile.

    This is :func:`reducer.stats.segments.weighted_quantile` with every weight 1 (``s_i = n i``,
    ``S_n = n (n - 1)``), written with the same arithmetic so that both give the same bits.

    Parameters
    ----------
    values
        ``(n_entries, n_seg)``, NaN where an entry is missing.
    q
        The quantile, between 0 and 1.

    Returns
    -------
    numpy.ndarray
        ``(n_seg,)``, NaN for a column without any entry.

    Examples
    --------
    >>> v = np.array([[4.0, 1.0, np.nan], [1.0, np.nan, np.nan], [3.0, np.nan, np.nan], [2.0, np.nan, np.nan]])
    >>> stack_quantile(v, 0.25).tolist(), float(np.percentile([4, 1, 3, 2], 25))
    ([1.75, 1.0, nan], 1.75)
    """
    s, n = _sorted_columns(values)
    out = np.full(s.shape[1:], np.nan)
    if s.shape[0] == 0:
        return out
    nf = n.astype("f8")
    target = q * (n - 1) * nf
    # cnt = #{i < n : n i <= target}, the entries at or below the target (at least 1 when n > 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        k = np.floor(target / np.where(n > 0, nf, 1.0))
    k = np.where(n > 0, k, 0.0)
    k = np.where(nf * k > target, k - 1, k)
    k = np.where(nf * (k + 1) <= target, k + 1, k)
    cnt = np.clip(k + 1, 0, n).astype("i8")
    ne = n > 0
    last = ne & (cnt >= n)
    mid = ne & ~last
    cols = np.arange(s.shape[1])
    out[last] = s[n[last] - 1, cols[last]]
    r = cnt[mid]
    left = r - 1
    x_left, x_right = s[left, cols[mid]], s[r, cols[mid]]
    s_left, s_right = (nf[mid] * left), (nf[mid] * r)
    with np.errstate(invalid="ignore"):
        interp = x_left + (target[mid] - s_left) * (x_right - x_left) / (s_right - s_left)
    out[mid] = np.where((target[mid] == s_left) | (x_right == x_left), x_left, interp)
    return out


def stack_mode(values: np.ndarray) -> np.ndarray:
    """The most frequent value of each column (entries of weight 1); ties go to the smallest value.

    :func:`reducer.stats.segments.majority` with every weight 1.

    Parameters
    ----------
    values
        ``(n_entries, n_seg)``, NaN where an entry is missing.

    Returns
    -------
    numpy.ndarray
        ``(n_seg,)``, NaN for a column without any entry.

    Examples
    --------
    >>> v = np.array([[2.0, 5.0, np.nan], [1.0, np.nan, np.nan], [2.0, 7.0, np.nan], [1.0, np.nan, np.nan]])
    >>> stack_mode(v).tolist()
    [1.0, 5.0, nan]
    """
    s, _ = _sorted_columns(values)
    if s.shape[0] == 0:
        return np.full(s.shape[1:], np.nan)
    best_val = s[0].copy()
    best_len = np.ones(s.shape[1:], dtype=np.int64)
    run = np.ones(s.shape[1:], dtype=np.int64)
    start = s[0].copy()
    for j in range(1, s.shape[0]):
        same = s[j] == s[j - 1]  # NaN (sorted last) never extends a run
        run = np.where(same, run + 1, 1)
        start = np.where(same, start, s[j])
        # a value wins when its run first grows longer than every earlier one: the smallest among ties
        better = run > best_len
        best_len = np.where(better, run, best_len)
        best_val = np.where(better, start, best_val)
    return best_val
