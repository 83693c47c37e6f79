"""Data sources: everything that turns a user's data into :class:`~reducer.raster.Raster` objects.

One module per kind of source, each returning rasters and reading headers only (no pixel):

- :mod:`.files`: GeoTIFF/COG files and URLs (``raster_from_file``), ``xarray.DataArray`` (``raster_from_dataarray``);
- :mod:`.stac`: STAC items, catalogs and ItemCollections (``rasters_from_stac``);
- :mod:`.cube`: xarray cubes with a time dimension, Zarr and NetCDF (``rasters_from_xarray``);
- :mod:`.catalog`: Earth Engine ids mapped to any of the above by a TOML catalog.

:func:`open_raster` and :func:`open_collection` are the two entry points the facades use. A new
source is a module here with a function that returns :class:`~reducer.raster.Raster` objects
(bands built with :func:`reducer.raster.file_band` or their own pixel function), called from these two.
"""

from __future__ import annotations

import glob as globlib
import os
import re
from pathlib import Path
from typing import Any

from ..errors import ArgumentError, InputFileError
from ..raster import Raster
from .catalog import catalog_raster, catalog_table, collection_rasters, get_catalog, set_catalog, unmapped_error
from .cube import open_cube, rasters_from_xarray
from .files import (
    HEADER_COUNTER,
    READ_COUNTER,
    RasterioFileSource,
    file_index,
    header_env,
    is_dataarray,
    is_remote,
    raster_from_dataarray,
    raster_from_file,
    rasters_from_files,
    unique_indices,
)
from .stac import rasters_from_stac

__all__ = [
    "open_raster",
    "open_collection",
    "expands",
    "raster_paths",
    "RASTER_SUFFIXES",
    "RasterioFileSource",
    "raster_from_file",
    "header_env",
    "file_index",
    "unique_indices",
    "raster_from_dataarray",
    "rasters_from_stac",
    "rasters_from_xarray",
    "open_cube",
    "set_catalog",
    "catalog_table",
    "get_catalog",
    "READ_COUNTER",
    "HEADER_COUNTER",
]

RASTER_SUFFIXES = (".tif", ".tiff", ".TIF", ".TIFF", ".vrt", ".img", ".jp2")


def _is_glob(s: str) -> bool:
    return any(ch in s for ch in "*?[")


# Suffixes that make a string a path rather than an Earth Engine id.
PATH_SUFFIXES = (*RASTER_SUFFIXES, ".json", ".zarr", ".nc", ".nc4", ".toml", ".geojson", ".gpkg")


def missing_path_error(source: str) -> InputFileError | None:
    """The error for a string that looks like a local path but does not exist; None otherwise.

    A string looks like a path when it has a separator and its first part exists, starts with ``.``
    or ``/``, or ends in a file suffix (``.tif``, ``.json``, ``.zarr``, ...). The message names the
    deepest folder that does exist and suggests close matches in it.

    Examples
    --------
    >>> import os, tempfile
    >>> root = tempfile.mkdtemp()
    >>> os.mkdir(os.path.join(root, "rasters"))
    >>> print(missing_path_error(os.path.join(root, "rastres")))
    the path '.../rastres' does not exist: '...' has no 'rastres'. Did you mean 'rasters'?
    >>> missing_path_error("COPERNICUS/S2_SR_HARMONIZED") is None  # an Earth Engine id
    True
    """
    import difflib

    if is_remote(source) or os.path.exists(source):
        return None
    p = Path(source)
    first = p.parts[0] if p.parts else ""
    looks = (
        source.startswith((".", "/", "~"))
        or ((os.sep in source or "/" in source) and os.path.exists(first))
        or p.suffix.lower() in PATH_SUFFIXES
    )
    if not looks:
        return None
    parent = p
    while parent != parent.parent and not parent.exists():
        parent = parent.parent
    if not parent.exists():
        parent = Path(".")
    rest = p.relative_to(parent) if p.is_relative_to(parent) else p
    missing = rest.parts[0] if rest.parts else p.name
    try:
        names = sorted(x.name for x in parent.iterdir())
    except OSError:
        names = []
    close = difflib.get_close_matches(missing, names, n=3, cutoff=0.6)
    hint = (
        f" Did you mean {' or '.join(repr(c) for c in close)}?"
        if close
        else " Check the path and the working directory."
    )
    return InputFileError(f"the path {source!r} does not exist: {str(parent)!r} has no {missing!r}.{hint}")


