"""Every shape a result takes: Earth Engine's ``getInfo()`` dicts, tables, xarray, the plan's text.

A new result shape goes here, and a new file format in :mod:`reducer.export`. The facades
(``FeatureCollection.getInfo``, ``to_pandas``, ``to_xarray``, ``explain``), the CLI and the charts
all call these functions; none of them shapes a result itself.

- :func:`fc_info`: a GeoDataFrame as Earth Engine's FeatureCollection dict (:class:`FeatureCollectionInfo`);
- :func:`long_frame`: a reduction as one row per (image, feature), as ``flatten`` orders them;
- :func:`wide_frame`: a reduction as a time-series table, one row per feature, one column per image;
- :func:`reduction_to_xarray`: a reduction as a vector data cube (xvec's ``(geometry, time[, band])``);
- :func:`explain`: a reduction's plan, before any pixel is read (:class:`ReductionExplanation`).
"""

from __future__ import annotations

import contextlib
import gc
import json
import math
import operator
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, NotRequired, TypedDict

import numpy as np
import pandas as pd
import shapely

from . import options
from .compute import active_client
from .dates import Date
from .engine import plan_reduction
from .errors import ArgumentError
from .geometry import WGS84
from .grid import crs_string
from .raster import Raster
from .reducers import Column
from .regions import Reduction
from .stats import AGGREGATIONS
from .values import to_info

__all__ = [
    "BandInfo",
    "ImageInfo",
    "ImageCollectionInfo",
    "image_info",
    "collection_info",
    "FeatureInfo",
    "FeatureCollectionInfo",
    "fc_info",
    "geojson_list",
    "gc_paused",
    "long_frame",
    "wide_frame",
    "band_output_values",
    "output_names",
    "reduction_to_xarray",
    "ReductionExplanation",
    "explain",
    "INDEX",
    "band_stat_table",
    "date_labels",
    "image_labels",
    "raster_label",
    "iso_date",
]

INDEX = "system:index"


class PixelTypeInfo(TypedDict):
    """A band's ``data_type`` in ``Image.getInfo()``."""

    type: str
    precision: str


class BandInfo(TypedDict):
    """One band of ``Image.getInfo()``."""

    id: str
    data_type: PixelTypeInfo
    crs: str
    crs_transform: list[float]
    dimensions: NotRequired[list[int]]


class ImageInfo(TypedDict):
    """``Image.getInfo()``: Earth Engine's dict."""

    type: str
    bands: list[BandInfo]
    id: NotRequired[str]
    properties: NotRequired[dict[str, Any]]


class ImageCollectionInfo(TypedDict):
    """``ImageCollection.getInfo()``: Earth Engine's dict."""

    type: str
    bands: list[BandInfo]
    features: list[ImageInfo]
    properties: NotRequired[dict[str, Any]]


class FeatureInfo(TypedDict):
    """One feature of ``FeatureCollection.getInfo()``."""

    type: str
    geometry: dict[str, Any] | None
    id: str
    properties: dict[str, Any]


class FeatureCollectionInfo(TypedDict):
    """``FeatureCollection.getInfo()``: Earth Engine's dict."""

    type: str
    columns: dict[str, str]
    properties: NotRequired[dict[str, Any]]
    features: list[FeatureInfo]


# -- getInfo of images ----------------------------------------------------------------------------


def _precision(dtype: str) -> str:
    kind = np.dtype(dtype).kind
    return "int" if kind in "iub" else ("double" if np.dtype(dtype).itemsize == 8 else "float")


