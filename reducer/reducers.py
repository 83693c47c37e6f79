"""``ee.Reducer``: the reducer DSL.

A reducer is an immutable list of outputs. Each output names a statistic
(:mod:`reducer.aggregations`), the reducer input it reads and whether it is weighted.
Nothing here touches pixels; the engine turns a reducer into one pass over each block.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from .aggregations import AGGREGATIONS
from .errors import ArgumentError, ReducerInputError
from .values import List

__all__ = ["Reducer", "Output"]


@dataclass(frozen=True)
class Output:
    """One output of a reducer."""

    name: str
    stat: str
    input: int
    weighted: bool = True

    @property
    def mode(self) -> str:
        """The coverage mode the output needs: ``"weighted"`` or ``"centre"``."""
        agg = AGGREGATIONS[self.stat]
        return "weighted" if self.weighted and not agg.centre_only else "centre"


class Reducer:
    """An Earth Engine reducer.

    Build one with the constructors (``ee.Reducer.mean()``) and the combinators
    (``combine``, ``setOutputs``, ``unweighted``).

    Examples
    --------
    >>> r = Reducer.mean().combine(Reducer.max(), sharedInputs=True)
    >>> r.getOutputs().getInfo()
    ['mean', 'max']
    >>> Reducer.minMax().combine(Reducer.count(), "n_").getOutputs().getInfo()
    ['min', 'max', 'n_count']
    >>> Reducer.mean().combine(Reducer.max()).numInputs()
    2
    """

    __slots__ = ("_outputs", "_n_inputs")

    def __init__(self, outputs: tuple[Output, ...], n_inputs: int = 1):
        object.__setattr__(self, "_outputs", tuple(outputs))
        object.__setattr__(self, "_n_inputs", int(n_inputs))

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("Reducer objects are immutable; methods return new reducers")

    def __repr__(self) -> str:
        outs = ", ".join(f"{o.name}={o.stat}({o.input}{'' if o.weighted else ', unweighted'})" for o in self._outputs)
        return f"ee.Reducer<{outs}; inputs={self._n_inputs}>"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Reducer) and (self._outputs, self._n_inputs) == (
            other._outputs,
            other._n_inputs,
        )

    def __hash__(self) -> int:
        return hash((self._outputs, self._n_inputs))

    # -- constructors -------------------------------------------------------------------------
    @staticmethod
    def _simple(stat: str, name: str | None = None) -> Reducer:
        return Reducer((Output(name or stat, stat, 0),))

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
        second = tuple(replace(o, name=outputPrefix + o.name, input=o.input + shift) for o in reducer2._outputs)
        return Reducer(self._outputs + second, n)

    def setOutputs(self, outputs: list[str]) -> Reducer:
        """Rename the outputs, in order."""
        outputs = list(outputs)
        if len(outputs) != len(self._outputs):
            raise ArgumentError(
                f"Reducer.setOutputs: got {len(outputs)} names {outputs!r} for {len(self._outputs)} outputs "
                f"{[o.name for o in self._outputs]!r}. Give one name per output."
            )
        return Reducer(
            tuple(replace(o, name=str(n)) for o, n in zip(self._outputs, outputs, strict=True)),
            self._n_inputs,
        )

    def unweighted(self) -> Reducer:
        """The same reducer on centre-in pixels, each counted once."""
        return Reducer(tuple(replace(o, weighted=False) for o in self._outputs), self._n_inputs)

    def getOutputs(self) -> List:
        """The output names, as an ``ee.List``."""
        return List([o.name for o in self._outputs])

    def numInputs(self) -> int:
        """How many inputs the reducer reads."""
        return self._n_inputs

    def getInfo(self) -> dict:
        """A description of the reducer."""
        return {
            "type": "Reducer",
            "inputs": self._n_inputs,
            "outputs": [
                {"name": o.name, "statistic": o.stat, "input": o.input, "weighted": o.weighted} for o in self._outputs
            ],
        }


def _single_input(name: str, n: int) -> None:
    if n != 1:
        raise NotImplementedError(
            f"ee.Reducer.{name}(numInputs={n!r}) is not supported yet: only numInputs=1. "
            f"Reduce the extra bands with a separate reducer."
        )
