"""Raster sources: GeoTIFF/COG files read lazily, block by block.

Opening a file reads its header only (bands, grid, nodata, tags). Pixels are read by
:func:`read_window`, one dask task per block, opening the file by path inside the task so
the graph holds no file handle and runs on any dask scheduler, distributed included.

When the header facts are known already (a STAC item's ``proj:`` and ``raster:bands`` fields),
:meth:`RasterioFileSource.from_header` builds a source without opening the file at all: the
file is first opened when a block of pixels is read. Paths may be anything rasterio opens,
``https://`` and ``/vsicurl/`` URLs included; remote files are read in smaller blocks.
"""

from __future__ import annotations

import logging
import math
import os
import threading
import time
import warnings
from collections import OrderedDict
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import dask.array as da
import numpy as np
import rasterio
from rasterio.enums import MaskFlags
from rasterio.windows import Window

from .. import options
from ..dates import date_from_name, to_millis
from ..errors import BandError, CRSError, InputFileError, NodataError, ReducerWarning, UnsupportedRasterError
from ..grid import Grid, norm_crs
from ..raster import Band, FileReader, Raster, file_band

__all__ = [
    "raster_from_file",
    "rasters_from_files",
    "header_env",
    "raster_from_dataarray",
    "is_dataarray",
    "RasterioFileSource",
    "BandInfo",
    "read_window",
    "pixel_dtype",
    "is_remote",
    "http_options",
    "gdal_reason",
    "HTTP_DEFAULTS",
    "READ_COUNTER",
    "check_north_up",
    "check_confined",
    "HEADER_COUNTER",
    "clear_dataset_cache",
]

# Blocks of about this many pixels per side are read per task.
TARGET_BLOCK = 1024
# Remote files (URLs) are read in smaller blocks: a small field should fetch little of the file.
REMOTE_TARGET_BLOCK = 512


class _Counter:
    """Counts window reads, so tests can prove that building an expression reads no pixel."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reads = 0
        self.pixels = 0
        self.tiles = 0
        self.file_bytes = 0

    def add(self, pixels: int, tiles: int = 0, file_bytes: int = 0) -> None:
        with self._lock:
            self.reads += 1
            self.pixels += pixels
            self.tiles += tiles
            self.file_bytes += file_bytes

    def reset(self) -> None:
        with self._lock:
            self.reads = 0
            self.pixels = 0
            self.tiles = 0
            self.file_bytes = 0


READ_COUNTER = _Counter()
"""Window reads: ``reads`` windows of ``pixels`` pixels in all, decoding ``tiles`` internal tiles (blocks) of
the files, whose encoded size is ``file_bytes`` (as the TIFF stores them; the decoded size for other formats)."""

HEADER_COUNTER = _Counter()
"""Header reads at build time: ``reads`` files opened to learn their bands and grid."""


# Open datasets, per thread (a GDAL dataset handle is not thread-safe), keyed by path and the file's
# modification time and size: each block read reuses its thread's handle instead of opening the file
# again (xarray's CachingFileManager does the same). Nothing here is pickled, so it holds on any
# dask worker; a rewritten file gets a new key and so a fresh handle. GDAL keeps the decoded blocks
# of an open dataset in its block cache (up to GDAL_CACHEMAX, 5% of RAM) until the dataset closes, so
# a thread closes its handles after reading _DATASET_BYTES through them: memory stays bounded and the
# opens are still amortised over many blocks.
_DATASETS_PER_THREAD = 8
_DATASET_BYTES = 16 * 2**20
_local = threading.local()
_generation = 0  # bumped by clear_dataset_cache: every thread then drops its handles


def _dataset_key(path: str) -> tuple:
    if is_remote(path):
        return (path,)
    try:
        st = os.stat(path)
    except OSError:
        return (path,)  # rasterio.open reports the missing file
    return (path, st.st_mtime_ns, st.st_size)


def _close_all(cache: OrderedDict) -> int:
    n = len(cache)
    while cache:
        _, src = cache.popitem()
        src.close()
    return n


def _open_cached(path: str) -> rasterio.io.DatasetReader:
    """The calling thread's open handle of ``path``, opened on first use (least recently used closed first)."""
    cache = getattr(_local, "datasets", None)
    if cache is None:
        cache = _local.datasets = OrderedDict()
        _local.generation = _generation
    elif _local.generation != _generation:  # clear_dataset_cache was called: this thread closes its own
        _close_all(cache)
        _local.generation = _generation
    key = _dataset_key(path)
    src = cache.get(key)
    if src is not None and not src.closed:
        cache.move_to_end(key)
        return src
    src = rasterio.open(path)
    cache[key] = src
    while len(cache) > _DATASETS_PER_THREAD:
        _, old = cache.popitem(last=False)
        old.close()
    return src


def _count_bytes(nbytes: int) -> None:
    """Account bytes read through this thread's handles; past the budget, close them (GDAL frees their blocks)."""
    _local.nbytes = getattr(_local, "nbytes", 0) + nbytes
    if _local.nbytes >= _DATASET_BYTES:
        _local.nbytes = 0
        cache = getattr(_local, "datasets", None)
        if cache:
            _close_all(cache)


