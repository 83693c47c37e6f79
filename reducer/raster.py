"""The image model below the facades: :class:`Band` and :class:`Raster`.

A :class:`Raster` is a frozen tuple of :class:`Band` objects plus properties. A band knows its
native grid and how to produce its pixels on any grid (``Band.on(grid)``): a file band reads blocks
of its file, resampled (nearest by default, as Earth Engine) when the grid is not its own. Masked
pixels are NaN. Band math, composites, the expression compiler, every source, the engine, sampling
and points take and return rasters; only the facades (:class:`reducer.Image`,
:class:`reducer.ImageCollection`) wrap them. Nothing here reads pixels; the engine does.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any

import dask.array as da
import numpy as np

from .errors import BandError
from .geometry import as_geometry
from .grid import Grid

__all__ = [
    "Band",
    "Raster",
    "PixelFn",
    "reproject",
    "file_band",
    "rename_bands",
    "select_bands",
    "constant_band",
    "memo",
    "align",
    "generated",
    "block_window",
    "BLOCK",
    "footprint",
    "FileReader",
    "tile_rects",
]

PixelFn = Callable[[Grid, str], da.Array]

BLOCK = 1024
F8 = np.dtype("f8")
_META = np.empty((0, 0), F8)


@dataclass(frozen=True)
class Band:
    """One band: its name, source dtype, native grid and pixel function.

    ``fn(grid, resampling)`` returns a 2-D float dask array on ``grid`` with NaN where masked;
    ``resampling`` is how a file band is resampled when ``grid`` is not its own.
    ``grid`` is None for a band with no projection of its own (a constant). ``local`` says that a
    pixel's value depends on its location alone, not on the extent of the grid asked for (file
    bands, constants): the engine may then evaluate the band on windows of a grid only.

    Examples
    --------
    >>> b = constant_band("c", 2)
    >>> b.name, b.dtype, b.grid
    ('c', 'int64', None)
    """

    name: str
    dtype: str
    grid: Grid | None
    fn: PixelFn
    resampling: str = "nearest"
    local: bool = False
    inputs: tuple[Band, ...] = field(default=(), compare=False, repr=False)
    """The bands ``fn`` evaluates on the grid it is given (its operands), when ``fn`` is :func:`memo`'s."""

    def on(self, grid: Grid) -> da.Array:
        """Pixels on ``grid``.

        The bands below this one (:attr:`inputs`, and theirs) are evaluated first, deepest first, from an
        explicit stack: each band's ``fn`` then finds its operands remembered (:func:`memo`), so a chain of
        band math thousands of operations deep is built without Python recursion.
        """
        if self.inputs:
            _evaluate_inputs(self, grid)
        return self.fn(grid, self.resampling)

    @property
    def reader(self) -> FileReader | None:
        """How to read windows of this band's file directly on its native grid, or None.

        Only a band made by :func:`file_band` with a reader has one, and only while its pixel
        function is that band's own: a band whose ``fn`` was replaced (band math) has none.
        """
        fn = self.fn
        return fn.reader if isinstance(fn, _FileBandFn) else None

    def renamed(self, name: str) -> Band:
        """The same band under another name."""
        return replace(self, name=str(name))


def _evaluate_inputs(band: Band, grid: Grid) -> None:
    """Evaluate the remembered bands below ``band`` on ``grid`` in post-order (operands before their users)."""
    stack: list[tuple[Band, bool]] = [(b, False) for b in band.inputs]
    seen: set[tuple[int, str]] = set()
    while stack:
        b, expanded = stack.pop()
        remembered = getattr(b.fn, "remembers", None)
        if remembered is None:
            continue  # not memo's: the band that uses it evaluates it (from its own on(), so iteratively too)
        if expanded:
            b.fn(grid, b.resampling)  # its inputs are remembered by now: no recursion below this call
            continue
        key = (id(b.fn), b.resampling)
        if key in seen or remembered(grid, b.resampling):
            continue
        seen.add(key)
        stack.append((b, True))
        stack.extend((x, False) for x in b.inputs)