def image_info(raster: Raster) -> ImageInfo:
    """A raster as Earth Engine's ``Image.getInfo()`` dict (headers only; no pixel is read).

    Examples
    --------
    >>> from reducer.raster import constant_band
    >>> info = image_info(Raster((constant_band("c", 1),), {"a": 1}))
    >>> info["bands"][0]
    {'id': 'c', 'data_type': {'type': 'PixelType', 'precision': 'int'}, 'crs': 'EPSG:4326',
     'crs_transform': [1.0, 0.0, 0.0, 0.0, 1.0, 0.0]}
    >>> info["properties"]
    {'a': 1}
    """
    bands: list[BandInfo] = []
    for b in raster.bands:
        entry: BandInfo = {
            "id": b.name,
            "data_type": {"type": "PixelType", "precision": _precision(b.dtype)},
            "crs": "EPSG:4326",
            "crs_transform": [1.0, 0.0, 0.0, 0.0, 1.0, 0.0],
        }
        if b.grid is not None:
            entry["crs"] = crs_string(b.grid)
            entry["crs_transform"] = list(tuple(b.grid.transform)[:6])
            entry["dimensions"] = [b.grid.width, b.grid.height]
        bands.append(entry)
    out: ImageInfo = {"type": "Image", "bands": bands}
    props = raster.properties
    if "system:id" in props:
        out["id"] = props["system:id"]
    if props:
        out["properties"] = dict(props)
    return out


def collection_info(rasters: Sequence[Raster], properties: Mapping[str, Any]) -> ImageCollectionInfo:
    """Rasters as Earth Engine's ``ImageCollection.getInfo()`` dict (headers only)."""
    out: ImageCollectionInfo = {"type": "ImageCollection", "bands": [], "features": [image_info(r) for r in rasters]}
    if properties:
        out["properties"] = dict(properties)
    return out


# -- getInfo of a feature collection --------------------------------------------------------------


def column_type(s: pd.Series) -> str:
    dt = s.dtype
    if pd.api.types.is_bool_dtype(dt):
        return "Boolean"
    if pd.api.types.is_integer_dtype(dt):
        return "Long" if getattr(dt, "itemsize", 8) >= 8 or str(dt) in ("uint32", "UInt32") else "Integer"
    if pd.api.types.is_float_dtype(dt):
        return "Float"
    if pd.api.types.is_datetime64_any_dtype(dt):
        return "Date"
    if isinstance(dt, pd.StringDtype):  # strings or missing values only
        return "String" if s.notna().any() else "Object"
    values = [v for v in s.tolist() if v is not None and not (isinstance(v, float) and math.isnan(v))]
    if not values:
        return "Object"
    if all(isinstance(v, str) for v in values):
        return "String"
    if all(isinstance(v, Date | pd.Timestamp) for v in values):
        return "Date"
    if all(isinstance(v, bool) for v in values):
        return "Boolean"
    if all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        return "Long"
    if all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
        return "Float"
    if all(isinstance(v, list | tuple) for v in values):
        return "List"
    if all(isinstance(v, Mapping) for v in values):
        return "Dictionary"
    return "Object"


_GEOJSON_TYPES = {0: "Point", 1: "LineString", 3: "Polygon", 4: "MultiPoint", 5: "MultiLineString", 6: "MultiPolygon"}


def _nest(items: list, offsets: np.ndarray) -> list[list]:
    """``items`` cut at ``offsets`` (``len(offsets) - 1`` lists)."""
    o = offsets.tolist()
    return [items[a:b] for a, b in zip(o[:-1], o[1:], strict=True)]