def clear_dataset_cache() -> int:
    """Forget every thread's cached dataset handles; the number closed in the calling thread.

    Block reads keep each file open per thread (see :func:`read_window`). The calling thread's handles
    are closed now; other threads close theirs at their next read (a handle belongs to its thread),
    and when they end.

    Examples
    --------
    >>> clear_dataset_cache() >= 0
    True
    """
    global _generation
    _generation += 1
    cache = getattr(_local, "datasets", None)
    _local.generation = _generation
    return _close_all(cache) if cache else 0


def is_remote(path: str) -> bool:
    """True for a URL or a GDAL virtual path, which cannot be checked on the local disk.

    Examples
    --------
    >>> is_remote("https://example.com/a.tif"), is_remote("/vsicurl/https://x/a.tif"), is_remote("a.tif")
    (True, True, False)
    """
    return "://" in path or path.startswith("/vsi")


# GDAL's HTTP options reducer sets for remote reads unless the environment sets them: a server that
# stalls or trickles fails after a bounded time instead of hanging a build or a getInfo.
HTTP_DEFAULTS: dict[str, str] = {
    "GDAL_HTTP_CONNECTTIMEOUT": "10",
    "GDAL_HTTP_TIMEOUT": "60",
    "GDAL_HTTP_LOW_SPEED_TIME": "30",
    "GDAL_HTTP_LOW_SPEED_LIMIT": "1024",
    "GDAL_HTTP_MAX_RETRY": "3",
    "GDAL_HTTP_RETRY_DELAY": "1",
}
# Transient failures GDAL does not retry itself (a dropped connection, a 5xx after GDAL's retries)
# are retried this many times, after REDUCER_HTTP_BACKOFF seconds, doubling.
_TRANSIENT = (
    "empty reply",
    "io error",
    "read error",
    "connection reset",
    "recv failure",
    "send failure",
    "http response code: 5",
    "http error code: 5",
    "response_code=5",
)

# GDAL warnings that say a remote read returned less than it asked for.
_CUT_SHORT = ("io error", "read error", "response_code=", "http error code", "curl error")


def http_options() -> dict[str, str]:
    """GDAL's HTTP options for a remote read: :data:`HTTP_DEFAULTS` where the environment sets none.

    Examples
    --------
    >>> import os
    >>> os.environ["GDAL_HTTP_TIMEOUT"] = "5"
    >>> http_options()["GDAL_HTTP_TIMEOUT"], "GDAL_HTTP_LOW_SPEED_TIME" in http_options()
    (None, True)
    >>> del os.environ["GDAL_HTTP_TIMEOUT"]
    >>> http_options()["GDAL_HTTP_TIMEOUT"]
    '60'
    """
    return {k: (None if k in os.environ else v) for k, v in HTTP_DEFAULTS.items()}


def gdal_reason(exc: BaseException) -> str:
    """GDAL's own reason for a failure: the messages of ``exc`` and of the exceptions it chains.

    rasterio's read errors say "See previous exception for details" and chain the CPLE error that
    holds the reason (``HTTP response code: 500``, ``TIFFReadEncodedTile() failed``).

    Examples
    --------
    >>> try:
    ...     try:
    ...         raise OSError("TIFFReadEncodedTile() failed.")
    ...     except OSError as e:
    ...         raise OSError("Read or write failed. See previous exception for details.") from e
    ... except OSError as exc:
    ...     print(gdal_reason(exc))
    TIFFReadEncodedTile() failed.
    """
    parts: list[str] = []
    seen: set[int] = set()
    e: BaseException | None = exc
    while e is not None and id(e) not in seen:
        seen.add(id(e))
        msg = str(e).replace("See previous exception for details.", "").strip()
        if msg and msg not in parts and not msg.startswith("Read or write failed"):
            parts.append(msg)
        e = e.__cause__ or e.__context__
    return "; ".join(parts) or type(exc).__name__


