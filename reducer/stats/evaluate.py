"""The output evaluator: one reducer output's values from the data a context holds.

A :class:`Context` gives the data of ``n_seg`` segments (features, pixels or one table) per coverage
mode: dense intermediates for decomposable statistics (:meth:`Context.dense`), the gathered entries
for the others (:meth:`Context.segments`) and, for pixels over time, the dense stack itself
(:meth:`Context.stack`). :func:`evaluate` picks what an output's blueprint
(:mod:`reducer.stats.aggregations`) needs, and :func:`needed_kinds` says beforehand which
intermediates to compute. Three contexts exist:

- the engine's, over per-feature partials of image blocks (``reduceRegion(s)``);
- :class:`SegmentsContext`, over given segments (``reduceColumns``, regrouped entries);
- :class:`StackContext`, over a ``(n_images, n_bands, n_pixels)`` stack (``ImageCollection.reduce``
  and its shortcuts ``mean()``, ``median()``, ...).

The composite outputs live here, as blueprints whose ``compose`` evaluates their children:
``repeat`` (a list of the children's values), ``group`` (the children on the entries of each group
value) and ``splitWeights`` (the children weighted by a second input). :data:`AGGREGATIONS` holds
every blueprint: the statistics and the composites.

The evaluator reads outputs through :class:`OutputLike` (the DSL's ``reducer.reducers.Output`` is
one); it knows nothing of output names beyond what a ``group`` writes into its dictionaries.

Examples
--------
>>> from dataclasses import dataclass
>>> @dataclass(frozen=True)
... class Out:
...     name: str
...     stat: str
...     inputs: tuple = (0,)
...     params: tuple = ()
...     mode: str = "weighted"
>>> v = np.array([[1.0, 2.0], [3.0, np.nan], [5.0, np.nan]]).reshape(3, 1, 2)
>>> ctx = StackContext(v, needed_kinds([Out("mean", "mean")])["weighted"])
>>> evaluate(Out("mean", "mean"), (0,), ctx).tolist()
[3.0, 2.0]
>>> evaluate(Out("p50", "percentile", params=(50.0,)), (0,), ctx).tolist()
[3.0, 2.0]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np

from .aggregations import STATISTICS, Aggregation
from .kernels import stack_stats
from .segments import Segments, dense_from_segments, python_value, to_number

__all__ = [
    "AGGREGATIONS",
    "COMPOSITES",
    "Context",
    "OutputLike",
    "SegmentsContext",
    "StackContext",
    "evaluate",
    "gather_modes",
    "needed_kinds",
]


class OutputLike(Protocol):
    """What the evaluator reads of a reducer output.

    A composite's ``params`` hold its child outputs first: ``(children,)`` for ``repeat`` and
    ``splitWeights``, ``(children, group input, group name)`` for ``group``.
    """

    @property
    def name(self) -> str:
        """The output's name (``group`` writes its children's names)."""

    @property
    def stat(self) -> str:
        """The statistic: a key of :data:`AGGREGATIONS`."""

    @property
    def inputs(self) -> tuple[int, ...]:
        """The reducer inputs the output reads, in order."""

    @property
    def params(self) -> tuple:
        """The statistic's parameters."""

    @property
    def mode(self) -> str:
        """The coverage mode: ``"weighted"``, ``"centre"`` or ``"touched"``."""


class Context:
    """Where statistics find their data: dense intermediates and gathered segments, per coverage mode."""

    n_seg: int
    nulls: bool = False

    def dense(self, mode: str) -> dict[str, np.ndarray]:  # pragma: no cover - interface
        """``{kind: (n_seg, n_bands)}`` decomposable intermediates."""
        raise NotImplementedError

    def segments(self, mode: str) -> Segments:  # pragma: no cover - interface
        """The gathered entries of every band."""
        raise NotImplementedError

    def stack(self, mode: str) -> np.ndarray | None:
        """The entries as a dense ``(n_entries, n_bands, n_seg)`` stack of weight 1, if the context has one."""
        return None


class SegmentsContext(Context):
    """A context over given segments: their weights for weighted outputs, 1 for unweighted ones.

    Examples
    --------
    >>> seg = Segments(np.array([0, 2]), np.array([1.0, 3.0]), np.array([[2.0, 4.0]]))
    >>> ctx = SegmentsContext(seg, ["w", "wx"])
    >>> ctx.dense("weighted")["wx"].tolist(), ctx.dense("centre")["wx"].tolist()
    ([[14.0]], [[6.0]])
    """

    def __init__(self, seg: Segments, kinds: Sequence[str]):
        self.seg = seg
        self.kinds = tuple(kinds)
        self.n_seg = seg.n_seg
        self.nulls = seg.nulls
        self._dense: dict[str, dict[str, np.ndarray]] = {}
        self._unit: Segments | None = None

    def dense(self, mode: str) -> dict[str, np.ndarray]:  # noqa: D102
        if mode not in self._dense:
            self._dense[mode] = dense_from_segments(self.segments(mode), self.kinds)
        return self._dense[mode]

    def segments(self, mode: str) -> Segments:  # noqa: D102
        if mode == "weighted" or bool(np.all(self.seg.weight == 1)):
            return self.seg
        if self._unit is None:
            s = self.seg
            self._unit = Segments(s.offsets, np.ones(s.n), s.values, nulls=s.nulls, labels=s.labels)
        return self._unit