def geojson_list(geoms: Any) -> list[dict | None]:
    """Each geometry as a GeoJSON dict, its coordinates exactly as stored; None stays None.

    Geometries of one type at a time go through ``shapely.to_ragged_array``: their coordinates become
    Python lists in one C call, cut into rings, parts and geometries by the offsets. That is about 3x
    faster than parsing the GeoJSON that GEOS writes. Empty, 3-D and measured geometries, geometry
    collections and linear rings are written by GEOS and parsed instead.

    Examples
    --------
    >>> geojson_list([shapely.Point(1, 2), None, shapely.box(0, 0, 1, 1)])
    [{'type': 'Point', 'coordinates': [1.0, 2.0]}, None, {'type': 'Polygon', 'coordinates': [[[1.0, 0.0], \
[1.0, 1.0], [0.0, 1.0], [0.0, 0.0], [1.0, 0.0]]]}]
    """
    arr = np.asarray(geoms, dtype=object)
    out: list[dict | None] = [None] * len(arr)
    types = shapely.get_type_id(arr)  # -1 for None
    simple = np.isin(types, list(_GEOJSON_TYPES)) & ~shapely.is_empty(arr) & ~shapely.has_z(arr)
    if hasattr(shapely, "has_m"):  # shapely >= 2.1: measured coordinates go through GEOS too
        simple &= ~shapely.has_m(arr)
    for t in np.unique(types[simple]).tolist():
        idx = np.flatnonzero(simple & (types == t))
        _, coords, offsets = shapely.to_ragged_array(arr[idx], include_z=False)
        items = coords.tolist()
        for off in offsets:  # vertices into rings or parts, then into polygons, then into geometries
            items = _nest(items, off)
        name = _GEOJSON_TYPES[t]
        for k, c in zip(idx.tolist(), items, strict=True):
            out[k] = {"type": name, "coordinates": c}
    rest = np.flatnonzero(~simple & (types >= 0))
    for k, text in zip(rest.tolist(), shapely.to_geojson(arr[rest]).tolist(), strict=True):
        out[k] = json.loads(text)
    return out


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while a large result of plain dicts and lists is built.

    Such a result holds no reference cycle, but allocating millions of containers triggers full
    collections that walk all of them again and again: building 100,000 features' GeoJSON took 3.9 s
    with the collector and 0.55 s without.

    Examples
    --------
    >>> import gc
    >>> with gc_paused():
    ...     gc.isenabled()
    False
    >>> gc.isenabled()
    True
    """
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def _geojson_4326(gdf: Any) -> list[dict | None]:
    """Each row's geometry as GeoJSON in EPSG:4326, converting each distinct geometry object once.

    A reduction over T images repeats every feature's geometry T times (the same object), so this
    reprojects and converts ``n_features`` geometries, not ``n_features × T``.
    """
    import geopandas as gpd

    objs = np.asarray(gdf.geometry.values, dtype=object)
    ids = np.fromiter((id(g) for g in objs), dtype=np.int64, count=len(objs))
    _, first, inverse = np.unique(ids, return_index=True, return_inverse=True)
    distinct = gpd.GeoSeries(objs[first], crs=gdf.crs)
    if gdf.crs is not None and gdf.crs != WGS84:
        distinct = distinct.to_crs(WGS84)
    converted = geojson_list(distinct.values)
    return [converted[k] for k in inverse]


def _column_info(s: pd.Series) -> list[Any]:
    """The values of a column as ``getInfo`` gives them (:func:`~reducer.values.to_info` of each).

    Integers, booleans and strings are converted once per distinct value and shared between rows (a
    reduction over 6 images repeats each date 100,000 times): these are immutable, so sharing is not seen.
    Other columns are converted value by value, so that no two rows share a mutable dict or list.
    """
    dt = s.dtype
    kind = dt.kind if isinstance(dt, np.dtype) else None
    if kind == "f":  # in C (tolist), then NaN as None
        values = s.to_numpy()
        out = values.tolist()
        for k in np.flatnonzero(np.isnan(values)).tolist():
            out[k] = None
        return out
    strings = isinstance(dt, pd.StringDtype) or (kind == "O" and pd.api.types.infer_dtype(s, skipna=True) == "string")
    if (kind is not None and kind in "iub") or strings:
        codes, uniques = pd.factorize(s, use_na_sentinel=True)
        distinct = [to_info(v, sort_keys=True) for v in list(uniques)]
        distinct.append(None)  # code -1: missing
        return [distinct[c] for c in codes.tolist()]
    return [to_info(v, sort_keys=True) for v in s.tolist()]


def fc_info(gdf: Any, props: Mapping[str, Any]) -> FeatureCollectionInfo:
    """A GeoDataFrame (ids as index) as Earth Engine's FeatureCollection dict, geometries in EPSG:4326.

    Built column by column, with no per-row intermediate record: for a large collection the dict
    itself is most of the memory a ``getInfo`` takes.
    """
    with gc_paused():  # millions of dicts and lists, no cycle among them
        return _fc_info(gdf, props)


def _fc_info(gdf: Any, props: Mapping[str, Any]) -> FeatureCollectionInfo:
    prop_cols = [k for k, c in enumerate(gdf.columns) if c != "geometry"]
    columns = {gdf.columns[k]: column_type(gdf.iloc[:, k]) for k in prop_cols}
    columns[INDEX] = "String"
    order = sorted(prop_cols, key=lambda k: str(gdf.columns[k]))  # properties sorted by name, as to_info sorts
    keys = [str(gdf.columns[k]) for k in order]
    values = [_column_info(gdf.iloc[:, k]) for k in order]
    features = [
        {"type": "Feature", "geometry": geom, "id": str(fid), "properties": dict(zip(keys, row, strict=True))}
        for fid, geom, *row in zip(gdf.index, _geojson_4326(gdf), *values, strict=True)
    ]
    del values
    out: dict[str, Any] = {"type": "FeatureCollection", "columns": dict(sorted(columns.items()))}
    if props:
        out["properties"] = to_info(dict(props), sort_keys=True)
    out["features"] = features
    return out


# -- a reduction's result -------------------------------------------------------------------------


def long_frame(reduction: Reduction) -> Any:
    """Long form: one row per (image, feature), image-major, as ``flatten`` orders them (a GeoDataFrame).

    Built by column: the features' rows are taken once for all images, and each output is one
    concatenation of its per-image arrays, so 100,000 features over 12 images cost a few column copies
    rather than a frame per image. Columns and dtypes are those of concatenating one frame per image.
    """
    import geopandas as gpd

    gdf, per_image = reduction.result()
    if not per_image:
        return gdf.iloc[0:0].copy()
    n, k = len(gdf), len(per_image)
    names = list(gdf.columns)
    cols: dict[str, list[Any]] = {}  # output name -> one array per image (None where an image lacks it)
    for i, (columns, values) in enumerate(per_image):
        for c in columns:
            v = values[c.name]
            # NaN marks "no valid pixel"; getInfo turns it into None
            cols.setdefault(c.name, [None] * k)[i] = v.astype("i8") if c.integer and not np.isnan(v).any() else v
        for name in [c.name for c in columns] + (["system:time_start", "image_id"] if reduction.per_image_ids else []):
            if name not in names:
                names.append(name)
    rows = np.tile(np.arange(n), k)
    data: dict[str, Any] = {c: gdf[c].array.take(rows) for c in gdf.columns}  # keeps each column's dtype
    for name, parts in cols.items():
        # as concatenating per-image frames does: an image without the output contributes the feature
        # property of that name if there is one, else NaN
        missing = None
        if any(p is None for p in parts):
            missing = pd.Series(gdf[name].array) if name in gdf.columns else pd.Series(np.full(n, np.nan))
        series = [missing if p is None else pd.Series(p, copy=False) for p in parts]
        data[name] = (pd.concat(series, ignore_index=True) if k > 1 else series[0]).array
    index = gdf.index.take(rows)
    if reduction.per_image_ids:
        ids = [str(img.properties.get("system:index", "")) for img in reduction.images]
        times = pd.concat([pd.Series([img.properties.get("system:time_start")]) for img in reduction.images])
        data["system:time_start"] = np.repeat(times.to_numpy(), n)
        one = pd.RangeIndex(n)
        data["image_id"] = pd.concat([pd.Series(i, index=one) for i in ids], ignore_index=True).array
        fids = pd.Series(gdf.index.astype(str), index=one)
        index = pd.Index(pd.concat([f"{i}_" + fids for i in ids], ignore_index=True), name=gdf.index.name)
    out = pd.DataFrame({c: data[c] for c in names}, index=index, copy=False)
    return gpd.GeoDataFrame(out, geometry=gdf.geometry.name, crs=gdf.crs, copy=False)


def output_names(reduction: Reduction) -> list[str]:
    """The reducer outputs' column names over all images, in first-seen order."""
    _, per_image = reduction.result()
    names: list[str] = []
    for columns, _ in per_image:
        names.extend(c.name for c in columns if c.name not in names)
    return names


