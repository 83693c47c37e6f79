"""Reducer blueprints: which intermediates each statistic needs and how to finish it.

Each aggregation is frozen. The chunk and combine steps live in :mod:`reducer.kernels` and are
shared: ``mean``, ``sum``, ``variance`` and ``stdDev`` all read the same weight sums, so a
combined reducer computes them once per block.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

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


def _min(d: dict[str, np.ndarray]) -> np.ndarray:
    return np.where(np.isfinite(d["min"]), d["min"], np.nan)


def _max(d: dict[str, np.ndarray]) -> np.ndarray:
    return np.where(np.isfinite(d["max"]), d["max"], np.nan)


@dataclass(frozen=True)
class Aggregation:
    """A statistic: the intermediates it needs and how to finalize them.

    Attributes
    ----------
    name
        The statistic's id (``"mean"``).
    needs
        Intermediate kinds from :data:`reducer.kernels.KINDS`.
    finalize
        Maps ``{kind: (n_features, n_bands)}`` to the statistic, NaN where a feature has no valid pixel.
    centre_only
        True when the statistic always uses centre-in pixels (``count``), whatever the weighting.
    integer
        True when the result is a whole number (``count``).
    """

    name: str
    needs: tuple[str, ...]
    finalize: Callable[[dict[str, np.ndarray]], np.ndarray]
    centre_only: bool = False
    integer: bool = False


AGGREGATIONS: dict[str, Aggregation] = {
    a.name: a
    for a in [
        Aggregation("mean", ("w", "wx"), _mean),
        Aggregation("sum", ("w", "wx"), _sum),
        Aggregation("count", ("w",), _count, centre_only=True, integer=True),
        Aggregation("variance", ("w", "wx", "m2"), _variance),
        Aggregation("stdDev", ("w", "wx", "m2"), _std),
        Aggregation("min", ("min",), _min),
        Aggregation("max", ("max",), _max),
    ]
}
