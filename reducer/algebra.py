"""Band-wise image algebra: Earth Engine's operators, masks, casts, generated images and projections.

Every function here takes and returns :class:`~reducer.raster.Raster` objects whose bands are lazy: a band's
``fn(grid, resampling)`` evaluates its operands on the requested grid (Earth Engine computes in the
output projection) and combines them block by block with :func:`dask.array.map_blocks`. Nothing
reads a pixel until the engine computes.

Rules, as Earth Engine documents them:

- **Band matching.** An image with one band is used against every band of the other; images with
  the same number of bands are used pairwise in their natural order (not by name). The output
  bands are named after the longer input, or after the first input when both have as many bands.
  A number is a one-band constant image named ``constant``.
- **Masks.** A pixel masked in any operand is masked in the result (masked pixels are NaN).
  Comparisons and logical operators re-apply the masks, since ``NaN > 1`` is False.
- **Properties.** Arithmetic, comparisons, casts and ``normalizedDifference`` return images without
  the input's properties (copy them with ``copyProperties``, as in Earth Engine); ``updateMask``,
  ``unmask``, ``where``, ``clip``, ``selfMask``, ``mask``, ``reproject`` and ``resample`` keep them.
- **Division** by zero gives 0 (Earth Engine's ``Image.divide``), and so does ``mod`` by zero.
  Operations whose result is not a number (``sqrt(-1)``, ``log(-1)``) mask the pixel.
- Pixel values are held as floats; integer types are bookkeeping (``bandTypes``, integer outputs of
  ``min``/``max``). Bitwise operators truncate their inputs to 64-bit integers.
"""

from __future__ import annotations

import math
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache, partial
from typing import Any, Literal

import dask.array as da
import numpy as np
from dask.base import tokenize
from dask.highlevelgraph import HighLevelGraph

from .errors import ArgumentError, BandError, CRSError
from .geometry import as_geometry
from .grid import Grid, crs_string, norm_crs, resolve_grid
from .raster import Band, Raster, align, block_window, constant_band, generated, memo, select_bands
from .raster import reproject as warp
from .values import ComputedObject, List, Number, String, unwrap

__all__ = [
    "Projection",
    "as_raster",
    "binary",
    "unary",
    "normalized_difference",
    "update_mask",
    "get_mask",
    "set_mask",
    "self_mask",
    "unmask",
    "where",
    "clip",
    "constant",
    "metadata",
    "pixel_area",
    "pixel_lon_lat",
    "cast",
    "cast_bands",
    "projection",
    "reproject",
    "resample",
    "select_value",
    "clamp",
    "unit_scale",
    "remap",
    "interpolate",
]

BLOCK = 1024
F8 = np.dtype("f8")
_META = np.empty((0, 0), F8)

# -- pixel operations (numpy, one block at a time) ---------------------------------------------------


def _masked_any(*xs: np.ndarray) -> np.ndarray:
    bad = np.isnan(xs[0])
    for x in xs[1:]:
        bad = bad | np.isnan(x)
    return bad


