"""Neighbourhood operations on rasters: ``ee.Kernel``, ``reduceNeighborhood`` and the focal filters.

A neighbourhood band is lazy like any other band: evaluated on a grid, it asks its input bands for
their pixels on that grid (``band.on(grid)``), gives every dask block the halo the kernel needs
(:func:`dask.array.overlap.overlap`) and reduces each pixel's neighbours in that block with
:func:`dask.array.map_blocks`. The kernel is laid on the grid the reduction asks for, as Earth
Engine lays it on the output projection: a kernel in ``'meters'`` is converted to pixels of that grid.
A block's halo comes from the neighbouring blocks, which are read whole: a reduction over a small
region reads the blocks it touches and their neighbours (and, for chained neighbourhood
operations, theirs in turn).

Rules, as Earth Engine documents them:

- **Statistics** are the statistics core's (:func:`reducer.stats.evaluate`): each pixel is a
  segment whose entries are its neighbours under the kernel's non-zero cells. With
  ``inputWeight='kernel'`` (the default) an entry weighs its kernel value, with ``'mask'`` 1, with
  ``'min'`` the smaller of the two (a valid pixel's mask is 1).
- **Masks.** A masked neighbour is left out of the statistic; a pixel with no valid neighbour is
  masked (``count`` gives 0). ``skipMasked=True`` (``reduceNeighborhood``'s default) also masks
  the output where the input pixel itself is masked; the focal filters keep ``skipMasked=False``,
  so ``focalMean`` fills small gaps, as Earth Engine's does.
- **Edges.** Outside the grid there are no pixels: the neighbours beyond the edge are masked, so
  an edge pixel's statistic uses the neighbours that exist.
- **Names.** ``reduceNeighborhood`` names bands as ``ImageCollection.reduce`` does: a one-input
  reducer gives ``<band>_<output>``, a reducer with several inputs its output names. The focal
  filters keep the band names.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import dask.array as da
import numpy as np

from .errors import ArgumentError, BandError
from .grid import Grid
from .raster import Band, Raster, align, memo
from .reducers import Column, Reducer, time_columns
from .stats import Context, Segments, SegmentsContext, StackContext, evaluate, needed_kinds
from .values import unwrap

__all__ = [
    "Kernel",
    "KERNEL_TYPES",
    "reduce_neighborhood",
    "focal",
    "directional_distance_transform",
    "simple_cloud_score",
]

F8 = np.dtype("f8")
KERNEL_TYPES = ("circle", "square", "cross", "plus", "octagon", "diamond")
_SHAPES = (*KERNEL_TYPES, "rectangle", "gaussian", "fixed")
Units = Literal["pixels", "meters"]
InputWeight = Literal["kernel", "mask", "min"]


def _units(units: Any, where: str) -> str:
    u = str(unwrap(units))
    if u not in ("pixels", "meters"):
        raise ArgumentError(f"{where}: units={units!r} is not 'pixels' or 'meters'. Give units='pixels' or 'meters'.")
    return u


def _radius(value: Any, what: str, where: str) -> float:
    r = unwrap(value)
    if isinstance(r, bool) or not isinstance(r, int | float) or not math.isfinite(r) or r < 0:
        raise ArgumentError(f"{where}: {what}={value!r} is not a non-negative number. Give e.g. {what}=1.5.")
    return float(r)


@dataclass(frozen=True)
class Kernel:
    """An Earth Engine kernel: a neighbourhood shape and its weights (``ee.Kernel``).

    Build one with the constructors (``Kernel.circle(3)``, ``Kernel.square(1, 'meters')``,
    ``Kernel.fixed(weights=[[...]])``, ...). A cell belongs to a shape when its centre does:
    ``square``/``rectangle`` take every cell within the radius along each axis, ``circle`` the
    cells at distance ``<= radius``, ``diamond`` ``|dx| + |dy| <= radius``, ``octagon`` also
    ``|dx| + |dy| <= radius·√2`` (a regular octagon), ``plus`` the row and column through the
    centre, ``cross`` the two diagonals, ``gaussian`` ``exp(-d²/2σ²)`` at distance ``< radius``.
    ``normalize`` divides by the sum, then ``magnitude`` multiplies. A kernel in ``'meters'`` is
    converted to pixels of the grid it is used on.

    Examples
    --------
    >>> Kernel.plus(1, normalize=False).matrix().tolist()
    [[0.0, 1.0, 0.0], [1.0, 1.0, 1.0], [0.0, 1.0, 0.0]]
    >>> Kernel.fixed(weights=[[1, 2], [3, 4]]).center()
    (1, 1)
    >>> Kernel.circle(-1)
    Traceback (most recent call last):
    ...
    reducer.errors.ArgumentError: ee.Kernel.circle: radius=-1 is not a non-negative number. Give e.g. radius=1.5.
    """

    shape: str
    x_radius: float = 0.0
    y_radius: float = 0.0
    units: str = "pixels"
    normalize: bool = True
    magnitude: float = 1.0
    sigma: float = 1.0
    weights: tuple[tuple[float, ...], ...] | None = None
    focus: tuple[int, int] | None = None

    # -- constructors (Earth Engine's names and defaults) --------------------------------------------
    @staticmethod
    def _named(shape: str, radius: Any, units: Any, normalize: Any, magnitude: Any) -> Kernel:
        where = f"ee.Kernel.{shape}"
        r = _radius(radius, "radius", where)
        return Kernel(shape, r, r, _units(units, where), bool(unwrap(normalize)), float(unwrap(magnitude)))

    @staticmethod
    def square(radius: float, units: Units = "pixels", normalize: bool = True, magnitude: float = 1) -> Kernel:
        """A square boolean kernel: every cell within ``radius`` along both axes."""
        return Kernel._named("square", radius, units, normalize, magnitude)

    @staticmethod
    def circle(radius: float, units: Units = "pixels", normalize: bool = True, magnitude: float = 1) -> Kernel:
        """A circular boolean kernel: the cells whose centre is within ``radius``."""
        return Kernel._named("circle", radius, units, normalize, magnitude)

    @staticmethod
    def plus(radius: float, units: Units = "pixels", normalize: bool = True, magnitude: float = 1) -> Kernel:
        """A plus-shaped boolean kernel: the centre row and column."""
        return Kernel._named("plus", radius, units, normalize, magnitude)

    @staticmethod
    def cross(radius: float, units: Units = "pixels", normalize: bool = True, magnitude: float = 1) -> Kernel:
        """A cross-shaped (×) boolean kernel: the two diagonals."""
        return Kernel._named("cross", radius, units, normalize, magnitude)

    @staticmethod
    def diamond(radius: float, units: Units = "pixels", normalize: bool = True, magnitude: float = 1) -> Kernel:
        """A diamond-shaped boolean kernel: ``|dx| + |dy| <= radius``."""
        return Kernel._named("diamond", radius, units, normalize, magnitude)

    @staticmethod
    def octagon(radius: float, units: Units = "pixels", normalize: bool = True, magnitude: float = 1) -> Kernel:
        """An octagon-shaped boolean kernel: the square with its corners cut at ``|dx| + |dy| <= radius·√2``."""
        return Kernel._named("octagon", radius, units, normalize, magnitude)

    @staticmethod
    def rectangle(
        xRadius: float, yRadius: float, units: Units = "pixels", normalize: bool = True, magnitude: float = 1
    ) -> Kernel:
        """A rectangular boolean kernel of ``2·xRadius + 1`` by ``2·yRadius + 1`` cells.

        Examples
        --------
        >>> Kernel.rectangle(2, 1).matrix().shape
        (3, 5)
        """
        where = "ee.Kernel.rectangle"
        return Kernel(
            "rectangle",
            _radius(xRadius, "xRadius", where),
            _radius(yRadius, "yRadius", where),
            _units(units, where),
            bool(unwrap(normalize)),
            float(unwrap(magnitude)),
        )

    @staticmethod
    def gaussian(
        radius: float, sigma: float = 1, units: Units = "pixels", normalize: bool = True, magnitude: float = 1
    ) -> Kernel:
        """A sampled Gaussian ``exp(-d²/2σ²)`` (``sigma`` in the units of ``radius``), cut at ``d < radius``.

        Examples
        --------
        >>> round(float(Kernel.gaussian(3).matrix()[3, 3]), 3)  # Earth Engine's documented centre weight
        0.162
        """
        where = "ee.Kernel.gaussian"
        r = _radius(radius, "radius", where)
        s = _radius(sigma, "sigma", where)
        if s == 0:
            raise ArgumentError(f"{where}: sigma={sigma!r} must be positive, e.g. sigma=1.")
        return Kernel("gaussian", r, r, _units(units, where), bool(unwrap(normalize)), float(unwrap(magnitude)), s)

    @staticmethod
    def fixed(
        width: int = -1,
        height: int = -1,
        weights: Sequence[Sequence[float]] | None = None,
        x: int = -1,
        y: int = -1,
        normalize: bool = False,
    ) -> Kernel:
        """A kernel of given ``weights`` (rows top to bottom), focused on column ``x``, row ``y``.

        ``x``/``y`` of -1 (the default) take the middle cell (``width // 2``, ``height // 2``).

        Examples
        --------
        >>> Kernel.fixed(weights=[[1, 2, 3]], x=0).center()
        (0, 0)
        >>> Kernel.fixed(2, 1, [[1, 2, 3]])
        Traceback (most recent call last):
        ...
        reducer.errors.ArgumentError: ee.Kernel.fixed: weights has 1 rows of 3 values but width=2, height=1. ...
        """
        where = "ee.Kernel.fixed"
        rows = unwrap(weights)
        if not rows or not all(isinstance(r, list | tuple) and r for r in rows):
            raise ArgumentError(f"{where}: weights={weights!r} must be a non-empty 2-D list, e.g. [[1, 1], [1, 1]].")
        w = np.array([[float(unwrap(v)) for v in r] for r in rows], dtype=F8) if _rect(rows) else None
        if w is None or not np.isfinite(w).all():
            raise ArgumentError(f"{where}: weights={weights!r} must be rows of numbers of one length.")
        h_, w_ = w.shape
        width, height = int(unwrap(width)), int(unwrap(height))
        if (width != -1 and width != w_) or (height != -1 and height != h_):
            raise ArgumentError(
                f"{where}: weights has {h_} rows of {w_} values but width={width}, height={height}. "
                "Give matching sizes, or leave width and height out."
            )
        cx = w_ // 2 if int(unwrap(x)) == -1 else int(unwrap(x))
        cy = h_ // 2 if int(unwrap(y)) == -1 else int(unwrap(y))
        if not (0 <= cx < w_ and 0 <= cy < h_):
            raise ArgumentError(f"{where}: the focus x={x}, y={y} is outside the {w_}×{h_} weights.")
        return Kernel(
            "fixed",
            units="pixels",
            normalize=bool(unwrap(normalize)),
            weights=tuple(tuple(r) for r in w.tolist()),
            focus=(cx, cy),
        )

    # -- weights ---------------------------------------------------------------------------------
    def matrix(self, metres_per_pixel: float | None = None) -> np.ndarray:
        """The weights as a ``(rows, columns)`` array, for pixels of ``metres_per_pixel`` (metre kernels).

        Examples
        --------
        >>> Kernel.square(20, "meters", normalize=False).matrix(10).shape
        (5, 5)
        >>> Kernel.square(20, "meters").matrix()
        Traceback (most recent call last):
        ...
        reducer.errors.ArgumentError: ee.Kernel.square: a kernel in meters needs the pixel size of a grid ...
        """
        if self.shape == "fixed":
            w = np.array(self.weights, dtype=F8)
        else:
            scale = 1.0
            if self.units == "meters":
                if not metres_per_pixel:
                    raise ArgumentError(
                        f"ee.Kernel.{self.shape}: a kernel in meters needs the pixel size of a grid to become "
                        "pixels; use it on an image (the grid of the reduction sets it) or give units='pixels'."
                    )
                scale = 1.0 / float(metres_per_pixel)
            w = _shape(self.shape, self.x_radius * scale, self.y_radius * scale, self.sigma * scale)
        if self.normalize:
            total = w.sum()
            if total != 0:
                w = w / total
        return w * self.magnitude

    def center(self) -> tuple[int, int]:
        """The focus ``(x, y)`` of the kernel in pixels: the column and row of the cell over the output pixel.

        A kernel in metres is centred on the grid it is used on (its middle cell).
        """
        if self.focus is not None:
            return self.focus
        if self.units == "meters":
            raise ArgumentError(
                f"ee.Kernel.{self.shape}: a kernel in meters has no pixel focus until it meets a grid; "
                "use it on an image, or give units='pixels'."
            )
        w = self.matrix()
        return (w.shape[1] // 2, w.shape[0] // 2)

    def getInfo(self) -> dict[str, Any]:
        """The kernel as a dictionary: its type, radius, units and, for a kernel in pixels, its weights.

        Examples
        --------
        >>> Kernel.diamond(1, normalize=False).getInfo()["weights"]
        [[0.0, 1.0, 0.0], [1.0, 1.0, 1.0], [0.0, 1.0, 0.0]]
        """
        info: dict[str, Any] = {"type": f"Kernel.{self.shape}", "units": self.units, "normalize": self.normalize}
        if self.shape != "fixed":
            info.update(xRadius=self.x_radius, yRadius=self.y_radius, magnitude=self.magnitude)
        if self.shape == "gaussian":
            info["sigma"] = self.sigma
        if self.units == "pixels":
            info["weights"] = self.matrix().tolist()
            info["center"] = list(self.center())
        return info


def _rect(rows: Sequence[Any]) -> bool:
    n = len(rows[0])
    return all(len(r) == n for r in rows)


def _shape(shape: str, rx: float, ry: float, sigma: float) -> np.ndarray:
    hx, hy = math.floor(rx + 1e-9), math.floor(ry + 1e-9)
    dy, dx = np.mgrid[-hy : hy + 1, -hx : hx + 1].astype(F8)
    r = rx
    if shape in ("square", "rectangle"):
        inside = np.ones(dx.shape, bool)
    elif shape == "circle":
        inside = dx * dx + dy * dy <= r * r + 1e-9
    elif shape == "plus":
        inside = (dx == 0) | (dy == 0)
    elif shape == "cross":
        inside = np.abs(dx) == np.abs(dy)
    elif shape == "diamond":
        inside = np.abs(dx) + np.abs(dy) <= r + 1e-9
    elif shape == "octagon":
        inside = np.abs(dx) + np.abs(dy) <= r * math.sqrt(2) + 1e-9
    elif shape == "gaussian":
        d2 = dx * dx + dy * dy
        return np.where(d2 < r * r - 1e-9, np.exp(-d2 / (2 * sigma * sigma)), 0.0)
    else:  # pragma: no cover - constructors only make the shapes above
        raise ArgumentError(f"unknown kernel shape {shape!r}; expected one of {_SHAPES!r}.")
    return inside.astype(F8)


def as_kernel(kernel: Any, where: str) -> Kernel:
    """``kernel`` checked to be a :class:`Kernel`."""
    if isinstance(kernel, Kernel):
        return kernel
    raise ArgumentError(f"{where}: kernel={kernel!r} is not an ee.Kernel. Give e.g. ee.Kernel.circle(1.5).")


# -- the per-block computation ---------------------------------------------------------------------


ENTRY_BUDGET = 4_000_000
"""At most this many (pixel, neighbour) entries are gathered at once: a block is reduced in strips of
rows, so memory stays bounded whatever the kernel's size."""


def _neighborhood_block(
    block: np.ndarray,
    offsets: tuple[tuple[int, int], ...],
    weights: tuple[float, ...],
    columns: Sequence[Column],
    kinds: tuple[str, ...],
    halo: tuple[int, int, int, int],
    skip_masked: bool,
) -> np.ndarray:
    """Reduce each pixel's neighbours in a padded ``(bands, y, x)`` block: ``(columns, y, x)``."""
    top, bottom, left, right = halo
    block = np.asarray(block, dtype=F8)
    _, hh, ww = block.shape
    h, w = hh - top - bottom, ww - left - right
    out = np.empty((len(columns), h, w), dtype=F8)
    step = max(1, ENTRY_BUDGET // max(1, w * len(offsets)))
    for r0 in range(0, h, step):
        r1 = min(h, r0 + step)
        out[:, r0:r1] = _strip(block, r0, r1, w, offsets, weights, columns, kinds, (top, left), skip_masked)
    return out


def _strip(
    block: np.ndarray,
    r0: int,
    r1: int,
    w: int,
    offsets: tuple[tuple[int, int], ...],
    weights: tuple[float, ...],
    columns: Sequence[Column],
    kinds: tuple[str, ...],
    origin: tuple[int, int],
    skip_masked: bool,
) -> np.ndarray:
    """Output rows ``r0:r1`` of a padded block whose first output pixel is at ``origin`` (row, col)."""
    top, left = origin
    n_b = block.shape[0]
    h = r1 - r0
    n = h * w
    k = len(offsets)
    ctx: Context
    if all(x == 1.0 for x in weights):
        # every neighbour weighs 1: a dense (neighbours, bands, pixels) stack, as pixels over time
        dense = np.empty((k, n_b, n), dtype=F8)
        for i, (dy, dx) in enumerate(offsets):
            rows = slice(top + r0 + dy, top + r0 + dy + h)
            dense[i] = block[:, rows, left + dx : left + dx + w].reshape(n_b, n)
        ctx = StackContext(dense, kinds)
    else:
        # entries ordered pixel by pixel, then neighbour by neighbour, each with its kernel weight
        stack = np.empty((n_b, n, k), dtype=F8)
        for i, (dy, dx) in enumerate(offsets):
            rows = slice(top + r0 + dy, top + r0 + dy + h)
            stack[:, :, i] = block[:, rows, left + dx : left + dx + w].reshape(n_b, n)
        flat = stack.reshape(n_b, n * k)
        keep = ~np.isnan(flat).all(axis=0)
        counts = keep.reshape(n, k).sum(axis=1)
        seg_offsets = np.concatenate([[0], np.cumsum(counts)])
        entry_w = np.tile(np.asarray(weights, dtype=F8), n)[keep]
        ctx = SegmentsContext(Segments(seg_offsets, entry_w, flat[:, keep]), kinds)
    centre = block[:, top + r0 : top + r1, left : left + w].reshape(n_b, n)
    out = np.empty((len(columns), h, w), dtype=F8)
    with np.errstate(all="ignore"):
        for j, c in enumerate(columns):
            v = np.asarray(evaluate(c.output, c.bands, ctx), dtype=F8)
            if skip_masked:
                v = np.where(np.isnan(centre[list(c.bands)]).any(axis=0), np.nan, v)
            out[j] = v.reshape(h, w)
    return out


def _layout(matrix: np.ndarray, center: tuple[int, int], input_weight: str, where: str) -> tuple:
    """The kernel's non-zero cells as ``(dy, dx)`` offsets, their entry weights and the halo."""
    if (matrix < 0).any():
        raise ArgumentError(
            f"{where}: the kernel has negative weights {matrix.tolist()!r}, which cannot weigh a reducer's "
            "inputs. Give a kernel of non-negative weights."
        )
    cx, cy = center
    rows, cols = np.nonzero(matrix)
    offsets = tuple((int(r - cy), int(c - cx)) for r, c in zip(rows, cols, strict=True))
    kw = matrix[rows, cols]
    if input_weight == "mask":
        kw = np.ones_like(kw)
    elif input_weight == "min":
        kw = np.minimum(kw, 1.0)
    h, w = matrix.shape
    halo = (cy, h - 1 - cy, cx, w - 1 - cx)  # top, bottom, left, right
    return offsets, tuple(float(x) for x in kw), halo


def _neighborhood(
    arrays: Sequence[da.Array], grid: Grid, kernel: Kernel, columns: Sequence[Column], input_weight: str, skip: bool
) -> da.Array:
    """``(columns, y, x)``: the neighbourhood statistics of 2-D arrays on ``grid`` (lazy)."""
    where = "Image.reduceNeighborhood"
    matrix = kernel.matrix(grid.nominal_scale)
    center = kernel.focus if kernel.focus is not None else (matrix.shape[1] // 2, matrix.shape[0] // 2)
    offsets, weights, halo = _layout(matrix, center, input_weight, where)
    top, bottom, left, right = halo
    stack = da.stack(align(arrays)).rechunk({0: -1})
    if not offsets:  # an all-zero kernel: no neighbour
        return da.full((len(columns), *grid.shape), np.nan, dtype=F8, chunks=(len(columns), *stack.chunks[1:]))
    dy, dx = max(top, bottom), max(left, right)
    # dask gives blocks smaller than the halo their neighbours' pixels too (ensure_minimum_chunksize)
    padded = da.overlap.overlap(stack, depth={0: 0, 1: dy, 2: dx}, boundary={0: "none", 1: np.nan, 2: np.nan})
    kinds = tuple(sorted(set().union(*needed_kinds([c.output for c in columns]).values())))
    return da.map_blocks(
        _neighborhood_block,
        padded,
        offsets=tuple((oy, ox) for oy, ox in offsets),
        weights=weights,
        columns=tuple(columns),
        kinds=kinds,
        halo=(dy, dy, dx, dx),
        skip_masked=skip,
        chunks=(
            (len(columns),),
            tuple(c - 2 * dy for c in padded.chunks[1]),
            tuple(c - 2 * dx for c in padded.chunks[2]),
        ),
        dtype=F8,
        meta=np.empty((0, 0, 0), F8),
    )


_KEEPS_TYPE = {"min", "max", "mode", "first", "last"}


def _dtype(column: Column, dtypes: Sequence[str]) -> str:
    stat = column.output.stat
    if stat in ("count", "countDistinct", "countEvery"):
        return "int64"
    if stat in _KEEPS_TYPE:
        return dtypes[column.bands[0]]
    return "float64"


def reduce_neighborhood(
    image: Raster,
    reducer: Reducer,
    kernel: Kernel,
    inputWeight: InputWeight = "kernel",
    skipMasked: bool = True,
    optimization: str | None = None,
) -> Raster:
    """Apply ``reducer`` to each pixel's neighbourhood under ``kernel`` (``Image.reduceNeighborhood``).

    A one-input reducer runs on each band and names its bands ``<band>_<output>``; a reducer with
    several inputs takes the image's bands as its inputs and names bands after its outputs. The
    properties are not kept. ``optimization`` ('boxcar', 'window') is accepted and changes nothing:
    the result is the same.

    Examples
    --------
    >>> from reducer.algebra import constant
    >>> reduce_neighborhood(constant(1), Reducer.mean(), Kernel.square(1)).names
    ['constant_mean']
    >>> reduce_neighborhood(constant(1), Reducer.mean(), Kernel.square(1), inputWeight="all")
    Traceback (most recent call last):
    ...
    reducer.errors.ArgumentError: Image.reduceNeighborhood: inputWeight='all' is not one of ...
    """
    where = "Image.reduceNeighborhood"
    k = as_kernel(kernel, where)
    weight = str(unwrap(inputWeight))
    if weight not in ("kernel", "mask", "min"):
        raise ArgumentError(f"{where}: inputWeight={inputWeight!r} is not one of ('kernel', 'mask', 'min').")
    opt = unwrap(optimization)
    if opt is not None and opt not in ("boxcar", "window"):
        raise ArgumentError(f"{where}: optimization={optimization!r} is not 'boxcar', 'window' or None.")
    if not isinstance(reducer, Reducer):
        raise ArgumentError(f"{where}: reducer={reducer!r} is not an ee.Reducer. Give e.g. ee.Reducer.mean().")
    if not image.bands:
        raise BandError(f"{where}: the image has no bands. Select or add bands first.")
    columns = time_columns(reducer, image.names, where)
    if k.units == "pixels":  # checked now; a kernel in metres is checked on the grid it meets
        _layout(k.matrix(), k.center(), weight, where)
    bands = _neighborhood_bands(image, columns, k, weight, bool(unwrap(skipMasked)))
    return Raster(tuple(bands), {})


def _neighborhood_bands(
    image: Raster, columns: Sequence[Column], kernel: Kernel, weight: str, skip: bool
) -> list[Band]:
    inputs = image.bands
    dtypes = [b.dtype for b in inputs]

    @memo
    def all_columns(g: Grid, resampling: str) -> da.Array:
        return _neighborhood([b.on(g) for b in inputs], g, kernel, columns, weight, skip)

    def column_fn(j: int):  # noqa: ANN202 - a closure per output band
        def fn(g: Grid, resampling: str) -> da.Array:
            return all_columns(g, resampling)[j]

        return memo(fn)

    return [Band(c.name, _dtype(c, dtypes), image.grid, column_fn(j)) for j, c in enumerate(columns)]


FOCAL = {
    "min": Reducer.min,
    "max": Reducer.max,
    "mean": Reducer.mean,
    "median": Reducer.median,
    "mode": Reducer.mode,
}


def focal(
    image: Raster,
    stat: Literal["min", "max", "mean", "median", "mode"],
    radius: float = 1.5,
    kernelType: str = "circle",
    units: Units = "pixels",
    iterations: int = 1,
    kernel: Kernel | None = None,
) -> Raster:
    """Earth Engine's ``focalMin/Max/Mean/Median/Mode``: the statistic of each pixel's neighbourhood.

    The neighbourhood is ``kernel`` or, without one, a ``kernelType`` kernel of ``radius`` in
    ``units`` (not normalized; for these statistics normalization changes nothing). The filter is
    applied ``iterations`` times. Masked neighbours are left out and the output is computed at
    masked pixels too (``skipMasked=False``), so the filters grow into small gaps. Band names are
    kept; the properties are not.

    Examples
    --------
    >>> from reducer.algebra import constant
    >>> focal(constant(1), "max", 1, "square").names
    ['constant']
    >>> focal(constant(1), "max", kernelType="hexagon")
    Traceback (most recent call last):
    ...
    reducer.errors.ArgumentError: Image.focalMax: kernelType='hexagon' is not one of ...
    """
    where = f"Image.focal{stat[0].upper()}{stat[1:]}"
    if stat not in FOCAL:
        raise ArgumentError(f"{where}: unknown statistic {stat!r}; expected one of {sorted(FOCAL)!r}.")
    if kernel is not None:
        k = as_kernel(kernel, where)
    else:
        kind = str(unwrap(kernelType))
        if kind not in KERNEL_TYPES:
            raise ArgumentError(f"{where}: kernelType={kernelType!r} is not one of {KERNEL_TYPES!r}.")
        k = Kernel._named(kind, radius, units, False, 1.0)
    n = unwrap(iterations)
    if isinstance(n, bool) or not isinstance(n, int | float) or n < 1 or int(n) != n:
        raise ArgumentError(f"{where}: iterations={iterations!r} is not a whole number >= 1.")
    if not image.bands:
        raise BandError(f"{where}: the image has no bands. Select or add bands first.")
    out = image
    for _ in range(int(n)):
        bands = []
        for b in out.bands:
            one = Raster((b,), {})
            (col,) = time_columns(FOCAL[stat](), [b.name], where)
            (nb,) = _neighborhood_bands(one, [col], k, "kernel", False)
            bands.append(Band(b.name, nb.dtype, nb.grid, nb.fn))
        out = Raster(tuple(bands), {})
    return out


def _ray(angle: float, max_distance: int) -> tuple[tuple[int, int, float], ...]:
    """The pixel offsets ``(rows, cols, distance)`` a search at ``angle`` visits, nearest first."""
    theta = math.radians(angle)
    seen: set[tuple[int, int]] = set()
    out = []
    for t in range(1, max_distance + 1):
        dx = math.floor(t * math.cos(theta) + 0.5)
        dy = math.floor(t * math.sin(theta) + 0.5)
        if (dx, dy) in seen or (dx, dy) == (0, 0):
            continue
        seen.add((dx, dy))
        out.append((-dy, dx, math.hypot(dx, dy)))  # rows grow southwards
    return tuple(out)


def _ddt_block(block: np.ndarray, ray: tuple, label: int, others: tuple[int, ...], halo: int) -> np.ndarray:
    """``(others + distance, y, x)`` for a padded ``(bands, y, x)`` block."""
    block = np.asarray(block, dtype=F8)
    h, w = block.shape[1] - 2 * halo, block.shape[2] - 2 * halo
    lab = block[label]
    dist = np.full((h, w), np.nan)
    vals = np.full((len(others), h, w), np.nan)
    for dr, dc, d in ray:
        cand = lab[halo + dr : halo + dr + h, halo + dc : halo + dc + w]
        hit = np.isnan(dist) & ~np.isnan(cand) & (cand != 0)
        dist[hit] = d
        for i, b in enumerate(others):
            vals[i][hit] = block[b, halo + dr : halo + dr + h, halo + dc : halo + dc + w][hit]
    centre = lab[halo : halo + h, halo : halo + w]
    own = ~np.isnan(centre) & (centre != 0)
    dist[own] = 0.0
    for i, b in enumerate(others):
        vals[i][own] = block[b, halo : halo + h, halo : halo + w][own]
    dist[np.isnan(centre)] = np.nan
    vals[:, np.isnan(centre)] = np.nan
    return np.concatenate([vals, dist[None]])


def directional_distance_transform(
    image: Raster, angle: float, maxDistance: int, labelBand: str | None = None
) -> Raster:
    """Earth Engine's ``Image.directionalDistanceTransform``: distance to the nearest non-zero pixel at ``angle``.

    From each zero-valued pixel the search steps along the direction ``angle`` (degrees
    counter-clockwise from the grid's +x axis, so 0 is east and 90 north on a north-up grid: the
    convention of the Sentinel-2 cloud-shadow scripts' ``90 - MEAN_SOLAR_AZIMUTH_ANGLE``), one
    pixel length at a time up to ``maxDistance`` pixels, visiting the pixel at the rounded offset.
    The band ``distance`` holds the Euclidean length (in pixels) of the offset of the first non-zero
    pixel met; it is 0 at non-zero pixels and masked where nothing is met, at masked pixels, and
    beyond the grid's edge. With ``labelBand``, that band is searched and the other bands come first,
    each holding its value at the pixel found; without it the image must have one band.

    Examples
    --------
    >>> from reducer.algebra import constant
    >>> directional_distance_transform(constant(0), 0, 10).names
    ['distance']
    >>> directional_distance_transform(constant([0, 1]), 0, 10)
    Traceback (most recent call last):
    ...
    reducer.errors.BandError: Image.directionalDistanceTransform: the image has 2 bands ...
    """
    where = "Image.directionalDistanceTransform"
    a = unwrap(angle)
    if isinstance(a, bool) or not isinstance(a, int | float) or not math.isfinite(a):
        raise ArgumentError(f"{where}: angle={angle!r} is not a number of degrees, e.g. angle=90.")
    n = unwrap(maxDistance)
    if isinstance(n, bool) or not isinstance(n, int | float) or not math.isfinite(n) or n < 1:
        raise ArgumentError(f"{where}: maxDistance={maxDistance!r} is not a number of pixels >= 1.")
    n = int(n)
    names = image.names
    label_name = unwrap(labelBand)
    if label_name is None:
        if len(names) != 1:
            raise BandError(
                f"{where}: the image has {len(names)} bands {names!r}; give labelBand= to search one of them, "
                "or select one band."
            )
        label = 0
    else:
        if str(label_name) not in names:
            raise BandError(f"{where}: labelBand={label_name!r} is not a band of the image {names!r}.")
        label = names.index(str(label_name))
    others = tuple(i for i in range(len(names)) if i != label)
    ray = _ray(float(a), n)
    inputs = image.bands

    @memo
    def result(g: Grid, resampling: str) -> da.Array:
        stack = da.stack(align([b.on(g) for b in inputs])).rechunk({0: -1})
        padded = da.overlap.overlap(stack, depth={0: 0, 1: n, 2: n}, boundary={0: "none", 1: np.nan, 2: np.nan})
        return da.map_blocks(
            _ddt_block,
            padded,
            ray=ray,
            label=label,
            others=others,
            halo=n,
            chunks=(
                (len(others) + 1,),
                tuple(c - 2 * n for c in padded.chunks[1]),
                tuple(c - 2 * n for c in padded.chunks[2]),
            ),
            dtype=F8,
            meta=np.empty((0, 0, 0), F8),
        )

    def pick(j: int):  # noqa: ANN202 - a closure per output band
        return memo(lambda g, resampling: result(g, resampling)[j])

    bands = [Band(inputs[i].name, inputs[i].dtype, image.grid, pick(j)) for j, i in enumerate(others)]
    bands.append(Band("distance", "float32", image.grid, pick(len(others))))
    return Raster(tuple(bands), {})


def simple_cloud_score(image: Raster) -> Raster:
    """Earth Engine's ``ee.Algorithms.Landsat.simpleCloudScore``: not available.

    Earth Engine documents only that the score combines brightness, temperature and NDSI into
    [0, 100]; the thresholds and the way they combine are not published, so no faithful port exists.

    Examples
    --------
    >>> from reducer.algebra import constant
    >>> simple_cloud_score(constant(0))
    Traceback (most recent call last):
    ...
    NotImplementedError: ee.Algorithms.Landsat.simpleCloudScore is not available: ...
    """
    raise NotImplementedError(
        "ee.Algorithms.Landsat.simpleCloudScore is not available: Earth Engine publishes only that it "
        "combines brightness, temperature and NDSI, not its thresholds, so a port cannot give its scores. "
        "Mask clouds with the product's QA band (e.g. QA_PIXEL bits with bitwiseAnd) instead."
    )