class StackContext(Context):
    """A context over a dense stack: segment ``k`` is column ``k``, its entries weigh 1 (pixels over time).

    Every coverage mode sees the same data. Decomposable intermediates come from
    :func:`reducer.stats.kernels.stack_stats`; gathered statistics use their blueprint's ``stack``
    kernel when it has one, else the entries gathered into :class:`Segments` (built once).

    Parameters
    ----------
    values
        ``(n_entries, n_rows, n_seg)``, NaN where masked.
    kinds
        The decomposable intermediates to compute (``vals`` is ignored).

    Examples
    --------
    >>> ctx = StackContext(np.array([[[1.0, np.nan]], [[3.0, np.nan]]]), ["w", "wx"])
    >>> ctx.dense("weighted")["w"].tolist(), ctx.segments("centre").counts.tolist()
    ([[2.0], [0.0]], [2, 0])
    """

    def __init__(self, values: np.ndarray, kinds: Sequence[str]):
        self.values = np.asarray(values, dtype="f8")
        if self.values.ndim != 3:
            raise ValueError(
                f"StackContext: expected (n_entries, n_rows, n_seg) values, got shape {self.values.shape}."
            )
        self.kinds = tuple(k for k in kinds if k != "vals")
        self.n_seg = self.values.shape[2]
        self._dense: dict[str, np.ndarray] | None = None
        self._segments: Segments | None = None

    def dense(self, mode: str) -> dict[str, np.ndarray]:  # noqa: D102
        if self._dense is None:
            self._dense = stack_stats(self.values, self.kinds)
        return self._dense

    def segments(self, mode: str) -> Segments:  # noqa: D102
        if self._segments is None:
            self._segments = Segments.from_stack(self.values)
        return self._segments

    def stack(self, mode: str) -> np.ndarray:  # noqa: D102
        return self.values


def needed_kinds(outputs: Sequence[OutputLike]) -> dict[str, set[str]]:
    """``{mode: intermediate kinds}`` that the outputs need (``vals`` for gathered statistics).

    Examples
    --------
    >>> from reducer.reducers import Reducer
    >>> r = Reducer.mean().combine(Reducer.median(), sharedInputs=True).combine(Reducer.count(), sharedInputs=True)
    >>> {m: sorted(k) for m, k in needed_kinds(r.outputs).items()}
    {'weighted': ['vals', 'w', 'wx'], 'centre': ['w']}
    """
    out: dict[str, set[str]] = {}
    for o in outputs:
        agg = AGGREGATIONS[o.stat]
        if agg.compose is not None:
            if agg.regroups:
                for m in gather_modes(o):
                    out.setdefault(m, set()).add("vals")
            else:
                for m, ks in needed_kinds(_children(o)).items():
                    out.setdefault(m, set()).update(ks)
            continue
        out.setdefault(o.mode, set()).update(agg.needs)
    return out


def evaluate(output: OutputLike, bands: Sequence[int], ctx: Context) -> np.ndarray:
    """One output's values ``(n_seg,)``: floats (NaN for none) or objects (None for none).

    ``bands`` maps the reducer's inputs to rows of the context's data (image bands).

    Examples
    --------
    >>> from reducer.reducers import Reducer
    >>> seg = Segments(np.array([0, 3, 3]), np.ones(3), np.array([[2.0, 9.0, 4.0]]))
    >>> out = Reducer.median().outputs[0]
    >>> evaluate(out, (0,), SegmentsContext(seg, ["vals"])).tolist()
    [4.0, nan]
    """
    agg = AGGREGATIONS[output.stat]
    if agg.compose is not None:
        return agg.compose(output, bands, ctx)
    rows = [bands[i] for i in output.inputs]
    with_nulls = ctx.nulls and agg.keeps_nulls
    if not agg.gathered and not with_nulls:
        return agg.finalize(ctx.dense(output.mode))[:, rows[0]]
    if with_nulls and agg.segment_null is not None:
        return agg.segment_null(ctx.segments(output.mode).select(rows, keep_null=True), output.params)
    if agg.stack is not None and not with_nulls and len(rows) == 1:
        table = ctx.stack(output.mode)
        if table is not None:
            return agg.stack(table[:, rows[0]], output.params)
    seg = ctx.segments(output.mode).select(rows, keep_null=agg.keeps_nulls, force=agg.select_all)
    return agg.segment(seg, output.params)