def open_raster(source: str | os.PathLike | Any) -> Raster:
    """The raster of one source: a file path or URL, an Earth Engine id mapped in the catalog, or a DataArray.

    Reads headers only.

    Examples
    --------
    >>> import numpy as np, xarray as xr, rioxarray
    >>> from affine import Affine
    >>> arr = xr.DataArray(np.ones((2, 3)), dims=("y", "x")).rio.write_crs("EPSG:32633")
    >>> r = open_raster(arr.rio.write_transform(Affine(10, 0, 0, 0, -10, 20)))
    >>> r.names, r.grid.shape
    (['B1'], (2, 3))
    >>> open_raster("no/such/file.tif")
    Traceback (most recent call last):
    ...
    reducer.errors.InputFileError: the path 'no/such/file.tif' does not exist: ...
    """
    if is_dataarray(source):
        return raster_from_dataarray(source)
    if not isinstance(source, str | os.PathLike):
        raise ArgumentError(
            f"ee.Image({source!r}): expected a GeoTIFF path, an xarray.DataArray with a CRS, a number or an ee.Image."
        )
    if not os.path.exists(str(source)):  # an Earth Engine id mapped in the catalog?
        missing = missing_path_error(str(source))
        if missing is not None:
            raise missing
        mapped = catalog_raster(str(source))
        if mapped is not None:
            return mapped
    return raster_from_file(source)


def raster_paths(source: str | os.PathLike) -> list[str]:
    """The raster files a glob, a folder, a file or a URL names (sorted).

    An Earth Engine id that no catalog maps raises :class:`~reducer.errors.CatalogError`.
    """
    s = str(source)
    if "://" in s or s.startswith("/vsi"):
        return [s]
    if _is_glob(s):
        paths = sorted(globlib.glob(s, recursive=True))
        prefix = re.split(r"[*?\[]", s, maxsplit=1)[0]  # the part before the first wildcard
        folder = Path(prefix) if prefix.endswith(("/", os.sep)) else Path(prefix).parent
        if not paths and str(folder) not in ("", ".") and not folder.exists():
            missing = missing_path_error(str(folder))
            raise missing or InputFileError(
                f"the pattern {s!r} matched no file: the folder {str(folder)!r} does not exist."
            )
        if not paths:
            raise InputFileError(f"the pattern {s!r} matched no file. Check the folder and the pattern.")
        return paths
    p = Path(s)
    if p.is_dir():
        paths = sorted(str(x) for x in p.iterdir() if x.suffix in RASTER_SUFFIXES)
        if not paths:
            raise InputFileError(
                f"the folder {s!r} holds no raster (*.tif, *.tiff). Point at the folder with the files."
            )
        return paths
    if p.exists():
        return [s]
    if "/" in s and not p.suffix and not s.startswith((".", "/")):
        raise unmapped_error(s, "collection")
    raise InputFileError(f"{s!r} is not a file, a folder or a glob that matches files.")


def expands(item: Any) -> bool:
    """Whether a list item given to ``ee.ImageCollection`` stands for several files (a glob or a folder)."""
    return isinstance(item, str | os.PathLike) and (_is_glob(str(item)) or Path(str(item)).is_dir())


def open_collection(source: str | os.PathLike | Any, time: str = "time") -> list[Raster]:
    """The rasters of a collection source; reads headers only.

    ``source`` is a glob, a folder, a file, a mapped Earth Engine id, a STAC JSON file, a Zarr/NetCDF
    cube path, or an xarray object with a ``time`` dimension.
    """
    if type(source).__name__ in ("DataArray", "Dataset"):
        return rasters_from_xarray(source, time)
    missing = None if _is_glob(str(source)) else missing_path_error(str(source))
    if missing is not None:
        raise missing
    rasters = collection_rasters(str(source))  # an Earth Engine id, a STAC JSON file or a cube
    if rasters is None:
        rasters = rasters_from_files(raster_paths(source))
    return unique_indices(rasters)