class _GdalMessages(logging.Handler):
    """Collects the GDAL messages rasterio logs on this thread (HTTP errors are logged, not raised)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.thread = threading.get_ident()
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.thread == self.thread and len(self.messages) < 50:
            msg = record.getMessage()
            if msg not in self.messages:
                self.messages.append(msg)


class RemoteReadError(rasterio.errors.RasterioIOError):
    """A remote read failed: GDAL's exception, with GDAL's logged messages (the HTTP reason) added."""


def _remote_call(path: str, fn: Any) -> Any:
    """``fn()`` under GDAL's HTTP options, transient failures retried with backoff (remote paths only).

    A failure that outlasts the retries raises :class:`RemoteReadError`, whose message holds GDAL's
    reason and the messages it logged (``HTTP error code: 500``, ``Empty reply from server``).
    """
    if not is_remote(path):
        return fn()
    retries = int(os.environ.get("REDUCER_HTTP_RETRIES", "2"))
    delay = float(os.environ.get("REDUCER_HTTP_BACKOFF", "0.5"))
    options = {k: v for k, v in http_options().items() if v is not None}
    logger = logging.getLogger("rasterio")
    vsi = path if path.startswith("/vsi") else f"/vsicurl/{path}"
    for attempt in range(retries + 1):
        handler = _GdalMessages()
        logger.addHandler(handler)
        # after a failure GDAL caches the file as missing: a retry bypasses its cache for this file
        extra = {"CPL_VSIL_CURL_NON_CACHED": vsi} if attempt else {}
        try:
            with rasterio.Env(**options, **extra):
                out = fn()
            # a download cut short (too slow, dropped) is not an error to GDAL: the file just ends early,
            # and libtiff warns that tags could not be read. Such a read is a failure, not a short file.
            cut = [m for m in handler.messages if any(t in m.lower() for t in _CUT_SHORT)]
            if not cut:
                return out
            reason = "; ".join(cut[:3])
        except rasterio.errors.RasterioIOError as exc:
            reason = "; ".join([gdal_reason(exc), *handler.messages[-3:]])
        finally:
            logger.removeHandler(handler)
        if attempt == retries or not any(t in reason.lower() for t in _TRANSIENT):
            limits = {k: os.environ.get(k) or HTTP_DEFAULTS[k] for k in HTTP_DEFAULTS}
            raise RemoteReadError(
                f"{reason} (after {attempt + 1} attempt(s); a server that is too slow fails after "
                f"GDAL_HTTP_TIMEOUT={limits['GDAL_HTTP_TIMEOUT']} s, or below "
                f"GDAL_HTTP_LOW_SPEED_LIMIT={limits['GDAL_HTTP_LOW_SPEED_LIMIT']} bytes/s for "
                f"GDAL_HTTP_LOW_SPEED_TIME={limits['GDAL_HTTP_LOW_SPEED_TIME']} s: set them in the environment "
                "to wait longer)"
            )
        time.sleep(delay * 2**attempt)
    raise AssertionError("unreachable")  # pragma: no cover


def check_confined(href: str, folder: str, where: str) -> None:
    """With the ``confine_catalogs`` option on, refuse ``href`` unless it resolves inside ``folder``.

    Examples
    --------
    >>> from reducer import options
    >>> old = options.set_options(confine_catalogs=True)
    >>> check_confined("/data/cat/a.tif", "/data/cat", "catalog 'x'")
    >>> check_confined("/data/cat/../b.tif", "/data/cat", "catalog 'x'")
    Traceback (most recent call last):
    ...
    reducer.errors.InputFileError: catalog 'x' points at '/data/cat/../b.tif', outside the catalog's folder ...
    >>> _ = options.set_options(**old)
    """
    if not options.get("confine_catalogs"):
        return
    inside = False
    if not is_remote(href):
        root = os.path.realpath(folder)
        target = os.path.realpath(os.path.join(folder, os.path.expanduser(href)))
        inside = target == root or target.startswith(root.rstrip(os.sep) + os.sep)
    if not inside:
        raise InputFileError(
            f"{where} points at {href!r}, outside the catalog's folder {folder!r}, and the confine_catalogs option "
            "is on. Move the data under the catalog's folder, or turn the option off with "
            "`ee.set_options(confine_catalogs=False)` if you trust the catalog."
        )


def pixel_dtype(dtype: np.dtype | str) -> np.dtype:
    """The float dtype pixels are held in: masked pixels are NaN.

    Float32 and integers of up to 16 bits fit float32 exactly; everything else is float64.

    Examples
    --------
    >>> pixel_dtype("uint16"), pixel_dtype("int32"), pixel_dtype("float32")
    (dtype('float32'), dtype('float64'), dtype('float32'))
    """
    dtype = np.dtype(dtype)
    if dtype == np.float32 or (dtype.kind in "iub" and dtype.itemsize <= 2):
        return np.dtype("float32")
    return np.dtype("float64")


def read_window(
    path: str,
    band: int,
    window: tuple[int, int, int, int],
    out_dtype: str,
    nodata: float | None,
    use_mask: bool | None,
    shape: tuple[int, int] | None = None,
) -> np.ndarray:
    """Read one window of one band as floats, with masked and nodata pixels set to NaN.

    The file is opened once per thread and kept open (keyed by path, modification time and size).

    Parameters
    ----------
    path
        A path or URL rasterio opens.
    band
        1-based band index.
    window
        ``(row_off, col_off, height, width)``.
    out_dtype
        The float dtype to return.
    nodata
        The band's nodata value, or None.
    use_mask
        Whether the band has a per-dataset or alpha mask to honour; None to ask the opened file,
        whose own nodata then applies too when ``nodata`` is None (a source built from header facts).
    shape
        The ``(rows, cols)`` the file was expected to have (its header when the collection was built,
        or a STAC ``proj:shape``): a file of another size raises :class:`InputFileError`.
    """
    row, col, h, w = window
    win = Window(col, row, w, h)
    tiles = [0, 0]  # internal tiles the window decodes, and their size in the file

    def read_from(
        src: rasterio.io.DatasetReader,
    ) -> tuple[np.ndarray, np.ndarray | None, tuple[float, float] | None, bool | None, float | None]:
        if (shape is not None and (src.height, src.width) != tuple(shape)) or (
            row + h > src.height or col + w > src.width
        ):
            expected = tuple(shape) if shape is not None else (row + h, col + w)
            raise InputFileError(
                f"raster {path!r} is {src.height} x {src.width} pixels (rows x columns) but {expected[0]} x "
                f"{expected[1]} was expected (its header when the collection was built, or the STAC item's "
                "proj:shape): the file changed, or the metadata is wrong. Rebuild the collection, or fix the "
                "metadata."
            )
        use, nd = use_mask, nodata
        if use is None:
            use = _needs_gdal_mask(src, band)
            if nd is None:
                nd = src.nodatavals[band - 1]
        raw = src.read(band, window=win)
        mask = src.read_masks(band, window=win) if use else None
        tiles[:] = _tiles_read(src, band, window)
        return raw, mask, _statistics_range(src.tags(band)), use, nd

    def read() -> tuple[np.ndarray, np.ndarray | None, tuple[float, float] | None, bool | None, float | None]:
        if is_remote(path):  # a fresh handle per attempt, so that a retry does not reuse a broken one
            with rasterio.open(path) as src:
                return read_from(src)
        out = read_from(_open_cached(path))  # local files: one handle per thread (see _open_cached)
        _count_bytes(out[0].nbytes + (0 if out[1] is None else out[1].nbytes))
        return out

    try:
        raw, mask, stats_range, use_mask, nodata = _remote_call(path, read)
    except rasterio.errors.RasterioIOError as exc:
        # from None: GDAL's exception does not unpickle, so a chained one would not cross a cluster;
        # its reason is carried in the message instead
        raise InputFileError(
            f"cannot read pixels of {path!r} (band {band}, window {window}): {gdal_reason(exc)}"
        ) from None
    READ_COUNTER.add(h * w, *tiles)
    out = raw.astype(out_dtype, copy=False)
    bad = None
    if mask is not None and _is_int64(raw.dtype):
        nodata = None  # a float cannot hold a 64-bit nodata exactly: GDAL's mask says it instead
    if nodata is not None:
        bad = np.isnan(raw) if isinstance(nodata, float) and math.isnan(nodata) else raw == nodata
    if mask is not None:
        bad = (mask == 0) if bad is None else (bad | (mask == 0))
    if bad is not None and bad.any():
        out[bad] = np.nan  # ``raw`` is this call's own fresh array: no copy needed
    if stats_range is not None:
        _check_statistics(out, stats_range, path, band, window)
    return out


def _tiles_read(src: rasterio.io.DatasetReader, band: int, window: tuple[int, int, int, int]) -> tuple[int, int]:
    """The internal tiles (blocks) of ``band`` a read of ``window`` decodes, and their size in the file in bytes.

    The size is the TIFF's own (``BLOCK_SIZE`` of each tile, a few microseconds a tile); for a format
    that does not say it, the tiles' decoded size.
    """
    row, col, h, w = window
    th, tw = src.block_shapes[band - 1]
    rows = range(row // th, (row + h - 1) // th + 1)
    cols = range(col // tw, (col + w - 1) // tw + 1)
    n = len(rows) * len(cols)
    try:
        size = sum(src.block_size(band, i, j) for i in rows for j in cols)
    except (rasterio.errors.RasterioError, ValueError, NotImplementedError):
        size = 0
    if size <= 0:
        size = n * th * tw * np.dtype(src.dtypes[band - 1]).itemsize
    return n, int(size)


def _statistics_range(tags: Mapping[str, str]) -> tuple[float, float] | None:
    """The band's exact ``STATISTICS_MINIMUM/MAXIMUM`` tags (GDAL's), or None (absent or approximate)."""
    if str(tags.get("STATISTICS_APPROXIMATE", "")).upper() in ("YES", "TRUE", "1"):
        return None
    try:
        lo, hi = float(tags["STATISTICS_MINIMUM"]), float(tags["STATISTICS_MAXIMUM"])
    except (KeyError, ValueError):
        return None
    return (lo, hi) if math.isfinite(lo) and math.isfinite(hi) and lo <= hi else None


def _check_statistics(
    block: np.ndarray, stats_range: tuple[float, float], path: str, band: int, window: tuple[int, int, int, int]
) -> None:
    """Refuse a block holding values outside the file's own statistics: a corrupt tile decodes to garbage."""
    lo, hi = stats_range
    with np.errstate(invalid="ignore"):
        found_lo, found_hi = np.nanmin(block, initial=np.inf), np.nanmax(block, initial=-np.inf)
    slack = 1e-6 * max(abs(lo), abs(hi), 1.0)  # the tags are printed with limited precision
    if found_lo < lo - slack or found_hi > hi + slack:
        raise InputFileError(
            f"raster {path!r} (band {band}, window {window}) holds values {found_lo:.9g}..{found_hi:.9g} outside "
            f"its own statistics {lo:.9g}..{hi:.9g} (STATISTICS_MINIMUM/MAXIMUM): the file is probably corrupt. "
            "Re-download or re-export it; if it was edited since its statistics were computed, recompute them "
            "(`gdalinfo -stats FILE`) or remove them."
        )


