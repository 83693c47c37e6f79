"""Reducer blueprints: which intermediates each statistic needs and how to finish it.

Each aggregation is frozen. Decomposable statistics name the per-block intermediates they need
(:data:`reducer.kernels.KINDS`) and finish them with ``finalize``; the chunk and combine steps live
in :mod:`reducer.kernels` and are shared: ``mean``, ``sum``, ``variance`` and ``stdDev`` all read the
same weight sums, so a combined reducer computes them once per block.

Statistics that cannot be decomposed (median, percentiles, modes, histograms, lists, regressions,
correlations) need ``vals``: each feature's pixels (weight and the values of every band) are
gathered across blocks, and :data:`reducer.segments.SEGMENT_FUNCTIONS` computes them per feature.
Composite outputs (``group``, ``repeat``, ``splitWeights``) evaluate their child outputs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from . import segments as _seg

__all__ = ["Aggregation", "AGGREGATIONS"]


def _ratio(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(b > 0, a / np.where(b > 0, b, 1), np.nan)


def _mean(d: dict[str, np.ndarray]) -> np.ndarray:
    return _ratio(d["wx"], d["w"])


def _sum(d: dict[str, np.ndarray]) -> np.ndarray:
    return np.where(d["w"] > 0, d["wx"], np.nan)


def _count(d: dict[str, np.ndarray]) -> np.ndarray:
    return np.rint(d["w"])


def _variance(d: dict[str, np.ndarray]) -> np.ndarray:
    return np.maximum(_ratio(d["m2"], d["w"]), 0.0)


def _std(d: dict[str, np.ndarray]) -> np.ndarray:
    return np.sqrt(_variance(d))


def _sample_variance(d: dict[str, np.ndarray]) -> np.ndarray:
    # reliability weights: sum w (x - mean)^2 / (W - sum w^2 / W); with weights 1, m2 / (n - 1)
    w = d["w"]
    with np.errstate(invalid="ignore", divide="ignore"):
        denom = w - _ratio(d["w2"], w)
    return np.maximum(_ratio(d["m2"], np.where(denom > 1e-12 * np.maximum(w, 1e-300), denom, 0.0)), 0.0)


def _sample_std(d: dict[str, np.ndarray]) -> np.ndarray:
    return np.sqrt(_sample_variance(d))


def _skew(d: dict[str, np.ndarray]) -> np.ndarray:
    m2, m3 = _ratio(d["m2"], d["w"]), _ratio(d["m3"], d["w"])
    return _ratio(m3, np.where(m2 > 0, m2, np.nan) ** 1.5)


def _kurtosis(d: dict[str, np.ndarray]) -> np.ndarray:
    m2, m4 = _ratio(d["m2"], d["w"]), _ratio(d["m4"], d["w"])
    return _ratio(m4, np.where(m2 > 0, m2, np.nan) ** 2) - 3.0


def _min(d: dict[str, np.ndarray]) -> np.ndarray:
    return np.where(np.isfinite(d["min"]), d["min"], np.nan)


def _max(d: dict[str, np.ndarray]) -> np.ndarray:
    return np.where(np.isfinite(d["max"]), d["max"], np.nan)


def _range(d: dict[str, np.ndarray]) -> np.ndarray:
    return _max(d) - _min(d)


def _product(d: dict[str, np.ndarray]) -> np.ndarray:
    return np.where(d["w"] > 0, d["prod"], np.nan)


def _any(d: dict[str, np.ndarray]) -> np.ndarray:
    return np.where(d["w"] > 0, d["anynz"], np.nan)


def _all(d: dict[str, np.ndarray]) -> np.ndarray:
    return np.where(d["w"] > 0, d["allnz"], np.nan)


def _count_all(seg: Any, params: tuple) -> np.ndarray:
    return seg.counts.astype("f8")


# -- composites --------------------------------------------------------------------------------------


def _children(output: Any) -> tuple:
    return output.params[0]


def _python(v: Any, integer: bool) -> Any:
    if isinstance(v, float | np.floating):
        if not np.isfinite(v):
            return None
        return int(round(float(v))) if integer else float(v)
    return v


def _repeat(output: Any, bands: Sequence[int], ctx: Any) -> np.ndarray:
    children = _children(output)
    vals = [_seg.evaluate(c, bands, ctx) for c in children]
    ints = [AGGREGATIONS[c.stat].integer for c in children]
    out = np.full(ctx.n_seg, None, dtype=object)
    for k in range(ctx.n_seg):
        out[k] = [_python(v[k], i) for v, i in zip(vals, ints, strict=True)]
    return out


def _leaf_modes(outputs: Sequence[Any]) -> set[str]:
    modes: set[str] = set()
    for o in outputs:
        agg = AGGREGATIONS[o.stat]
        modes |= agg.gather_modes(o) if agg.compose is not None else {o.mode}
    return modes


def _regrouped(base: Any, group_row: int) -> tuple[Any, np.ndarray, np.ndarray]:
    """Entries regrouped by (segment, group value): new segments and each one's (segment, key)."""
    keep = ~np.isnan(base.values[group_row])
    sub = base.take(keep) if not keep.all() else base
    key = sub.values[group_row]
    sid = sub.seg_ids
    order = np.lexsort((key, sid))
    key, sid = key[order], sid[order]
    new = np.ones(len(key), bool)
    new[1:] = (sid[1:] != sid[:-1]) | (key[1:] != key[:-1])
    starts = np.flatnonzero(new)
    offsets = np.append(starts, len(key))
    seg = _seg.Segments(offsets, sub.weight[order], sub.values[:, order], nulls=sub.nulls, labels=sub.labels)
    return seg, sid[starts], key[starts]


