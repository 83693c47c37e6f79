"""``ee.Reducer``: the reducer DSL and its output naming.

A reducer is an immutable list of outputs. Each output names a statistic (a blueprint in
:mod:`reducer.stats`), the reducer input it reads and whether it is weighted. Nothing here touches
pixels: the engine turns a reducer into one pass over each block, and the statistics core
(:func:`reducer.stats.evaluate`) computes each output.

Output naming is a contract and lives here: :func:`resolve_columns` names the values a reducer gives
on some bands (Earth Engine's rules for ``reduceRegion``, ``reduceRegions``,
``ImageCollection.reduce`` and ``reduceColumns``). :func:`reduce_columns` runs a reducer on plain
columns of values (``FeatureCollection.reduceColumns``, ``aggregate_*``, charts).

Adding a reducer: its statistic in :mod:`reducer.stats` (a blueprint in
``reducer/stats/aggregations.py`` and, if it is gathered, its function in
``reducer/stats/segments.py``) and a constructor on :class:`Reducer` that documents its output names.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from .arguments import register_promotion, resolve_class
from .errors import ArgumentError, ReducerInputError
from .stats import AGGREGATIONS, Segments, SegmentsContext, evaluate, needed_kinds
from .stats.segments import python_value
from .values import List, to_info, unwrap

__all__ = ["Reducer", "Output", "Column", "resolve_columns", "time_columns", "reduce_columns", "as_reducer"]


@dataclass(frozen=True)
class Output:
    """One output of a reducer.

    Attributes
    ----------
    name
        The output's name (``"mean"``, ``"p90"``).
    stat
        The statistic, a key of :data:`reducer.stats.AGGREGATIONS`.
    inputs
        The reducer inputs it reads, in order (``(0,)``; ``(0, 1)`` for x and y of ``linearFit``).
    weighted
        False after ``unweighted()``: centre-in pixels, each with weight 1.
    touched
        True after ``all_touched()``: every pixel the region touches, each with weight 1.
    params
        The statistic's parameters (``(90.0,)`` for ``p90``); child outputs for composites.
    """

    name: str
    stat: str
    inputs: tuple[int, ...] = (0,)
    weighted: bool = True
    params: tuple = ()
    touched: bool = False

    def __post_init__(self) -> None:
        if isinstance(self.inputs, int | np.integer):
            object.__setattr__(self, "inputs", (int(self.inputs),))
        else:
            object.__setattr__(self, "inputs", tuple(int(i) for i in self.inputs))

    @property
    def input(self) -> int:
        """The first input (the only one for one-input statistics)."""
        return self.inputs[0]

    @property
    def mode(self) -> str:
        """The coverage mode the output needs: ``"weighted"``, ``"centre"`` or ``"touched"``."""
        if self.touched:
            return "touched"
        agg = AGGREGATIONS[self.stat]
        return "weighted" if self.weighted and not agg.centre_only else "centre"

    def children(self) -> tuple[Output, ...]:
        """The child outputs of a composite (``group``, ``repeat``, ``splitWeights``), else ``()``."""
        return tuple(self.params[0]) if AGGREGATIONS[self.stat].compose is not None else ()


def _map(o: Output, fn: Any) -> Output:
    """``o`` with its inputs (and its children's) mapped by ``fn``."""
    if AGGREGATIONS[o.stat].compose is not None:
        kids = tuple(_map(c, fn) for c in o.params[0])
        params = (kids, *o.params[1:])
        if o.stat == "group":
            params = (kids, fn(o.params[1]), o.params[2])
        return replace(o, inputs=tuple(fn(i) for i in o.inputs), params=params)
    return replace(o, inputs=tuple(fn(i) for i in o.inputs))


def _unweight(o: Output, touched: bool = False) -> Output:
    if AGGREGATIONS[o.stat].compose is not None and o.stat != "splitWeights":
        kids = tuple(_unweight(c, touched) for c in o.params[0])
        return replace(o, weighted=False, touched=touched, params=(kids, *o.params[1:]))
    return replace(o, weighted=False, touched=touched)


def _pname(p: float) -> str:
    return "p" + np.format_float_positional(float(p), trim="-")


def _opt_int(x: Any, what: str, where: str) -> int | None:
    x = unwrap(x)
    if x is None:
        return None
    if isinstance(x, bool) or not isinstance(x, int | float | np.integer | np.floating) or int(x) != x or x < 0:
        raise ArgumentError(f"ee.Reducer.{where}: {what} must be a non-negative whole number, got {x!r}.")
    return int(x)


def _opt_float(x: Any, what: str, where: str) -> float | None:
    x = unwrap(x)
    if x is None:
        return None
    if isinstance(x, bool) or not isinstance(x, int | float | np.integer | np.floating):
        raise ArgumentError(f"ee.Reducer.{where}: {what} must be a number, got {x!r}.")
    return float(x)


@resolve_class("Reducer")
class Reducer:
    """An Earth Engine reducer.

    Build one with the constructors (``ee.Reducer.mean()``) and the combinators
    (``combine``, ``setOutputs``, ``unweighted``, ``group``, ``repeat``, ``forEach``).
    Each constructor's docstring gives its output names. Statistics that cannot be decomposed
    (median, percentiles, modes, histograms, lists, fits and correlations) collect each region's
    pixel values with their weights; they are exact (``maxBuckets``, ``minBucketWidth`` and
    ``maxRaw`` are accepted for compatibility and do not approximate).

    Examples
    --------
    >>> r = Reducer.mean().combine(Reducer.max(), sharedInputs=True)
    >>> r.getOutputs().getInfo()
    ['mean', 'max']
    >>> Reducer.minMax().combine(Reducer.count(), "n_").getOutputs().getInfo()
    ['min', 'max', 'n_count']
    >>> Reducer.mean().combine(Reducer.max()).numInputs()
    2
    >>> Reducer.percentile([10, 2.5, 90]).getOutputs().getInfo()
    ['p10', 'p2.5', 'p90']
    """

    __slots__ = ("_outputs", "_n_inputs")

    def __init__(self, outputs: tuple[Output, ...], n_inputs: int = 1):
        object.__setattr__(self, "_outputs", tuple(outputs))
        object.__setattr__(self, "_n_inputs", int(n_inputs))

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("Reducer objects are immutable; methods return new reducers")

    def __repr__(self) -> str:
        def one(o: Output) -> str:
            args = ", ".join(str(i) for i in o.inputs)
            if o.params and not o.children():
                args += f", {o.params!r}"
            if o.children():
                args += ", [" + ", ".join(one(c) for c in o.children()) + "]"
            return f"{o.name}={o.stat}({args}{'' if o.weighted else ', unweighted'})"

        outs = ", ".join(one(o) for o in self._outputs)
        return f"ee.Reducer<{outs}; inputs={self._n_inputs}>"

    def _repr_html_(self) -> str:
        """The outputs as a short HTML table (notebooks), each with its statistic, inputs and pixel rule."""
        import html

        rows = []
        for o in self._outputs:
            rule = "all touched" if o.touched else ("weighted" if o.weighted else "centre-in")
            cells = (o.name, o.stat, ", ".join(str(i) for i in o.inputs), rule)
            rows.append("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in cells) + "</tr>")
        head = "".join(f"<th>{h}</th>" for h in ("output", "statistic", "inputs", "pixels"))
        return (
            f"<div class='reducer-repr' style='font-family:monospace;font-size:12px'><div><b>ee.Reducer: "
            f"{len(rows)} outputs, {self._n_inputs} inputs</b></div><details open><summary>Outputs</summary>"
            f"<table><tr>{head}</tr>{''.join(rows)}</table></details></div>"
        )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Reducer) and (self._outputs, self._n_inputs) == (
            other._outputs,
            other._n_inputs,
        )

    def __hash__(self) -> int:
        return hash((self._outputs, self._n_inputs))

    def __reduce__(self) -> tuple:
        return (Reducer, (self._outputs, self._n_inputs))

    def __dask_tokenize__(self) -> str:
        return repr(self)

    @property
    def outputs(self) -> tuple[Output, ...]:
        """The outputs, in order (:meth:`getOutputs` gives their names as an ``ee.List``).

        Examples
        --------
        >>> [(o.name, o.stat) for o in Reducer.median().combine(Reducer.count(), sharedInputs=True).outputs]
        [('median', 'percentile'), ('count', 'count')]
        """
        return self._outputs

    @property
    def n_inputs(self) -> int:
        """How many inputs the reducer reads (the same as :meth:`numInputs`).

        Examples
        --------
        >>> Reducer.mean().n_inputs, Reducer.linearFit().n_inputs
        (1, 2)
        """
        return self._n_inputs

    # -- constructors -------------------------------------------------------------------------
    @staticmethod
    def _simple(stat: str, name: str | None = None, params: tuple = ()) -> Reducer:
        return Reducer((Output(name or stat, stat, (0,), True, params),))

    @staticmethod
    def mean() -> Reducer:
        """The (weighted) arithmetic mean. Output: ``mean``."""
        return Reducer._simple("mean")

    @staticmethod
    def sum() -> Reducer:
        """The (weighted) sum: each pixel's value times its covered fraction. Output: ``sum``."""
        return Reducer._simple("sum")

    @staticmethod
    def count() -> Reducer:
        """The number of valid pixels whose centre is inside (never weighted). Output: ``count``."""
        return Reducer._simple("count")

    @staticmethod
    def countEvery() -> Reducer:
        """The number of inputs, centre-in (never weighted). Output: ``count``.

        Masked pixels are never inputs, so on images it equals ``count``; in ``reduceColumns`` it also
        counts features whose property is null.
        """
        return Reducer._simple("countEvery", "count")

    @staticmethod
    def min(numInputs: int = 1) -> Reducer:
        """The minimum of the pixels the region touches (centre-in when unweighted). Output: ``min``."""
        _single_input("min", numInputs)
        return Reducer._simple("min")

    @staticmethod
    def max(numInputs: int = 1) -> Reducer:
        """The maximum of the pixels the region touches (centre-in when unweighted). Output: ``max``."""
        _single_input("max", numInputs)
        return Reducer._simple("max")

    @staticmethod
    def minMax() -> Reducer:
        """Minimum and maximum. Outputs: ``min``, ``max``."""
        return Reducer((Output("min", "min", 0), Output("max", "max", 0)))

    @staticmethod
    def stdDev() -> Reducer:
        """The (weighted) population standard deviation. Output: ``stdDev``."""
        return Reducer._simple("stdDev")

    @staticmethod
    def variance() -> Reducer:
        """The (weighted) population variance. Output: ``variance``."""
        return Reducer._simple("variance")

    @staticmethod
    def sampleVariance() -> Reducer:
        """The (weighted) sample variance. Output: ``variance``.

        With weights w_i (reliability weights): ``sum w (x - mean)^2 / (W - sum w^2 / W)``, W = sum w;
        unweighted, ``sum (x - mean)^2 / (n - 1)``. None for a single pixel.
        """
        return Reducer._simple("sampleVariance", "variance")

    @staticmethod
    def sampleStdDev() -> Reducer:
        """The square root of :meth:`sampleVariance`. Output: ``stdDev``."""
        return Reducer._simple("sampleStdDev", "stdDev")

    @staticmethod
    def skew() -> Reducer:
        """The (weighted) skewness ``m3 / m2^1.5`` of central moments (scipy's ``skew(bias=True)``). Output: ``skew``.

        None when all values are equal.
        """
        return Reducer._simple("skew")

    @staticmethod
    def kurtosis() -> Reducer:
        """The (weighted) excess kurtosis ``m4 / m2^2 - 3`` (scipy's ``kurtosis(bias=True)``). Output: ``kurtosis``."""
        return Reducer._simple("kurtosis")

    @staticmethod
    def product() -> Reducer:
        """The product of the pixels the region touches (weights ignored). Output: ``product``."""
        return Reducer._simple("product")

    @staticmethod
    def anyNonZero() -> Reducer:
        """1 if any input is non-zero, else 0 (weights ignored). Output: ``any``."""
        return Reducer._simple("anyNonZero", "any")

    @staticmethod
    def allNonZero() -> Reducer:
        """1 if all inputs are non-zero, else 0 (weights ignored). Output: ``all``."""
        return Reducer._simple("allNonZero", "all")

    @staticmethod
    def Or() -> Reducer:  # noqa: N802 - Earth Engine's name
        """The same as :meth:`anyNonZero`. Output: ``any``."""
        return Reducer.anyNonZero()

    @staticmethod
    def And() -> Reducer:  # noqa: N802 - Earth Engine's name
        """The same as :meth:`allNonZero`. Output: ``all``."""
        return Reducer.allNonZero()

    @staticmethod
    def first() -> Reducer:
        """The first input: the first pixel in row-major order, the first image in time. Output: ``first``.

        In ``reduceColumns`` a null property is an input (the result may be None).
        """
        return Reducer._simple("first")

    @staticmethod
    def last() -> Reducer:
        """The last input (see :meth:`first`). Output: ``last``."""
        return Reducer._simple("last")

    @staticmethod
    def firstNonNull() -> Reducer:
        """The first non-null input. Output: ``first``."""
        return Reducer._simple("firstNonNull", "first")

    @staticmethod
    def lastNonNull() -> Reducer:
        """The last non-null input. Output: ``last``."""
        return Reducer._simple("lastNonNull", "last")

    @staticmethod
    def countDistinct() -> Reducer:
        """The number of distinct values (pixels the region touches; centre-in when unweighted). Output: ``count``."""
        return Reducer._simple("countDistinct", "count")

    @staticmethod
    def countDistinctNonNull() -> Reducer:
        """The number of distinct non-null values. Output: ``count``."""
        return Reducer._simple("countDistinct", "count")

    @staticmethod
    def toList(tupleSize: int | None = None, numOptional: int = 0) -> Reducer:
        """The inputs as a list, in pixel (or time, or row) order. Output: ``list``.

        With ``tupleSize`` the reducer has that many inputs and the list holds ``[a, b, ...]`` tuples;
        the last ``numOptional`` inputs may be null (None in the tuple).
        """
        size = _opt_int(tupleSize, "tupleSize", "toList")
        opt = _opt_int(numOptional, "numOptional", "toList") or 0
        n = size or 1
        if size == 0 or opt > n:
            raise ArgumentError(f"ee.Reducer.toList: numOptional={opt!r} must not exceed tupleSize={size!r}.")
        return Reducer((Output("list", "toList", tuple(range(n)), True, (size, opt)),), n)

    # -- order statistics ---------------------------------------------------------------------
    @staticmethod
    def percentile(
        percentiles: Any,
        outputNames: Any = None,
        maxBuckets: int | None = None,
        minBucketWidth: float | None = None,
        maxRaw: int | None = None,
    ) -> Reducer:
        """Percentiles. Outputs: ``p<N>`` for each percentile N (``p10``, ``p90``; ``p2.5``), or ``outputNames``.

        Weighted (default): exactextract's weighted quantile, with the covered fractions as weights.
        Unweighted: numpy's linear interpolation over the centre-in pixels (rasterstats'
        ``percentile_N``). The pixels of each region are collected; the result is exact.
        Earth Engine does not document the name of a non-integer percentile; reducer writes it in
        full (``p2.5``) — pass ``outputNames`` to choose.
        """
        given = unwrap(percentiles)
        if isinstance(given, str) or not isinstance(given, list | tuple):
            example = f"[{given}]" if isinstance(given, int | float) else "[10, 90]"
            raise ArgumentError(
                f"ee.Reducer.percentile: percentiles={given!r} is not a list. Give a list of numbers, e.g. {example}."
            )
        ps = []
        for p in given:
            if isinstance(p, bool) or not isinstance(p, int | float) or math.isnan(p):
                raise ArgumentError(
                    f"ee.Reducer.percentile: {p!r} in percentiles={given!r} is not a number. Give numbers between "
                    "0 and 100, e.g. [10, 90]."
                )
            ps.append(float(p))
        if not ps:
            raise ArgumentError("ee.Reducer.percentile: give at least one percentile, e.g. [10, 50, 90].")
        for p in ps:
            if not 0 <= p <= 100:
                raise ArgumentError(f"ee.Reducer.percentile: {p!r} is not between 0 and 100.")
        names = [_pname(p) for p in ps] if outputNames is None else [str(n) for n in unwrap(outputNames)]
        if len(names) != len(ps):
            raise ArgumentError(
                f"ee.Reducer.percentile: {len(names)} outputNames {names!r} for {len(ps)} percentiles {ps!r}."
            )
        _histogram_args("percentile", maxBuckets, minBucketWidth, maxRaw)
        return Reducer(tuple(Output(n, "percentile", (0,), True, (p,)) for n, p in zip(names, ps, strict=True)))

    @staticmethod
    def median(
        maxBuckets: int | None = None, minBucketWidth: float | None = None, maxRaw: int | None = None
    ) -> Reducer:
        """The median: the 50th percentile (see :meth:`percentile`). Output: ``median``."""
        _histogram_args("median", maxBuckets, minBucketWidth, maxRaw)
        return Reducer._simple("percentile", "median", (50.0,))

    @staticmethod
    def intervalMean(
        minPercentile: float,
        maxPercentile: float,
        maxBuckets: int | None = None,
        minBucketWidth: float | None = None,
        maxRaw: int | None = None,
    ) -> Reducer:
        """The (weighted) mean of the values between two percentiles, inclusive. Output: ``mean``.

        The bounds are the :meth:`percentile` values at ``minPercentile`` and ``maxPercentile``.
        """
        lo = _opt_float(minPercentile, "minPercentile", "intervalMean")
        hi = _opt_float(maxPercentile, "maxPercentile", "intervalMean")
        if lo is None or hi is None or not 0 <= lo <= hi <= 100:
            raise ArgumentError(
                f"ee.Reducer.intervalMean: need 0 <= minPercentile <= maxPercentile <= 100, got {lo!r}, {hi!r}."
            )
        _histogram_args("intervalMean", maxBuckets, minBucketWidth, maxRaw)
        return Reducer._simple("intervalMean", "mean", (lo, hi))

    @staticmethod
    def mode(maxBuckets: int | None = None, minBucketWidth: float | None = None, maxRaw: int | None = None) -> Reducer:
        """The value with the largest total weight (count when unweighted). Output: ``mode``.

        Ties go to the smallest value.
        """
        _histogram_args("mode", maxBuckets, minBucketWidth, maxRaw)
        return Reducer._simple("mode")

    @staticmethod
    def frequencyHistogram() -> Reducer:
        """A frequency table ``{value: weight sum}`` (counts when unweighted). Output: ``histogram``.

        Keys are the values as strings (``"3"``, ``"0.5"``; labels for strings in ``reduceColumns``).
        Weighted, each pixel counts by its covered fraction; ``.unweighted()`` counts centre-in pixels (rasterstats'
        ``categorical=True``).

        Examples
        --------
        Class shares per field from a land-cover band (categorical zonal statistics):

        >>> import numpy as np, xarray as xr, rioxarray, geopandas as gpd, shapely, reducer as ee
        >>> lc = xr.DataArray(np.array([[1, 1, 2], [1, 3, 2], [2, 2, 2]], "uint8"), dims=("y", "x"),
        ...                   coords={"y": [2.5, 1.5, 0.5], "x": [0.5, 1.5, 2.5]}).rio.write_crs("EPSG:32633")
        >>> fields = ee.FeatureCollection(gpd.GeoDataFrame(geometry=[shapely.box(0, 1, 2, 3)], crs="EPSG:32633"))
        >>> fc = ee.Image(lc).rename("lc").reduceRegions(fields, ee.Reducer.frequencyHistogram())
        >>> hist = fc.first().get("histogram").getInfo()
        >>> hist
        {'1': 3, '3': 1}
        >>> {k: v / sum(hist.values()) for k, v in hist.items()}
        {'1': 0.75, '3': 0.25}
        """
        return Reducer._simple("frequencyHistogram", "histogram")

    @staticmethod
    def histogram(
        maxBuckets: int | None = None, minBucketWidth: float | None = None, maxRaw: int | None = None
    ) -> Reducer:
        """A histogram: ``{bucketMeans, bucketMin, bucketWidth, histogram}``. Output: ``histogram``.

        Bucketing rule (:func:`reducer.stats.segments.bucket_rule`): ``maxBuckets`` (default 256) rounded up
        to a power of 2; the bucket width is the smallest power of 2 (any exponent), at least
        ``minBucketWidth``, that fits the values' range in that many buckets; ``bucketMin`` is the
        minimum rounded down to a multiple of the width. ``histogram`` holds the (weighted) counts and
        ``bucketMeans`` the (weighted) mean of each bucket's values (its centre when empty).
        """
        _histogram_args("histogram", maxBuckets, minBucketWidth, maxRaw)
        return Reducer._simple(
            "histogram", "histogram", (_opt_int(maxBuckets, "maxBuckets", "histogram"), minBucketWidth, maxRaw)
        )

    @staticmethod
    def autoHistogram(
        maxBuckets: int | None = None,
        minBucketWidth: float | None = None,
        maxRaw: int | None = None,
        cumulative: bool = False,
    ) -> Reducer:
        """A histogram as an N×2 list ``[[bucket lower edge, count], ...]``. Output: ``histogram``.

        Buckets as :meth:`histogram`; with ``cumulative`` the counts accumulate.
        """
        _histogram_args("autoHistogram", maxBuckets, minBucketWidth, maxRaw)
        params = (_opt_int(maxBuckets, "maxBuckets", "autoHistogram"), minBucketWidth, maxRaw, bool(cumulative))
        return Reducer._simple("autoHistogram", "histogram", params)

    @staticmethod
    def fixedHistogram(min: float, max: float, steps: int, cumulative: bool = False) -> Reducer:  # noqa: A002
        """A histogram of ``steps`` equal buckets over ``[min, max)``. Output: ``histogram``.

        The value is an N×2 list ``[[lower edge, count], ...]``.

        Values outside ``[min, max)`` are left out; with ``cumulative`` the counts accumulate.
        """
        lo = _opt_float(min, "min", "fixedHistogram")
        hi = _opt_float(max, "max", "fixedHistogram")
        n = _opt_int(steps, "steps", "fixedHistogram")
        if lo is None or hi is None or not hi > lo or not n:
            raise ArgumentError(
                f"ee.Reducer.fixedHistogram: need min < max and steps >= 1, got min={lo!r}, max={hi!r}, steps={n!r}."
            )
        return Reducer._simple("fixedHistogram", "histogram", (lo, hi, n, bool(cumulative)))

    # -- rasterstats-compatible extras (not in Earth Engine) ---------------------------------------
    @staticmethod
    def majority() -> Reducer:
        """The most frequent value (largest total covered fraction when weighted). Output: ``majority``.

        Not an Earth Engine reducer: rasterstats' and exactextract's ``majority``. Ties go to the
        smallest value, as rasterstats breaks them (``key_assoc_val`` over sorted unique values).
        """
        return Reducer._simple("majority")

    @staticmethod
    def minority() -> Reducer:
        """The least frequent value (smallest total covered fraction when weighted). Output: ``minority``.

        Not an Earth Engine reducer: rasterstats' and exactextract's ``minority``. Ties go to the
        smallest value.
        """
        return Reducer._simple("minority")

    @staticmethod
    def unique() -> Reducer:
        """The number of distinct values (rasterstats' ``unique``, exactextract's ``variety``). Output: ``unique``.

        Not an Earth Engine reducer (see :meth:`countDistinct`). None when there is no valid pixel.
        """
        return Reducer._simple("unique")

    @staticmethod
    def range() -> Reducer:
        """``max - min`` (rasterstats' ``range``). Output: ``range``. Not an Earth Engine reducer."""
        return Reducer._simple("range")

    @staticmethod
    def frac() -> Reducer:
        """The covered fraction of each distinct value: ``{value: share}``, summing to 1. Output: ``frac``.

        Not an Earth Engine reducer: exactextract's ``frac`` (coverage-weighted; pixel shares when
        unweighted). Keys as in :meth:`frequencyHistogram`.
        """
        return Reducer._simple("frac")

    # -- two inputs ---------------------------------------------------------------------------
    @staticmethod
    def linearFit() -> Reducer:
        """(Weighted) least-squares fit ``y = scale * x + offset``, inputs x then y. Outputs: ``scale``, ``offset``."""
        return Reducer((Output("scale", "linearFit.scale", (0, 1)), Output("offset", "linearFit.offset", (0, 1))), 2)

    @staticmethod
    def linearRegression(numX: int, numY: int = 1) -> Reducer:
        """(Weighted) least squares of ``numY`` dependent on ``numX`` independent inputs (no constant term).

        Outputs: ``coefficients`` (a numX × numY nested list) and ``residuals`` (the root mean square
        residual of each dependent variable). Both None when there are no more inputs than numX or the
        system is rank deficient. Add a constant band for an intercept.
        """
        nx = _opt_int(numX, "numX", "linearRegression")
        ny = _opt_int(numY, "numY", "linearRegression")
        if not nx or not ny:
            raise ArgumentError(f"ee.Reducer.linearRegression: numX and numY must be >= 1, got {nx!r}, {ny!r}.")
        ins = tuple(range(nx + ny))
        return Reducer(
            (
                Output("coefficients", "linearRegression.coefficients", ins, True, (nx, ny)),
                Output("residuals", "linearRegression.residuals", ins, True, (nx, ny)),
            ),
            nx + ny,
        )

    @staticmethod
    def sensSlope() -> Reducer:
        """Sen's slope of inputs x then y: the median of pairwise slopes. Outputs: ``slope``, ``offset``.

        ``offset`` is ``median(y) - slope * median(x)`` (scipy's ``theilslopes``). Weights are ignored.
        """
        return Reducer((Output("slope", "sensSlope.slope", (0, 1)), Output("offset", "sensSlope.offset", (0, 1))), 2)

    @staticmethod
    def pearsonsCorrelation() -> Reducer:
        """Pearson's (weighted) correlation of inputs x, y and its p-value. Outputs: ``correlation``, ``p-value``.

        The p-value uses Student's t with n - 2 degrees of freedom (n pixels), as scipy's ``pearsonr``.
        """
        return Reducer(
            (
                Output("correlation", "pearsonsCorrelation.correlation", (0, 1)),
                Output("p-value", "pearsonsCorrelation.p-value", (0, 1)),
            ),
            2,
        )

    @staticmethod
    def spearmansCorrelation() -> Reducer:
        """Spearman's rank correlation of inputs x, y (average ranks for ties). Output: ``correlation``."""
        return Reducer((Output("correlation", "spearmansCorrelation.correlation", (0, 1)),), 2)

    @staticmethod
    def kendallsCorrelation(numInputs: int = 1) -> Reducer:
        """Kendall's tau-b and its two-sided p-value. Outputs: ``tau``, ``p-value``.

        With ``numInputs=1`` x is the input's sequence number (0, 1, 2, ... in pixel or time order);
        with 2, the inputs are x then y. The p-value is the normal approximation with ties
        (scipy's ``kendalltau(method="asymptotic")``). Earth Engine documents no output names for
        this reducer; reducer uses ``tau`` and ``p-value``.
        """
        n = _opt_int(numInputs, "numInputs", "kendallsCorrelation")
        if n not in (1, 2):
            raise ArgumentError(f"ee.Reducer.kendallsCorrelation: numInputs must be 1 or 2, got {numInputs!r}.")
        ins = tuple(range(n))
        return Reducer(
            (
                Output("tau", "kendallsCorrelation.tau", ins, True, (n,)),
                Output("p-value", "kendallsCorrelation.p-value", ins, True, (n,)),
            ),
            n,
        )

    # -- combinators --------------------------------------------------------------------------
    def combine(self, reducer2: Reducer, outputPrefix: str = "", sharedInputs: bool = False) -> Reducer:
        """Run two reducers in one pass.

        The outputs are this reducer's followed by ``reducer2``'s, prefixed with ``outputPrefix``.
        With ``sharedInputs=True`` both read the same inputs; otherwise the combined reducer's
        inputs are this reducer's followed by ``reducer2``'s (so it needs one band per input and
        is not repeated per band).
        """
        if not isinstance(reducer2, Reducer):
            raise ArgumentError(f"Reducer.combine: reducer2 must be an ee.Reducer, got {reducer2!r}.")
        if sharedInputs:
            if reducer2._n_inputs != self._n_inputs:
                raise ReducerInputError(
                    f"Reducer.combine: with sharedInputs=True both reducers need the same number of inputs, "
                    f"got {self._n_inputs} and {reducer2._n_inputs}."
                )
            shift, n = 0, self._n_inputs
        else:
            shift, n = self._n_inputs, self._n_inputs + reducer2._n_inputs
        second = tuple(replace(_map(o, lambda i: i + shift), name=outputPrefix + o.name) for o in reducer2._outputs)
        return Reducer(self._outputs + second, n)

    def repeat(self, count: int) -> Reducer:
        """``count`` copies of this reducer, on successive inputs; each output is a list, one value per copy.

        Output names are this reducer's. ``ee.Reducer.mean().repeat(3)`` reads 3 bands and gives
        ``{'mean': [m0, m1, m2]}``.
        """
        k = _opt_int(count, "count", "repeat")
        if not k:
            raise ArgumentError(f"Reducer.repeat: count must be >= 1, got {count!r}.")
        n = self._n_inputs
        outs = []
        for o in self._outputs:
            kids = tuple(_map(o, lambda i, c=c: i + c * n) for c in range(k))
            outs.append(Output(o.name, "repeat", tuple(range(n * k)), o.weighted, (kids,)))
        return Reducer(tuple(outs), n * k)

    def forEach(self, outputNames: Any) -> Reducer:
        """A copy of this reducer per name, on successive inputs (as ``combine`` without shared inputs).

        A single-output reducer's outputs take the names as they are; otherwise each name prefixes the
        output names as ``<name>_<output>`` (the ``<band>_<output>`` rule of ``reduceRegion``).
        """
        names = [str(x) for x in unwrap(outputNames)]
        if not names:
            raise ArgumentError("Reducer.forEach: give at least one output name.")
        n = self._n_inputs
        outs = []
        for c, name in enumerate(names):
            for o in self._outputs:
                new = name if len(self._outputs) == 1 else f"{name}_{o.name}"
                outs.append(replace(_map(o, lambda i, c=c: i + c * n), name=new))
        return Reducer(tuple(outs), n * len(names))

    def forEachBand(self, image: Any) -> Reducer:
        """:meth:`forEach` over ``image``'s band names (read from metadata, no pixel)."""
        names = image.bandNames() if hasattr(image, "bandNames") else image
        return self.forEach(names)

    def group(self, groupField: int = 0, groupName: str = "group") -> Reducer:
        """Group the inputs by the value of input ``groupField`` and reduce each group with this reducer.

        The grouped reducer has one more input than this one (the group field, at position
        ``groupField``). Output: ``groups``, ``{'groups': [{groupName: key, <outputs>...}, ...]}``,
        groups sorted by key. ``ee.Reducer.sum().group(1, 'class')`` on bands [area, class] gives the
        area sum per class.
        """
        gf = _opt_int(groupField, "groupField", "group")
        n = self._n_inputs
        if gf is None or gf > n:
            raise ArgumentError(f"Reducer.group: groupField must be between 0 and {n}, got {groupField!r}.")
        others = [j for j in range(n + 1) if j != gf]
        kids = tuple(_map(o, lambda i: others[i]) for o in self._outputs)
        out = Output("groups", "group", tuple(range(n + 1)), True, (kids, gf, str(groupName)))
        return Reducer((out,), n + 1)

    def splitWeights(self) -> Reducer:
        """Inputs (value, weight): the weight comes from the second input, not from coverage.

        Pixels are taken centre-in; each counts with the weight band's value (pixels with weight <= 0
        or masked are left out). Only for one-input reducers.
        """
        if self._n_inputs != 1 or any(o.children() for o in self._outputs):
            raise NotImplementedError(
                f"Reducer.splitWeights is supported for one-input reducers only; this one has {self._n_inputs} "
                "inputs. Apply splitWeights to each one-input reducer, then combine them."
            )
        outs = tuple(Output(o.name, "splitWeights", (0, 1), False, ((o,),)) for o in self._outputs)
        return Reducer(outs, 2)

    def setOutputs(self, outputs: list[str]) -> Reducer:
        """Rename the outputs, in order; an output whose new name is None or empty is dropped."""
        outputs = list(unwrap(outputs))
        if len(outputs) != len(self._outputs):
            raise ArgumentError(
                f"Reducer.setOutputs: got {len(outputs)} names {outputs!r} for {len(self._outputs)} outputs "
                f"{[o.name for o in self._outputs]!r}. Give one name per output."
            )
        return Reducer(
            tuple(
                replace(o, name=str(n))
                for o, n in zip(self._outputs, outputs, strict=True)
                if n is not None and n != ""
            ),
            self._n_inputs,
        )

    def unweighted(self) -> Reducer:
        """The same reducer on centre-in pixels, each counted once."""
        return Reducer(tuple(_unweight(o) for o in self._outputs), self._n_inputs)

    def all_touched(self) -> Reducer:
        """The same reducer on every pixel the region touches, each counted once (an extension).

        This is rasterstats' ``all_touched=True`` (GDAL's rule), for every output, ``count`` included.
        Earth Engine has no such mode.

        Examples
        --------
        >>> Reducer.mean().combine(Reducer.count(), sharedInputs=True).all_touched().outputs[1].mode
        'touched'
        """
        return Reducer(tuple(_unweight(o, touched=True) for o in self._outputs), self._n_inputs)

    def getOutputs(self) -> List:
        """The output names, as an ``ee.List``."""
        return List([o.name for o in self._outputs])

    def numInputs(self) -> int:
        """How many inputs the reducer reads."""
        return self._n_inputs

    def reduce_list(self, values: Sequence[Any]) -> Any:
        """Reduce a list of plain values, as ``ee.List.reduce(reducer)`` does.

        With several inputs each element is a list of inputs. A single output is returned itself,
        several as ``{output name: value}``.

        Examples
        --------
        >>> Reducer.mean().reduce_list([1, 2, 6])
        3.0
        >>> Reducer.minMax().reduce_list([3, 1, 2])
        {'max': 3, 'min': 1}
        """
        n = self._n_inputs
        rows = [list(v) if n > 1 else [v] for v in values]
        if any(len(r) != n for r in rows):
            raise ReducerInputError(
                f"List.reduce: the reducer has {n} inputs, so each element must be a list of {n} values."
            )
        columns = [[r[i] for r in rows] for i in range(n)]
        out = reduce_columns(self, columns, [f"input{i}" for i in range(n)], where="List.reduce")
        ints = all(isinstance(x, int | np.integer) and not isinstance(x, bool) for c in columns for x in c)
        keeps = {o.name for o in self._outputs if o.stat in ("sum", "min", "max", "product", "first", "last", "mode")}
        for k, v in out.items():  # integer inputs give integer sums, minima, maxima..., as Earth Engine
            if ints and k in keeps and isinstance(v, float) and v.is_integer():
                out[k] = int(v)
        return next(iter(out.values())) if len(out) == 1 else dict(sorted(out.items()))

    def getInfo(self) -> dict:
        """A description of the reducer."""

        def one(o: Output) -> dict:
            d: dict[str, Any] = {"name": o.name, "statistic": o.stat, "inputs": list(o.inputs), "weighted": o.weighted}
            if o.children():
                d["outputs"] = [one(c) for c in o.children()]
                if o.stat == "group":
                    d["groupField"], d["groupName"] = o.params[1], o.params[2]
            elif o.params:
                d["params"] = list(o.params)
            return d

        return {"type": "Reducer", "inputs": self._n_inputs, "outputs": [one(o) for o in self._outputs]}


def _histogram_args(where: str, maxBuckets: Any, minBucketWidth: Any, maxRaw: Any) -> None:
    _opt_int(maxBuckets, "maxBuckets", where)
    _opt_float(minBucketWidth, "minBucketWidth", where)
    _opt_int(maxRaw, "maxRaw", where)


def _single_input(name: str, n: int) -> None:
    if n != 1:
        raise NotImplementedError(
            f"ee.Reducer.{name}(numInputs={n!r}) is not supported yet: only numInputs=1. "
            f"Reduce the extra bands with a separate reducer."
        )


# -- output naming ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    """One output column: its name, the bands it reads and the reducer output it comes from.

    ``bands`` maps each reducer input to an image band; ``band`` is the first.
    """

    name: str
    band: int
    output: Output
    integer: bool = False
    bands: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        if not self.bands:
            object.__setattr__(self, "bands", (self.band,))


def resolve_columns(reducer: Reducer, bands: Sequence[str], dtypes: Sequence[str], rule: str) -> list[Column]:
    """Output columns following Earth Engine's naming rules.

    ``rule`` is ``"region"`` (``reduceRegion``), ``"regions"`` (``reduceRegions``), ``"collection"``
    (``ImageCollection.reduce``) or ``"columns"`` (``FeatureCollection.reduceColumns``). A one-input
    reducer is repeated for each band: a single output is named after the band, several give
    ``<band>_<output>``, except that ``reduceRegions`` on a one-band image uses the output names and
    ``ImageCollection.reduce`` always gives ``<band>_<output>``. A reducer with n > 1 inputs reads
    bands 1..n and keeps its output names; so does ``reduceColumns``. A column is ``integer`` when its
    statistic is a whole number (``count``) or one of the inputs (``min``) of an integer band.

    Examples
    --------
    >>> r = Reducer.mean().combine(Reducer.max(), sharedInputs=True)
    >>> [c.name for c in resolve_columns(r, ["NDVI"], ["float32"], "regions")]
    ['mean', 'max']
    >>> [c.name for c in resolve_columns(r, ["NDVI"], ["float32"], "region")]
    ['NDVI_mean', 'NDVI_max']
    >>> [c.name for c in resolve_columns(Reducer.mean(), ["a", "b"], ["f4", "f4"], "regions")]
    ['a', 'b']
    >>> [c.name for c in resolve_columns(Reducer.median(), ["NDVI"], ["f4"], "collection")]
    ['NDVI_median']
    >>> [(c.name, c.integer) for c in resolve_columns(Reducer.minMax(), ["lc"], ["uint8"], "region")]
    [('lc_min', True), ('lc_max', True)]
    """
    if not isinstance(reducer, Reducer):
        raise ArgumentError(f"expected an ee.Reducer such as ee.Reducer.mean(), got {reducer!r}.")
    outs = reducer.outputs
    n_in = reducer.n_inputs

    def integer(o: Output, band: int) -> bool:
        agg = AGGREGATIONS[o.stat]
        return agg.integer or (agg.keeps_type and np.dtype(dtypes[band]).kind in "iub")

    if rule == "columns":
        return [Column(o.name, o.input, o, AGGREGATIONS[o.stat].integer, tuple(range(n_in))) for o in outs]
    if n_in == 1:
        cols = []
        for b, name in enumerate(bands):
            for o in outs:
                if rule == "collection":
                    col = f"{name}_{o.name}"
                elif rule == "regions" and len(bands) == 1:
                    col = o.name
                elif len(outs) == 1:
                    col = name
                else:
                    col = f"{name}_{o.name}"
                cols.append(Column(col, b, o, integer(o, b), (b,)))
        return cols
    if len(bands) != n_in:
        raise ReducerInputError(
            f"the reducer has {n_in} inputs but the image has {len(bands)} band(s) {list(bands)!r}. "
            f"Select {n_in} bands, or combine reducers with sharedInputs=True to repeat them for each band."
        )
    return [Column(o.name, o.input, o, integer(o, o.input), tuple(range(n_in))) for o in outs]


def time_columns(reducer: Reducer, band_names: Sequence[str], where: str = "ImageCollection.reduce") -> list[Column]:
    """The output bands of ``ImageCollection.reduce``: Earth Engine's names, checked to be numbers.

    Examples
    --------
    >>> [c.name for c in time_columns(Reducer.minMax(), ["B4"])]
    ['B4_min', 'B4_max']
    >>> time_columns(Reducer.toList(), ["B4"])
    Traceback (most recent call last):
    ...
    reducer.errors.ReducerInputError: ImageCollection.reduce: the output 'B4_list' (toList) is a list or ...
    """
    columns = resolve_columns(reducer, list(band_names), ["float64"] * len(band_names), "collection")
    for c in columns:
        if not AGGREGATIONS[c.output.stat].scalar:
            raise ReducerInputError(
                f"{where}: the output {c.name!r} ({c.output.stat}) is a list or dictionary per pixel, which an "
                "image band cannot hold. Reduce regions instead (reduceRegion/reduceRegions), or use a reducer "
                "with number outputs."
            )
    return columns


# -- reducing columns of plain values -------------------------------------------------------------------


def _null(v: Any) -> bool:
    return v is None or (isinstance(v, float | np.floating) and math.isnan(v))


def _number(v: Any) -> bool:
    return isinstance(v, int | float | np.integer | np.floating) and not isinstance(v, bool)


def _encode(values: Sequence[Any]) -> tuple[np.ndarray, list[Any] | None, Any]:
    """A column as floats (NaN for null), or as codes with their sorted labels when not all numbers.

    Also returns the first value that is not a number (None when all are).
    """
    vals = list(values)
    first_bad = next((v for v in vals if not _null(v) and not _number(v)), None)
    if first_bad is None:
        return np.array([np.nan if _null(v) else float(v) for v in vals], dtype="f8"), None, None
    present = [v for v in vals if not _null(v)]
    try:
        distinct = list(set(present))
        key = None
    except TypeError:  # unhashable values (lists, dicts): told apart by their repr
        by_repr = {repr(v): v for v in present}
        distinct, key = list(by_repr.values()), repr
    try:
        labels = sorted(distinct, key=key)
    except TypeError:  # values of several types: a fixed order
        labels = sorted(distinct, key=repr)
    ident = key or (lambda v: v)
    index = {ident(v): i for i, v in enumerate(labels)}
    codes = np.array([np.nan if _null(v) else index[ident(v)] for v in vals], dtype="f8")
    return codes, labels, first_bad


def _check_labels(output: Output, bands: Sequence[int], bad: Sequence[Any], names: Sequence[str], where: str) -> None:
    """Raise when a statistic that does arithmetic reads a column that is not all numbers."""
    agg = AGGREGATIONS[output.stat]
    if agg.compose is not None:
        for c in output.children():
            _check_labels(c, bands, bad, names, where)
        return
    if agg.labels:
        return
    for i in output.inputs:
        b = bands[i]
        if bad[b] is not None:
            raise ArgumentError(
                f"{where}: property {names[b]!r} is not numeric ({bad[b]!r} is not a number); {output.stat!r} "
                "needs numbers. Reduce a numeric property."
            )


def reduce_columns(
    reducer: Reducer,
    columns: Sequence[Sequence[Any]],
    names: Sequence[str],
    weights: Sequence[float] | np.ndarray | None = None,
    where: str = "reduceColumns",
) -> dict[str, Any]:
    """Reduce columns of plain values (one per reducer input) to ``{output name: value}``.

    This is ``FeatureCollection.reduceColumns`` on the property columns: one segment, its entries
    the rows. Numbers reduce as numbers; other values (strings) as labels, for the statistics that do
    no arithmetic (``frequencyHistogram``, ``toList``, ``countDistinct``, ``first``, ``mode``, ``min``,
    ...). Nulls (None or NaN) are inputs that ``countEvery``, ``first`` and ``last`` see; the others
    skip them. ``weights`` weight each row (rows with a NaN or non-positive weight are left out).
    Values are Earth Engine's: None for no value, whole-number statistics as ints.

    Parameters
    ----------
    reducer
        The ``ee.Reducer``.
    columns
        One sequence of values per reducer input, all of the same length.
    names
        The name of each column (the properties), for messages.
    weights
        One weight per row, or None for weight 1.
    where
        The calling method, for messages.

    Examples
    --------
    >>> reduce_columns(Reducer.mean().combine(Reducer.count(), sharedInputs=True), [[1, 2, None, 6]], ["v"])
    {'mean': 3.0, 'count': 3}
    >>> reduce_columns(Reducer.frequencyHistogram(), [["a", "b", "a"]], ["k"])
    {'histogram': {'a': 2, 'b': 1}}
    >>> reduce_columns(Reducer.sum(), [[1.0, 3.0]], ["v"], weights=[0.5, 1.0])
    {'sum': 3.5}
    >>> reduce_columns(Reducer.max(), [[]], ["v"])
    {'max': None}
    >>> reduce_columns(Reducer.mean(), [["a", 1]], ["v"])
    Traceback (most recent call last):
    ...
    reducer.errors.ArgumentError: reduceColumns: property 'v' is not numeric ('a' is not a number); 'mean' needs ...
    """
    if not isinstance(reducer, Reducer):
        raise ArgumentError(f"{where}: expected an ee.Reducer such as ee.Reducer.sum(), got {reducer!r}.")
    names = [str(n) for n in names]
    n_in = reducer.n_inputs
    if len(columns) != n_in or len(names) != n_in:
        raise ReducerInputError(
            f"{where}: the reducer has {n_in} input(s) but {len(names)} selector(s) {names!r} were given. "
            "Give one property name per input."
        )
    n = len(columns[0]) if columns else 0
    if any(len(c) != n for c in columns):
        raise ArgumentError(f"{where}: the columns have different lengths {[len(c) for c in columns]!r}.")
    rows, labels, bad = [], [], []
    for col in columns:
        v, lab, first_bad = _encode(col)
        rows.append(v)
        labels.append(None if lab is None else np.array(lab, dtype=object))
        bad.append(first_bad)
    weight = np.ones(n) if weights is None else np.asarray(weights, dtype="f8")
    if weight.shape != (n,):
        raise ArgumentError(f"{where}: {weight.shape[0] if weight.ndim else 1} weights for {n} rows.")
    keep = ~np.isnan(weight) & (weight > 0)
    values = np.vstack(rows)[:, keep] if rows else np.empty((0, int(keep.sum())))
    seg = Segments(np.array([0, int(keep.sum())]), weight[keep], values, nulls=True, labels=labels)
    cols = resolve_columns(reducer, names, ["float64"] * n_in, "columns")
    kinds = set().union(*needed_kinds([c.output for c in cols]).values()) if cols else set()
    ctx = SegmentsContext(seg, sorted(kinds))
    out = {}
    for c in cols:
        _check_labels(c.output, c.bands, bad, names, where)
        v = evaluate(c.output, c.bands, ctx)[0]
        if (
            AGGREGATIONS[c.output.stat].keeps_type
            and isinstance(v, float)
            and labels[c.bands[c.output.input]] is not None
        ):
            v = seg.label(c.bands[c.output.input], v)
        out[c.name] = python_value(v, c.integer)
    return to_info(out)


def as_reducer(value: Any, where: str = "reducer") -> Any:
    """A reducer, or the reducer named by a string (``'mean'`` → ``ee.Reducer.mean()``), as Earth Engine promotes it.

    Other values are returned as given (the method checks them).

    Examples
    --------
    >>> as_reducer("first") == Reducer.first()
    True
    >>> as_reducer("nope")
    Traceback (most recent call last):
    ...
    reducer.errors.ArgumentError: reducer: 'nope' is not the name of an ee.Reducer without arguments ...
    """
    if not isinstance(value, str):
        return value
    factory = getattr(Reducer, value, None)
    if factory is None or value.startswith("_") or not callable(factory):
        raise ArgumentError(
            f"{where}: {value!r} is not the name of an ee.Reducer without arguments (such as 'mean', 'first', "
            "'sum'). Give the name of a Reducer constructor or an ee.Reducer object."
        )
    try:
        out = factory()
    except TypeError as exc:
        raise ArgumentError(
            f"{where}: ee.Reducer.{value} needs arguments, so it cannot be given by name. "
            f"Give ee.Reducer.{value}(...) instead."
        ) from exc
    if not isinstance(out, Reducer):
        raise ArgumentError(f"{where}: {value!r} does not name an ee.Reducer constructor.")
    return out


register_promotion("Reducer", as_reducer)