# -- composite outputs ---------------------------------------------------------------------------------


def _children(output: OutputLike) -> tuple:
    return tuple(output.params[0])


def _leaf_modes(outputs: Sequence[OutputLike]) -> set[str]:
    modes: set[str] = set()
    for o in outputs:
        agg = AGGREGATIONS[o.stat]
        modes |= gather_modes(o) if agg.compose is not None else {o.mode}
    return modes


def gather_modes(output: OutputLike) -> set[str]:
    """The coverage modes whose entries a composite output reads (its children's, or its own rule).

    Examples
    --------
    >>> from reducer.reducers import Reducer
    >>> sorted(gather_modes(Reducer.sum().combine(Reducer.count(), sharedInputs=True).group(1).outputs[0]))
    ['centre', 'weighted']
    """
    agg = AGGREGATIONS[output.stat]
    if agg.modes is not None:
        return agg.modes(output)
    return _leaf_modes(_children(output))


def _repeat(output: OutputLike, bands: Sequence[int], ctx: Context) -> np.ndarray:
    children = _children(output)
    vals = [evaluate(c, bands, ctx) for c in children]
    ints = [AGGREGATIONS[c.stat].integer for c in children]
    out = np.full(ctx.n_seg, None, dtype=object)
    for k in range(ctx.n_seg):
        out[k] = [python_value(v[k], i) for v, i in zip(vals, ints, strict=True)]
    return out


def _regrouped(base: Segments, group_row: int) -> tuple[Segments, np.ndarray, np.ndarray]:
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
    seg = Segments(offsets, sub.weight[order], sub.values[:, order], nulls=sub.nulls, labels=sub.labels)
    return seg, sid[starts], key[starts]


_ZERO_WHEN_EMPTY = ("count", "countEvery", "countDistinct")


def _group(output: OutputLike, bands: Sequence[int], ctx: Context) -> np.ndarray:
    children, group_input, group_name = output.params
    grow = bands[group_input]
    modes = sorted(_leaf_modes(children)) or ["weighted"]
    main = "weighted" if "weighted" in modes else modes[0]
    kinds = set().union(*needed_kinds(children).values()) if children else set()
    per_mode = {}
    for m in modes:
        seg, psid, pkey = _regrouped(ctx.segments(m), grow)
        per_mode[m] = (SegmentsContext(seg, sorted(kinds)), psid, pkey)
    sub, psid, pkey = per_mode[main]
    base_labels = ctx.segments(main).labels
    results: list[tuple[str, np.ndarray, bool]] = []
    for c in children:
        sctx, csid, ckey = per_mode[c.mode if c.mode in per_mode else main]
        v = evaluate(c, bands, sctx)
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
    out = np.empty(ctx.n_seg, dtype=object)
    for k in range(ctx.n_seg):  # Earth Engine: a region without a valid pixel has no group, ``[]``
        out[k] = []
    bounds = np.searchsorted(psid, np.arange(ctx.n_seg + 1))
    labels = base_labels[grow] if grow < len(base_labels) else None
    for k in np.flatnonzero(np.diff(bounds) > 0):
        groups = []
        for i in range(bounds[k], bounds[k + 1]):
            key = labels[int(pkey[i])] if labels is not None else to_number(pkey[i])
            entry = {group_name: key}
            for name, v, integer in results:
                entry[name] = python_value(v[i], integer)
            groups.append(entry)
        out[k] = groups
    return out


def _split_weights(output: OutputLike, bands: Sequence[int], ctx: Context) -> np.ndarray:
    (child,) = _children(output)  # the DSL splits each output on its own
    base = ctx.segments("centre").select([bands[output.inputs[0]], bands[output.inputs[1]]])
    w = base.values[1]
    keep = w > 0
    sub = base.take(keep, rows=[0])
    weighted = Segments(sub.offsets, w[keep], sub.values, nulls=sub.nulls, labels=sub.labels)
    kinds = set().union(*needed_kinds([child]).values())
    # the child reads its (one) input from row 0 of the reweighted entries
    return evaluate(child, (0,) * (max(child.inputs) + 1), SegmentsContext(weighted, sorted(kinds)))


COMPOSITES: dict[str, Aggregation] = {
    a.name: a
    for a in [
        Aggregation("repeat", compose=_repeat, scalar=False, labels=True),
        Aggregation("group", compose=_group, regroups=True, scalar=False, labels=True),
        Aggregation("splitWeights", compose=_split_weights, regroups=True, modes=lambda o: {"centre"}),
    ]
}
"""The composite outputs' blueprints, by id."""

AGGREGATIONS: dict[str, Aggregation] = {**STATISTICS, **COMPOSITES}
"""Every blueprint by id (the ``stat`` of a reducer output): :data:`STATISTICS` and :data:`COMPOSITES`."""
