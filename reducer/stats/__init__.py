"""The statistics core: numpy only, a leaf of the package.

Import order (each module imports only modules listed before it)::

    kernels <-- segments <-- aggregations <-- evaluate

- :mod:`~reducer.stats.kernels`: per-block intermediates (weight sums, moments, extremes, gathered
  entries), merged exactly across blocks; the same on dense stacks of pixels over time.
- :mod:`~reducer.stats.segments`: :class:`Segments` and the gathered statistics (quantiles, modes,
  histograms, lists, fits, correlations) per segment.
- :mod:`~reducer.stats.aggregations`: the blueprint of each statistic, naming its functions.
- :mod:`~reducer.stats.evaluate`: the output evaluator, its contexts and the composite outputs
  (``group``, ``repeat``, ``splitWeights``).

Nothing here knows reducers, images or tables: the evaluator reads outputs through
:class:`~reducer.stats.evaluate.OutputLike`, and ``reducer.reducers`` (the DSL) builds them.
"""

from __future__ import annotations

from .aggregations import STATISTICS, Aggregation
from .evaluate import (
    AGGREGATIONS,
    COMPOSITES,
    Context,
    OutputLike,
    SegmentsContext,
    StackContext,
    evaluate,
    needed_kinds,
)
from .kernels import KINDS
from .segments import Segments

__all__ = [
    "AGGREGATIONS",
    "COMPOSITES",
    "KINDS",
    "STATISTICS",
    "Aggregation",
    "Context",
    "OutputLike",
    "Segments",
    "SegmentsContext",
    "StackContext",
    "evaluate",
    "needed_kinds",
]