def _needs_gdal_mask(src: rasterio.io.DatasetReader, band: int) -> bool:
    """Whether GDAL's own mask must be read for ``band``.

    It must for a mask band, an alpha band, or a nodata value rasterio cannot hand over exactly.
    rasterio reports nodata as a float: a 64-bit integer nodata such as the type's maximum is
    either dropped (reported as None) or rounded, so comparing pixels with it would count nodata as
    data or drop real values. GDAL's mask is exact, so it is read whenever the flags say there is
    one and the nodata value alone is not trustworthy.
    """
    flags = src.mask_flag_enums[band - 1]
    if MaskFlags.per_dataset in flags or MaskFlags.alpha in flags:
        return True
    if MaskFlags.nodata in flags:
        return src.nodatavals[band - 1] is None or _is_int64(src.dtypes[band - 1])
    return False


def _is_int64(dtype: np.dtype | str) -> bool:
    dt = np.dtype(dtype)
    return dt.kind in "iu" and dt.itemsize >= 8


def _chunks(size: int, step: int) -> tuple[int, ...]:
    n, rest = divmod(size, step)
    return (step,) * n + ((rest,) if rest else ())


def _block_step(internal: int, size: int, target: int = TARGET_BLOCK) -> int:
    """A multiple of the file's internal block size close to ``target``, at most the size."""
    internal = max(1, min(internal, size))
    return min(size, internal * max(1, round(target / internal)))