def _output_matrix(reduction: Reduction, name: str) -> np.ndarray:
    """``(n_features, n_images)`` values of output ``name``: NaN where absent or no valid pixel."""
    gdf, per_image = reduction.result()
    data = np.full((len(gdf), len(per_image)), np.nan)
    for k, (_, values) in enumerate(per_image):
        if name in values:
            if np.asarray(values[name]).dtype == object and data.dtype != object:
                data = data.astype(object)  # dict- or list-valued outputs (histograms, lists)
            data[:, k] = values[name]
    return data


def band_output_values(reduction: Reduction) -> tuple[Any, list[tuple[Raster, dict[tuple[str, str], np.ndarray]]]]:
    """The features and, per image, ``(raster, {(band, reducer output): values per feature})``."""
    gdf, per_image = reduction.result()
    out = []
    for img, (columns, values) in zip(reduction.images, per_image, strict=True):
        out.append((img, {(img.bands[c.band].name, c.output.name): values[c.name] for c in columns}))
    return gdf, out


def wide_frame(reduction: Reduction) -> pd.DataFrame:
    """A time-series table: one row per feature (indexed by ``system:index``), one column per image.

    Columns are labelled by date (``system:time_start`` as ``datetime64``), or by ``image_id`` when an
    image has no date or two share one; several outputs give a column ``MultiIndex`` ``(output, date)``.
    """
    gdf, _ = reduction.result()
    images = reduction.images
    times = [img.properties.get("system:time_start") for img in images]
    ids = [str(img.properties.get("system:index", k)) for k, img in enumerate(images)]
    if all(t is not None for t in times) and len(set(times)) == len(times):
        labels = pd.DatetimeIndex(pd.to_datetime(times, unit="ms"), name="time")
    else:
        labels = pd.Index(ids, name="image_id")
    index = pd.Index(gdf.index, name=INDEX)
    frames = {
        name: pd.DataFrame(_output_matrix(reduction, name), index=index, columns=labels)
        for name in output_names(reduction)
    }
    if len(frames) == 1:
        return next(iter(frames.values()))
    return pd.concat(frames, axis=1, names=["output", labels.name])


