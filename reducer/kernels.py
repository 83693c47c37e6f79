"""Plain numpy kernels on (values, weights, feature segments). No dask, no xarray.

Per block, coverage entries are sorted by feature, so each feature's pixels are one
contiguous segment ``starts[k]:starts[k+1]``; reductions are ``ufunc.reduceat`` over segments.
A partial is ``(fids, {kind: array (n_fids, n_bands)})`` for the features present in a block.

Intermediate kinds (x_i value, c_i weight of a valid pixel; exactextract's notation):

- ``w``: sum of c_i
- ``wx``: sum of c_i x_i
- ``m2``: sum of c_i (x_i - mean)^2, merged with Chan et al.'s parallel formula
- ``min`` / ``max``: extremes of the valid x_i
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

__all__ = ["KINDS", "chunk_stats", "combine_partials", "empty_partial"]

KINDS = ("w", "wx", "m2", "min", "max")
_FILL = {"w": 0.0, "wx": 0.0, "m2": 0.0, "min": np.inf, "max": -np.inf}

Partial = tuple[np.ndarray, dict[str, np.ndarray]]


def empty_partial(kinds: Iterable[str], n_bands: int) -> Partial:
    """A partial with no feature."""
    return np.empty(0, "i8"), {k: np.empty((0, n_bands)) for k in kinds}


def chunk_stats(
    values: np.ndarray,
    pixel: np.ndarray,
    weight: np.ndarray,
    starts: np.ndarray,
    fids: np.ndarray,
    kinds: Sequence[str],
) -> Partial:
    """Per-feature intermediates for one block.

    Parameters
    ----------
    values
        ``(n_bands, n_pixels)`` block values, NaN where masked.
    pixel, weight
        Coverage entries in the block, sorted by feature: flat pixel index and weight.
    starts, fids
        Segment starts into ``pixel`` and the feature id of each segment.
    kinds
        Which intermediates to compute.

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
    v = values[:, pixel].astype("f8", copy=False)
    valid = ~np.isnan(v)
    out: dict[str, np.ndarray] = {}
    need_sums = {"w", "wx", "m2"} & set(kinds)
    if need_sums:
        w = np.where(valid, weight, 0.0)
        wsum = np.add.reduceat(w, starts, axis=1)
        out["w"] = wsum.T
        if "wx" in kinds or "m2" in kinds:
            x0 = np.where(valid, v, 0.0)
            wx = np.add.reduceat(w * x0, starts, axis=1)
            out["wx"] = wx.T
            if "m2" in kinds:
                with np.errstate(invalid="ignore", divide="ignore"):
                    mean = np.where(wsum > 0, wx / wsum, 0.0)
                counts = np.diff(np.append(starts, len(pixel)))
                dev = x0 - np.repeat(mean, counts, axis=1)
                out["m2"] = np.add.reduceat(w * dev * dev, starts, axis=1).T
    if "min" in kinds:
        out["min"] = np.minimum.reduceat(np.where(valid, v, np.inf), starts, axis=1).T
    if "max" in kinds:
        out["max"] = np.maximum.reduceat(np.where(valid, v, -np.inf), starts, axis=1).T
    return fids, {k: out[k] for k in kinds}


def combine_partials(partials: Sequence[Partial]) -> Partial:
    """Merge partials: add sums, take extremes, merge ``m2`` exactly (Chan et al.).

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
    cat = {k: np.concatenate([p[1][k] for p in partials])[order] for k in kinds}
    out: dict[str, np.ndarray] = {}
    for k in kinds:
        if k in ("w", "wx"):
            out[k] = np.add.reduceat(cat[k], starts, axis=0)
        elif k == "min":
            out[k] = np.minimum.reduceat(cat[k], starts, axis=0)
        elif k == "max":
            out[k] = np.maximum.reduceat(cat[k], starts, axis=0)
    if "m2" in kinds:
        w, wx = cat["w"], cat["wx"]
        wtot = np.add.reduceat(w, starts, axis=0)
        wxtot = np.add.reduceat(wx, starts, axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean_i = np.where(w > 0, wx / w, 0.0)
            mean_t = np.where(wtot > 0, wxtot / wtot, 0.0)
        counts = np.diff(np.append(starts, len(fs)))
        dev = mean_i - np.repeat(mean_t, counts, axis=0)
        out["m2"] = np.add.reduceat(cat["m2"] + w * dev * dev, starts, axis=0)
    return ufids, {k: out[k] for k in kinds}


def scatter(partial: Partial, n_features: int, n_bands: int, kinds: Iterable[str]) -> dict[str, np.ndarray]:
    """Dense ``(n_features, n_bands)`` arrays from a partial, with each kind's identity elsewhere."""
    fids, arrays = partial
    out = {}
    for k in kinds:
        dense = np.full((n_features, n_bands), _FILL[k])
        if len(fids):
            dense[fids] = arrays[k]
        out[k] = dense
    return out