@dataclass(frozen=True)
class BandInfo:
    """What the header says about one band.

    ``use_mask`` None means "not known yet": the file's own mask and (when ``nodata`` is None) its
    nodata are honoured when a block is read.
    """

    index: int
    name: str
    dtype: str
    nodata: float | None
    use_mask: bool | None


class RasterioFileSource:
    """A GeoTIFF/COG (or anything rasterio opens) whose bands are read lazily per block.

    Parameters
    ----------
    path
        File path or URL.

    Examples
    --------
    >>> import numpy as np, rasterio, tempfile, os
    >>> from rasterio.transform import from_origin
    >>> path = os.path.join(tempfile.mkdtemp(), "a_2024-05-01.tif")
    >>> with rasterio.open(path, "w", driver="GTiff", width=3, height=3, count=1, dtype="int16",
    ...                    crs="EPSG:32633", transform=from_origin(0, 3, 1, 1), nodata=-1) as dst:
    ...     dst.write(np.arange(1, 10, dtype="int16").reshape(1, 3, 3))
    >>> src = RasterioFileSource(path)
    >>> src.band_names, src.grid.shape
    (('B1',), (3, 3))
    >>> src.band_array(0).compute()[0].tolist()
    [1.0, 2.0, 3.0]
    """

    def __init__(self, path: str | os.PathLike):
        self.path = str(path)
        # the block size is decided when the source is built (its arrays may be built later, on first use)
        self.target_block = REMOTE_TARGET_BLOCK if is_remote(self.path) else TARGET_BLOCK
        if not is_remote(self.path) and not Path(self.path).exists():
            raise InputFileError(f"raster file {self.path!r} does not exist. Check the path and the working directory.")

        def read_header() -> None:
            with rasterio.open(self.path) as src:
                HEADER_COUNTER.add(0)
                self._read_header(src)

        try:
            _remote_call(self.path, read_header)
        except rasterio.errors.RasterioIOError as exc:
            raise InputFileError(
                f"cannot open raster {self.path!r}: {gdal_reason(exc)}. Is it a GeoTIFF (or another format GDAL "
                "reads) and complete? Is it reachable? Re-download or re-export it."
            ) from None

    @classmethod
    def from_header(
        cls,
        path: str | os.PathLike,
        grid: Grid,
        bands: Sequence[BandInfo | Mapping[str, Any]],
        block_shape: tuple[int, int] = (512, 512),
        tags: Mapping[str, str] | None = None,
    ) -> RasterioFileSource:
        """A source from known header facts; the file is not opened until pixels are read.

        Parameters
        ----------
        path
            File path or URL. It is not checked: a missing file fails when its pixels are read.
        grid
            The file's grid.
        bands
            One entry per band to expose: a :class:`BandInfo` or a mapping with ``dtype`` and optionally
            ``name`` (default ``B<index>``), ``index`` (1-based band of the file, default the position),
            ``nodata`` and ``use_mask``. A band whose ``use_mask`` is not given honours the file's own
            mask, and its nodata when ``nodata`` is not given, at read time.
        block_shape
            ``(rows, cols)`` of the file's internal blocks, which only shapes the read windows.
        tags
            The file's metadata tags, if known.

        Examples
        --------
        >>> from affine import Affine
        >>> g = Grid("EPSG:32633", Affine(10, 0, 500000, 0, -10, 4000030), 3, 3)
        >>> src = RasterioFileSource.from_header("/no/such/file.tif", g, [{"dtype": "uint16", "nodata": 0}])
        >>> src.band_names, src.bands[0].nodata, src.grid.shape
        (('B1',), 0, (3, 3))
        >>> src.band_array(0).shape
        (3, 3)
        """
        self = cls.__new__(cls)
        self.path = str(path)
        # the block size is decided when the source is built (its arrays may be built later, on first use)
        self.target_block = REMOTE_TARGET_BLOCK if is_remote(self.path) else TARGET_BLOCK
        self.grid = grid
        infos = []
        for k, b in enumerate(bands, 1):
            if not isinstance(b, BandInfo):
                index = int(b.get("index", k))
                b = BandInfo(
                    index, b.get("name") or f"B{index}", str(np.dtype(b["dtype"])), b.get("nodata"), b.get("use_mask")
                )
            if b.nodata is not None and not (isinstance(b.nodata, float) and math.isnan(b.nodata)):
                _check_nodata(self.path, b.nodata, b.dtype)
            infos.append(b)
        self.bands = tuple(infos)
        self.band_names = tuple(b.name for b in infos)
        self.block_shape = tuple(int(v) for v in block_shape)
        self.tags = dict(tags or {})
        self.datetime_millis = _tiff_datetime(self.tags.get("TIFFTAG_DATETIME"))
        return self

    def _read_header(self, src: rasterio.io.DatasetReader) -> None:
        if src.crs is None and src.transform.is_identity and not src.gcps[0]:
            check_north_up(self.path, src.transform)
        if src.crs is None:
            raise CRSError(
                f"raster {self.path!r} has no CRS. Set one, e.g. with "
                "`gdal_edit.py -a_srs EPSG:32633 file.tif` or rioxarray's `rio.write_crs()`."
            )
        check_north_up(self.path, src.transform)
        self.grid = Grid(src.crs, src.transform, src.width, src.height)
        descriptions = src.descriptions
        names = []
        bands = []
        for k in range(1, src.count + 1):
            desc = descriptions[k - 1] if descriptions else None
            name = desc if desc and desc not in names else f"B{k}"
            names.append(name)
            nodata = src.nodatavals[k - 1]
            dtype = src.dtypes[k - 1]
            if nodata is not None and not (isinstance(nodata, float) and math.isnan(nodata)):
                _check_nodata(self.path, nodata, dtype)
            use_mask = _needs_gdal_mask(src, k)
            bands.append(BandInfo(k, name, dtype, nodata, use_mask))
        self.bands = tuple(bands)
        self.band_names = tuple(names)
        self.block_shape = src.block_shapes[0] if src.block_shapes else (256, 256)
        self.tags = dict(src.tags())
        self.datetime_millis = _tiff_datetime(self.tags.get("TIFFTAG_DATETIME"))

    def reader(self, i: int) -> FileReader:
        """Band ``i`` (0-based) read window by window (:func:`read_window`), with the file's internal tile shape.

        The engine reads through it only the tiles that features touch; :meth:`band_array` reads its
        blocks through it.
        """
        info = self.bands[i]
        out_dtype = pixel_dtype(info.dtype)
        read = partial(
            read_window,
            self.path,
            info.index,
            out_dtype=out_dtype.str,
            nodata=info.nodata,
            use_mask=info.use_mask,
            shape=self.grid.shape,
        )
        return FileReader(read, (int(self.block_shape[0]), int(self.block_shape[1])), out_dtype.str)

    def band_array(self, i: int) -> da.Array:
        """Band ``i`` (0-based) as a lazy 2-D dask array of floats with NaN where masked."""
        h, w = self.grid.shape
        bh, bw = self.block_shape
        target = self.target_block
        chunks = (_chunks(h, _block_step(bh, h, target)), _chunks(w, _block_step(bw, w, target)))
        reader = self.reader(i)
        out_dtype = np.dtype(reader.dtype)

        def read(block_info=None):
            (r0, r1), (c0, c1) = block_info[None]["array-location"]
            return reader.read((r0, c0, r1 - r0, c1 - c0))

        token = _file_token(self.path)
        return da.map_blocks(
            read,
            chunks=chunks,
            dtype=out_dtype,
            meta=np.empty((0, 0), out_dtype),
            name=f"read-{token}-b{self.bands[i].index}-{chunks[0][0]}x{chunks[1][0]}",
        )


