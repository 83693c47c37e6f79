r"""Named collections: a catalog file maps Earth Engine ids to local sources.

With a catalog, ``ee.ImageCollection('COPERNICUS/S2_SR_HARMONIZED')`` and ``ee.Image('USGS/SRTMGL1_003')``
run unchanged. The catalog is a TOML file (YAML too, ``.yaml``/``.yml``, when PyYAML is installed) whose
tables are Earth Engine ids; relative paths are relative to the catalog file::

    ["COPERNICUS/S2_SR_HARMONIZED"]
    stac = "s2/catalog.json"           # a static STAC catalog, collection or ItemCollection JSON
    assets = ["B04", "B08"]            # optional: the assets that become bands (default: the data assets)
    bands = { B04 = "B4", B08 = "B8" } # optional: asset -> band name
    apply_scale = false                # optional: apply raster:bands scale/offset

    ["MODIS/061/MOD13Q1"]
    glob = "modis/*.tif"               # files; each file's date comes from its name (or its TIFF tag)
    date_regex = 'A(\d{7})'            # optional: the first group holds the date ...
    date_format = "yyyyDDD"            # ... in this Joda pattern (default: found as in file names)
    bands = ["NDVI"]                   # optional: names for the files' bands

    ["ECMWF/ERA5_LAND/DAILY_AGGR"]
    cube = "era5.zarr"                 # a Zarr store or NetCDF file with a time dimension and a CRS
    time = "time"                      # optional
    bands = ["temperature_2m"]         # optional: the variables that become bands

    ["USGS/SRTMGL1_003"]
    path = "srtm.tif"                  # one raster: an ee.Image
    bands = ["elevation"]

    ["TIGER/2018/States"]
    table = "states.gpkg"              # a vector file: an ee.FeatureCollection
    layer = "states"                   # optional: the layer of a multi-layer file

``ee.Image('COLL/ID/member')`` is the image of the mapped collection ``COLL/ID`` whose
``system:index`` is ``member``.

The catalog in use is the one given to :func:`set_catalog`, else the file named by the
``REDUCER_CATALOG`` environment variable.
"""

from __future__ import annotations

import glob as globlib
import os
import re
import threading
from pathlib import Path
from typing import Any

from .._time import parse_millis, to_millis
from ..errors import ArgumentError, CatalogError, InputFileError, require
from ..raster import Raster, rename_bands
from .cube import open_cube, rasters_from_xarray
from .files import check_confined, raster_from_file, unique_indices
from .stac import rasters_from_stac

__all__ = [
    "set_catalog",
    "get_catalog",
    "Catalog",
    "collection_rasters",
    "catalog_raster",
    "catalog_table",
    "looks_like_id",
]

ENV_VAR = "REDUCER_CATALOG"
KINDS = ("stac", "glob", "cube", "path", "table")
_OPTIONS = {
    "table": {"layer"},
    "stac": {"assets", "bands", "apply_scale"},
    "glob": {"date_regex", "date_format", "bands"},
    "cube": {"time", "bands", "engine"},
    "path": {"bands", "date"},
}

_lock = threading.Lock()
_state: dict[str, Any] = {"path": None, "cache": {}}


def set_catalog(path: str | os.PathLike | None) -> None:
    r"""Use the catalog file at ``path`` to resolve Earth Engine ids (None: back to ``REDUCER_CATALOG``).

    The file is checked now, so a typo fails here rather than at the first id.

    Examples
    --------
    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "catalog.toml")
    >>> with open(path, "w") as f:
    ...     _ = f.write('["USGS/SRTMGL1_003"]\npath = "srtm.tif"\n')
    >>> set_catalog(path)
    >>> get_catalog().ids()
    ['USGS/SRTMGL1_003']
    >>> set_catalog(None)
    """
    if path is None:
        with _lock:
            _state["path"] = None
        return
    path = str(Path(path).expanduser().resolve())
    _load(path)
    with _lock:
        _state["path"] = path