_ZERO_WHEN_EMPTY = ("count", "countEvery", "countDistinct")


def _group(output: Any, bands: Sequence[int], ctx: Any) -> np.ndarray:
    children, group_input, group_name = output.params
    grow = bands[group_input]
    modes = sorted(_leaf_modes(children)) or ["weighted"]
    main = "weighted" if "weighted" in modes else modes[0]
    per_mode = {}
    for m in modes:
        seg, psid, pkey = _regrouped(ctx.segments(m), grow)
        kinds = set().union(*_seg.needed_kinds(children).values()) if children else set()
        per_mode[m] = (_seg.SegmentsContext(seg, sorted(kinds)), psid, pkey)
    sub, psid, pkey = per_mode[main]
    base_labels = ctx.segments(main).labels
    results: list[tuple[str, np.ndarray, bool]] = []
    for c in children:
        sctx, csid, ckey = per_mode[c.mode if c.mode in per_mode else main]
        v = _seg.evaluate(c, bands, sctx)
        if sctx is not sub:
            # align to the main mode's groups; groups it lacks give None
            idx = {(int(s), float(k)): i for i, (s, k) in enumerate(zip(csid, ckey, strict=True))}
            aligned = np.full(len(psid), None, dtype=object)
            empty = 0.0 if c.stat in _ZERO_WHEN_EMPTY else None
            for i, (s, k) in enumerate(zip(psid, pkey, strict=True)):
                j = idx.get((int(s), float(k)))
                aligned[i] = empty if j is None else v[j]
            v = aligned
        results.append((c.name, v, AGGREGATIONS[c.stat].integer))
    out = np.full(ctx.n_seg, None, dtype=object)
    bounds = np.searchsorted(psid, np.arange(ctx.n_seg + 1))
    labels = base_labels[grow] if grow < len(base_labels) else None
    for k in np.flatnonzero(np.diff(bounds) > 0):
        groups = []
        for i in range(bounds[k], bounds[k + 1]):
            key = labels[int(pkey[i])] if labels is not None else _seg._num(pkey[i])
            entry = {group_name: key}
            for name, v, integer in results:
                entry[name] = _python(v[i], integer)
            groups.append(entry)
        out[k] = groups
    return out


def _split_weights(output: Any, bands: Sequence[int], ctx: Any) -> np.ndarray:
    children = [replace(c, inputs=(0,)) for c in _children(output)]
    base = ctx.segments("centre").select([bands[output.inputs[0]], bands[output.inputs[1]]])
    w = base.values[1]
    keep = w > 0
    sub = base.take(keep, rows=[0])
    weighted = _seg.Segments(sub.offsets, w[keep], sub.values, nulls=sub.nulls, labels=sub.labels)
    kinds = set().union(*_seg.needed_kinds(children).values()) if children else set()
    sctx = _seg.SegmentsContext(weighted, sorted(kinds))
    vals = [_seg.evaluate(c, (0,), sctx) for c in children]
    if len(children) == 1:
        return vals[0]
    raise NotImplementedError  # pragma: no cover - the DSL splits each output on its own