def _cube_parts(reduction: Reduction, compute: bool) -> tuple[Any, list[list[Column]], list[Any]]:
    """The features, each image's columns and each image's ``{column: values}`` (dicts, or delayed ones)."""
    if compute:
        gdf, per_image = reduction.result()
        return gdf, [cols for cols, _ in per_image], [vals for _, vals in per_image]
    gdf = reduction.frame()
    plan = plan_reduction(reduction.request, np.asarray(gdf.geometry.values, dtype=object), gdf.crs)
    return gdf, [ip.columns for ip in plan.images], plan.graph()


def reduction_to_xarray(reduction: Reduction, compute: bool = True) -> Any:
    """A reduction as a vector data cube (xvec's shape): dims ``(geometry, time)``, plus ``band`` when several.

    One variable per reducer output (``mean``, ``p90``). The ``geometry`` coordinate holds the
    features' shapely geometries, indexed with xvec's ``GeometryIndex`` in the features' CRS, so that
    ``ds.xvec.geom_coords`` and ``ds.xvec.to_geodataframe()`` work; the features' properties and
    ``system:index`` are coordinates along ``geometry``. ``time`` holds each image's
    ``system:time_start`` (NaT when an image has none) with ``image_id`` along it. A multi-band image
    adds a ``band`` dimension (NaN where an image lacks a band). NaN where a feature has no valid
    pixel; dict- and list-valued outputs (histograms) are object arrays.

    With ``compute=False`` nothing is read: the variables are dask arrays over the reduction's own
    graph (planned here, which evaluates the features), so a notebook can slice before computing.
    """
    import dask
    import dask.array as da
    import xarray as xr

    if not reduction.images:
        raise ArgumentError("to_xarray: the collection has no image. Check the filters.")
    gdf, columns, values = _cube_parts(reduction, compute)
    n = len(gdf)
    names: list[str] = []
    bands: list[str] = []
    # (output, band) -> per image: the values' array (or None)
    cells: dict[tuple[str, str], list[Any]] = {}
    objects: set[str] = set()
    for k, (img, cols) in enumerate(zip(reduction.images, columns, strict=True)):
        for c in cols:
            out, band = c.output.name, img.bands[c.band].name
            names.extend([out] if out not in names else [])
            bands.extend([band] if band not in bands else [])
            scalar = AGGREGATIONS[c.output.stat].scalar
            if not scalar:
                objects.add(out)
            if compute:
                arr = np.asarray(values[k][c.name])
            else:
                item = dask.delayed(operator.getitem, pure=True)(values[k], c.name)
                arr = da.from_delayed(item, shape=(n,), dtype=object if not scalar else "f8")
            cells.setdefault((out, band), [None] * len(reduction.images))[k] = arr
    array = np if compute else da
    data = {}
    for out in names:
        dtype = object if out in objects else "f8"
        planes = []
        for band in bands:
            per_image = cells.get((out, band), [None] * len(reduction.images))
            blank = np.full(n, np.nan if dtype == "f8" else None, dtype=dtype)
            layers = [
                (blank if compute else da.from_array(blank, chunks=-1)) if a is None else a.astype(dtype)
                for a in per_image
            ]
            planes.append(array.stack(layers, axis=1))
        if len(bands) > 1:
            data[out] = (("geometry", "time", "band"), array.stack(planes, axis=2))
        else:
            data[out] = (("geometry", "time"), planes[0])
    times = [img.properties.get("system:time_start") for img in reduction.images]
    time = pd.to_datetime([np.nan if t is None else t for t in times], unit="ms")
    image_ids = [str(img.properties.get("system:index", k)) for k, img in enumerate(reduction.images)]
    coords: dict[str, Any] = {
        "geometry": np.asarray(gdf.geometry.values, dtype=object),
        "time": time,
        "image_id": ("time", image_ids),
        INDEX: ("geometry", np.array([str(i) for i in gdf.index], dtype=object)),
    }
    if len(bands) > 1:
        coords["band"] = bands
    taken = set(coords) | set(data) | {"band"}
    for col in gdf.columns:
        if col != gdf.geometry.name and col not in taken:
            coords[col] = ("geometry", gdf[col].to_numpy())
    ds = xr.Dataset(data, coords=coords)
    try:
        import xvec  # noqa: F401  (registers the .xvec accessor)
    except ImportError:  # the cube is whole without it; only xvec's index (and its accessors) is missing
        ds["geometry"].attrs["crs"] = gdf.crs.to_wkt() if gdf.crs is not None else None
        return ds
    return ds.xvec.set_geom_indexes("geometry", crs=gdf.crs)