def _frozen(props: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return MappingProxyType(dict(props or {}))


@dataclass(frozen=True, eq=False)
class Raster:
    """An image's data: its bands (lazy pixels) and properties (read-only).

    Examples
    --------
    >>> r = Raster((constant_band("a", 1), constant_band("b", 2.5)), {"system:index": "x"})
    >>> r.names, r.grid is None, r.properties["system:index"]
    (['a', 'b'], True, 'x')
    >>> r.with_properties({"k": 1}).properties["k"]
    1
    """

    bands: tuple[Band, ...] = ()
    properties: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "bands", tuple(self.bands))
        object.__setattr__(self, "properties", _frozen(self.properties))

    @property
    def names(self) -> list[str]:
        """The band names."""
        return [b.name for b in self.bands]

    @property
    def grid(self) -> Grid | None:
        """The default grid: the first band with a projection, as Earth Engine's default projection."""
        for b in self.bands:
            if b.grid is not None:
                return b.grid
        return None

    @property
    def local(self) -> bool:
        """Whether every band may be evaluated on a window of a grid alone (see :class:`Band`)."""
        return bool(self.bands) and all(b.local for b in self.bands)

    def stack(self, grid: Grid) -> da.Array:
        """All bands on ``grid`` as one ``(band, y, x)`` dask array."""
        if not self.bands:
            raise BandError("this image has no bands: select or add bands before reducing it.")
        arrays = [b.on(grid) for b in self.bands]
        if len(arrays) == 1:
            return arrays[0][None]
        chunks = arrays[0].chunks
        arrays = [a if a.chunks == chunks else a.rechunk(chunks) for a in arrays]
        return da.stack(arrays)

    def with_bands(self, bands: Sequence[Band]) -> Raster:
        """The same properties with other bands."""
        return Raster(tuple(bands), self.properties)

    def with_properties(self, properties: Mapping[str, Any]) -> Raster:
        """The same bands with ``properties`` (replacing all of them)."""
        return Raster(self.bands, properties)

    def updated(self, properties: Mapping[str, Any]) -> Raster:
        """The same bands with ``properties`` set on top of the current ones."""
        return Raster(self.bands, {**self.properties, **properties})


def rename_bands(raster: Raster, names: Sequence[Any], where: str = "Image.rename") -> Raster:
    """``raster`` with every band renamed, one name per band.

    Examples
    --------
    >>> rename_bands(Raster((constant_band("a", 1),)), ["x"]).names
    ['x']
    >>> rename_bands(Raster((constant_band("a", 1),)), ["x", "y"])
    Traceback (most recent call last):
    ...
    reducer.errors.BandError: Image.rename: 2 names ['x', 'y'] for 1 bands ['a']. Give one name per band.
    """
    names = list(names)
    if len(names) != len(raster.bands):
        raise BandError(
            f"{where}: {len(names)} names {names!r} for {len(raster.bands)} bands {raster.names!r}. "
            "Give one name per band."
        )
    return raster.with_bands([b.renamed(str(n)) for b, n in zip(raster.bands, names, strict=True)])


def select_bands(
    raster: Raster, selectors: Sequence[Any], new_names: Sequence[Any] | None = None, where: str = "Image.select"
) -> Raster:
    """The bands that ``selectors`` pick (names, then regexes, or indices), optionally renamed.

    Examples
    --------
    >>> r = Raster((constant_band("B4", 1), constant_band("B8", 2), constant_band("QA", 3)))
    >>> select_bands(r, ["B.*"]).names, select_bands(r, [-1, 0], ["q", "b"]).names
    (['B4', 'B8'], ['q', 'b'])
    >>> select_bands(r, ["B["])
    Traceback (most recent call last):
    ...
    reducer.errors.BandError: Image.select: pattern 'B[' did not match any bands. Available: ['B4', 'B8', 'QA'].
    """
    names = raster.names
    picked: list[int] = []
    for sel in selectors:
        if isinstance(sel, int | np.integer) and not isinstance(sel, bool):
            if not -len(names) <= sel < len(names):
                raise BandError(f"{where}: band index {sel} is out of range for bands {names!r}.")
            picked.append(int(sel) % len(names))
            continue
        if not isinstance(sel, str):
            raise BandError(f"{where}: band selector {sel!r} must be a name, a regex or an index.")
        hits = [i for i, n in enumerate(names) if n == sel] or [i for i, n in enumerate(names) if _full_match(sel, n)]
        if not hits:
            image = raster.properties.get("system:index", raster.properties.get("system:id"))
            of = f" of image {image!r}" if image is not None else ""
            raise BandError(f"{where}: pattern {sel!r} did not match any bands{of}. Available: {names!r}.")
        picked.extend(hits)
    bands = [raster.bands[i] for i in picked]
    if new_names is not None:
        new = [str(n) for n in new_names]
        if len(new) != len(bands):
            raise BandError(
                f"{where}: {len(new)} new names {new!r} for {len(bands)} selected bands "
                f"{[b.name for b in bands]!r}. Give one name per band."
            )
        bands = [b.renamed(n) for b, n in zip(bands, new, strict=True)]
    return raster.with_bands(bands)