def check_north_up(path: str, transform: Any) -> None:
    """Refuse a raster whose grid is not north-up, saying which it is and naming the file.

    Examples
    --------
    >>> from affine import Affine
    >>> check_north_up("a.tif", Affine(10, 0, 0, 0, -10, 0))
    >>> check_north_up("a.tif", Affine(10, 0, 0, 0, 10, 0))
    Traceback (most recent call last):
    ...
    reducer.errors.UnsupportedRasterError: raster 'a.tif' is south-up (its rows run south to north: ...
    """
    t = transform
    if t.a > 0 and t.e < 0 and t.b == 0 and t.d == 0:  # north-up, the common case (Affine.is_identity is slow)
        return
    if t.is_identity:
        what = "not georeferenced: it has no geotransform (GDAL reports the identity)"
    elif t.b != 0 or t.d != 0:
        what = f"rotated: its geotransform has rotation terms ({t.b!r}, {t.d!r})"
    elif t.e > 0:
        what = f"south-up (its rows run south to north: pixel height {t.e!r} > 0)"
    elif t.a < 0:
        what = f"mirrored (its columns run east to west: pixel width {t.a!r} < 0)"
    else:
        return
    raise UnsupportedRasterError(
        f"raster {path!r} is {what}, and reducer reduces north-up grids only. Warp it to a north-up grid first, "
        "e.g. `gdalwarp SRC DST` (add `-t_srs EPSG:XXXX` and `-a_ullr`/`gdal_edit.py -a_ullr` for a raster "
        "without a geotransform)."
    )