# -- a reduction's plan ---------------------------------------------------------------------------


def _human_bytes(n: float) -> str:
    """``1536`` as ``'1.5 KiB'``."""
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(n) < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TiB"  # pragma: no cover - the loop returns


class ReductionExplanation:
    """What computing a reduction will do, planned before any pixel is read.

    Returned by :meth:`FeatureCollection.explain`. ``repr()`` (and ``str()``) is a short text
    table; :meth:`to_dict` gives the numbers:

    - ``images``, ``grids``, ``features``: the inputs;
    - ``blocks_to_read`` of ``blocks_total`` and ``bytes_to_read``: the pixels read (blocks that no
      feature touches are not read; of an image read from its files on their own grid, only the
      files' internal tiles that features touch are, ``tiles_to_read`` of them, counted per band);
    - ``weight_entries``: (feature, pixel) coverage entries (or the planner's estimate of them),
      computed once per grid and block and shared by every image on the grid;
    - ``tasks``: the engine's tasks (per-block chunks, tree combines, a finalize per image; block
      reads come on top, one per block);
    - ``peak_task_memory_bytes``: an estimate of one task's working set, one block plus its
      weights and per-feature partials, whatever the number of images;
    - ``scheduler``: where ``getInfo()`` would run now.
    """

    __slots__ = ("_summary", "_grids")

    def __init__(self, summary: Mapping[str, Any], grids: list[str]):
        self._summary = dict(summary)
        self._grids = list(grids)

    def to_dict(self) -> dict[str, Any]:
        """The plan's numbers as a dict (a copy)."""
        return dict(self._summary)

    def __getitem__(self, key: str) -> Any:
        return self._summary[key]

    def __str__(self) -> str:
        s = self._summary
        rows = [
            ("images", f"{s['images']:,}"),
            ("grids", f"{s['grids']:,}" + (": " + "; ".join(self._grids) if self._grids else "")),
            ("features", f"{s['features']:,}"),
            (
                "blocks to read",
                f"{s['blocks_to_read']:,} of {s['blocks_total']:,}"
                + (f", {s['tiles_to_read']:,} file tiles" if s.get("tiles_to_read") else "")
                + f" ({_human_bytes(s['bytes_to_read'])})",
            ),
            ("weight entries", f"{s['weight_entries']:,} (once per grid and block, shared by all images)"),
            ("tasks", f"{s['tasks']:,} (per-block chunks, tree combines, a finalize per image; plus block reads)"),
            ("peak memory/task", f"~{_human_bytes(s['peak_task_memory_bytes'])} (one block, its weights, partials)"),
            ("runs on", str(s["scheduler"])),
        ]
        width = max(len(k) for k, _ in rows)
        lines = ["reduceRegions plan (nothing read yet):"]
        lines += [f"  {k.ljust(width)}  {v}" for k, v in rows]
        return "\n".join(lines)

    __repr__ = __str__