def get_catalog() -> Catalog | None:
    """The catalog in use: the one :func:`set_catalog` gave, else ``$REDUCER_CATALOG``, else None."""
    path = _state["path"] or os.environ.get(ENV_VAR) or None
    if path is None:
        return None
    return _load(str(Path(path).expanduser().resolve()), from_env=_state["path"] is None)


def _load(path: str, from_env: bool = False) -> Catalog:
    where = f" (from ${ENV_VAR})" if from_env else ""
    try:
        mtime = os.stat(path).st_mtime_ns
    except OSError as exc:
        raise InputFileError(
            f"the catalog file {path!r}{where} does not exist. Check the path, or unset {ENV_VAR}."
        ) from exc
    with _lock:
        hit = _state["cache"].get(path)
        if hit is not None and hit[0] == mtime:
            return hit[1]
    cat = Catalog(path, _parse(path))
    with _lock:
        _state["cache"][path] = (mtime, cat)
    return cat


def _parse(path: str) -> dict[str, dict[str, Any]]:
    text = Path(path).read_text(encoding="utf-8")
    if path.endswith((".yaml", ".yml")):
        yaml = require("yaml", "yaml", f"the YAML catalog {path!r} (or write it as TOML)", "pyyaml")
        try:
            data = yaml.safe_load(text) or {}
        except yaml.YAMLError as exc:
            raise CatalogError(f"the catalog {path!r} is not valid YAML: {exc}") from exc
    else:
        import tomllib

        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise CatalogError(
                f"the catalog {path!r} is not valid TOML: {exc}. Ids with '/' need quotes: "
                '["COPERNICUS/S2_SR_HARMONIZED"].'
            ) from exc
    if not isinstance(data, dict):
        raise CatalogError(f"the catalog {path!r} must map Earth Engine ids to tables, got {type(data).__name__}.")
    for ee_id, entry in data.items():
        if not isinstance(entry, dict):
            raise CatalogError(f"catalog {path!r}: {ee_id!r} must be a table, e.g.\n\n{_snippet(ee_id, 'collection')}")
        kinds = [k for k in KINDS if k in entry]
        if len(kinds) != 1:
            raise CatalogError(
                f"catalog {path!r}: {ee_id!r} needs exactly one of {list(KINDS)!r}, got keys {sorted(entry)!r}."
            )
        unknown = set(entry) - {kinds[0]} - _OPTIONS[kinds[0]]
        if unknown:
            raise CatalogError(
                f"catalog {path!r}: {ee_id!r} has unknown key(s) {sorted(unknown)!r} for a {kinds[0]!r} entry; "
                f"it takes {sorted(_OPTIONS[kinds[0]])!r}."
            )
    return data