def _check_nodata(path: str, nodata: float, dtype: str) -> None:
    dt = np.dtype(dtype)
    if dt.kind in "iu":
        info = np.iinfo(dt)
        if not (info.min <= nodata <= info.max) or float(nodata) != int(nodata):
            raise NodataError(
                f"raster {path!r} declares nodata {nodata!r}, which its {dtype} pixels cannot hold "
                f"(range {info.min}..{info.max}). Fix the file's nodata, e.g. `gdal_edit.py -a_nodata VALUE`."
            )
    elif dt.kind == "f" and math.isfinite(nodata) and abs(nodata) > np.finfo(dt).max:
        raise NodataError(
            f"raster {path!r} declares nodata {nodata!r}, outside the {dtype} range. "
            "Fix the file's nodata, e.g. `gdal_edit.py -a_nodata VALUE`."
        )


def _tiff_datetime(value: str | None) -> int | None:
    if not value:
        return None
    for fmt in ("%Y:%m:%d %H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S"):
        try:
            dt = datetime.strptime(value.strip(), fmt).replace(tzinfo=UTC)
        except ValueError:
            continue
        return int(dt.timestamp() * 1000)
    return None


def _file_token(path: str) -> str:
    from dask.base import tokenize

    if is_remote(path):
        return tokenize(path)
    try:
        st = os.stat(path)
        return tokenize(path, st.st_mtime_ns, st.st_size)
    except OSError:
        return tokenize(path)


# -- rasters ----------------------------------------------------------------------------------------


INDEX_SUFFIXES = (".tif", ".tiff", ".vrt", ".img", ".jp2")


def file_index(path: str | os.PathLike) -> str:
    """The ``system:index`` of a raster file: its name without the raster suffix (other dots kept).

    Examples
    --------
    >>> file_index("/data/HLS.S30.T33UUP.2024001T100351.v2.0.B04.tif")
    'HLS.S30.T33UUP.2024001T100351.v2.0.B04'
    """
    name = Path(str(path).split("?")[0].rstrip("/")).name
    for suffix in INDEX_SUFFIXES:
        if name.lower().endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return name


def raster_from_file(path: str | os.PathLike) -> Raster:
    """The raster of a GeoTIFF/COG (or any file rasterio opens): its header is read, no pixel.

    ``system:index`` is the file name without its raster suffix (``MOD13Q1.A2024001.h25v08.061.tif``
    gives ``MOD13Q1.A2024001.h25v08.061``), ``system:id`` the path, and ``system:time_start`` the TIFF
    datetime tag, else a date in the file name.

    Examples
    --------
    >>> file_index("data/MOD13Q1.A2024001.h25v08.061.tif"), file_index("s2.TIFF"), file_index("a.vrt")
    ('MOD13Q1.A2024001.h25v08.061', 's2', 'a')
    """
    src = RasterioFileSource(path)
    bands = [
        file_band(info.name, info.dtype, partial(src.band_array, i), src.grid, src.reader(i))
        for i, info in enumerate(src.bands)
    ]
    name = Path(str(path)).name
    props: dict[str, Any] = {"system:index": file_index(path), "system:id": str(path)}
    t = src.datetime_millis if src.datetime_millis is not None else date_from_name(name)
    if t is not None:
        props["system:time_start"] = t
    return Raster(tuple(bands), props)


@contextmanager
def header_env(paths: Sequence[Any]) -> Iterator[None]:
    """One GDAL environment for reading the headers of many local files in a row.

    By default GDAL lists a file's whole folder each time it opens the file (to find sidecar files such
    as ``.aux.xml``, ``.msk`` or ``.ovr``): for a folder of 2,000 files that is 2,000 listings of 2,000
    names. Here GDAL is told not to list (``GDAL_DISABLE_READDIR_ON_OPEN=TRUE``): it then looks for each
    sidecar by name, which finds the same files. Only when every path in ``paths`` is a local file
    (other items, such as images, are ignored): URLs, catalog ids, or a value set in the environment or
    in an enclosing ``rasterio.Env`` keep GDAL's own behaviour. One environment for all the files also
    saves rasterio setting one up per file.

    Examples
    --------
    >>> with header_env([__file__]):
    ...     rasterio.env.getenv()["GDAL_DISABLE_READDIR_ON_OPEN"]
    'TRUE'
    >>> with header_env([__file__, "https://example.com/b.tif"]):
    ...     "GDAL_DISABLE_READDIR_ON_OPEN" in rasterio.env.getenv()
    False
    """
    key = "GDAL_DISABLE_READDIR_ON_OPEN"
    chosen = key in os.environ or (rasterio.env.hasenv() and key in rasterio.env.getenv())
    names = [str(p) for p in paths if isinstance(p, str | os.PathLike)]
    local = all(not is_remote(p) and os.path.isfile(p) for p in names)
    with rasterio.Env(**({} if chosen or not local else {key: "TRUE"})):
        yield