def _scheduler_description() -> str:
    scheduler = options.get("scheduler")
    client = active_client(scheduler)
    if client is not None:
        try:
            return f"distributed client at {client.scheduler.address}"
        except AttributeError:  # pragma: no cover - a client without a scheduler comm
            return "distributed client"
    if scheduler is not None:
        return f"dask scheduler {scheduler!r}"
    return "dask threads (no distributed client is active)"


def _grid_description(grid: Any, chunks: tuple) -> str:
    epsg = grid.crs.to_epsg()
    crs = f"EPSG:{epsg}" if epsg else grid.crs.name
    return (
        f"{crs} {grid.nominal_scale:g} m, {grid.width} x {grid.height} px in blocks of "
        f"{max(chunks[2])} x {max(chunks[1])}"
    )


def explain(reduction: Reduction) -> ReductionExplanation:
    """Plan ``reduction`` (grids, coverage weights, blocks to read) and describe it; reads no pixel."""
    gdf = reduction.frame()
    plan = plan_reduction(reduction.request, np.asarray(gdf.geometry.values, dtype=object), gdf.crs)
    summary = dict(plan.explain())
    summary["blocks_total"] = sum(len(ip.chunks[1]) * len(ip.chunks[2]) for ip in plan.images)
    summary["scheduler"] = _scheduler_description()
    grids: dict[Any, str] = {}
    for ip in plan.images:
        if ip.grid not in grids:
            grids[ip.grid] = _grid_description(ip.grid, ip.chunks)
    return ReductionExplanation(summary, list(grids.values()))


