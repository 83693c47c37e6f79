"""Atomic table exports: a result file is complete, or it is the previous one, never half written.

:func:`export_table` writes a FeatureCollection, GeoDataFrame or DataFrame to CSV, GeoJSON,
GeoPackage or (Geo)Parquet. The table is written to a temporary file in the target folder and
moved onto the target in one step, only once it is complete:

- On Linux the temporary file is anonymous (``O_TMPFILE``): it has no name until it is complete,
  so even a run killed with SIGKILL or a power cut mid-write leaves no partial file behind, and
  the previous file stays as it was.
- Elsewhere it is a hidden ``.STEM.XXXXXXXX.tmpSUFFIX`` file next to the target, removed when the
  write fails or is interrupted (Ctrl-C); only a hard kill can leave one behind.

:func:`atomic_write` is that second way for any writer that wants a path (rasterio, matplotlib,
GeoPandas): charts and the demo data are written with it.
"""

from __future__ import annotations

import io
import json
import os
import secrets
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import pandas as pd

from .compute import compute
from .errors import ArgumentError, InputFileError, OutputExistsError, OutputPathError, require
from .values import to_json_value

__all__ = ["export_table", "atomic_write", "write_image", "FORMATS"]

#: File extensions and the format each one writes.
FORMATS: dict[str, str] = {
    ".csv": "CSV",
    ".geojson": "GeoJSON",
    ".json": "GeoJSON",
    ".gpkg": "GeoPackage",
    ".parquet": "Parquet",
    ".geoparquet": "Parquet",
}


def _frame(table: Any) -> pd.DataFrame:
    """A DataFrame (or GeoDataFrame) to write, with a named index turned into a column."""
    if not isinstance(table, pd.DataFrame) and callable(getattr(table, "to_geopandas", None)):
        table = table.to_geopandas()  # an ee.FeatureCollection (a facade above this module)
    if not isinstance(table, pd.DataFrame):
        raise ArgumentError(
            "export_table: expected an ee.FeatureCollection, a GeoDataFrame or a DataFrame, "
            f"got {type(table).__name__}."
        )
    if table.index.name is not None or any(n is not None for n in table.index.names[1:]):
        table = table.reset_index()
    else:
        table = table.reset_index(drop=True)
    table = table.copy()
    table.columns = [str(c) for c in table.columns]
    return table


def _geometry_name(df: pd.DataFrame) -> str | None:
    import geopandas as gpd

    if isinstance(df, gpd.GeoDataFrame):
        try:
            return df.geometry.name
        except AttributeError:  # a GeoDataFrame without an active geometry column
            return None
    return None


def _jsonable(df: pd.DataFrame) -> pd.DataFrame:
    """Lists and dicts in object columns as JSON text (NaN as null): GDAL formats cannot hold them."""
    out = df
    for c in df.columns:
        if df[c].dtype == object and df[c].map(lambda v: isinstance(v, list | dict | tuple)).any():
            out = out.copy() if out is df else out
            out[c] = df[c].map(lambda v: json.dumps(to_json_value(v)) if isinstance(v, list | dict | tuple) else v)
    return out


# -- writers: each writes the whole table to a binary file object ------------------------------------
def _write_csv(df: pd.DataFrame, f: IO[bytes]) -> None:
    geom = _geometry_name(df)
    if geom is not None:
        df = pd.DataFrame(df).assign(**{geom: df[geom].to_wkt()})
    text = io.TextIOWrapper(f, encoding="utf-8", newline="")
    try:
        df.to_csv(text, index=False)
        text.flush()
    finally:
        text.detach()


def _write_parquet(df: pd.DataFrame, f: IO[bytes]) -> None:
    require("pyarrow", "parquet", "writing a Parquet file")
    if _geometry_name(df) is not None:
        df.to_parquet(f, index=False)
    else:
        pd.DataFrame(df).to_parquet(f, index=False)