def rasters_from_files(paths: Sequence[str | os.PathLike]) -> list[Raster]:
    """The rasters of many files (see :func:`raster_from_file`), their headers read in one :func:`header_env`.

    Headers are read one after the other: rasterio holds Python's GIL while it opens a file and builds
    its CRS, so threads do not read them faster.

    Examples
    --------
    >>> rasters_from_files([])
    []
    """
    with header_env(paths):
        return [raster_from_file(p) for p in paths]


def is_dataarray(x: Any) -> bool:
    """Whether ``x`` is an ``xarray.DataArray`` (without importing xarray)."""
    return type(x).__name__ == "DataArray" and hasattr(x, "dims")


def raster_from_dataarray(arr: Any) -> Raster:
    """The raster of an ``xarray.DataArray`` with a CRS, dims ``(band, y, x)`` or ``(y, x)`` (lazy)."""
    import rioxarray  # noqa: F401  (registers .rio)

    crs = arr.rio.crs
    if crs is None:
        raise CRSError(
            "ee.Image(DataArray): the array has no CRS. Set it with `arr.rio.write_crs('EPSG:32633')` and try again."
        )
    transform = arr.rio.transform()
    if arr.ndim == 2:
        arr = arr.expand_dims("band")
    if arr.ndim != 3:
        raise BandError(f"ee.Image(DataArray): expected dims (band, y, x) or (y, x), got {arr.dims!r}.")
    band_dim = arr.dims[0]
    grid = Grid(norm_crs(crs), transform, arr.shape[2], arr.shape[1])
    try:
        nodata = arr.rio.nodata
    except (OverflowError, ValueError) as exc:
        given = arr.attrs.get("_FillValue", arr.encoding.get("_FillValue"))
        raise NodataError(
            f"ee.Image(DataArray): the array's nodata {given!r} does not fit its {arr.dtype} "
            f"pixels ({exc}). Fix it with `arr.rio.write_nodata(VALUE)` using a value the dtype holds."
        ) from None
    data = arr.data
    if not isinstance(data, da.Array):
        data = da.from_array(np.asarray(data), chunks=(1, 1024, 1024))
    out_dtype = pixel_dtype(arr.dtype)
    names = (
        [str(v) for v in arr[band_dim].values]
        if band_dim in arr.coords and arr[band_dim].dtype.kind in "OUS"
        else [f"B{i + 1}" for i in range(arr.shape[0])]
    )
    bands: list[Band] = []
    for i, name in enumerate(names):
        a = data[i].astype(out_dtype)
        if nodata is not None and not (isinstance(nodata, float) and np.isnan(nodata)):
            a = da.where(data[i] == nodata, np.nan, a)
        bands.append(file_band(name, str(arr.dtype), a, grid))
    props: dict[str, Any] = {"system:index": str(arr.name) if arr.name is not None else "0"}
    if "time" in arr.coords and arr["time"].ndim == 0:
        props["system:time_start"] = to_millis(arr["time"].values)
    return Raster(tuple(bands), props)


def unique_indices(rasters: list[Raster]) -> list[Raster]:
    """The rasters with unique ``system:index`` values: a repeated index gets ``_1``, ``_2``, ... and a warning.

    Earth Engine's ids are unique within a collection; two files with the same name in different
    folders would otherwise give duplicate feature ids and duplicate ``toBands`` names.

    Examples
    --------
    >>> import warnings
    >>> rs = [Raster((), {"system:index": "a"}), Raster((), {"system:index": "a"}), Raster((), {})]
    >>> with warnings.catch_warnings(record=True) as w:
    ...     warnings.simplefilter("always")
    ...     out = unique_indices(rs)
    >>> [r.properties.get("system:index") for r in out], len(w)
    (['a', 'a_1', None], 1)
    """
    seen = {r.properties.get("system:index") for r in rasters}
    used: set[Any] = set()
    out: list[Raster] = []
    renamed: list[str] = []
    for r in rasters:
        idx = r.properties.get("system:index")
        if idx is None or idx not in used:
            used.add(idx)
            out.append(r)
            continue
        k = 1
        while f"{idx}_{k}" in seen or f"{idx}_{k}" in used:
            k += 1
        new = f"{idx}_{k}"
        used.add(new)
        renamed.append(f"{r.properties.get('system:id', idx)!s} -> {new!r}")
        out.append(r.with_properties({**r.properties, "system:index": new}))
    if renamed:
        warnings.warn(
            f"{len(renamed)} image(s) share a system:index with an earlier image; renamed: {', '.join(renamed[:5])}"
            + (" ..." if len(renamed) > 5 else "")
            + ". Give the files distinct names to choose the ids yourself.",
            ReducerWarning,
            stacklevel=2,
        )
    return out