# -- the command line's tables --------------------------------------------------------------------


def raster_label(raster: Raster) -> str:
    """A raster's ``system:id`` (its path), else its ``system:index``."""
    return str(raster.properties.get("system:id", raster.properties.get("system:index", "")))


def iso_date(ms: Any) -> str | None:
    """Milliseconds since 1970 (UTC) as ``YYYY-MM-DD``; None for None or NaN."""
    if ms is None or (isinstance(ms, float) and math.isnan(ms)):
        return None
    return pd.Timestamp(int(ms), unit="ms", tz="UTC").strftime("%Y-%m-%d")


def date_labels(images: Sequence[Raster]) -> list[str | None]:
    """ISO dates (``YYYY-MM-DD``, or full UTC times when any image is not at midnight)."""
    times = [img.properties.get("system:time_start") for img in images]
    stamps = [None if t is None else pd.Timestamp(int(t), unit="ms", tz="UTC") for t in times]
    midnight = all(s is None or s == s.normalize() for s in stamps)
    fmt = "%Y-%m-%d" if midnight else "%Y-%m-%dT%H:%M:%SZ"
    return [None if s is None else s.strftime(fmt) for s in stamps]


def image_labels(images: Sequence[Raster]) -> list[str]:
    """Image ids (file name stems), or the paths when two stems are the same."""
    idx = [str(img.properties.get("system:index", k)) for k, img in enumerate(images)]
    if len(set(idx)) == len(idx):
        return idx
    return [raster_label(img) for img in images]


def band_stat_table(
    values: Any,
    ids: Any,
    id_name: str,
    images: Sequence[Raster],
    bands: list[str],
    stats: list[str] | None,
    wide: bool,
) -> Any:
    """Long or wide table from ``values`` of shape (image, band, stat, feature)."""
    n_img, n_band, n_stat, n_feat = values.shape
    dates = date_labels(images)
    labels = image_labels(images)
    stat_names = stats if stats is not None else ["value"]
    if not wide:
        cube = values.transpose(3, 0, 1, 2)  # feature, image, band, stat
        index = pd.MultiIndex.from_product([range(n_feat), range(n_img), range(n_band), range(n_stat)])
        f, i, b, s = (index.codes[k] for k in range(4))
        cols: dict[str, Any] = {
            id_name: np.asarray(ids, dtype=object)[f] if len(ids) else np.empty(0, object),
            "date": np.asarray(dates, dtype=object)[i],
            "image": np.asarray(labels, dtype=object)[i],
            "band": np.asarray(bands, dtype=object)[b],
        }
        if stats is not None:
            cols["statistic"] = np.asarray(stat_names, dtype=object)[s]
        cols["value"] = cube.reshape(-1)
        return pd.DataFrame(cols), f
    unique_dates = all(d is not None for d in dates) and len(set(dates)) == len(dates)
    columns = dates if unique_dates else labels
    cube = values.transpose(3, 1, 2, 0)  # feature, band, stat, image
    index = pd.MultiIndex.from_product([range(n_feat), range(n_band), range(n_stat)])
    f, b, s = (index.codes[k] for k in range(3))
    head: dict[str, Any] = {
        id_name: np.asarray(ids, dtype=object)[f] if len(ids) else np.empty(0, object),
        "band": np.asarray(bands, dtype=object)[b],
    }
    if stats is not None:
        head["statistic"] = np.asarray(stat_names, dtype=object)[s]
    body = pd.DataFrame(cube.reshape(n_feat * n_band * n_stat, n_img), columns=[str(c) for c in columns])
    return pd.concat([pd.DataFrame(head), body], axis=1), f