class Catalog:
    """A parsed catalog file: Earth Engine id -> source entry."""

    def __init__(self, path: str, entries: dict[str, dict[str, Any]]):
        self.path = path
        self.entries = entries

    def __repr__(self) -> str:
        return f"Catalog({self.path!r}, {len(self.entries)} ids)"

    def ids(self) -> list[str]:
        """The mapped ids, sorted."""
        return sorted(self.entries)

    def _abs(self, p: str) -> str:
        p = os.path.expanduser(str(p))
        check_confined(p, os.path.dirname(self.path), f"catalog {self.path!r}")
        if "://" in p or p.startswith("/vsi") or os.path.isabs(p):
            return p
        return os.path.join(os.path.dirname(self.path), p)

    def kind(self, ee_id: str) -> str:
        """How ``ee_id`` is mapped: one of :data:`KINDS`."""
        return next(k for k in KINDS if k in self.entries[ee_id])

    def table(self, ee_id: str) -> tuple[str, Any]:
        """The vector file (absolute path) and layer mapped to the table id ``ee_id``."""
        entry = self.entries[ee_id]
        return self._abs(entry["table"]), entry.get("layer")

    def rasters(self, ee_id: str) -> list[Raster]:
        """The rasters of the source mapped to ``ee_id``."""
        entry = self.entries[ee_id]
        kind = next(k for k in KINDS if k in entry)
        where = f"catalog {self.path!r}, {ee_id!r}"
        if kind == "table":
            raise ArgumentError(
                f"{ee_id!r} is mapped to the table {entry['table']!r} in {self.path!r}: "
                f"use ee.FeatureCollection({ee_id!r})."
            )
        if kind == "stac":
            rasters = rasters_from_stac(
                self._abs(entry["stac"]), entry.get("assets"), entry.get("bands"), bool(entry.get("apply_scale"))
            )
        elif kind == "cube":
            ds = open_cube(self._abs(entry["cube"]), entry.get("engine"))
            rasters = rasters_from_xarray(ds, entry.get("time", "time"), entry.get("bands"))
        else:
            if kind == "glob":
                pattern = self._abs(entry["glob"])
                paths = sorted(globlib.glob(pattern, recursive=True))
                if not paths:
                    raise InputFileError(f"{where}: the pattern {pattern!r} matched no file.")
            else:
                paths = [self._abs(entry["path"])]
            rasters = []
            for p in paths:
                check_confined(p, os.path.dirname(self.path), f"catalog {self.path!r}")  # symbolic links out
                r = raster_from_file(p)
                t = _file_date(p, entry, where)
                if t is not None:
                    r = r.updated({"system:time_start": to_millis(t)})
                if entry.get("date") is not None:
                    r = r.updated({"system:time_start": to_millis(entry["date"])})
                rasters.append(r)
        names = entry.get("bands")
        if kind in ("glob", "path") and names is not None:
            rasters = [rename_bands(r, list(names), "Image.rename") for r in rasters]
        rasters = unique_indices(rasters)
        return [r.updated({"system:id": f"{ee_id}/{r.properties.get('system:index', '')}"}) for r in rasters]


def _file_date(path: str, entry: dict[str, Any], where: str) -> Any:
    regex = entry.get("date_regex")
    if regex is None:
        return None
    m = re.search(regex, os.path.basename(path))
    if m is None:
        raise CatalogError(f"{where}: date_regex {regex!r} does not match the file name {os.path.basename(path)!r}.")
    text = m.group(1) if m.groups() else m.group(0)
    fmt = entry.get("date_format")
    return parse_millis(fmt, text) if fmt else to_millis(text)


# -- hooks for ee.ImageCollection(id) and ee.Image(id) --------------------------------------------


def looks_like_id(s: str) -> bool:
    """Whether ``s`` reads as an Earth Engine asset id rather than a file path.

    Examples
    --------
    >>> looks_like_id("COPERNICUS/S2_SR_HARMONIZED"), looks_like_id("data/s2.tif"), looks_like_id("./a/b")
    (True, False, False)
    """
    return (
        "/" in s
        and "://" not in s
        and not s.startswith((".", "/", "~"))
        and not Path(s).suffix
        and not any(ch in s for ch in "*?[")
    )


def _lookup(s: str, kind: str) -> Catalog | None:
    """The catalog that maps ``s``; None when none does. Only strings that are not paths are looked up."""
    if any(ch in s for ch in "*?[") or "://" in s or s.startswith("/vsi"):
        return None
    try:
        cat = get_catalog()
    except (InputFileError, CatalogError):
        if looks_like_id(s):
            raise
        return None
    if cat is not None and s in cat.entries:
        return cat
    if looks_like_id(s):
        raise unmapped_error(s, kind)
    return None


def collection_rasters(source: str) -> list[Raster] | None:
    """The images for ``ee.ImageCollection(source)`` when ``source`` is a mapped id, a STAC JSON file or a cube.

    None when ``source`` is none of these (a folder, a glob, a file: the caller lists files). An id that
    no catalog maps raises :class:`CatalogError`.
    """
    s = str(source)
    if os.path.exists(s):
        low = s.rstrip("/").lower()
        if low.endswith(".json"):
            return rasters_from_stac(s)
        if low.endswith((".zarr", ".nc", ".nc4")):
            return rasters_from_xarray(open_cube(s))
        return None
    cat = _lookup(s, "collection")
    return None if cat is None else cat.rasters(s)