def _full_match(pattern: str, name: str) -> bool:
    try:
        return re.fullmatch(pattern, name) is not None
    except re.error:
        return False


def reproject(array: da.Array, src: Grid, dst: Grid, resampling: str = "nearest") -> da.Array:
    """Resample a lazy 2-D array from grid ``src`` to grid ``dst``, in blocks of up to 1024² target pixels.

    Nearest neighbour across CRSs maps each target pixel's centre exactly (pyproj) and takes the
    source pixel that contains it (a centre on a pixel edge goes to the pixel right of or below it);
    GDAL's warper, which the other cases use (odc-geo), approximates the transformation to 1/8 pixel
    and so picks another neighbour for some pixels. Outside ``src``: NaN.

    Examples
    --------
    >>> from affine import Affine
    >>> src = Grid("EPSG:32633", Affine(10, 0, 500000, 0, -10, 5300000), 2, 2)
    >>> dst = Grid("EPSG:32633", Affine(5, 0, 500000, 0, -5, 5300000), 4, 4)
    >>> reproject(da.from_array(np.array([[1.0, 2.0], [3.0, 4.0]])), src, dst).compute()[1].tolist()
    [1.0, 1.0, 2.0, 2.0]
    """
    if resampling == "nearest" and src.crs_wkt != dst.crs_wkt and src.is_rectilinear and dst.is_rectilinear:
        return _nearest_exact(array, src, dst)
    import xarray as xr
    from odc.geo.geobox import GeoBox
    from odc.geo.xr import xr_coords, xr_reproject

    src_box = GeoBox(src.shape, src.transform, src.crs_wkt)
    dst_box = GeoBox(dst.shape, dst.transform, dst.crs_wkt)
    # geographic grids name their dims (latitude, longitude): take the GeoBox's own names
    x = xr.DataArray(array, coords=xr_coords(src_box), dims=src_box.dimensions)
    # blocks of BLOCK pixels on the target grid (odc-geo's default, the source's chunk size, gives a
    # coarse source resampled to a fine grid millions of tiny blocks)
    chunks = (min(BLOCK, dst.height), min(BLOCK, dst.width))
    return xr_reproject(x, dst_box, resampling=resampling, dst_nodata=np.nan, chunks=chunks).data


@functools.lru_cache(maxsize=16)
def _transformer(from_wkt: str, to_wkt: str) -> Any:
    from pyproj import Transformer

    return Transformer.from_crs(from_wkt, to_wkt, always_xy=True)


