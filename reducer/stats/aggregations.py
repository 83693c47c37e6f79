"""Reducer blueprints: which intermediates each statistic needs and how to finish it.

Each :class:`Aggregation` is frozen and names every function of its statistic directly:

- a decomposable statistic names the per-block intermediates it needs
  (:data:`reducer.stats.kernels.KINDS`) and finishes them with ``finalize``; the chunk and combine
  steps live in :mod:`reducer.stats.kernels` and are shared: ``mean``, ``sum``, ``variance`` and
  ``stdDev`` all read the same weight sums, so a combined reducer computes them once per block;
- a statistic that cannot be decomposed (median, percentiles, modes, histograms, lists,
  regressions, correlations) needs ``vals``: each feature's pixels (weight and the values of every
  band) are gathered across blocks, and its ``segment`` function (:mod:`reducer.stats.segments`)
  computes it per feature. A ``stack`` function may compute the same statistic faster on a dense
  stack of unit-weight entries (pixels over time).

:data:`STATISTICS` holds the blueprints of every statistic by id (the ``stat`` of a reducer output).
The composite outputs (``group``, ``repeat``, ``splitWeights``) evaluate child outputs; they are
blueprints too, in :mod:`reducer.stats.evaluate`, which joins both in ``AGGREGATIONS``.

Adding a statistic: its function (a ``finalize`` here or a ``segment`` function in
:mod:`reducer.stats.segments`), one ``Aggregation`` in :data:`STATISTICS`, and its constructor in
:mod:`reducer.reducers`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import segments as seg
from .kernels import KINDS, stack_mode, stack_quantile
from .segments import Segments

__all__ = ["Aggregation", "STATISTICS"]

Dense = dict[str, np.ndarray]
SegmentFunction = Callable[[Segments, tuple], np.ndarray]
StackFunction = Callable[[np.ndarray, tuple], np.ndarray]


def _ratio(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(b > 0, a / np.where(b > 0, b, 1), np.nan)


def _mean(d: Dense) -> np.ndarray:
    return _ratio(d["wx"], d["w"])


def _sum(d: Dense) -> np.ndarray:
    return np.where(d["w"] > 0, d["wx"], np.nan)


def _count(d: Dense) -> np.ndarray:
    return np.rint(d["w"])


def _variance(d: Dense) -> np.ndarray:
    return np.maximum(_ratio(d["m2"], d["w"]), 0.0)


def _std(d: Dense) -> np.ndarray:
    return np.sqrt(_variance(d))


def _sample_variance(d: Dense) -> np.ndarray:
    # reliability weights: sum w (x - mean)^2 / (W - sum w^2 / W); with weights 1, m2 / (n - 1)
    w = d["w"]
    with np.errstate(invalid="ignore", divide="ignore"):
        denom = w - _ratio(d["w2"], w)
    return np.maximum(_ratio(d["m2"], np.where(denom > 1e-12 * np.maximum(w, 1e-300), denom, 0.0)), 0.0)


def _sample_std(d: Dense) -> np.ndarray:
    return np.sqrt(_sample_variance(d))


def _spread(d: Dense) -> np.ndarray:
    """The variance, NaN where the values are constant up to rounding (skew and kurtosis are undefined there).

    Combining partial moments of equal values leaves a variance of rounding noise (1e-31 for values
    near 7), which would give a random skew: a variance below 1e-12 of the squared mean counts as 0.
    """
    m2 = _ratio(d["m2"], d["w"])
    mean = _ratio(d["wx"], d["w"])
    with np.errstate(invalid="ignore"):
        constant = ~(m2 > 1e-12 * mean * mean)
    return np.where(constant, np.nan, m2)


def _skew(d: Dense) -> np.ndarray:
    return _ratio(_ratio(d["m3"], d["w"]), _spread(d) ** 1.5)


def _kurtosis(d: Dense) -> np.ndarray:
    return _ratio(_ratio(d["m4"], d["w"]), _spread(d) ** 2) - 3.0


def _min(d: Dense) -> np.ndarray:
    return np.where(d["w"] > 0, d["min"], np.nan)


def _max(d: Dense) -> np.ndarray:
    return np.where(d["w"] > 0, d["max"], np.nan)


def _range(d: Dense) -> np.ndarray:
    return _max(d) - _min(d)


def _product(d: Dense) -> np.ndarray:
    return np.where(d["w"] > 0, d["prod"], np.nan)


def _any(d: Dense) -> np.ndarray:
    return np.where(d["w"] > 0, d["anynz"], np.nan)


def _all(d: Dense) -> np.ndarray:
    return np.where(d["w"] > 0, d["allnz"], np.nan)


def _stack_percentile(values: np.ndarray, params: tuple) -> np.ndarray:
    return stack_quantile(values, float(params[0]) / 100.0)


def _stack_mode(values: np.ndarray, params: tuple) -> np.ndarray:
    return stack_mode(values)


@dataclass(frozen=True)
class Aggregation:
    """A statistic's blueprint: the intermediates it needs and the functions that compute it.

    Attributes
    ----------
    name
        The statistic's id (``"mean"``), the ``stat`` of a reducer output.
    needs
        Intermediate kinds from :data:`reducer.stats.kernels.KINDS`; ``("vals",)`` for gathered
        statistics.
    finalize
        For decomposable statistics: maps ``{kind: (n_features, n_bands)}`` to the statistic, NaN where
        a feature has no valid pixel.
    segment
        For gathered statistics: ``segment(segments, params) -> (n_seg,)`` on the segments of the
        output's inputs (:mod:`reducer.stats.segments`).
    stack
        Optional, for gathered one-input statistics: the same statistic on a dense
        ``(n_entries, n_seg)`` stack of unit-weight entries, NaN where missing (pixels over time).
        It must give what ``segment`` gives on those entries; the evaluator uses it for speed.
    segment_null
        For statistics that see null inputs (``keeps_nulls``) but are decomposable otherwise
        (``countEvery``): the statistic on segments that hold the nulls.
    centre_only
        True when the statistic always uses centre-in pixels (``count``), whatever the weighting.
    integer
        True when the result is a whole number (``count``).
    keeps_type
        True when the result is one of the inputs (``min``, ``mode``, ``first``): a whole number for
        integer bands.
    keeps_nulls
        True when null inputs (missing properties in ``reduceColumns``) reach the statistic
        (``countEvery``, ``first``, ``last``).
    select_all
        True when the statistic sorts out masked inputs itself (``toList`` with ``numOptional``).
    scalar
        False when the result is a list or dictionary (not an image band).
    labels
        True when the statistic works on non-numeric property values (strings) too: it compares
        values but does no arithmetic on them.
    compose
        For composite outputs (``group``, ``repeat``, ``splitWeights``): evaluates the child outputs
        (see :mod:`reducer.stats.evaluate`).
    regroups
        True when the composite evaluates its children on regrouped entries (needs ``vals``).
    modes
        For a regrouping composite whose coverage modes are not its children's: the modes it reads.

    Examples
    --------
    >>> STATISTICS["mean"].needs
    ('w', 'wx')
    >>> STATISTICS["percentile"].gathered, STATISTICS["percentile"].segment is seg.percentile
    (True, True)
    >>> Aggregation("nothing")
    Traceback (most recent call last):
    ...
    ValueError: Aggregation 'nothing': give finalize (with the kinds it needs), segment (with ...) or compose.
    """

    name: str
    needs: tuple[str, ...] = ()
    finalize: Callable[[Dense], np.ndarray] | None = None
    segment: SegmentFunction | None = None
    stack: StackFunction | None = None
    segment_null: SegmentFunction | None = None
    centre_only: bool = False
    integer: bool = False
    keeps_type: bool = False
    keeps_nulls: bool = False
    select_all: bool = False
    scalar: bool = True
    labels: bool = False
    compose: Callable[[Any, Sequence[int], Any], np.ndarray] | None = None
    regroups: bool = False
    modes: Callable[[Any], set[str]] | None = None

    def __post_init__(self) -> None:
        unknown = [k for k in self.needs if k not in KINDS]
        if unknown:
            raise ValueError(f"Aggregation {self.name!r}: unknown intermediate kinds {unknown!r}; known: {KINDS!r}.")
        ok = (
            (self.compose is not None and not self.needs)
            or (self.gathered and self.segment is not None and self.finalize is None)
            or (not self.gathered and self.needs and self.finalize is not None and self.segment is None)
        )
        if not ok:
            raise ValueError(
                f"Aggregation {self.name!r}: give finalize (with the kinds it needs), segment (with "
                "needs=('vals',)) or compose."
            )
        if self.keeps_nulls and not self.gathered and self.segment_null is None:
            raise ValueError(
                f"Aggregation {self.name!r}: a decomposable statistic that keeps nulls needs segment_null."
            )

    @property
    def gathered(self) -> bool:
        """True when the statistic needs each feature's pixels gathered."""
        return "vals" in self.needs