def catalog_raster(source: str) -> Raster | None:
    """The image for ``ee.Image(source)`` when ``source`` is a mapped id; None for a path (which may be missing).

    An id that no catalog maps raises :class:`CatalogError`.
    """
    s = str(source)
    member = _collection_member(s)
    if member is not None:
        return member
    cat = _lookup(s, "image")
    if cat is None:
        return None
    images = cat.rasters(s)
    if len(images) != 1:
        raise ArgumentError(
            f"{s!r} is mapped to {len(images)} images in {cat.path!r}: use ee.ImageCollection({s!r}), "
            f"or ee.ImageCollection({s!r}).first()."
        )
    return images[0].updated({"system:id": s})


def _collection_member(s: str) -> Raster | None:
    """The image ``member`` of a mapped collection for ``'COLL/ID/member'``; None when ``COLL/ID`` is not mapped."""
    if "/" not in s or os.path.exists(s) or "://" in s or s.startswith(("/", ".", "~")):
        return None
    try:
        cat = get_catalog()
    except (InputFileError, CatalogError):
        return None
    parent, name = s.rsplit("/", 1)
    if cat is None or s in cat.entries or parent not in cat.entries or cat.kind(parent) in ("path", "table"):
        return None
    images = cat.rasters(parent)
    for r in images:
        if str(r.properties.get("system:index")) == name:
            return r.updated({"system:id": s})
    names = [str(r.properties.get("system:index")) for r in images]
    raise CatalogError(
        f"ee.Image({s!r}): the collection {parent!r} (mapped in {cat.path!r}) has no image {name!r}; "
        f"its images are {names[:10]!r}{' ...' if len(names) > 10 else ''}."
    )


def catalog_table(source: str) -> tuple[str, Any] | None:
    """The vector file and layer for ``ee.FeatureCollection(source)`` when ``source`` is a mapped table id.

    None for anything else (a path, which may be missing); an id that no catalog maps raises
    :class:`CatalogError`.

    Examples
    --------
    >>> catalog_table("fields.gpkg") is None
    True
    """
    s = str(source)
    if os.path.exists(s):
        return None
    cat = _lookup(s, "table")
    if cat is None:
        return None
    if cat.kind(s) != "table":
        raise ArgumentError(
            f"ee.FeatureCollection({s!r}): {s!r} is mapped to images in {cat.path!r}; use ee.ImageCollection({s!r})."
        )
    return cat.table(s)


def _snippet(ee_id: str, kind: str) -> str:
    if kind == "image":
        body = 'path = "/path/to/file.tif"'
    elif kind == "table":
        body = 'table = "/path/to/features.gpkg"'
    else:
        body = 'stac = "/path/to/catalog.json"   # or glob = "/path/to/*.tif", or cube = "/path/to/cube.zarr"'
    return f'    ["{ee_id}"]\n    {body}'


def unmapped_error(ee_id: str, kind: str = "collection") -> CatalogError:
    """The error for an Earth Engine id that no catalog maps, showing the TOML that maps it."""
    what = {"image": "ee.Image", "table": "ee.FeatureCollection"}.get(kind, "ee.ImageCollection")
    try:
        cat = get_catalog()
    except (InputFileError, CatalogError) as exc:
        return CatalogError(f"{ee_id!r} cannot be looked up: {exc}")
    if cat is None:
        where = (
            f"Map it in a TOML catalog file and point reducer at the file with the {ENV_VAR} environment "
            "variable or reducer.set_catalog('catalog.toml')"
        )
    else:
        where = f"The catalog in use, {cat.path!r}, maps {cat.ids()!r}. Add it there"
    return CatalogError(
        f"{what}({ee_id!r}): {ee_id!r} looks like an Earth Engine id, which is not mapped to a local source. "
        f"{where}:\n\n{_snippet(ee_id, kind)}\n\nOr give {what} a local path"
        + {"image": " (a file).", "table": " (a vector file such as 'fields.gpkg')."}.get(
            kind, " (a folder, a glob such as 's2/*.tif', a list of files)."
        )
    )