def _write_ogr(driver: str, layer: str) -> Callable[[pd.DataFrame, IO[bytes]], None]:
    def write(df: pd.DataFrame, f: IO[bytes]) -> None:
        import pyogrio

        df = _jsonable(df)
        geom = _geometry_name(df)
        if driver == "GeoJSON" and geom is not None and df.crs is not None and not df.crs.equals("EPSG:4326"):
            df = df.to_crs("EPSG:4326")  # RFC 7946: GeoJSON is in WGS 84 longitude, latitude
        buf = io.BytesIO()
        if geom is None:
            pyogrio.write_dataframe(pd.DataFrame(df), buf, driver=driver, layer=layer)
        else:
            pyogrio.write_dataframe(df, buf, driver=driver, layer=layer)
        f.write(buf.getbuffer())

    return write


def _writer(suffix: str, layer: str) -> Callable[[pd.DataFrame, IO[bytes]], None]:
    kind = FORMATS[suffix]
    if kind == "CSV":
        return _write_csv
    if kind == "Parquet":
        return _write_parquet
    return _write_ogr("GPKG" if kind == "GeoPackage" else "GeoJSON", layer)


# -- staging ---------------------------------------------------------------------------------------
def _temp_name(path: Path) -> str:
    """A hidden name for a temporary file next to ``path``: ``.STEM.XXXXXXXX.tmpSUFFIX``."""
    return f".{path.stem}.{secrets.token_hex(4)}.tmp{path.suffix}"


def _fsync(path: Path) -> None:
    """Flush a written file to the disk, so the rename that follows cannot outlive its content."""
    if path.is_file():
        with open(path, "rb+") as f:
            os.fsync(f.fileno())


def atomic_write(path: str | os.PathLike, write: Callable[[Path], None], overwrite: bool = True) -> Path:
    """Write a file atomically: ``write(tmp)`` writes a temporary file, which then replaces ``path``.

    ``path`` is either its previous self or the complete new file, never a half-written one.

    Parameters
    ----------
    path
        The file to write. Its folder must exist.
    write
        Called once with the temporary path to write to: a hidden ``.STEM.XXXXXXXX.tmpSUFFIX``
        file in ``path``'s folder (so a writer that picks its format from the suffix still
        works), which does not exist yet: GDAL and GeoPackage writers refuse an existing empty
        file.
    overwrite
        Replace an existing ``path`` (the default). Without it an existing ``path`` raises
        :class:`reducer.errors.OutputExistsError`, checked again just before the move, and is left
        untouched.

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    OutputExistsError
        If ``path`` exists and ``overwrite`` is False.

    Notes
    -----
    Once ``write`` returns, the temporary file is flushed to the disk and moved onto ``path`` in
    one step (``os.replace``). If ``write`` raises (or Ctrl-C interrupts it) the temporary file is
    removed and the error propagates; only a hard kill can leave a temporary file behind.

    Examples
    --------
    >>> import os, tempfile
    >>> folder = tempfile.mkdtemp()
    >>> out = atomic_write(os.path.join(folder, "a.txt"), lambda tmp: tmp.write_text("new"))
    >>> out.read_text()
    'new'
    >>> def fails(tmp):
    ...     tmp.write_text("half")
    ...     raise RuntimeError("disk full")
    >>> atomic_write(out, fails)
    Traceback (most recent call last):
    ...
    RuntimeError: disk full
    >>> out.read_text(), sorted(os.listdir(folder))
    ('new', ['a.txt'])
    """
    path = Path(os.fspath(path))
    if not overwrite and os.path.lexists(path):
        raise exists_error(path)
    try:
        fd, name = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=f".tmp{path.suffix}", dir=path.parent)
    except FileNotFoundError:
        raise OutputPathError(
            f"cannot write {str(path)!r}: the folder {str(path.parent)!r} does not exist. Create it first."
        ) from None
    except PermissionError:
        raise OutputPathError(
            f"cannot write {str(path)!r}: the folder {str(path.parent)!r} is not writable. Choose a folder you can "
            "write to, or change its permissions."
        ) from None
    os.close(fd)
    tmp = Path(name)
    try:
        tmp.unlink()  # the name is ours; some writers (GDAL, GeoPackage) refuse an existing empty file
        write(tmp)
        _fsync(tmp)
        if not overwrite and os.path.lexists(path):
            raise exists_error(path)
        os.replace(tmp, path)
    except BaseException:
        try:
            tmp.unlink()
        except FileNotFoundError:
            pass
        raise
    return path