def _divide(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    zero = b == 0
    out = a / np.where(zero, 1.0, b)
    return np.where(zero & ~np.isnan(a), 0.0, out)


def _mod(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    zero = b == 0
    out = np.fmod(a, np.where(zero, 1.0, b))  # the sign of the dividend, as Java's %
    return np.where(zero & ~np.isnan(a), 0.0, out)


def _compare(fn: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    def op(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return np.where(_masked_any(a, b), np.nan, fn(a, b).astype(F8))

    return op


def _to_int(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    bad = ~np.isfinite(a)
    return np.trunc(np.where(bad, 0.0, a)).astype(np.int64), bad


def _bitwise(
    fn: Callable[[np.ndarray, np.ndarray], np.ndarray], shift: bool = False
) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    def op(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        ai, bad_a = _to_int(a)
        bi, bad_b = _to_int(b)
        if shift:
            bi = np.clip(bi, 0, 63)
        out = fn(ai, bi).astype(F8)
        return np.where(bad_a | bad_b, np.nan, out)

    return op


def _bitwise_not(a: np.ndarray) -> np.ndarray:
    ai, bad = _to_int(a)
    return np.where(bad, np.nan, np.invert(ai).astype(F8))


def _not(a: np.ndarray) -> np.ndarray:
    return np.where(np.isnan(a), np.nan, (a == 0).astype(F8))


def _round(a: np.ndarray) -> np.ndarray:
    return np.floor(a + 0.5)  # half up, as Java's Math.round (numpy's round is half to even)


def _nd(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    s = a + b
    out = (a - b) / np.where(s == 0, 1.0, s)
    return np.where((s == 0) | (a < 0) | (b < 0), np.nan, out)


def _update_mask(a: np.ndarray, m: np.ndarray) -> np.ndarray:
    return np.where(np.isnan(m) | (m == 0), np.nan, a)


def _get_mask(a: np.ndarray) -> np.ndarray:
    return (~np.isnan(a)).astype(F8)


def _set_mask(a: np.ndarray, m: np.ndarray) -> np.ndarray:
    valid = ~np.isnan(m) & (m != 0)
    return np.where(valid, np.where(np.isnan(a), 0.0, a), np.nan)


def _self_mask(a: np.ndarray) -> np.ndarray:
    return np.where(a == 0, np.nan, a)


def _unmask(a: np.ndarray, v: np.ndarray, inside: np.ndarray | None = None) -> np.ndarray:
    fill = np.isnan(a) if inside is None else np.isnan(a) & (inside != 0)
    return np.where(fill, v, a)


def _where(a: np.ndarray, t: np.ndarray, v: np.ndarray) -> np.ndarray:
    use = ~np.isnan(a) & ~np.isnan(t) & (t != 0) & ~np.isnan(v)
    return np.where(use, v, a)


def _select(c: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return np.where(np.isnan(c), np.nan, np.where(c != 0, x, y))


_OPS: dict[str, Callable[..., np.ndarray]] = {
    # binary arithmetic
    "add": np.add,
    "subtract": np.subtract,
    "multiply": np.multiply,
    "divide": _divide,
    "mod": _mod,
    "pow": np.power,
    "min": np.minimum,  # propagates NaN, unlike np.fmin
    "max": np.maximum,
    "atan2": np.arctan2,
    "hypot": np.hypot,
    # comparisons and logic
    "gt": _compare(np.greater),
    "gte": _compare(np.greater_equal),
    "lt": _compare(np.less),
    "lte": _compare(np.less_equal),
    "eq": _compare(np.equal),
    "neq": _compare(np.not_equal),
    "and": _compare(lambda a, b: (a != 0) & (b != 0)),
    "or": _compare(lambda a, b: (a != 0) | (b != 0)),
    # bits
    "bitwiseAnd": _bitwise(np.bitwise_and),
    "bitwiseOr": _bitwise(np.bitwise_or),
    "bitwiseXor": _bitwise(np.bitwise_xor),
    "leftShift": _bitwise(np.left_shift, shift=True),
    "rightShift": _bitwise(np.right_shift, shift=True),
    # unary
    "abs": np.abs,
    "negate": np.negative,
    "sqrt": np.sqrt,
    "exp": np.exp,
    "log": np.log,
    "log10": np.log10,
    "floor": np.floor,
    "ceil": np.ceil,
    "round": _round,
    "sin": np.sin,
    "cos": np.cos,
    "tan": np.tan,
    "asin": np.arcsin,
    "acos": np.arccos,
    "atan": np.arctan,
    "not": _not,
    "bitwiseNot": _bitwise_not,
    # masks and selection
    "nd": _nd,
    "update_mask": _update_mask,
    "get_mask": _get_mask,
    "set_mask": _set_mask,
    "self_mask": _self_mask,
    "unmask": _unmask,
    "where": _where,
    "select": _select,
}

BINARY_OPS = (
    "add subtract multiply divide mod pow min max atan2 hypot gt gte lt lte eq neq and or "
    "bitwiseAnd bitwiseOr bitwiseXor leftShift rightShift"
).split()
UNARY_OPS = "abs negate sqrt exp log log10 floor ceil round sin cos tan asin acos atan not bitwiseNot".split()
_BOOLEAN = {"gt", "gte", "lt", "lte", "eq", "neq", "and", "or", "not"}
_FLOATING = {"divide", "pow", "atan2", "hypot", "sqrt", "exp", "log", "log10", "sin", "cos", "tan", "asin", "acos"}
_FLOATING |= {"atan"}
_INTEGER = {"bitwiseAnd", "bitwiseOr", "bitwiseXor", "leftShift", "rightShift", "bitwiseNot", "round", "floor", "ceil"}


def _apply(*blocks: np.ndarray, op: str, cast_to: str | None = None) -> np.ndarray:
    """Run operation ``op`` on numpy blocks (module level, so dask tokenizes and pickles it)."""
    with np.errstate(all="ignore"):
        if op == "cast":
            return _cast_block(blocks[0], cast_to or "float64")
        if op in _CHAINED and len(blocks) > 2:  # a flattened chain: fold left to right, as the chain did
            out = np.asarray(_OPS[op](blocks[0], blocks[1]), dtype=F8)
            for b in blocks[2:]:
                out = np.asarray(_OPS[op](out, b), dtype=F8)
            return out
        out = _OPS[op](*blocks)
        return np.asarray(out, dtype=F8)


def _ew(op: str, *arrays: da.Array, cast_to: str | None = None) -> da.Array:
    """The lazy element-wise result of ``op`` on 2-D arrays of the same shape."""
    kwargs: dict[str, Any] = {"op": op}
    if cast_to is not None:
        kwargs["cast_to"] = cast_to
    return da.map_blocks(_apply, *align(arrays), dtype=F8, meta=_META, **kwargs)


# -- types ----------------------------------------------------------------------------------------

# Earth Engine's pixel type names, and the numpy dtype each is held as.
PIXEL_TYPES: dict[str, str] = {
    "int8": "int8",
    "uint8": "uint8",
    "byte": "uint8",
    "int16": "int16",
    "short": "int16",
    "uint16": "uint16",
    "int32": "int32",
    "int": "int32",
    "uint32": "uint32",
    "int64": "int64",
    "long": "int64",
    "float": "float32",
    "float32": "float32",
    "double": "float64",
    "float64": "float64",
}


def _union(*dtypes: str) -> str:
    out = np.dtype(dtypes[0])
    for d in dtypes[1:]:
        out = np.promote_types(out, np.dtype(d))
    return str(out)


def _floating(*dtypes: str) -> str:
    small = all(np.dtype(d) == np.float32 or (np.dtype(d).kind in "iub" and np.dtype(d).itemsize <= 2) for d in dtypes)
    return "float32" if small else "float64"


def _result_dtype(op: str, *dtypes: str) -> str:
    if op in _BOOLEAN:
        return "uint8"
    if op in _FLOATING:
        return _floating(*dtypes)
    if op in _INTEGER:
        ints = [d for d in dtypes if np.dtype(d).kind in "iub"]
        if op in ("round", "floor", "ceil") and len(ints) == len(dtypes):
            return _union(*dtypes)
        return _union(*ints) if len(ints) == len(dtypes) else "int64"
    return _union(*dtypes)


def _cast_block(a: np.ndarray, dtype: str) -> np.ndarray:
    dt = np.dtype(dtype)
    if dt.kind == "f":
        return a.astype(dt).astype(F8)
    info = np.iinfo(dt)
    # truncate toward zero and saturate at the type's range, as a Java cast of a float does
    return np.clip(np.trunc(a), info.min, info.max)


# -- inputs ---------------------------------------------------------------------------------------


def _is_number(x: Any) -> bool:
    return isinstance(x, int | float | np.integer | np.floating) and not isinstance(x, bool | np.bool_)


def as_raster(x: Any, where: str = "ee.Image") -> Raster:
    """``x`` as an image: an image as it is, a number (or ``ee.Number``) as a constant image.

    A list of numbers is a constant image with one band per number, as ``ee.Image.constant``.

    Examples
    --------
    >>> as_raster(2).names
    ['constant']
    >>> as_raster([1, 2]).names
    ['constant_0', 'constant_1']
    >>> as_raster("B4", "Image.add")
    Traceback (most recent call last):
    ...
    reducer.errors.ArgumentError: Image.add: expected an ee.Image or a number, got 'B4'. ...
    """
    if isinstance(x, Raster):
        return x
    value = unwrap(x) if isinstance(x, Number | List) else x
    if isinstance(value, bool | np.bool_):
        value = int(value)
    if _is_number(value) or (isinstance(value, list | tuple) and value and all(map(_is_number, value))):
        return constant(value)
    raise ArgumentError(
        f"{where}: expected an ee.Image or a number, got {x!r}. "
        "Pass an image (e.g. img.select('B4')) or a number such as 0.5."
    )


def _names(img: Raster) -> list[str]:
    return [b.name for b in img.bands]


def _match(a: Raster, b: Raster, where: str) -> tuple[list[str], list[tuple[Band, Band]]]:
    """Earth Engine's band matching: names and operand pairs."""
    na, nb = len(a.bands), len(b.bands)
    if na == 0 or nb == 0:
        which = "first" if na == 0 else "second"
        raise BandError(f"{where}: the {which} image has no bands. Select or add bands before combining images.")
    if na == nb:
        return _names(a), list(zip(a.bands, b.bands, strict=True))
    if nb == 1:
        return _names(a), [(x, b.bands[0]) for x in a.bands]
    if na == 1:
        return _names(b), [(a.bands[0], y) for y in b.bands]
    raise BandError(
        f"{where}: cannot match {na} bands {_names(a)!r} with {nb} bands {_names(b)!r}. "
        "Give images with the same number of bands, or one with a single band; select matching bands first."
    )


def _broadcast(img: Raster, other: Raster, where: str, what: str) -> list[Band]:
    """The bands of ``other`` lined up with ``img``'s: one band for all, or one per band."""
    n, m = len(img.bands), len(other.bands)
    if m == 1:
        return [other.bands[0]] * n
    if m == n:
        return list(other.bands)
    raise BandError(
        f"{where}: the {what} has {m} bands {_names(other)!r} but the image has {n} {_names(img)!r}. "
        f"Give a {what} with one band, or with one band per image band."
    )


# Operators whose left-nested chains (``acc = acc.add(img)`` over many images) are flattened into one
# n-ary operation, folded left to right in the same order (so the same bits): depth does not grow.
_CHAINED = {"add", "multiply", "min", "max", "and", "or"}
_FOLD_GROUP = 64
# Where a band's pixel function records the chain it computes: (op, inputs).
_CHAINS: weakref.WeakKeyDictionary[Any, tuple[str, tuple[Band, ...]]] = weakref.WeakKeyDictionary()

# Deep expressions (``acc = acc.add(img).multiply(0.5)`` thousands of times, which does not flatten):
# dask's graph building and blockwise fusion grow with the square of the number of layers, so past
# _SEGMENT operations a band's pixel function fuses its segment (the operations down to the last band
# whose depth is a multiple of _SEGMENT) into one per-block program, run in order without recursion.
# Shallower bands keep one dask layer per operation, so that a band used by several others (a cloud
# mask applied to every band) is computed once.
_SEGMENT = 32


@dataclass(frozen=True, eq=False)
class _Node:
    """A band's element-wise operation: ``func(*operand blocks, **kwargs)``, its depth and segment inputs."""

    func: Callable[..., np.ndarray]
    kwargs: tuple[tuple[str, Any], ...]
    operands: tuple[Band, ...]
    depth: int
    leaves: tuple[Band, ...]  # what the fused program reads (empty when depth <= _SEGMENT: not fused)


# Where a band's pixel function records its operation, and (for every band made here) its depth.
_NODES: weakref.WeakKeyDictionary[Any, _Node] = weakref.WeakKeyDictionary()
_DEPTHS: weakref.WeakKeyDictionary[Any, int] = weakref.WeakKeyDictionary()


def _with_depth(band: Band, operands: Sequence[Band]) -> Band:
    """Record ``band``'s depth: one more than its deepest operand's (a band not made here counts 0)."""
    _DEPTHS[band.fn] = 1 + max((_DEPTHS.get(o.fn, 0) for o in operands), default=0)
    return band


def _key(b: Band) -> tuple[int, str]:
    return (id(b.fn), b.resampling)


def _read_whole(b: Band) -> bool:
    """Whether a fused program reads ``b``'s array instead of inlining its operation."""
    node = _NODES.get(b.fn)
    return node is None or not node.leaves or node.depth % _SEGMENT == 0 or len(node.operands) > _FOLD_GROUP


def _node(
    func: Callable[..., np.ndarray], kwargs: dict[str, Any], operands: tuple[Band, ...], extends: _Node | None = None
) -> _Node:
    """The node of ``func`` over ``operands``; ``extends``: the flattened chain whose operands lead ``operands``."""
    new = operands[len(extends.operands) :] if extends is not None else operands
    depth = 1 + max((_DEPTHS.get(o.fn, 0) for o in new), default=0)
    depth = max(depth, extends.depth) if extends is not None else depth
    leaves: dict[tuple[int, str], Band] = {}
    if depth > _SEGMENT and len(operands) <= _FOLD_GROUP:
        for o in operands:
            for x in (o,) if _read_whole(o) else _NODES[o.fn].leaves:
                leaves.setdefault(_key(x), x)
    return _Node(func, tuple(kwargs.items()), operands, depth, tuple(leaves.values()))


def _program(root: _Node) -> tuple:
    """``root``'s segment as instructions ``(func, kwargs, argument slots, slots to free)`` in post-order.

    Slots ``0 .. len(root.leaves) - 1`` hold the leaves' blocks; each instruction appends its result.
    Built from an explicit stack, so the depth of the segment does not matter.
    """
    slots = {_key(b): i for i, b in enumerate(root.leaves)}
    code: list[tuple] = []
    stack: list[tuple[Any, _Node, bool]] = [("root", root, False)]
    expanded: set[Any] = set()
    while stack:
        key, node, done = stack.pop()
        if done:
            slots[key] = len(slots)
            code.append((node.func, node.kwargs, tuple(slots[_key(o)] for o in node.operands)))
            continue
        if key in expanded:
            continue
        expanded.add(key)
        stack.append((key, node, True))
        stack.extend((_key(o), _NODES[o.fn], False) for o in reversed(node.operands) if _key(o) not in slots)
    last: dict[int, int] = {}
    for i, (_, _, args) in enumerate(code):
        for a in args:
            last[a] = i
    free: list[list[int]] = [[] for _ in code]
    for slot, i in last.items():
        free[i].append(slot)
    return tuple((f, kw, args, tuple(fr)) for (f, kw, args), fr in zip(code, free, strict=True))


def _run_program(*blocks: np.ndarray, program: tuple) -> np.ndarray:
    """Run a fused segment (:func:`_program`) on one block of each leaf (module level, so dask pickles it)."""
    regs: list[Any] = list(blocks)
    for func, kwargs, args, free in program:
        regs.append(func(*[regs[a] for a in args], **dict(kwargs)))
        for slot in free:
            regs[slot] = None  # a block no later instruction reads
    return regs[-1]


def _fused_fn(node: _Node) -> Callable[[Grid, str], da.Array]:
    """The pixel function of a band deeper than _SEGMENT: its segment as one dask layer."""
    program: list[tuple] = []

    def fn(g: Grid, resampling: str) -> da.Array:
        if not program:
            program.append(_program(node))
        arrays = align([b.on(g) for b in node.leaves])
        # a plain (not blockwise) layer: dask's blockwise fusion, whose cost grows with the square of the
        # length of a chain of blockwise layers, stops here
        run = partial(_run_program, program=program[0])
        name = f"fused-{tokenize(run, *[a.name for a in arrays])}"
        chunks = arrays[0].chunks
        layer = {
            (name, i, j): (run, *[(a.name, i, j) for a in arrays])
            for i in range(len(chunks[0]))
            for j in range(len(chunks[1]))
        }
        graph = HighLevelGraph.from_collections(name, layer, dependencies=arrays)
        return da.Array(graph, name, chunks, meta=_META)

    return fn


def _derive(name: str, dtype: str, inputs: Sequence[Band], op: str, cast_to: str | None = None) -> Band:
    inputs = tuple(inputs)
    extends = None
    if op in _CHAINED and cast_to is None and inputs:
        chain = _CHAINS.get(inputs[0].fn)
        if chain is not None and chain[0] == op:
            extends = _NODES[inputs[0].fn]
            inputs = chain[1] + inputs[1:]  # (a op b) op c is the fold of a, b, c
    grid = next((b.grid for b in inputs if b.grid is not None), None)
    node = _node(_apply, {"op": op} if cast_to is None else {"op": op, "cast_to": cast_to}, inputs, extends)

    def fn(g: Grid, resampling: str) -> da.Array:
        arrays = [b.on(g) for b in inputs]
        if len(arrays) <= _FOLD_GROUP:
            return _ew(op, *arrays, cast_to=cast_to)
        # a long flattened chain: fold it in groups (dask's cost grows with the square of a task's inputs)
        acc = _ew(op, *arrays[:_FOLD_GROUP])
        for i in range(_FOLD_GROUP, len(arrays), _FOLD_GROUP - 1):
            acc = _ew(op, acc, *arrays[i : i + _FOLD_GROUP - 1])
        return acc

    fused = bool(node.leaves) and len(inputs) <= _FOLD_GROUP
    band = Band(name, dtype, grid, memo(_fused_fn(node) if fused else fn), inputs=node.leaves if fused else inputs)
    _NODES[band.fn] = node
    _DEPTHS[band.fn] = node.depth
    if op in _CHAINED and cast_to is None:
        _CHAINS[band.fn] = (op, inputs)
    return band


def _types(raster: Raster) -> dict[str, str]:
    """Each band's type, by name (as ``Image.bandTypes``)."""
    return {b.name: b.dtype for b in raster.bands}


def _raster(bands: Sequence[Band], props: dict | None = None) -> Raster:
    return Raster(tuple(bands), props or {})


# -- operators --------------------------------------------------------------------------------------


def binary(op: str, image1: Any, image2: Any) -> Raster:
    """Apply a binary operator band by band with Earth Engine's band matching.

    Parameters
    ----------
    op
        One of :data:`BINARY_OPS` (``"add"``, ``"gt"``, ``"bitwiseAnd"``, ...).
    image1, image2
        Images or numbers.

    Returns
    -------
    Raster
        Bands named after the longer input, or ``image1``'s when both have as many bands;
        no properties. Comparisons and logical operators give 0/1 (``uint8``).

    Examples
    --------
    >>> from reducer.raster import rename_bands
    >>> two = rename_bands(constant([1, 2]), ["a", "b"])
    >>> binary("add", two, 10).names
    ['a', 'b']
    >>> binary("gt", constant(5), two).names
    ['a', 'b']
    >>> binary("add", two, constant([1, 2, 3]))
    Traceback (most recent call last):
    ...
    reducer.errors.BandError: Image.add: cannot match 2 bands ['a', 'b'] with 3 bands [...]. ...
    """
    if op not in BINARY_OPS:
        raise ArgumentError(f"unknown binary operator {op!r}; expected one of {BINARY_OPS!r}.")
    where = f"Image.{op}"
    a, b = as_raster(image1, where), as_raster(image2, where)
    names, pairs = _match(a, b, where)
    bands = [
        _derive(n, _result_dtype(op, x.dtype, y.dtype), (x, y), op) for n, (x, y) in zip(names, pairs, strict=True)
    ]
    return _raster(bands)


def unary(op: str, image: Any) -> Raster:
    """Apply a one-input operation to every band, keeping band names; no properties.

    Examples
    --------
    >>> _types(unary("sqrt", constant(4)))
    {'constant': 'float64'}
    >>> _types(unary("not", constant(0)))
    {'constant': 'uint8'}
    """
    if op not in UNARY_OPS:
        raise ArgumentError(f"unknown operation {op!r}; expected one of {UNARY_OPS!r}.")
    img = as_raster(image, f"Image.{op}")
    return _raster([_derive(b.name, _result_dtype(op, b.dtype), (b,), op) for b in img.bands])


def normalized_difference(image: Raster, bandNames: Sequence[str] | None = None) -> Raster:
    """``(first − second) / (first + second)`` as one band named ``nd``.

    As Earth Engine documents, the pixel is masked where either input is negative, and here also
    where the sum is 0. The input's properties are not kept.

    Examples
    --------
    >>> from reducer.raster import rename_bands
    >>> img = rename_bands(constant([3, 1]), ["nir", "red"])
    >>> normalized_difference(img, ["nir", "red"]).names
    ['nd']
    >>> normalized_difference(constant(1))
    Traceback (most recent call last):
    ...
    reducer.errors.BandError: Image.normalizedDifference: needs two bands, the image has ['constant']. ...
    """
    names = unwrap(bandNames)
    if names is None:
        if len(image.bands) < 2:
            raise BandError(
                f"Image.normalizedDifference: needs two bands, the image has {_names(image)!r}. "
                "Give bandNames=[first, second] or add a band."
            )
        first, second = image.bands[0], image.bands[1]
    else:
        names = list(names)
        if len(names) != 2:
            raise BandError(
                f"Image.normalizedDifference: bandNames={names!r} must name exactly two bands, e.g. ['B8', 'B4']."
            )
        first, second = select_bands(image, [names[0]]).bands[0], select_bands(image, [names[1]]).bands[0]
    return _raster([_derive("nd", "float32", (first, second), "nd")])


# -- masks ----------------------------------------------------------------------------------------


def update_mask(image: Raster, mask: Any) -> Raster:
    """Mask the pixels where ``mask`` is zero or masked; keeps names and properties.

    A one-band mask applies to every band; otherwise it needs one band per band.

    Examples
    --------
    >>> from reducer.raster import rename_bands
    >>> img = rename_bands(constant([1, 2]), ["a", "b"])
    >>> update_mask(img, 0).names
    ['a', 'b']
    """
    m = as_raster(mask, "Image.updateMask")
    masks = _broadcast(image, m, "Image.updateMask", "mask")
    bands = [_derive(b.name, b.dtype, (b, mb), "update_mask") for b, mb in zip(image.bands, masks, strict=True)]
    return image.with_bands(bands)


def get_mask(image: Raster) -> Raster:
    """One band per band, 1 where the pixel is valid and 0 where it is masked (same names).

    Examples
    --------
    >>> get_mask(constant(5)).names
    ['constant']
    """
    return image.with_bands([_derive(b.name, "float32", (b,), "get_mask") for b in image.bands])


def set_mask(image: Raster, mask: Any) -> Raster:
    """Replace the mask (Earth Engine's deprecated ``mask(mask)``): valid where ``mask`` is non-zero.

    Pixels that become valid and had no value are filled with 0, as Earth Engine does.
    """
    m = as_raster(mask, "Image.mask")
    masks = _broadcast(image, m, "Image.mask", "mask")
    return image.with_bands(
        [_derive(b.name, b.dtype, (b, mb), "set_mask") for b, mb in zip(image.bands, masks, strict=True)]
    )


def self_mask(image: Raster) -> Raster:
    """Mask the pixels whose value is 0 (and keep the existing mask).

    Examples
    --------
    >>> self_mask(constant(0)).names
    ['constant']
    """
    return image.with_bands([_derive(b.name, b.dtype, (b,), "self_mask") for b in image.bands])


def unmask(image: Raster, value: Any = None, sameFootprint: bool = True) -> Raster:
    """Fill masked pixels with ``value`` (a number or an image; 0 by default).

    With ``sameFootprint=True`` (the default, as in Earth Engine) pixels outside the band's own
    grid stay masked when the image is evaluated on another grid; ``False`` fills them too.
    A masked ``value`` pixel leaves the pixel masked.

    Examples
    --------
    >>> unmask(constant(1), 5).names
    ['constant']
    """
    v = as_raster(0 if value is None else value, "Image.unmask")
    values = _broadcast(image, v, "Image.unmask", "value")
    bands = []
    for b, vb in zip(image.bands, values, strict=True):
        bands.append(_unmask_band(b, vb, bool(unwrap(sameFootprint))))
    return image.with_bands(bands)


def _unmask_band(b: Band, vb: Band, same_footprint: bool) -> Band:
    native = b.grid
    dtype = _union(b.dtype, vb.dtype)

    def fn(g: Grid, resampling: str) -> da.Array:
        a, v = b.on(g), vb.on(g)
        if same_footprint and native is not None and native != g:
            return _ew("unmask", a, v, _footprint(native, g))
        return _ew("unmask", a, v)

    return _with_depth(Band(b.name, dtype, native, memo(fn), inputs=(b, vb)), (b, vb))


def where(image: Raster, test: Any, value: Any) -> Raster:
    """Replace pixels by ``value`` where ``test`` is non-zero (Earth Engine's ``Image.where``).

    Where ``test`` or ``value`` is masked the input is kept; a masked input stays masked.
    ``test`` and ``value`` have one band, or one per input band. Names and properties are the input's.

    Examples
    --------
    >>> where(constant(1), constant(1), 7).names
    ['constant']
    """
    t = as_raster(test, "Image.where")
    v = as_raster(value, "Image.where")
    tests = _broadcast(image, t, "Image.where", "test")
    values = _broadcast(image, v, "Image.where", "value")
    bands = [
        _derive(b.name, _union(b.dtype, vb.dtype), (b, tb, vb), "where")
        for b, tb, vb in zip(image.bands, tests, values, strict=True)
    ]
    return image.with_bands(bands)


def _number(x: Any, what: str, where: str) -> float:
    v = unwrap(x)
    if isinstance(v, bool | np.bool_) or not _is_number(v) or not math.isfinite(float(v)):
        raise ArgumentError(f"{where}: {what}={x!r} is not a finite number. Give e.g. {what}=0.")
    return float(v)


def _clamp_block(a: np.ndarray, low: float, high: float) -> np.ndarray:
    return np.where(np.isnan(a), np.nan, np.clip(a, low, high))


def _unit_scale_block(a: np.ndarray, low: float, high: float) -> np.ndarray:
    return (a - low) / (high - low)


def _map_band(b: Band, name: str, dtype: str, func: Callable[..., np.ndarray], **kwargs: Any) -> Band:
    node = _node(func, kwargs, (b,))

    def fn(g: Grid, resampling: str) -> da.Array:
        return da.map_blocks(func, b.on(g), dtype=F8, meta=_META, **kwargs)

    fused = bool(node.leaves)
    band = Band(name, dtype, b.grid, memo(_fused_fn(node) if fused else fn), inputs=node.leaves if fused else (b,))
    _NODES[band.fn] = node
    _DEPTHS[band.fn] = node.depth
    return band


def clamp(image: Raster, low: float, high: float) -> Raster:
    """Every band's values clamped to ``[low, high]`` (Earth Engine's ``Image.clamp``).

    Masked pixels stay masked. Integer bands stay integer when both bounds are whole numbers;
    otherwise the bands are ``float64``. Names are kept, properties are not.

    Examples
    --------
    >>> _types(clamp(constant(5), 0, 3))
    {'constant': 'int64'}
    >>> clamp(constant(5), 3, 0)
    Traceback (most recent call last):
    ...
    reducer.errors.ArgumentError: Image.clamp: low=3 is greater than high=0. Give low <= high.
    """
    lo, hi = _number(low, "low", "Image.clamp"), _number(high, "high", "Image.clamp")
    if lo > hi:
        raise ArgumentError(f"Image.clamp: low={low!r} is greater than high={high!r}. Give low <= high.")
    whole = lo.is_integer() and hi.is_integer()
    bands = [
        _map_band(
            b, b.name, b.dtype if whole or np.dtype(b.dtype).kind == "f" else "float64", _clamp_block, low=lo, high=hi
        )
        for b in image.bands
    ]
    return _raster(bands)


def unit_scale(image: Raster, low: float, high: float) -> Raster:
    """``(x − low) / (high − low)`` on every band, not clamped (Earth Engine's ``Image.unitScale``).

    The result is floating point (``float32`` for 8- and 16-bit and ``float32`` bands, else
    ``float64``); names are kept, properties are not.

    Examples
    --------
    >>> _types(unit_scale(constant(5), 0, 10))
    {'constant': 'float64'}
    >>> unit_scale(constant(5), 1, 1)
    Traceback (most recent call last):
    ...
    reducer.errors.ArgumentError: Image.unitScale: low and high are both 1.0; the range must not be empty. ...
    """
    lo, hi = _number(low, "low", "Image.unitScale"), _number(high, "high", "Image.unitScale")
    if lo == hi:
        raise ArgumentError(
            f"Image.unitScale: low and high are both {lo!r}; the range must not be empty. Give low != high."
        )
    bands = [_map_band(b, b.name, _floating(b.dtype), _unit_scale_block, low=lo, high=hi) for b in image.bands]
    return _raster(bands)


def _remap_block(a: np.ndarray, src: tuple, dst: tuple, default: float | None) -> np.ndarray:
    out = np.full(a.shape, np.nan if default is None else default, dtype=F8)
    out[np.isnan(a)] = np.nan
    done = np.zeros(a.shape, bool)
    for f, t in zip(src, dst, strict=True):  # the first match wins
        hit = (a == f) & ~done
        out[hit] = t
        done |= hit
    return out


def remap(
    image: Raster,
    from_: Sequence[float],
    to: Sequence[float],
    defaultValue: float | None = None,
    bandName: str | None = None,
) -> Raster:
    """Map the values of one band through parallel lists (Earth Engine's ``Image.remap``).

    The band is ``bandName``, else the first. A value equal to ``from_[i]`` becomes ``to[i]``;
    other values become ``defaultValue``, or are masked without one. The result is one band named
    ``remapped``, without properties.

    Examples
    --------
    >>> remap(constant(1), [1, 2], [10, 20]).names
    ['remapped']
    >>> remap(constant(1), [1, 2], [10])
    Traceback (most recent call last):
    ...
    reducer.errors.ArgumentError: Image.remap: from has 2 values [1, 2] but to has 1 [10]. ...
    """
    where = "Image.remap"
    src, dst = unwrap(from_), unwrap(to)
    if not isinstance(src, list | tuple) or not isinstance(dst, list | tuple):
        raise ArgumentError(f"{where}: from={from_!r} and to={to!r} must be lists of numbers.")
    src = [_number(v, "from", where) for v in src]
    dst = [_number(v, "to", where) for v in dst]
    if len(src) != len(dst):
        raise ArgumentError(
            f"{where}: from has {len(src)} values {unwrap(from_)!r} but to has {len(dst)} {unwrap(to)!r}. "
            "Give one 'to' value per 'from' value."
        )
    default = None if unwrap(defaultValue) is None else _number(defaultValue, "defaultValue", where)
    if not image.bands:
        raise BandError(f"{where}: the image has no bands.")
    band = (
        image.bands[0]
        if unwrap(bandName) is None
        else select_bands(image, [str(unwrap(bandName))], where=where).bands[0]
    )
    values = [*dst, *([] if default is None else [default])]
    whole = all(float(v).is_integer() for v in values)
    dtype = "int64" if whole else "float64"
    return _raster([_map_band(band, "remapped", dtype, _remap_block, src=tuple(src), dst=tuple(dst), default=default)])


INTERPOLATE_BEHAVIORS = ("extrapolate", "clamp", "mask", "input")


def _interpolate_block(a: np.ndarray, xs: tuple, ys: tuple, behavior: str) -> np.ndarray:
    x, y = np.asarray(xs, dtype=F8), np.asarray(ys, dtype=F8)
    out = np.interp(a, x, y)  # clamps outside, NaN stays NaN
    below, above = a < x[0], a > x[-1]
    if behavior == "extrapolate" and len(x) > 1:
        lo = y[0] + (a - x[0]) * (y[1] - y[0]) / (x[1] - x[0])
        hi = y[-2] + (a - x[-2]) * (y[-1] - y[-2]) / (x[-1] - x[-2])
        out = np.where(below, lo, np.where(above, hi, out))
    elif behavior == "mask":
        out = np.where(below | above, np.nan, out)
    elif behavior == "input":
        out = np.where(below | above, a, out)
    return np.where(np.isnan(a), np.nan, out)


def interpolate(image: Raster, x: Sequence[float], y: Sequence[float], behavior: str = "extrapolate") -> Raster:
    """The first band through the piecewise-linear function of ``x`` → ``y`` (``Image.interpolate``).

    ``x`` must be strictly increasing. Outside ``[x[0], x[-1]]``, ``behavior`` decides:
    ``'extrapolate'`` continues the nearest segment, ``'clamp'`` takes the nearest end value,
    ``'input'`` keeps the input value, ``'mask'`` masks the pixel. The result is the first band,
    under its name, as ``float64``, without properties.

    Examples
    --------
    >>> interpolate(constant(1), [0, 10], [0, 100]).names
    ['constant']
    >>> interpolate(constant(1), [0, 0], [0, 1])
    Traceback (most recent call last):
    ...
    reducer.errors.ArgumentError: Image.interpolate: x=[0, 0] is not strictly increasing. ...
    """
    where = "Image.interpolate"
    xs, ys = unwrap(x), unwrap(y)
    if not isinstance(xs, list | tuple) or not isinstance(ys, list | tuple) or not xs:
        raise ArgumentError(f"{where}: x={x!r} and y={y!r} must be non-empty lists of numbers.")
    xv = [_number(v, "x", where) for v in xs]
    yv = [_number(v, "y", where) for v in ys]
    if len(xv) != len(yv):
        raise ArgumentError(f"{where}: x has {len(xv)} values but y has {len(yv)}. Give one y per x.")
    if any(b <= a for a, b in zip(xv, xv[1:], strict=False)):
        raise ArgumentError(f"{where}: x={xs!r} is not strictly increasing. Sort x (and y with it).")
    mode = str(unwrap(behavior))
    if mode not in INTERPOLATE_BEHAVIORS:
        raise ArgumentError(f"{where}: behavior={behavior!r} is not one of {INTERPOLATE_BEHAVIORS!r}.")
    if not image.bands:
        raise BandError(f"{where}: the image has no bands.")
    b = image.bands[0]
    return _raster([_map_band(b, b.name, "float64", _interpolate_block, xs=tuple(xv), ys=tuple(yv), behavior=mode)])


def select_value(cond: Raster, x: Raster, y: Raster, where: str = "?:") -> Raster:
    """Per pixel ``x`` where ``cond`` is non-zero, else ``y`` (the ternary operator).

    Masked where ``cond`` or the chosen value is masked. Bands are matched as the binary operators
    match them; names are those of the longer branch, or ``x``'s when both have as many bands.
    """
    names, pairs = _match(x, y, where)
    conds = _broadcast(_raster([p[0] for p in pairs]), cond, where, "condition")
    bands = [
        _derive(n, _union(xb.dtype, yb.dtype), (cb, xb, yb), "select")
        for n, (xb, yb), cb in zip(names, pairs, conds, strict=True)
    ]
    return _raster(bands)


def clip(image: Raster, geometry: Any) -> Raster:
    """Mask the pixels whose centre is outside ``geometry`` (a Geometry, Feature or shapely shape).

    The geometry is reprojected to the grid each band is evaluated on and rasterized per block
    (``rasterio.features.geometry_mask``, centre-in). Names and properties are kept.

    Examples
    --------
    >>> from reducer.geometry import Geometry
    >>> clip(constant(1), Geometry.Rectangle([0, 0, 1, 1])).names
    ['constant']
    """
    geom = as_geometry(geometry)
    return image.with_bands([_clip_band(b, geom) for b in image.bands])


def _clip_band(b: Band, geom: Any) -> Band:
    def fn(g: Grid, resampling: str) -> da.Array:
        import shapely

        shape = geom.to_shapely(g.crs)
        wkb = b"" if shape is None or shape.is_empty else shapely.to_wkb(shape)
        return da.map_blocks(
            _clip_block,
            b.on(g),
            wkb=wkb,
            transform=tuple(g.transform)[:6],
            dtype=F8,
            meta=_META,
        )

    return _with_depth(Band(b.name, b.dtype, b.grid, memo(fn), inputs=(b,)), (b,))


def _clip_block(x: np.ndarray, wkb: bytes, transform: tuple, block_info: dict | None = None) -> np.ndarray:
    import shapely
    from affine import Affine
    from rasterio.features import geometry_mask

    x = np.asarray(x, dtype=F8)
    if not wkb:
        return np.full(x.shape, np.nan)
    r0, r1, c0, c1 = block_window(block_info)
    t = Affine(*transform) * Affine.translation(c0, r0)
    shape = shapely.from_wkb(wkb)
    h, w = x.shape
    corners = [t * (0, 0), t * (w, 0), t * (0, h), t * (w, h)]
    xs, ys = [p[0] for p in corners], [p[1] for p in corners]
    box = shapely.box(min(xs), min(ys), max(xs), max(ys))
    if not shape.intersects(box):
        return np.full(x.shape, np.nan)
    if t.b == 0 and t.d == 0 and shape.contains(box):
        return x
    inside = geometry_mask([shape], out_shape=(h, w), transform=t, invert=True, all_touched=False)
    return np.where(inside, x, np.nan)


@lru_cache(maxsize=64)
def _transformer(src_wkt: str, dst_wkt: str) -> Any:
    from pyproj import CRS, Transformer

    return Transformer.from_crs(CRS.from_wkt(src_wkt), CRS.from_wkt(dst_wkt), always_xy=True)


def _centres(transform: tuple, r0: int, r1: int, c0: int, c1: int) -> tuple[np.ndarray, np.ndarray]:
    a, b, c, d, e, f = transform
    rows, cols = np.mgrid[r0:r1, c0:c1]
    x = a * (cols + 0.5) + b * (rows + 0.5) + c
    y = d * (cols + 0.5) + e * (rows + 0.5) + f
    return x, y


def _footprint_block(
    grid_wkt: str, grid_t: tuple, native_wkt: str, native_t: tuple, native_shape: tuple, block_info: dict | None = None
) -> np.ndarray:
    from affine import Affine

    r0, r1, c0, c1 = block_window(block_info)
    x, y = _centres(grid_t, r0, r1, c0, c1)
    if grid_wkt != native_wkt:
        x, y = _transformer(grid_wkt, native_wkt).transform(x, y)
        x, y = np.asarray(x), np.asarray(y)
    inv = ~Affine(*native_t)
    col = inv.a * x + inv.b * y + inv.c
    row = inv.d * x + inv.e * y + inv.f
    h, w = native_shape
    return ((col >= 0) & (col < w) & (row >= 0) & (row < h)).astype(F8)


def _footprint(native: Grid, grid: Grid) -> da.Array:
    """1 where a pixel centre of ``grid`` falls in ``native``'s extent, else 0 (lazy, per block)."""
    return generated(
        grid,
        _footprint_block,
        grid_wkt=grid.crs_wkt,
        grid_t=tuple(grid.transform)[:6],
        native_wkt=native.crs_wkt,
        native_t=tuple(native.transform)[:6],
        native_shape=native.shape,
    )


# -- generated images -----------------------------------------------------------------------------


def constant(value: Any) -> Raster:
    """A constant image: one band ``constant``, or ``constant_0``, ``constant_1``, ... for a list.

    Examples
    --------
    >>> constant(3).names
    ['constant']
    >>> _types(constant([1, 2.5]))
    {'constant_0': 'int64', 'constant_1': 'float64'}
    >>> constant([])
    Traceback (most recent call last):
    ...
    reducer.errors.ArgumentError: ee.Image.constant: expected a number or a non-empty list of numbers, got []. ...
    """
    v = unwrap(value)
    if isinstance(v, bool | np.bool_):
        v = int(v)
    if _is_number(v):
        return _raster([constant_band("constant", v)])
    if isinstance(v, list | tuple) and v and all(_is_number(x) for x in v):
        if len(v) == 1:
            return _raster([constant_band("constant", v[0])])
        return _raster([constant_band(f"constant_{i}", x) for i, x in enumerate(v)])
    raise ArgumentError(
        f"ee.Image.constant: expected a number or a non-empty list of numbers, got {value!r}. "
        "Give e.g. ee.Image.constant(0) or ee.Image.constant([1, 2])."
    )


def metadata(image: Raster, property: str, name: str | None = None) -> Raster:
    """A constant ``float64`` image holding a numeric property (Earth Engine's ``Image.metadata``).

    The band is named ``name``, or after the property.

    Examples
    --------
    >>> img = constant(1).updated({"system:time_start": 86400000})
    >>> metadata(img, "system:time_start").names
    ['system:time_start']
    >>> metadata(img, "cloud")
    Traceback (most recent call last):
    ...
    reducer.errors.ArgumentError: Image.metadata: the image has no numeric property 'cloud' ...
    """
    key = str(unwrap(property))
    value = unwrap(image.properties.get(key))
    if isinstance(value, bool | np.bool_) or not _is_number(value):
        raise ArgumentError(
            f"Image.metadata: the image has no numeric property {key!r} (it is {value!r}). "
            f"Numeric properties: {sorted(k for k, v in image.properties.items() if _is_number(v))!r}."
        )
    band = constant_band(str(unwrap(name)) if name is not None else key, float(value))
    return _raster([replace(band, dtype="float64")])


def _authalic_q(phi: np.ndarray, e: float) -> np.ndarray:
    s = np.sin(phi)
    if e == 0:
        return 2 * s
    return (1 - e * e) * (s / (1 - e * e * s * s) - np.log((1 - e * s) / (1 + e * s)) / (2 * e))


def _area_rows_block(transform: tuple, a_m: float, e: float, block_info: dict | None = None) -> np.ndarray:
    r0, r1, c0, c1 = block_window(block_info)
    dx, _, _, _, dy, y0 = transform
    rows = np.arange(r0, r1, dtype=F8)
    lat0 = np.radians(np.clip(y0 + dy * rows, -90, 90))
    lat1 = np.radians(np.clip(y0 + dy * (rows + 1), -90, 90))
    zone = np.abs(_authalic_q(lat1, e) - _authalic_q(lat0, e)) * a_m * a_m / 2
    area = zone * abs(math.radians(dx))
    return np.repeat(area[:, None], c1 - c0, axis=1)


def _pixel_area(grid: Grid, resampling: str) -> da.Array:
    crs = grid.crs
    t = grid.transform
    if not crs.is_geographic:
        info = crs.axis_info
        factor = info[0].unit_conversion_factor if info else 1.0
        area = abs(t.a * t.e - t.b * t.d) * factor * factor
        return da.full(grid.shape, area, dtype=F8, chunks=BLOCK)
    if t.b != 0 or t.d != 0:
        raise CRSError(
            f"Image.pixelArea: the grid {tuple(t)[:6]!r} is rotated in a geographic CRS, which is not supported. "
            "Reduce on a north-up grid (give scale= and crs=)."
        )
    ell = crs.ellipsoid
    a_m = ell.semi_major_metre
    b_m = ell.semi_minor_metre
    e = math.sqrt(max(0.0, 1 - (b_m / a_m) ** 2))
    return generated(grid, _area_rows_block, transform=tuple(t)[:6], a_m=a_m, e=e)


def pixel_area() -> Raster:
    """One band ``area``: each pixel's area in square metres on the grid it is evaluated on.

    In a projected CRS the area is the pixel's area in the projection's plane, exact from the
    transform (``|a·e − b·d|`` in square metres). In a geographic CRS it is the exact area of the
    pixel on the CRS's ellipsoid (a latitude band over a longitude span), computed per row.

    Examples
    --------
    >>> import reducer as ee
    >>> r = ee.Image.pixelArea().reduceRegion(ee.Reducer.mean(), ee.Geometry.Point([500005, 4000005], "EPSG:32633"),
    ...                               scale=10, crs="EPSG:32633")
    >>> r.getInfo()
    {'area': 100.0}
    """
    return _raster([Band("area", "float64", None, _pixel_area)])


def _lonlat_block(crs_wkt: str, transform: tuple, which: int, block_info: dict | None = None) -> np.ndarray:
    from pyproj import CRS

    r0, r1, c0, c1 = block_window(block_info)
    x, y = _centres(transform, r0, r1, c0, c1)
    if CRS.from_wkt(crs_wkt).to_epsg() != 4326:
        x, y = _transformer(crs_wkt, CRS.from_epsg(4326).to_wkt()).transform(x, y)
    return np.asarray(x if which == 0 else y, dtype=F8)


def _lonlat_fn(which: int) -> Callable[[Grid, str], da.Array]:
    def fn(grid: Grid, resampling: str) -> da.Array:
        return generated(grid, _lonlat_block, crs_wkt=grid.crs_wkt, transform=tuple(grid.transform)[:6], which=which)

    return fn


def pixel_lon_lat() -> Raster:
    """Two bands, ``longitude`` and ``latitude``: the WGS84 coordinates of each pixel's centre, in degrees.

    Examples
    --------
    >>> import reducer as ee
    >>> pt = ee.Geometry.Point([500005, 4000005], "EPSG:32633")
    >>> r = ee.Image.pixelLonLat().reduceRegion(ee.Reducer.mean(), pt, scale=10, crs="EPSG:32633").getInfo()
    >>> round(r["longitude"], 4), round(r["latitude"], 4)
    (15.0001, 36.1448)
    """
    return _raster(
        [Band("longitude", "float64", None, _lonlat_fn(0)), Band("latitude", "float64", None, _lonlat_fn(1))]
    )


# -- casts ----------------------------------------------------------------------------------------


def _pixel_type(name: Any, where: str) -> str:
    key = str(unwrap(name))
    if key not in PIXEL_TYPES:
        raise ArgumentError(
            f"{where}: unknown pixel type {name!r}. Use one of {sorted(set(PIXEL_TYPES))!r}, e.g. 'int16' or 'float'."
        )
    return PIXEL_TYPES[key]


def cast(image: Raster, pixel_type: str) -> Raster:
    """Every band cast to ``pixel_type`` (an Earth Engine name: 'int16', 'uint8', 'float', 'double', ...).

    Integer casts truncate toward zero and saturate at the type's range; masked pixels stay masked.
    The properties are not kept.

    Examples
    --------
    >>> _types(cast(constant(2.7), "int16"))
    {'constant': 'int16'}
    """
    dtype = _pixel_type(pixel_type, "Image.cast")
    return _raster([_derive(b.name, dtype, (b,), "cast", cast_to=dtype) for b in image.bands])


def cast_bands(image: Raster, bandTypes: dict, bandOrder: Sequence[str] | None = None) -> Raster:
    """Earth Engine's ``Image.cast(bandTypes, bandOrder)``: cast the named bands, optionally reorder.

    Examples
    --------
    >>> from reducer.raster import rename_bands
    >>> img = rename_bands(constant([1, 2]), ["a", "b"])
    >>> out = cast_bands(img, {"b": "double"}, ["b", "a"])
    >>> out.names, _types(out)
    (['b', 'a'], {'b': 'float64', 'a': 'int64'})
    """
    types = {str(k): _pixel_type(v, "Image.cast") for k, v in dict(unwrap(bandTypes)).items()}
    names = _names(image)
    unknown = [k for k in types if k not in names]
    if unknown:
        raise BandError(f"Image.cast: bandTypes names {unknown!r}, which are not bands of the image {names!r}.")
    bands = [
        _derive(b.name, types[b.name], (b,), "cast", cast_to=types[b.name]) if b.name in types else b
        for b in image.bands
    ]
    if bandOrder is not None:
        order = [str(n) for n in unwrap(bandOrder)]
        by_name = {b.name: b for b in bands}
        missing = [n for n in order if n not in by_name]
        if missing:
            raise BandError(f"Image.cast: bandOrder names {missing!r}, which are not bands of the image {names!r}.")
        bands = [by_name[n] for n in order]
    return _raster(bands)


# -- projections ----------------------------------------------------------------------------------


class Projection(ComputedObject):
    """An Earth Engine projection: a CRS and an affine transform from pixel to CRS coordinates.

    Examples
    --------
    >>> p = Projection("EPSG:32633", [10, 0, 500000, 0, -10, 4000000])
    >>> p.getInfo()
    {'type': 'Projection', 'crs': 'EPSG:32633', 'transform': [10.0, 0.0, 500000.0, 0.0, -10.0, 4000000.0]}
    >>> p.nominalScale().getInfo()
    10.0
    >>> p.crs().getInfo()
    'EPSG:32633'
    """

    __slots__ = ("_crs_wkt", "_transform")

    def __init__(self, crs: Any, transform: Sequence[float] | None = None):
        from affine import Affine

        c = norm_crs(crs)
        t = Affine.identity() if transform is None else Affine(*[float(v) for v in unwrap(transform)][:6])
        object.__setattr__(self, "_crs_wkt", c.to_wkt())
        object.__setattr__(self, "_transform", t)

    def __repr__(self) -> str:
        return f"ee.Projection({self._crs_code()!r}, {list(tuple(self._transform)[:6])!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Projection) and (self._crs_wkt, self._transform) == (
            other._crs_wkt,
            other._transform,
        )

    def __hash__(self) -> int:
        return hash((self._crs_wkt, tuple(self._transform)))

    def _crs_code(self) -> str:
        from pyproj import CRS

        epsg = CRS.from_wkt(self._crs_wkt).to_epsg()
        return f"EPSG:{epsg}" if epsg else self._crs_wkt

    def to_wkt(self) -> str:
        """The CRS as WKT (so a projection can be passed wherever a CRS is expected)."""
        return self._crs_wkt

    def crs(self) -> String:
        """The CRS's authority code, e.g. ``'EPSG:32633'`` (its WKT when it has none)."""
        return String(self._crs_code())

    def wkt(self) -> String:
        """The CRS as WKT."""
        return String(self._crs_wkt)

    def nominalScale(self) -> Number:
        """The size of a pixel in metres (degrees are converted at the equator)."""
        from pyproj import CRS

        t = self._transform
        size = math.hypot(t.a, t.d)
        c = CRS.from_wkt(self._crs_wkt)
        if c.is_geographic:
            return Number(size * 111319.49079327357)
        factor = c.axis_info[0].unit_conversion_factor if c.axis_info else 1.0
        return Number(size * factor)

    def transform(self) -> String:
        """The affine transform as Earth Engine's WKT ``PARAM_MT["Affine", ...]`` string."""
        t = self._transform
        params = ['PARAMETER["num_row", 3]', 'PARAMETER["num_col", 3]']
        for key, v in (("elt_0_0", t.a), ("elt_0_1", t.b), ("elt_0_2", t.c)):
            if v != (1.0 if key == "elt_0_0" else 0.0):
                params.append(f'PARAMETER["{key}", {float(v)!r}]')
        for key, v in (("elt_1_0", t.d), ("elt_1_1", t.e), ("elt_1_2", t.f)):
            if v != (1.0 if key == "elt_1_1" else 0.0):
                params.append(f'PARAMETER["{key}", {float(v)!r}]')
        return String('PARAM_MT["Affine", ' + ", ".join(params) + "]")

    def atScale(self, meters: float) -> Projection:
        """The same CRS and origin with square pixels of ``meters``."""
        from affine import Affine

        t = self._transform
        step = float(unwrap(meters)) / float(self.nominalScale().getInfo()) * math.hypot(t.a, t.d)
        return Projection(self._crs_wkt, tuple(Affine(step, 0, t.c, 0, -step, t.f))[:6])

    def _evaluate(self) -> dict:
        return {
            "type": "Projection",
            "crs": self._crs_code(),
            "transform": [float(v) for v in tuple(self._transform)[:6]],
        }


def projection(image: Raster) -> Projection:
    """The image's default projection: that of its bands, which must all share one.

    An image without a projection of its own (a constant) has Earth Engine's default, EPSG:4326
    with 1-degree pixels.

    Examples
    --------
    >>> projection(constant(1)).getInfo()
    {'type': 'Projection', 'crs': 'EPSG:4326', 'transform': [1.0, 0.0, 0.0, 0.0, 1.0, 0.0]}
    """
    grids = [b.grid for b in image.bands if b.grid is not None]
    if not grids:
        return Projection("EPSG:4326")
    first = grids[0]
    for g in grids[1:]:
        if g.crs_wkt != first.crs_wkt or tuple(g.transform)[:6] != tuple(first.transform)[:6]:
            raise CRSError(
                f"Image.projection: the bands of the image have different projections ({crs_string(first)} "
                f"{tuple(first.transform)[:6]} and {crs_string(g)} {tuple(g.transform)[:6]}). "
                "Use Image.select to pick bands with one projection."
            )
    return Projection(first.crs_wkt, tuple(first.transform)[:6])


def reproject(
    image: Raster, crs: Any, crsTransform: Sequence[float] | None = None, scale: float | None = None
) -> Raster:
    """Force the image to be computed on the grid of ``crs`` with ``scale`` metres or ``crsTransform``.

    Every band is evaluated on that grid (its pixels read with the band's resampling), then, when the
    image is asked for on another grid, resampled from it by nearest neighbour. The new grid is the
    image's default grid; it covers the image's extent. ``crs`` may be a :class:`Projection`, whose
    transform is used when neither ``scale`` nor ``crsTransform`` is given.

    Examples
    --------
    >>> from reducer.sources import raster_from_dataarray
    >>> import numpy as np, xarray as xr, rioxarray
    >>> arr = xr.DataArray(np.ones((4, 4)), dims=("y", "x"), coords={"y": [35, 25, 15, 5], "x": [5, 15, 25, 35]})
    >>> img = raster_from_dataarray(arr.rio.write_crs("EPSG:32633"))
    >>> projection(reproject(img, "EPSG:32633", scale=20)).getInfo()["transform"]
    [20.0, 0.0, 0.0, 0.0, -20.0, 40.0]
    """
    if isinstance(crs, Projection) and crsTransform is None and scale is None:
        crsTransform = list(tuple(crs._transform)[:6])
    if crsTransform is None and scale is None:
        raise ArgumentError(
            f"Image.reproject(crs={crs!r}): give scale= (metres) or crsTransform= as well, "
            "e.g. reproject('EPSG:32633', scale=10), or pass an image's projection()."
        )
    target = resolve_grid(
        image.grid,
        None if scale is None else float(unwrap(scale)),
        norm_crs(crs),
        None if crsTransform is None else [float(v) for v in unwrap(crsTransform)],
    )
    return image.with_bands([_reprojected(b, target) for b in image.bands])


def _reprojected(b: Band, target: Grid) -> Band:
    def fn(g: Grid, resampling: str) -> da.Array:
        arr = b.on(target)
        return arr if g == target else warp(arr, target, g, "nearest")

    return Band(b.name, b.dtype, target, memo(fn))


RESAMPLING = ("bilinear", "bicubic")


def resample(image: Raster, mode: Literal["bilinear", "bicubic"] = "bilinear") -> Raster:
    """Read the image's file bands with bilinear or bicubic interpolation on grids other than their own.

    Derived bands (band math, composites) compute from their inputs, so resampling them has no
    effect, as Earth Engine warns; resample the inputs instead.

    Examples
    --------
    >>> resample(constant(1), "bicubic").bands[0].resampling
    'bicubic'
    >>> resample(constant(1), "cubic")
    Traceback (most recent call last):
    ...
    reducer.errors.ArgumentError: Image.resample: mode 'cubic' is not one of ('bilinear', 'bicubic'). ...
    """
    m = unwrap(mode)
    if m not in RESAMPLING:
        raise ArgumentError(
            f"Image.resample: mode {mode!r} is not one of {RESAMPLING!r}. Nearest neighbour is the default; "
            "call resample() only for bilinear or bicubic."
        )
    return image.with_bands([replace(b, resampling=m) for b in image.bands])