_VALS = ("vals",)
_MOM = ("w", "wx", "m2")

STATISTICS: dict[str, Aggregation] = {
    a.name: a
    for a in [
        Aggregation("mean", ("w", "wx"), _mean),
        Aggregation("sum", ("w", "wx"), _sum),
        Aggregation("count", ("w",), _count, centre_only=True, integer=True, labels=True),
        Aggregation(
            "countEvery",
            ("w",),
            _count,
            segment_null=seg.count_every,
            centre_only=True,
            integer=True,
            keeps_nulls=True,
            labels=True,
        ),
        Aggregation("variance", _MOM, _variance),
        Aggregation("stdDev", _MOM, _std),
        Aggregation("sampleVariance", ("w", "w2", "wx", "m2"), _sample_variance),
        Aggregation("sampleStdDev", ("w", "w2", "wx", "m2"), _sample_std),
        Aggregation("skew", (*_MOM, "m3"), _skew),
        Aggregation("kurtosis", (*_MOM, "m3", "m4"), _kurtosis),
        Aggregation("min", ("w", "min"), _min, keeps_type=True, labels=True),
        Aggregation("max", ("w", "max"), _max, keeps_type=True, labels=True),
        Aggregation("range", ("w", "min", "max"), _range, keeps_type=True),
        Aggregation("product", ("w", "prod"), _product),
        Aggregation("anyNonZero", ("w", "anynz"), _any, integer=True),
        Aggregation("allNonZero", ("w", "allnz"), _all, integer=True),
        # gathered
        Aggregation("percentile", _VALS, segment=seg.percentile, stack=_stack_percentile),
        Aggregation("intervalMean", _VALS, segment=seg.interval_mean),
        Aggregation("mode", _VALS, segment=seg.majority, stack=_stack_mode, keeps_type=True, labels=True),
        Aggregation("majority", _VALS, segment=seg.majority, stack=_stack_mode, keeps_type=True, labels=True),
        Aggregation("minority", _VALS, segment=seg.minority, keeps_type=True, labels=True),
        Aggregation("countDistinct", _VALS, segment=seg.count_distinct, integer=True, labels=True),
        Aggregation("unique", _VALS, segment=seg.unique, integer=True, labels=True),
        Aggregation("frequencyHistogram", _VALS, segment=seg.frequency_histogram, scalar=False, labels=True),
        Aggregation("frac", _VALS, segment=seg.frac, scalar=False, labels=True),
        Aggregation("histogram", _VALS, segment=seg.histogram, scalar=False),
        Aggregation("autoHistogram", _VALS, segment=seg.auto_histogram, scalar=False),
        Aggregation("fixedHistogram", _VALS, segment=seg.fixed_histogram, scalar=False),
        Aggregation("first", _VALS, segment=seg.first, keeps_type=True, keeps_nulls=True, labels=True),
        Aggregation("last", _VALS, segment=seg.last, keeps_type=True, keeps_nulls=True, labels=True),
        Aggregation("firstNonNull", _VALS, segment=seg.first, keeps_type=True, labels=True),
        Aggregation("lastNonNull", _VALS, segment=seg.last, keeps_type=True, labels=True),
        Aggregation("toList", _VALS, segment=seg.to_list, select_all=True, scalar=False, labels=True),
        Aggregation("linearFit.scale", _VALS, segment=seg.linear_fit_scale),
        Aggregation("linearFit.offset", _VALS, segment=seg.linear_fit_offset),
        Aggregation("linearRegression.coefficients", _VALS, segment=seg.regression_coefficients, scalar=False),
        Aggregation("linearRegression.residuals", _VALS, segment=seg.regression_residuals, scalar=False),
        Aggregation("sensSlope.slope", _VALS, segment=seg.sens_slope),
        Aggregation("sensSlope.offset", _VALS, segment=seg.sens_offset),
        Aggregation("pearsonsCorrelation.correlation", _VALS, segment=seg.pearson_correlation),
        Aggregation("pearsonsCorrelation.p-value", _VALS, segment=seg.pearson_p_value),
        Aggregation("spearmansCorrelation.correlation", _VALS, segment=seg.spearman_correlation),
        Aggregation("kendallsCorrelation.tau", _VALS, segment=seg.kendall_tau),
        Aggregation("kendallsCorrelation.p-value", _VALS, segment=seg.kendall_p_value),
    ]
}
"""Every (non-composite) statistic's blueprint, by id."""