def _anonymous(folder: str) -> int | None:
    """An unnamed file in ``folder`` (Linux ``O_TMPFILE``), or None where that is not available."""
    flag = getattr(os, "O_TMPFILE", None)
    if flag is None:
        return None
    try:
        fd = os.open(folder, flag | os.O_RDWR, 0o666)
    except OSError:  # the file system or kernel does not support it
        return None
    if not os.path.exists(f"/proc/self/fd/{fd}"):  # needed to give it a name; no /proc mounted
        os.close(fd)
        return None
    return fd


def _staged(path: Path, overwrite: bool, write: Callable[[IO[bytes]], None]) -> None:
    """Call ``write(f)`` on a binary file in ``path``'s folder that becomes ``path`` only once it returns.

    On Linux the file is anonymous (``O_TMPFILE``) until complete, so not even a killed process
    leaves a partial file; elsewhere it is the named temporary file of :func:`atomic_write`.
    """
    fd = _anonymous(str(path.parent))
    if fd is None:

        def write_file(tmp: Path) -> None:
            with open(tmp, "w+b") as f:
                write(f)

        atomic_write(path, write_file, overwrite)
        return
    folder, name = str(path.parent), path.name
    with os.fdopen(fd, "w+b") as f:
        write(f)
        f.flush()
        os.fsync(f.fileno())
        dirfd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
        try:
            src = f"/proc/self/fd/{f.fileno()}"
            if not overwrite:  # linking fails if the target exists: no race with another writer
                try:
                    os.link(src, name, dst_dir_fd=dirfd, follow_symlinks=True)
                except FileExistsError:
                    raise exists_error(path) from None
                return
            tmp = _temp_name(path)
            os.link(src, tmp, dst_dir_fd=dirfd, follow_symlinks=True)
            try:
                os.replace(tmp, name, src_dir_fd=dirfd, dst_dir_fd=dirfd)
            except BaseException:
                os.unlink(tmp, dir_fd=dirfd)
                raise
        finally:
            os.close(dirfd)


def exists_error(path: Path) -> OutputExistsError:
    """The error for an output that exists when overwriting was not asked for."""
    return OutputExistsError(
        f"the output {str(path)!r} exists already. Pass overwrite=True (on the command line --overwrite), "
        "or choose another path."
    )


def export_table(table: Any, path: str | os.PathLike, overwrite: bool = False) -> Path:
    """Write a table to ``path`` atomically; the format comes from the extension.

    Parameters
    ----------
    table
        An ``ee.FeatureCollection`` (its ids become the ``system:index`` column), a GeoDataFrame or a
        DataFrame. A named index is written as a column; an unnamed one is left out.
    path
        The output file. Its extension picks the format:

        - ``.csv``: CSV, UTF-8, with a header. A geometry column is written as WKT text (in the
          table's CRS, which CSV cannot record); drop it first to leave it out.
        - ``.geojson`` (or ``.json``): GeoJSON in EPSG:4326 (RFC 7946), reprojected if needed.
        - ``.gpkg``: a GeoPackage with one layer named after the file, geometry and CRS kept.
        - ``.parquet`` / ``.geoparquet``: GeoParquet (geometry and CRS kept), or plain Parquet for a
          table without geometry.

        Lists and dicts in GeoJSON and GeoPackage columns are written as JSON text.
    overwrite
        Replace an existing file. Without it an existing file raises
        :class:`reducer.errors.OutputExistsError` and is left untouched.

    Returns
    -------
    pathlib.Path
        The path written.

    Raises
    ------
    OutputExistsError
        If ``path`` exists and ``overwrite`` is False.
    ArgumentError
        If the extension is not one of the formats above, or ``table`` is not a table.
    InputFileError
        If the folder does not exist.

    Notes
    -----
    The table goes to a temporary file in the target folder, which is moved onto ``path`` in one
    step (``os.replace``) when complete. A failed or interrupted export leaves the previous file as
    it was and no partial file: on Linux the temporary file is anonymous until complete, so not even
    a killed process leaves one; elsewhere a hidden ``.STEM.*.tmpSUFFIX`` file (as
    :func:`atomic_write` makes) is removed on errors and Ctrl-C. GeoJSON and GeoPackage are built
    in memory before they are written.

    Examples
    --------
    >>> import os, tempfile, pandas as pd
    >>> folder = tempfile.mkdtemp()
    >>> out = export_table(pd.DataFrame({"field": ["a", "b"], "mean": [0.5, None]}), os.path.join(folder, "t.csv"))
    >>> print(out.read_text())
    field,mean
    a,0.5
    b,
    <BLANKLINE>
    >>> export_table(pd.DataFrame({"x": [1]}), out)
    Traceback (most recent call last):
    ...
    reducer.errors.OutputExistsError: the output '.../t.csv' exists already. Pass overwrite=True ...
    >>> sorted(os.listdir(folder))
    ['t.csv']
    """
    path = Path(os.fspath(path))
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise ArgumentError(
            f"export_table: cannot tell the format of {str(path)!r} from its extension {path.suffix!r}. "
            f"Use one of {sorted(FORMATS)!r}."
        )
    folder = path.parent
    if not folder.is_dir():
        raise InputFileError(
            f"export_table: the folder {str(folder)!r} of {str(path)!r} does not exist. Create it first, or "
            "choose another path."
        )
    if path.is_dir():
        raise ArgumentError(f"export_table: {str(path)!r} is a folder. Give a file name such as 'stats.csv'.")
    if path.exists() and not overwrite:
        raise exists_error(path)
    df = _frame(table)
    write = _writer(suffix, path.stem)
    _staged(path, overwrite, lambda f: write(df, f))
    return path