def _source_pixels(src: Grid, dst: Grid, rows: np.ndarray, cols: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Source row and column (floats, NaN where the transformation fails) of target pixel centres."""
    t = dst.transform
    x = t.c + (cols + 0.5) * t.a
    y = t.f + (rows + 0.5) * t.e
    sx, sy = _transformer(dst.crs_wkt, src.crs_wkt).transform(x, y, errcheck=False)
    s = src.transform
    with np.errstate(invalid="ignore"):
        col = np.floor((np.asarray(sx) - s.c) / s.a)
        row = np.floor((np.asarray(sy) - s.f) / s.e)
    bad = ~(np.isfinite(col) & np.isfinite(row))
    return np.where(bad, np.nan, row), np.where(bad, np.nan, col)


def _nearest_block(window: np.ndarray, src: Grid, dst: Grid, origin: tuple[int, int, int, int]) -> np.ndarray:
    """Target block ``origin = (row0, col0, height, width)``: each pixel's centre mapped into ``window``."""
    r0, c0, h, w, wr0, wc0 = origin
    rows, cols = np.mgrid[r0 : r0 + h, c0 : c0 + w]
    row, col = _source_pixels(src, dst, rows.ravel(), cols.ravel())
    row, col = row - wr0, col - wc0
    ok = (row >= 0) & (row < window.shape[0]) & (col >= 0) & (col < window.shape[1])
    out = np.full(h * w, np.nan, dtype=np.result_type(window.dtype, np.float32))
    out[ok] = window[row[ok].astype(np.int64), col[ok].astype(np.int64)]
    return out.reshape(h, w)


def _nearest_exact(array: da.Array, src: Grid, dst: Grid) -> da.Array:
    """Exact nearest neighbour across CRSs, per target block: the source window its edges map to, plus a margin."""
    import dask

    sh, sw = src.shape
    dtype = np.result_type(array.dtype, np.float32)
    row_chunks = da.core.normalize_chunks(BLOCK, dst.shape)[0]
    col_chunks = da.core.normalize_chunks(BLOCK, dst.shape)[1]
    blocks = []
    r0 = 0
    for h in row_chunks:
        line = []
        c0 = 0
        for w in col_chunks:
            # the block's outline of pixel centres: a continuous map sends the inside within its image
            rr = np.r_[np.full(w, r0), np.full(w, r0 + h - 1), np.arange(r0, r0 + h), np.arange(r0, r0 + h)]
            cc = np.r_[np.arange(c0, c0 + w), np.arange(c0, c0 + w), np.full(h, c0), np.full(h, c0 + w - 1)]
            row, col = _source_pixels(src, dst, rr, cc)
            if np.isnan(row).any() or not np.isfinite(row).any():
                wr0, wr1, wc0, wc1 = 0, sh, 0, sw  # the outline leaves the projection: take all of the source
            else:
                wr0, wr1 = int(np.nanmin(row)) - 2, int(np.nanmax(row)) + 3
                wc0, wc1 = int(np.nanmin(col)) - 2, int(np.nanmax(col)) + 3
            wr0, wr1, wc0, wc1 = max(wr0, 0), min(wr1, sh), max(wc0, 0), min(wc1, sw)
            if wr0 >= wr1 or wc0 >= wc1:
                line.append(da.full((h, w), np.nan, dtype=dtype, chunks=(h, w)))
            else:
                part = dask.delayed(_nearest_block, pure=True)(
                    array[wr0:wr1, wc0:wc1], src, dst, (r0, c0, h, w, wr0, wc0)
                )
                line.append(da.from_delayed(part, (h, w), dtype=dtype))
            c0 += w
        blocks.append(line)
        r0 += h
    return da.block(blocks)


@dataclass(frozen=True)
class FileReader:
    """Reads windows of a file band on its native grid: what lets the engine read only the tiles features touch.

    ``read((row, col, height, width))`` returns the window's pixels as a 2-D float array of
    ``dtype``, NaN where masked, exactly as the band's dask array holds them there. ``tile`` is the
    file's internal tile (block) shape ``(rows, cols)``: a window made of whole tiles decodes those
    tiles and no other. ``read`` must pickle (it runs in dask tasks, on any scheduler).

    Examples
    --------
    >>> r = FileReader(lambda w: np.zeros(w[2:], "f4"), (512, 512), "float32")
    >>> r.read((0, 0, 2, 3)).shape, r.tile
    ((2, 3), (512, 512))
    """

    read: Callable[[tuple[int, int, int, int]], np.ndarray]
    tile: tuple[int, int]
    dtype: str


def tile_rects(touched: np.ndarray, tile: tuple[int, int], window: tuple[int, int, int, int]) -> list[tuple]:
    """The rectangles of ``window`` to read: its pixels in the tiles marked in ``touched``, in few reads.

    ``touched`` is a boolean ``(tile rows, tile cols)`` array over the whole grid; ``window`` is
    ``(row0, col0, height, width)`` in grid pixels. Each run of touched tiles in a tile row is one
    rectangle, and consecutive tile rows with the same runs are merged, so that a window whose
    tiles are all touched is read at once. Rectangles are ``(row, col, height, width)`` relative
    to the window.

    Examples
    --------
    >>> t = np.array([[True, True, False], [True, True, False], [False, False, True]])
    >>> tile_rects(t, (2, 2), (0, 0, 6, 6))
    [(0, 0, 4, 4), (4, 4, 2, 2)]
    >>> tile_rects(t, (2, 2), (1, 1, 2, 4))  # windows need not be tile-aligned
    [(0, 0, 2, 3)]
    """
    r0, c0, h, w = window
    th, tw = tile
    ti0, ti1 = r0 // th, (r0 + h - 1) // th
    tj0, tj1 = c0 // tw, (c0 + w - 1) // tw
    sub = touched[ti0 : ti1 + 1, tj0 : tj1 + 1]
    rects: list[tuple] = []
    open_: dict[tuple[int, int], list[int]] = {}  # (col run) -> [first tile row, last tile row]
    for i in range(sub.shape[0]):
        row = np.r_[False, sub[i], False]
        edges = np.flatnonzero(row[1:] != row[:-1])
        runs = {(int(a), int(b)) for a, b in zip(edges[::2], edges[1::2], strict=True)}
        for run in list(open_):
            if run not in runs:
                rects.append((*open_.pop(run), *run))
        for run in runs:
            if run in open_:
                open_[run][1] = i
            else:
                open_[run] = [i, i]
    rects += [(*v, *k) for k, v in open_.items()]
    out = []
    for a, b, c, d in sorted(rects):
        y0, y1 = max(r0, (ti0 + a) * th), min(r0 + h, (ti0 + b + 1) * th)
        x0, x1 = max(c0, (tj0 + c) * tw), min(c0 + w, (tj0 + d) * tw)
        out.append((y0 - r0, x0 - c0, y1 - y0, x1 - x0))
    return out


class _FileBandFn:
    """A file band's pixel function: its dask array on the native grid, resampled elsewhere; and its reader."""

    def __init__(self, array: da.Array | Callable[[], da.Array], native: Grid, reader: FileReader | None):
        self._array = array
        self._cache: list[da.Array] = [] if callable(array) else [array]
        self.native = native
        self.reader = reader

    def native_array(self) -> da.Array:
        if not self._cache:
            self._cache.append(self._array())  # type: ignore[operator]
        return self._cache[0]

    def __call__(self, grid: Grid, resampling: str) -> da.Array:
        if grid == self.native:
            return self.native_array()
        return reproject(self.native_array(), self.native, grid, resampling)


def file_band(
    name: str,
    dtype: str,
    array: da.Array | Callable[[], da.Array],
    native: Grid,
    reader: FileReader | None = None,
) -> Band:
    """A band of a lazy array on its ``native`` grid, resampled (per block) onto any other grid.

    ``array`` may be a function of no argument that builds the dask array: it is then called once,
    on first use, so that building a collection of many files builds no graph. ``reader`` reads
    windows of the same pixels directly (see :class:`FileReader`): the engine then reads only the
    file's tiles that features touch.

    Examples
    --------
    >>> from affine import Affine
    >>> g = Grid("EPSG:32633", Affine(1, 0, 0, 0, -1, 2), 2, 2)
    >>> calls = []
    >>> b = file_band("a", "float64", lambda: calls.append(1) or da.ones((2, 2)), g)
    >>> len(calls)  # built, not read: no array yet
    0
    >>> float(b.on(g).sum().compute()), b.on(g).shape, len(calls)
    (4.0, (2, 2), 1)
    >>> b.reader is None
    True
    """
    return Band(name, dtype, native, _FileBandFn(array, native, reader), local=True)


def memo(fn: PixelFn) -> PixelFn:
    """``fn`` remembering its last few results per (grid, resampling).

    A band used by several others (a cloud mask applied to every band) then builds its dask
    graph once per grid instead of once per use; the arrays are immutable, so sharing is safe.
    """
    cache: dict[tuple[Grid, str], da.Array] = {}

    def wrapped(grid: Grid, resampling: str) -> da.Array:
        key = (grid, resampling)
        hit = cache.get(key)
        if hit is None:
            hit = fn(grid, resampling)
            if len(cache) >= 4:
                cache.clear()
            cache[key] = hit
        return hit

    def remembers(grid: Grid, resampling: str) -> bool:
        return (grid, resampling) in cache

    wrapped.remembers = remembers  # type: ignore[attr-defined]  (read by Band.on)
    return wrapped


def align(arrays: Sequence[da.Array]) -> list[da.Array]:
    """Rechunk 2-D arrays of one shape to the finest chunking among them, so blocks pair up.

    (``map_blocks`` would broadcast a one-block array against a many-block one instead.)
    """
    arrays = list(arrays)
    chunks = max((a.chunks for a in arrays), key=lambda c: len(c[0]) * len(c[1]))
    return [a if a.chunks == chunks else a.rechunk(chunks) for a in arrays]


def block_window(block_info: dict | None) -> tuple[int, int, int, int]:
    """``(row0, row1, col0, col1)`` of the block ``map_blocks`` is computing."""
    (r0, r1), (c0, c1) = block_info[None]["array-location"]  # type: ignore[index]
    return r0, r1, c0, c1


def generated(grid: Grid, func: Callable[..., np.ndarray], **kwargs: Any) -> da.Array:
    """A lazy float64 array on ``grid`` whose blocks ``func(**kwargs, block_info=...)`` computes."""
    chunks = da.core.normalize_chunks(BLOCK, grid.shape)
    return da.map_blocks(func, chunks=chunks, dtype=F8, meta=_META, **kwargs)


def _fill_block(value: float, block_info: dict | None = None) -> np.ndarray:
    r0, r1, c0, c1 = block_window(block_info)
    return np.full((r1 - r0, c1 - c0), value, dtype=F8)


def constant_band(name: str, value: int | float) -> Band:
    """A band of one value everywhere, with no projection of its own (cheap to build per block).

    Its type is ``int64`` for a whole number given as an int, else ``float64``.

    Examples
    --------
    >>> from affine import Affine
    >>> g = Grid("EPSG:4326", Affine(1, 0, 0, 0, -1, 2), 3, 2)
    >>> constant_band("c", 7).on(g).compute().tolist()
    [[7.0, 7.0, 7.0], [7.0, 7.0, 7.0]]
    >>> constant_band("c", 7.0).dtype
    'float64'
    """
    dtype = "int64" if float(value).is_integer() and not isinstance(value, float) else "float64"

    def fn(grid: Grid, resampling: str) -> da.Array:
        return generated(grid, _fill_block, value=float(value))

    return Band(name, dtype, None, memo(fn), local=True)


def footprint(raster: Raster) -> Any:
    """The raster's footprint as a shapely geometry in EPSG:4326: its ``system:footprint``, else its grid's bounds.

    A raster without a grid (a constant) covers the world.

    Examples
    --------
    >>> footprint(Raster((constant_band("c", 1),))).bounds
    (-180.0, -90.0, 180.0, 90.0)
    >>> footprint(Raster((), {"system:footprint": {"type": "Point", "coordinates": [1, 2]}})).wkt
    'POINT (1 2)'
    """
    import shapely
    from pyproj import Transformer

    stored = raster.properties.get("system:footprint")  # from metadata (a STAC item's geometry): no file needed
    if stored is not None:
        return _stored_footprint(stored)
    grid = raster.grid
    if grid is None:
        return shapely.box(-180, -90, 180, 90)
    xmin, ymin, xmax, ymax = grid.bounds
    if grid.crs.to_epsg() == 4326:
        return shapely.box(xmin, ymin, xmax, ymax)
    tr = Transformer.from_crs(grid.crs, "EPSG:4326", always_xy=True)
    return shapely.box(*tr.transform_bounds(xmin, ymin, xmax, ymax, densify_pts=21))


def _stored_footprint(fp: Any) -> Any:
    """A ``system:footprint`` (GeoJSON in EPSG:4326, a shapely geometry or an ee.Geometry) as a shapely polygon."""
    import shapely
    import shapely.geometry

    if isinstance(fp, dict):
        geom = shapely.geometry.shape(fp)
    elif isinstance(fp, shapely.Geometry):
        geom = fp
    else:
        geom = as_geometry(fp).to_shapely("EPSG:4326")
    if isinstance(geom, shapely.LinearRing):  # Earth Engine's footprints are rings: their inside counts
        geom = shapely.Polygon(geom)
    return geom
