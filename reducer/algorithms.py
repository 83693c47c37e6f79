"""``ee.Algorithms``: Earth Engine's generic algorithms that make sense locally (``If``, ``IsEqual``).

``reducer.Algorithms`` is this module, so ``ee.Algorithms.If(...)`` runs as written. Only the branch
chosen is evaluated, as in Earth Engine. ``ee.Algorithms.Landsat`` and the other sensor-specific
algorithms are not here.

Examples
--------
>>> from reducer.values import Number
>>> If(Number(3).gt(2), "big", "small").getInfo()
'big'
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from .values import ComputedObject, Number, plain_value, to_info

__all__ = ["If", "IsEqual", "truthy"]


def truthy(value: Any) -> bool:
    """Earth Engine's truth of a condition: 0, NaN, null and empty strings, lists and dicts are false.

    Examples
    --------
    >>> [truthy(v) for v in (0, float("nan"), None, "", [], {}, 1, "a", [0])]
    [False, False, False, False, False, False, True, True, True]
    """
    value = plain_value(value)
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return not (value == 0 or (isinstance(value, float) and math.isnan(value)))
    if isinstance(value, str | list | tuple | Mapping):
        return len(value) > 0
    try:
        import numpy as np

        if isinstance(value, np.generic):
            return truthy(value.item())
    except ImportError:  # pragma: no cover - numpy is a dependency
        pass
    return True


def If(condition: Any = None, trueCase: Any = None, falseCase: Any = None) -> ComputedObject:  # noqa: N802
    """``trueCase`` if ``condition`` is true (see :func:`truthy`), else ``falseCase``; only that one is evaluated.

    The result is an untyped computed object, as in Earth Engine: cast it (``ee.Number(...)``,
    ``ee.Image(...)``, ``ee.FeatureCollection(...)``) to use it. Images, features and collections
    come back as they are; values evaluate to plain Python.

    Examples
    --------
    >>> from reducer.values import Number
    >>> Number(If(0, 1, Number(2).add(3))).getInfo()
    5
    >>> If(None, "yes", "no").getInfo()
    'no'
    """

    def run() -> Any:
        return plain_value(trueCase if truthy(condition) else falseCase)

    return ComputedObject._lazy(run)


def IsEqual(left: Any = None, right: Any = None) -> Number:  # noqa: N802
    """True if ``left`` and ``right`` are equal values (compared as ``getInfo()`` gives them).

    Examples
    --------
    >>> IsEqual([1, 2], [1, 2]).getInfo(), IsEqual("a", None).getInfo()
    (True, False)
    """
    return Number._lazy(lambda: to_info(left) == to_info(right))