def write_image(dataset: Any, path: str | os.PathLike, overwrite: bool = False) -> Path:
    """Write an image's ``xarray.Dataset`` (:func:`reducer.pixels.raster_to_dataset`) as a GeoTIFF, atomically.

    One float64 band per variable (named after it), NaN as nodata, DEFLATE-compressed and tiled; a
    Cloud Optimized GeoTIFF (with overviews) where GDAL has the COG driver. The pixels are computed
    through :func:`reducer.compute.compute` (the active scheduler, the progress bar).

    Examples
    --------
    >>> import tempfile, numpy as np, rasterio, xarray as xr, rioxarray
    >>> from affine import Affine
    >>> ds = xr.Dataset({"a": (("y", "x"), np.array([[1.0, np.nan], [3.0, 4.0]]))}, coords={"x": [5, 15], "y": [15, 5]})
    >>> ds = ds.rio.write_crs("EPSG:32633").rio.write_transform(Affine(10, 0, 0, 0, -10, 20))
    >>> with tempfile.TemporaryDirectory() as d:
    ...     with rasterio.open(write_image(ds, f"{d}/a.tif")) as src:
    ...         src.read(1).tolist(), src.descriptions, src.crs.to_epsg()
    ([[1.0, nan], [3.0, 4.0]], ('a',), 32633)
    """
    import numpy as np
    import rasterio

    path = Path(path)
    if path.exists() and not overwrite:
        raise exists_error(path)
    names = [str(n) for n in dataset.data_vars]
    if not names:
        raise ArgumentError("write_image: the image has no bands to write.")
    stacked = dataset[names].to_array("band")
    if stacked.ndim != 3:
        raise ArgumentError(
            f"write_image: expected one (y, x) array per band, got dims {stacked.dims!r}. "
            "Export one image at a time (a composite, or collection.toBands())."
        )
    (data,) = compute(stacked.data)
    data = np.asarray(data, dtype="f8")
    transform = dataset.rio.transform()
    crs = dataset.rio.crs
    count, height, width = data.shape
    with rasterio.Env() as env:
        cog = "COG" in env.drivers()
    profile: dict[str, Any] = dict(width=width, height=height, count=count, dtype="float64", crs=crs)
    profile.update(transform=transform, nodata=float("nan"), compress="DEFLATE")
    if cog:
        profile.update(driver="COG", blocksize=256, overviews="AUTO" if min(width, height) > 512 else "NONE")
    else:  # pragma: no cover - every GDAL since 3.1 has COG
        profile.update(driver="GTiff", tiled=True, blockxsize=256, blockysize=256)

    def write(tmp: Path) -> None:
        with rasterio.open(tmp, "w", **profile) as dst:
            dst.write(data)
            for k, name in enumerate(names, 1):
                dst.set_band_description(k, name)

    return atomic_write(path, write, overwrite=overwrite)