@dataclass(frozen=True)
class Aggregation:
    """A statistic: the intermediates it needs and how to finalize them.

    Attributes
    ----------
    name
        The statistic's id (``"mean"``).
    needs
        Intermediate kinds from :data:`reducer.kernels.KINDS`; ``("vals",)`` for gathered statistics,
        computed by ``reducer.segments.SEGMENT_FUNCTIONS[name]``.
    finalize
        For decomposable statistics: maps ``{kind: (n_features, n_bands)}`` to the statistic, NaN where
        a feature has no valid pixel.
    centre_only
        True when the statistic always uses centre-in pixels (``count``), whatever the weighting.
    integer
        True when the result is a whole number (``count``).
    keeps_type
        True when the result is one of the inputs (``min``, ``mode``, ``first``): a whole number for
        integer bands.
    keeps_nulls
        True when null inputs (missing properties in ``reduceColumns``) reach the statistic
        (``countEvery``, ``first``, ``last``); ``segment_null`` then computes it.
    select_all
        True when the statistic sorts out masked inputs itself (``toList`` with ``numOptional``).
    scalar
        False when the result is a list or dictionary (not an image band).
    labels
        True when the statistic works on non-numeric property values (strings) too.
    compose
        For composite outputs (``group``, ``repeat``, ``splitWeights``): evaluates the child outputs.
    regroups
        True when the composite evaluates its children on regrouped entries (needs ``vals``).
    """

    name: str
    needs: tuple[str, ...] = ()
    finalize: Callable[[dict[str, np.ndarray]], np.ndarray] | None = None
    centre_only: bool = False
    integer: bool = False
    keeps_type: bool = False
    keeps_nulls: bool = False
    select_all: bool = False
    segment_null: Callable[[Any, tuple], np.ndarray] | None = None
    scalar: bool = True
    labels: bool = False
    compose: Callable[[Any, Sequence[int], Any], np.ndarray] | None = None
    regroups: bool = False
    modes: Callable[[Any], set[str]] | None = None

    @property
    def gathered(self) -> bool:
        """True when the statistic needs each feature's pixels gathered."""
        return "vals" in self.needs

    def children(self, output: Any) -> tuple:
        """A composite output's child outputs."""
        if self.name == "group":
            return output.params[0]
        return _children(output)

    def gather_modes(self, output: Any) -> set[str]:
        """The coverage modes whose gathered pixels a regrouping composite reads."""
        if self.modes is not None:
            return self.modes(output)
        return _leaf_modes(self.children(output))


_VALS = ("vals",)
_MOM = ("w", "wx", "m2")

AGGREGATIONS: dict[str, Aggregation] = {
    a.name: a
    for a in [
        Aggregation("mean", ("w", "wx"), _mean),
        Aggregation("sum", ("w", "wx"), _sum),
        Aggregation("count", ("w",), _count, centre_only=True, integer=True, labels=True),
        Aggregation(
            "countEvery",
            ("w",),
            _count,
            centre_only=True,
            integer=True,
            keeps_nulls=True,
            segment_null=_count_all,
            labels=True,
        ),
        Aggregation("variance", _MOM, _variance),
        Aggregation("stdDev", _MOM, _std),
        Aggregation("sampleVariance", ("w", "w2", "wx", "m2"), _sample_variance),
        Aggregation("sampleStdDev", ("w", "w2", "wx", "m2"), _sample_std),
        Aggregation("skew", (*_MOM, "m3"), _skew),
        Aggregation("kurtosis", (*_MOM, "m3", "m4"), _kurtosis),
        Aggregation("min", ("min",), _min, keeps_type=True),
        Aggregation("max", ("max",), _max, keeps_type=True),
        Aggregation("range", ("min", "max"), _range, keeps_type=True),
        Aggregation("product", ("w", "prod"), _product),
        Aggregation("anyNonZero", ("w", "anynz"), _any, integer=True),
        Aggregation("allNonZero", ("w", "allnz"), _all, integer=True),
        # gathered
        Aggregation("percentile", _VALS),
        Aggregation("intervalMean", _VALS),
        Aggregation("mode", _VALS, keeps_type=True, labels=True),
        Aggregation("majority", _VALS, keeps_type=True, labels=True),
        Aggregation("minority", _VALS, keeps_type=True, labels=True),
        Aggregation("countDistinct", _VALS, integer=True, labels=True),
        Aggregation("unique", _VALS, integer=True, labels=True),
        Aggregation("frequencyHistogram", _VALS, scalar=False, labels=True),
        Aggregation("frac", _VALS, scalar=False, labels=True),
        Aggregation("histogram", _VALS, scalar=False),
        Aggregation("autoHistogram", _VALS, scalar=False),
        Aggregation("fixedHistogram", _VALS, scalar=False),
        Aggregation("first", _VALS, keeps_type=True, keeps_nulls=True, labels=True),
        Aggregation("last", _VALS, keeps_type=True, keeps_nulls=True, labels=True),
        Aggregation("firstNonNull", _VALS, keeps_type=True, labels=True),
        Aggregation("lastNonNull", _VALS, keeps_type=True, labels=True),
        Aggregation("toList", _VALS, select_all=True, scalar=False, labels=True),
        Aggregation("linearFit.scale", _VALS),
        Aggregation("linearFit.offset", _VALS),
        Aggregation("linearRegression.coefficients", _VALS, scalar=False),
        Aggregation("linearRegression.residuals", _VALS, scalar=False),
        Aggregation("sensSlope.slope", _VALS),
        Aggregation("sensSlope.offset", _VALS),
        Aggregation("pearsonsCorrelation.correlation", _VALS),
        Aggregation("pearsonsCorrelation.p-value", _VALS),
        Aggregation("spearmansCorrelation.correlation", _VALS),
        Aggregation("kendallsCorrelation.tau", _VALS),
        Aggregation("kendallsCorrelation.p-value", _VALS),
        # composites
        Aggregation("repeat", compose=_repeat, scalar=False, labels=True),
        Aggregation("group", compose=_group, regroups=True, scalar=False, labels=True),
        Aggregation("splitWeights", compose=_split_weights, regroups=True, modes=lambda o: {"centre"}, labels=False),
    ]
}
