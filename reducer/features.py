"""``ee.Feature`` and ``ee.FeatureCollection``: features over a GeoDataFrame.

A :class:`FeatureCollection` holds a thunk that returns a :class:`geopandas.GeoDataFrame` in a
normal form, evaluated at most once (thread-safe) and cached:

- the index, named ``system:index``, holds the feature ids as strings (``'0'``, ``'1'``, ... for
  features read from a file or a frame, in row order, as Earth Engine numbers features built
  from a list);
- the active geometry column is named ``geometry`` and has a CRS (features are never given a
  guessed CRS: a file or frame without one raises :class:`~reducer.errors.CRSError`);
- every other column is a property.

Methods compose thunks and evaluate nothing; ``getInfo()``, ``to_geopandas()`` and the engine
(through ``_gdf()``) evaluate. ``getInfo()`` returns Earth Engine's dict with geometries as
GeoJSON in EPSG:4326 and properties sorted by name, NaN as None.

Examples
--------
>>> from reducer.geometry import Geometry
>>> fc = FeatureCollection([Feature(Geometry.Point([0, 0]), {"v": 1}), Feature(None, {"v": 2})])
>>> fc.aggregate_sum("v").getInfo()
3
>>> fc.getInfo()["features"][1]
{'type': 'Feature', 'geometry': None, 'id': '1', 'properties': {'v': 2}}
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import shapely
from pyproj import CRS
from shapely.geometry.base import BaseGeometry

from .arguments import resolve, resolve_class
from .daterange import DateRange
from .errors import ArgumentError, CRSError, GeometryError, InputFileError, ReducerInputError, require
from .filters import Filter, filter_mask, parse_filter
from .geometry import WGS84, Geometry, GeometryValue, as_geometry, geometry_geojson, reproject
from .grid import norm_crs
from .output import FeatureCollectionInfo, ReductionExplanation, fc_info, long_frame, reduction_to_xarray, wide_frame
from .output import explain as explain_reduction
from .raster import Raster
from .reducers import Reducer, reduce_columns
from .regions import Reduction, reduce_jointly, reduce_regions
from .repr import features_html, reduction_html
from .sources import catalog_table
from .values import (
    UNSET,
    ComputedObject,
    Dictionary,
    List,
    Number,
    String,
    Thunk,
    parse_set_args,
    plain_value,
    to_info,
    unwrap,
)

if TYPE_CHECKING:
    import geopandas as gpd
    import xarray as xr

__all__ = [
    "Feature",
    "FeatureCollection",
    "FeatureValue",
    "NestedFeatureCollection",
    "collection_of_collections",
    "collection_of_features",
]

INDEX = "system:index"


@dataclass(frozen=True)
class FeatureValue:
    """The evaluated value of a :class:`Feature`: geometry (or None), properties and id."""

    geometry: GeometryValue | None
    properties: dict[str, Any]
    id: str | None = None


# -- helpers ----------------------------------------------------------------------------------


def _known(x: Any) -> bool:
    """True when ``x`` holds no unevaluated computed object (so building from it is free)."""
    if isinstance(x, ComputedObject):
        thunk = getattr(x, "_thunk", None)
        return isinstance(thunk, Thunk) and thunk.done
    if isinstance(x, Mapping):
        return all(_known(v) for v in x.values())
    if isinstance(x, list | tuple):
        return all(_known(v) for v in x)
    return True


def _prop(v: Any) -> Any:
    """A property value as stored: ee values evaluated; dates, geometries and features kept."""
    v = plain_value(v)
    if v is None or v is pd.NA or v is pd.NaT:
        return None
    if isinstance(v, float) and math.isnan(v):
        return None
    if isinstance(v, np.generic):
        v = v.item()
        return None if isinstance(v, float) and math.isnan(v) else v
    return v


def _props_dict(properties: Any, where: str) -> dict[str, Any]:
    props = plain_value(properties)
    if props is None:
        return {}
    if not isinstance(props, Mapping):
        raise ArgumentError(f"{where}: properties must be a dict, got {properties!r}.")
    return {str(k): _prop(v) for k, v in props.items()}


def _split_id(props: dict[str, Any], default: str | None) -> tuple[dict[str, Any], str | None]:
    if INDEX in props:
        props = dict(props)
        value = props.pop(INDEX)
        return props, None if value is None else str(value)
    return props, default


def _geometry_value(geometry: Any) -> GeometryValue | None:
    if geometry is None:
        return None
    if isinstance(geometry, Geometry):
        return geometry._evaluate()
    if isinstance(geometry, GeometryValue):
        return geometry
    return Geometry(geometry)._evaluate()


def _feature_value(geometry: Any, properties: Any, where: str = "ee.Feature") -> FeatureValue | None:
    """Evaluate anything Feature accepts."""
    if isinstance(geometry, Feature):
        base = geometry._evaluate()
        if properties is None or base is None:
            return base
        props, fid = _split_id({**base.properties, **_props_dict(properties, where)}, base.id)
        return FeatureValue(base.geometry, props, fid)
    if isinstance(geometry, ComputedObject) and not isinstance(geometry, Geometry):
        inner = geometry._evaluate()
        if isinstance(inner, FeatureValue):
            base = Feature._of(inner)
        elif isinstance(inner, GeometryValue):
            base = Geometry._of(inner)
        else:
            base = inner
        return _feature_value(base, properties, where)
    if isinstance(geometry, FeatureValue):
        return _feature_value(Feature._of(geometry), properties, where)
    if isinstance(geometry, Mapping) and geometry.get("type") == "Feature":
        props = _props_dict(geometry.get("properties"), where)
        fid = geometry.get("id")
        props, fid = _split_id(props, None if fid is None else str(fid))
        props.update(_props_dict(properties, where))
        props, fid = _split_id(props, fid)
        return FeatureValue(_geometry_value(geometry.get("geometry")), props, fid)
    props, fid = _split_id(_props_dict(properties, where), None)
    return FeatureValue(_geometry_value(geometry), props, fid)


def _feature_info(v: FeatureValue | None) -> dict | None:
    if v is None:
        return None
    out: dict[str, Any] = {"type": "Feature", "geometry": geometry_geojson(v.geometry)}
    if v.id is not None:
        out["id"] = v.id
    out["properties"] = to_info(v.properties, sort_keys=True)
    return out


def _select_names(names: list[str], selectors: Any, where: str) -> list[str]:
    """Property names matched by ``selectors`` (names or full-match regexes), in selector order."""
    sel = unwrap(selectors)
    sel = [sel] if isinstance(sel, str) else [str(unwrap(s)) for s in sel]
    out: list[str] = []
    for s in sel:
        hits = [n for n in names if n == s]
        if not hits:
            try:
                hits = [n for n in names if re.fullmatch(s, n)]
            except re.error:
                hits = []
        out.extend(h for h in hits if h not in out)
    return out


def _renamed(selected: list[str], newProperties: Any, where: str) -> list[str]:
    if newProperties is None:
        return selected
    new = [str(unwrap(n)) for n in unwrap(newProperties)]
    if len(new) != len(selected):
        raise ArgumentError(
            f"{where}: {len(selected)} properties selected ({selected!r}) but {len(new)} new names given "
            f"({new!r}). Give one new name per selected property."
        )
    return new


def _source_props(source: Any, where: str) -> dict[str, Any]:
    """All properties (system ones too) of a Feature, an Image or anything with ``toDictionary``."""
    if isinstance(source, Feature):
        v = source._evaluate()
        if v is None:
            return {}
        return {**v.properties, **({INDEX: v.id} if v.id is not None else {})}
    props = getattr(source, "_props", None)
    if isinstance(props, Mapping):
        return dict(props)
    to_dict = getattr(source, "toDictionary", None)
    if callable(to_dict):
        return dict(unwrap(to_dict()) or {})
    raise ArgumentError(f"{where}: cannot read properties from {source!r}. Give a Feature or an Image.")


# -- Feature ----------------------------------------------------------------------------------


@resolve_class("Feature", evaluate=False, aliases={"__init__": {"geom": "geometry", "metadata": "properties"}})
class Feature(ComputedObject):
    """``ee.Feature``: a geometry (or None) with properties and an optional id.

    Parameters
    ----------
    geometry
        A Geometry, a GeoJSON geometry dict, a shapely geometry (EPSG:4326), None, a Feature or
        a GeoJSON Feature dict.
    properties
        A dict of properties (``system:index`` sets the id).

    Examples
    --------
    >>> from reducer.geometry import Geometry
    >>> f = Feature(Geometry.Point([1, 2]), {"b": 2, "a": 1})
    >>> f.getInfo()
    {'type': 'Feature', 'geometry': {'type': 'Point', 'coordinates': [1.0, 2.0]},
     'properties': {'a': 1, 'b': 2}}
    >>> f.set("c", Number(1).add(2)).get("c").getInfo()
    3
    >>> Feature(None).geometry().getInfo() is None  # a feature without geometry
    True
    """

    __slots__ = ()

    def __init__(self, geometry: Any, properties: Any = None):
        if isinstance(geometry, Feature) and properties is None:
            thunk = geometry._value_thunk()
        elif _known(geometry) and _known(properties):
            thunk = Thunk.of(_feature_value(geometry, properties))
        else:
            thunk = Thunk(lambda: _feature_value(geometry, properties))
        object.__setattr__(self, "_thunk", thunk)

    def _info(self, value: Any) -> Any:
        return _feature_info(value)

    def __repr__(self) -> str:
        v = self._known()
        if isinstance(v, FeatureValue):
            kind = v.geometry.shape.geom_type if v.geometry is not None else None
            fid = f", id={v.id!r}" if v.id is not None else ""
            return f"ee.Feature({kind}, {v.properties!r}{fid})"
        return super().__repr__()

    def _derive(self, fn: Callable[[FeatureValue], FeatureValue | None]) -> Feature:
        def run() -> FeatureValue | None:
            v = self._evaluate()
            return None if v is None else fn(v)

        if self._known() is not UNSET and self._known() is not None:
            try:
                return Feature._of(run())
            except Exception:  # report errors at evaluation, as for lazy features
                pass
        return Feature._lazy(run)

    def _geom(self, fn: Callable[[Geometry], Geometry]) -> Feature:
        """A feature whose geometry is ``fn(geometry)``, properties kept."""

        def run(v: FeatureValue) -> FeatureValue:
            if v.geometry is None:
                raise GeometryError(f"feature {v.id!r} has no geometry. Give it one with setGeometry().")
            return replace(v, geometry=fn(Geometry._of(v.geometry))._evaluate())

        return self._derive(run)

    def _geom_scalar(self, fn: Callable[[Geometry], ComputedObject], cls: type = Number) -> Any:
        def run() -> Any:
            v = self._evaluate()
            if v is None or v.geometry is None:
                raise GeometryError(
                    f"feature {getattr(v, 'id', None)!r} has no geometry. Give it one with setGeometry()."
                )
            return fn(Geometry._of(v.geometry))._evaluate()

        return cls._lazy(run)

    # -- properties -----------------------------------------------------------------------------
    def geometry(self, maxError: Any = None, proj: Any = None, geodesics: Any = None) -> Geometry:
        """The geometry (null for a feature without one), transformed to ``proj`` if given."""

        def run() -> GeometryValue | None:
            v = self._evaluate()
            if v is None or v.geometry is None:
                return None
            if proj is None:
                return v.geometry
            return Geometry._of(v.geometry).transform(proj)._evaluate()

        return Geometry._lazy(run)

    def get(self, property: str) -> ComputedObject:  # noqa: A002 - Earth Engine's name
        """A property's value (None when absent); ``get('system:index')`` is the id.

        Cast it as in Earth Engine: ``ee.Number(f.get('x'))``.
        """
        name = str(unwrap(property))

        def run() -> Any:
            v = self._evaluate()
            if v is None:
                return None
            return v.id if name == INDEX else v.properties.get(name)

        return ComputedObject._lazy(run)

    def getNumber(self, property: str) -> Number:  # noqa: A002
        """A property as a Number."""
        return Number(self.get(property))

    def getString(self, property: str) -> String:  # noqa: A002
        """A property as a String."""
        return String(self.get(property))

    def set(self, *args: Any) -> Feature:
        """Set properties: ``set(key, value)``, ``set(k1, v1, k2, v2, ...)`` or ``set(dict)``.

        Examples
        --------
        >>> Feature(None, {"a": 1}).set({"b": 2}).set("system:index", "x").getInfo()
        {'type': 'Feature', 'geometry': None, 'id': 'x', 'properties': {'a': 1, 'b': 2}}
        """
        new = parse_set_args(args, "Feature.set")

        def run(v: FeatureValue) -> FeatureValue:
            props, fid = _split_id({**v.properties, **{k: _prop(x) for k, x in new.items()}}, v.id)
            return FeatureValue(v.geometry, props, fid)

        if _known(new):
            return self._derive(run)
        return Feature._lazy(lambda: None if (v := self._evaluate()) is None else run(v))

    def setMulti(self, properties: Any) -> Feature:
        """Set the properties of a dict."""
        return self.set(properties)

    def setGeometry(self, geometry: Any = None) -> Feature:
        """The feature with another geometry (None removes it)."""
        g = None if geometry is None else as_geometry(geometry)
        return Feature._lazy(
            lambda: None if (v := self._evaluate()) is None else replace(v, geometry=_geometry_value(g))
        )

    def id(self) -> String:
        """The feature's id (``system:index``), or null."""
        return String._lazy(lambda: None if (v := self._evaluate()) is None else v.id)

    def propertyNames(self) -> List:
        """The property names, sorted, with ``system:index`` when the feature has an id."""

        def run() -> list[str]:
            v = self._evaluate()
            if v is None:
                return []
            return sorted([*v.properties, *([INDEX] if v.id is not None else [])])

        return List._lazy(run)

    def toDictionary(self, properties: Any = None) -> Dictionary:
        """The properties as a Dictionary: all non-system ones, or those named.

        Examples
        --------
        >>> Feature(None, {"a": 1, "system:time_start": 0}).toDictionary().getInfo()
        {'a': 1}
        """

        def run() -> dict:
            v = self._evaluate()
            if v is None:
                return {}
            allp = {**v.properties, **({INDEX: v.id} if v.id is not None else {})}
            if properties is None:
                return {k: x for k, x in allp.items() if not k.startswith("system:")}
            names = [str(unwrap(p)) for p in unwrap(properties)]
            return {k: allp[k] for k in names if k in allp}

        return Dictionary._lazy(run)

    def copyProperties(self, source: Any = None, properties: Any = None, exclude: Any = None) -> Feature:
        """Copy properties from ``source`` (a Feature or an Image).

        Without ``properties`` all non-system properties are copied, less ``exclude``.

        Examples
        --------
        >>> src = Feature(None, {"a": 1, "b": 2, "system:time_start": 5})
        >>> Feature(None, {"c": 3}).copyProperties(src, exclude=["b"]).toDictionary().getInfo()
        {'a': 1, 'c': 3}
        """
        if properties is not None and exclude is not None:
            raise ArgumentError("Feature.copyProperties: give properties or exclude, not both.")
        if source is None:
            raise ArgumentError("Feature.copyProperties: give a source Feature or Image.")

        def run(v: FeatureValue) -> FeatureValue:
            src = _source_props(source, "Feature.copyProperties")
            if properties is not None:
                keys = [str(unwrap(p)) for p in unwrap(properties)]
            else:
                drop = {str(unwrap(p)) for p in unwrap(exclude or [])}
                keys = [k for k in src if not k.startswith("system:") and k not in drop]
            props, fid = _split_id({**v.properties, **{k: _prop(src[k]) for k in keys if k in src}}, v.id)
            return FeatureValue(v.geometry, props, fid)

        return Feature._lazy(lambda: None if (v := self._evaluate()) is None else run(v))

    def select(self, propertySelectors: Any, newProperties: Any = None, retainGeometry: bool = True) -> Feature:
        """Only the properties matched by ``propertySelectors`` (names or regexes), maybe renamed.

        Examples
        --------
        >>> Feature(None, {"a1": 1, "a2": 2, "b": 3}).select(["a.*"], ["x", "y"]).toDictionary().getInfo()
        {'x': 1, 'y': 2}
        """

        def run(v: FeatureValue) -> FeatureValue:
            chosen = _select_names(list(v.properties), propertySelectors, "Feature.select")
            names = _renamed(chosen, newProperties, "Feature.select")
            props = {n: v.properties[c] for c, n in zip(chosen, names, strict=True)}
            return FeatureValue(v.geometry if retainGeometry else None, props, v.id)

        return self._derive(run)

    # -- geometry -------------------------------------------------------------------------------
    def area(self, maxError: Any = None, proj: Any = None) -> Number:
        """The geometry's area in m² (see :meth:`Geometry.area`)."""
        return self._geom_scalar(lambda g: g.area(maxError, proj))

    def perimeter(self, maxError: Any = None, proj: Any = None) -> Number:
        """The geometry's perimeter in metres."""
        return self._geom_scalar(lambda g: g.perimeter(maxError, proj))

    def length(self, maxError: Any = None, proj: Any = None) -> Number:
        """The geometry's length in metres."""
        return self._geom_scalar(lambda g: g.length(maxError, proj))

    def buffer(self, distance: Any, maxError: Any = None, proj: Any = None) -> Feature:
        """The feature with its geometry buffered by ``distance`` metres."""
        return self._geom(lambda g: g.buffer(distance, maxError, proj))

    def centroid(self, maxError: Any = None, proj: Any = None) -> Feature:
        """The feature with its geometry replaced by its centroid."""
        return self._geom(lambda g: g.centroid(maxError, proj))

    def bounds(self, maxError: Any = None, proj: Any = None) -> Feature:
        """The feature with its geometry replaced by its bounding box."""
        return self._geom(lambda g: g.bounds(maxError, proj))

    def convexHull(self, maxError: Any = None, proj: Any = None) -> Feature:
        """The feature with its geometry replaced by its convex hull."""
        return self._geom(lambda g: g.convexHull())

    def simplify(self, maxError: Any, proj: Any = None) -> Feature:
        """The feature with a simplified geometry."""
        return self._geom(lambda g: g.simplify(maxError, proj))

    def transform(self, proj: Any = "EPSG:4326", maxError: Any = None) -> Feature:
        """The feature with its geometry in another CRS."""
        return self._geom(lambda g: g.transform(proj))

    def intersects(self, right: Any, maxError: Any = None, proj: Any = None) -> Number:
        """True if the geometries intersect."""
        return self.geometry().intersects(as_geometry(right))

    def contains(self, right: Any, maxError: Any = None, proj: Any = None) -> Number:
        """True if ``right`` lies inside this feature's geometry."""
        return self.geometry().contains(as_geometry(right))

    def distance(self, right: Any, maxError: Any = None, proj: Any = None) -> Number:
        """The distance in metres to ``right``."""
        return self.geometry().distance(as_geometry(right))

    def intersection(self, right: Any, maxError: Any = None, proj: Any = None) -> Feature:
        """The feature with its geometry intersected with ``right``."""
        other = as_geometry(right)
        return self._geom(lambda g: g.intersection(other))

    def union(self, right: Any, maxError: Any = None, proj: Any = None) -> Feature:
        """The feature with its geometry unioned with ``right``."""
        other = as_geometry(right)
        return self._geom(lambda g: g.union(other))

    def difference(self, right: Any, maxError: Any = None, proj: Any = None) -> Feature:
        """The feature with ``right`` cut out of its geometry."""
        other = as_geometry(right)
        return self._geom(lambda g: g.difference(other))


# -- frames -----------------------------------------------------------------------------------


def _no_crs_error(what: str) -> CRSError:
    return CRSError(
        f"{what} has no CRS. Features are never given a guessed CRS: set it with "
        "gdf = gdf.set_crs('EPSG:4326') (or the right EPSG code) and pass the GeoDataFrame."
    )


def _normalize(gdf: Any, what: str, column: str | None = None) -> Any:
    """A copy of ``gdf`` in the normal form: ``system:index`` string index, ``geometry`` column with a CRS."""
    import geopandas as gpd

    if isinstance(gdf, gpd.GeoSeries):
        gdf = gpd.GeoDataFrame(geometry=gdf)
    if column is not None:
        if column not in gdf.columns:
            raise ArgumentError(f"{what}: no geometry column {column!r}; columns are {list(gdf.columns)!r}.")
        gdf = gdf.set_geometry(column)
    try:
        geom_name = gdf.geometry.name
    except AttributeError:
        raise ArgumentError(
            f"{what}: the GeoDataFrame has no active geometry column. Set one with gdf.set_geometry('name')."
        ) from None
    if gdf.crs is None:
        raise _no_crs_error(what)
    out = gdf.copy()
    out.columns = [str(c) for c in out.columns]
    geom_name = str(geom_name)
    if geom_name != "geometry":
        if "geometry" in out.columns:
            raise ArgumentError(
                f"{what}: the geometry column is {geom_name!r} but another column is named 'geometry'. "
                "Rename one of them."
            )
        out = out.rename_geometry("geometry")
    if INDEX in out.columns:
        ids = out[INDEX].astype(str).to_numpy()
        out = out.drop(columns=[INDEX])
    elif out.index.name == INDEX:
        ids = out.index.astype(str).to_numpy()
    else:
        ids = np.array([str(i) for i in range(len(out))], dtype=object)
    out.index = pd.Index(ids, name=INDEX, dtype=object)
    return out


def _empty_frame(crs: Any = WGS84) -> Any:
    import geopandas as gpd

    return gpd.GeoDataFrame(geometry=gpd.GeoSeries([], crs=crs), index=pd.Index([], name=INDEX, dtype=object))


def _frame(values: list[FeatureValue], crs_hint: CRS | None = None) -> Any:
    """A normal-form GeoDataFrame from feature values (common CRS, else EPSG:4326)."""
    import geopandas as gpd

    crss = {v.geometry.crs for v in values if v.geometry is not None}
    crs = crss.pop() if len(crss) == 1 else (crs_hint or WGS84) if not crss else WGS84
    geoms = [None if v.geometry is None else reproject(v.geometry.shape, v.geometry.crs, crs) for v in values]
    ids = [v.id if v.id is not None else str(i) for i, v in enumerate(values)]
    table = pd.DataFrame.from_records([v.properties for v in values], index=range(len(values)))
    for c in table.columns:  # integers with gaps stay integers (nullable), as Earth Engine keeps them
        if table[c].dtype == np.float64 and table[c].isna().any():
            present = [v.properties[c] for v in values if v.properties.get(c) is not None]
            if present and all(isinstance(x, int) and not isinstance(x, bool) for x in present):
                table[c] = table[c].astype("Int64")
    if "geometry" in table.columns:
        table = table.rename(columns={"geometry": "geometry_"})
    out = gpd.GeoDataFrame(table, geometry=gpd.GeoSeries(geoms, crs=crs, index=table.index), crs=crs)
    out.index = pd.Index(ids, name=INDEX, dtype=object)
    return out


def _row_values(gdf: Any, rows: Iterable[int] | None = None) -> list[FeatureValue]:
    """Feature values of the rows of a normal-form frame (NaN properties become None)."""
    sub = gdf if rows is None else gdf.iloc[list(rows)]
    crs = gdf.crs
    geodesic = crs.is_geographic
    records = pd.DataFrame(sub.drop(columns="geometry")).to_dict("records")
    out = []
    for fid, rec, shape in zip(sub.index, records, sub.geometry.values, strict=True):
        props = {k: _prop(v) for k, v in rec.items()}
        geom = None if shape is None else GeometryValue(shape, crs, geodesic)
        out.append(FeatureValue(geom, props, str(fid)))
    return out


def _table(gdf: Any) -> pd.DataFrame:
    """The property table for filters: properties plus ``system:index``."""
    table = pd.DataFrame(gdf.drop(columns="geometry"))
    table.insert(0, INDEX, np.asarray(gdf.index, dtype=object))
    table.index = range(len(table))
    return table


# -- files ------------------------------------------------------------------------------------

_PARQUET = (".parquet", ".geoparquet", ".pq")
_GEOJSON = (".geojson", ".json", ".geojsonl", ".geojsons")


def _parquet_crs(path: str) -> None:
    """Raise unless ``path`` is a GeoParquet file whose primary geometry has a CRS."""
    import json

    pq = require("pyarrow.parquet", "parquet", f"FeatureCollection: reading the Parquet file {path!r}")
    try:
        meta = pq.read_schema(path).metadata or {}
    except Exception as exc:
        raise InputFileError(f"FeatureCollection: cannot read {path!r} as Parquet ({exc}).") from exc
    geo = meta.get(b"geo")
    if geo is None:
        raise InputFileError(
            f"FeatureCollection: {path!r} is Parquet without GeoParquet metadata. "
            "Write it with GeoDataFrame.to_parquet()."
        )
    info = json.loads(geo)
    col = info.get("columns", {}).get(info.get("primary_column", "geometry"), {})
    if "crs" in col and col["crs"] is None:  # absent means OGC:CRS84 by the GeoParquet spec
        raise _no_crs_error(f"FeatureCollection: {path!r}")


def _file_reader(path: str | os.PathLike, layer: Any, column: str | None) -> Callable[[], Any]:
    """Check ``path`` now (exists, has a CRS); return a thunk that reads it."""
    p = str(path)
    if not os.path.exists(p):
        raise InputFileError(
            f"FeatureCollection: file {p!r} does not exist. Check the path (the working directory is {os.getcwd()!r})."
        )
    suffix = Path(p).suffix.lower()
    if suffix in _PARQUET:
        _parquet_crs(p)

        def read_parquet() -> Any:
            import geopandas as gpd

            return _normalize(gpd.read_parquet(p), f"FeatureCollection: {p!r}", column)

        return read_parquet
    import pyogrio

    try:
        info = pyogrio.read_info(p, layer=layer)
    except Exception as exc:
        raise InputFileError(f"FeatureCollection: cannot read {p!r} as a vector file ({exc}).") from exc
    is_geojson = suffix in _GEOJSON or str(info.get("driver", "")).startswith("GeoJSON")
    if info.get("crs") is None and not is_geojson:
        raise CRSError(
            f"FeatureCollection: {p!r} has no CRS (a Shapefile without its .prj?). Features are never given "
            "a guessed CRS: read it with gdf = geopandas.read_file(path).set_crs('EPSG:...') and pass the "
            "GeoDataFrame, or add the .prj file."
        )

    def read() -> Any:
        import geopandas as gpd

        gdf = gpd.read_file(p, layer=layer, engine="pyogrio")
        if gdf.crs is None and is_geojson:
            gdf = gdf.set_crs(WGS84)  # GeoJSON is EPSG:4326 by specification (RFC 7946)
        return _normalize(gdf, f"FeatureCollection: {p!r}", column)

    return read


# -- FeatureCollection ------------------------------------------------------------------------


def _features_from_list(items: list, where: str) -> list[Any]:
    out = []
    for x in items:
        if isinstance(x, Feature):
            out.append(x)
        elif isinstance(x, Geometry | BaseGeometry) or (isinstance(x, Mapping) and "type" in x):
            out.append(Feature(x))
        elif isinstance(x, ComputedObject):
            out.append(Feature(x))
        else:
            raise ArgumentError(
                f"{where}: list item {x!r} is not a Feature. Give ee.Feature objects, geometries or GeoJSON dicts."
            )
    return out


class _FileThunk(Thunk):
    """The thunk of a collection read from a vector file: evaluating it reads no pixel (the HTML repr may)."""


@resolve_class("FeatureCollection", evaluate=False, aliases={"__init__": {"args": "source"}})
class FeatureCollection(ComputedObject):
    """``ee.FeatureCollection``: features in a GeoDataFrame, built lazily.

    Parameters
    ----------
    source
        A path to a GeoPackage, Shapefile, GeoJSON or GeoParquet file; a GeoDataFrame (or
        GeoSeries) with a CRS; a list of Features (or geometries); a Feature or Geometry; a GeoJSON
        FeatureCollection dict; or another FeatureCollection.
    column
        The geometry column, when the source has several.
    layer
        The layer of a multi-layer file (GeoPackage); the first by default.

    Raises
    ------
    InputFileError
        If the file does not exist or cannot be read.
    CRSError
        If the file or frame has no CRS (GeoJSON without one is EPSG:4326, as the spec says).

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> points = [shapely.Point(0, 0), shapely.Point(1, 1)]
    >>> gdf = gpd.GeoDataFrame({"name": ["a", "b"]}, geometry=points, crs=4326)
    >>> fc = FeatureCollection(gdf)
    >>> fc.size().getInfo(), fc.aggregate_array("name").getInfo()
    (2, ['a', 'b'])
    >>> fc.first().id().getInfo()
    '0'
    >>> FeatureCollection(gdf.set_crs(None, allow_override=True))
    Traceback (most recent call last):
    ...
    reducer.errors.CRSError: FeatureCollection: the GeoDataFrame has no CRS. Features are never given ...
    >>> FeatureCollection("missing.gpkg")
    Traceback (most recent call last):
    ...
    reducer.errors.InputFileError: FeatureCollection: file 'missing.gpkg' does not exist. ...
    """

    __slots__ = ("_meta", "_props", "_deps")

    def __new__(cls, source: Any = None, *args: Any, **kwargs: Any) -> FeatureCollection:
        """A list of FeatureCollections makes a collection of collections (:class:`NestedFeatureCollection`)."""
        if cls is FeatureCollection and _is_collection_list(resolve(kwargs.get("args", source), evaluate=False)):
            return object.__new__(NestedFeatureCollection)
        return object.__new__(cls)

    def __init__(self, source: Any, column: str | None = None, *, layer: Any = None):
        where = "FeatureCollection"
        props: dict[str, Any] = {}
        meta = None
        deps: tuple[Reduction, ...] = ()
        if isinstance(source, NestedFeatureCollection):
            raise ArgumentError(
                "FeatureCollection: this is a collection of collections; call .flatten() on it to get its features."
            )
        if isinstance(source, FeatureCollection):
            thunk, meta, props = source._value_thunk(), source._meta, dict(source._props)
            deps = source._deps
        elif isinstance(source, str | os.PathLike):
            mapped = catalog_table(str(source))  # an Earth Engine table id mapped in the catalog
            if mapped is not None:
                source, layer = mapped[0], layer if layer is not None else mapped[1]
            thunk = _FileThunk(_file_reader(source, layer, column))
        elif _is_geo_frame(source):
            thunk = Thunk.of(_normalize(source, f"{where}: the {type(source).__name__}", column))
        elif isinstance(source, list | tuple):
            feats = _features_from_list(list(source), where)
            if all(_known(f) for f in feats):
                thunk = Thunk.of(_frame([f._evaluate() for f in feats]) if feats else _empty_frame())
            else:
                thunk = Thunk(lambda: _frame([f._evaluate() for f in feats]) if feats else _empty_frame())
        elif isinstance(source, Feature | Geometry | BaseGeometry):
            feat = source if isinstance(source, Feature) else Feature(source)
            thunk = Thunk(lambda: _frame([feat._evaluate()]))
            if _known(feat):
                thunk()
        elif isinstance(source, Mapping):
            thunk = Thunk.of(_from_mapping(source, where))
        elif isinstance(source, ComputedObject):

            def run() -> Any:
                value = source._evaluate()
                return FeatureCollection(value if not isinstance(value, FeatureValue) else Feature._of(value))._gdf()

            thunk = Thunk(run)
        else:
            raise ArgumentError(
                f"{where}({source!r}): expected a file path, a GeoDataFrame, a list of Features, a Feature, "
                "a Geometry, a GeoJSON FeatureCollection dict or a FeatureCollection."
            )
        object.__setattr__(self, "_thunk", thunk)
        object.__setattr__(self, "_meta", meta)
        object.__setattr__(self, "_props", props)
        object.__setattr__(self, "_deps", deps)

    @classmethod
    def _lazy(
        cls, thunk: Callable[[], Any], meta: Reduction | None = None, deps: Iterable[Reduction] = ()
    ) -> FeatureCollection:
        """A collection whose GeoDataFrame (normal form) is ``thunk()``; ``meta`` is kept for the engine.

        ``deps`` are the pending reductions the frame is computed from (``meta`` among them), so that
        ``flatten`` can compute those of several collections as one (:func:`reducer.regions.reduce_jointly`).
        """
        obj = object.__new__(FeatureCollection)
        object.__setattr__(obj, "_thunk", Thunk(thunk))
        object.__setattr__(obj, "_meta", meta)
        object.__setattr__(obj, "_props", {})
        object.__setattr__(obj, "_deps", tuple(dict.fromkeys([*([meta] if meta is not None else []), *deps])))
        return obj

    def _with(self, fn: Callable[[Any], Any], props: Mapping[str, Any] | None = None) -> FeatureCollection:
        """A collection whose frame is ``fn(self._gdf())``, keeping the collection properties."""
        out = FeatureCollection._lazy(lambda: fn(self._gdf()), deps=self._deps)
        object.__setattr__(out, "_props", dict(self._props if props is None else props))
        return out

    def _gdf(self) -> gpd.GeoDataFrame:
        """The evaluated GeoDataFrame (normal form; do not mutate it)."""
        return self._evaluate()

    def _info(self, value: gpd.GeoDataFrame) -> FeatureCollectionInfo:
        return fc_info(value, self._props)

    @property
    def reduction(self) -> Reduction | None:
        """The pending reduction this collection is the result of (``reduceRegions``), else None."""
        return self._meta

    def __repr__(self) -> str:
        v = self._known()
        if v is UNSET:
            return "ee.FeatureCollection(<lazy>)"
        return f"ee.FeatureCollection(<{len(v)} features>)"

    def _repr_html_(self) -> str:
        """Notebook repr: a pending reduction's plan, or the features' count, CRS and columns.

        Reads no pixel: a reduction shows its ``explain()`` plan; a collection read from a file is
        read (vectors only); any other lazy collection is shown as not evaluated yet.
        """
        if self._meta is not None:
            return reduction_html(self._meta)
        v = self._known()
        if v is UNSET and isinstance(self._value_thunk(), _FileThunk):
            v = self._gdf()
        return features_html(None if v is UNSET else v, self._props)

    # -- Python exits ---------------------------------------------------------------------------
    def to_geopandas(self) -> gpd.GeoDataFrame:
        """A copy of the features as a GeoDataFrame; the ids are its index, named ``system:index``.

        Cells hold plain values, never ``ee`` objects: a date property is a UTC ``pandas.Timestamp``,
        a geometry property a shapely geometry in EPSG:4326, any other computed value its ``getInfo()``.

        Examples
        --------
        >>> from reducer.geometry import Geometry
        >>> FeatureCollection([Feature(Geometry.Point([0, 0]), {"a": 1})]).to_geopandas().index.tolist()
        ['0']
        """
        return _plain_cells(self._gdf().copy())

    def to_pandas(self, wide: bool = False) -> pd.DataFrame:
        """A copy of the properties as a DataFrame (no geometry), indexed by ``system:index``.

        With ``wide=True`` (only for the result of ``reduceRegions``) the outputs are a time-series
        table instead: one row per input feature, indexed by its ``system:index``, and one column per
        image, labelled by its date (``system:time_start`` as a ``datetime64``; by ``image_id`` when an
        image has no date or two share one). A reducer with several outputs gives a column
        ``MultiIndex`` ``(output, date)``: select one with ``df["mean"]``. NaN where a feature has no
        valid pixel. Join the feature properties with ``features.to_pandas()``.

        Examples
        --------
        >>> import numpy as np, xarray as xr, rioxarray
        >>> from affine import Affine
        >>> from reducer import Image, ImageCollection, Reducer, Geometry
        >>> arr = xr.DataArray(np.ones((2, 2)), dims=("y", "x"))
        >>> arr = arr.rio.write_crs("EPSG:4326").rio.write_transform(Affine(1, 0, 10, 0, -1, 50))
        >>> ic = ImageCollection([Image(arr, time="2024-01-01"), Image(arr * 3, time="2024-02-01")])
        >>> fc = FeatureCollection([Feature(Geometry.Point([10.5, 49.5]))])
        >>> ic.reduceRegions(fc, Reducer.mean()).to_pandas(wide=True)
        time            2024-01-01  2024-02-01
        system:index
        0                      1.0         3.0
        """
        if not wide:
            return _plain_cells(pd.DataFrame(self._gdf().drop(columns="geometry")).copy())
        if self._meta is None:
            raise ArgumentError(
                "to_pandas(wide=True): this FeatureCollection is not the result of reduceRegions. "
                "Use to_pandas() for the long form."
            )
        return wide_frame(self._meta)

    def to_xarray(self, compute: bool = True) -> xr.Dataset:
        """A reduction over images as a vector data cube (xvec's shape), one variable per reducer output.

        Dims ``(geometry, time)``, plus ``band`` for a multi-band image. ``geometry`` holds the
        features' shapely geometries with xvec's index and their CRS (``ds.xvec.to_geodataframe()``);
        the features' properties and ``system:index`` are coordinates along it; ``time`` holds each
        image's date, with ``image_id`` along it. NaN where a feature has no valid pixel. With
        ``compute=False`` the variables are dask arrays and nothing is read until they are computed.
        Only for the result of ``reduceRegions``.

        Examples
        --------
        >>> import geopandas as gpd, numpy as np, xarray as xr, rioxarray, shapely
        >>> from affine import Affine
        >>> from reducer import Image, Reducer
        >>> arr = xr.DataArray(np.array([[1.0, 2.0], [3.0, 4.0]]), dims=("y", "x"))
        >>> img = Image(arr.rio.write_crs("EPSG:32633").rio.write_transform(Affine(10, 0, 0, 0, -10, 20)))
        >>> fc = FeatureCollection(gpd.GeoDataFrame({"name": ["a"]}, geometry=[shapely.box(0, 0, 20, 10)], crs=32633))
        >>> ds = img.reduceRegions(fc, Reducer.mean()).to_xarray(compute=False)
        >>> ds["mean"].dims, type(ds["mean"].data).__name__, ds["mean"].values.tolist(), ds["name"].values.tolist()
        (('geometry', 'time'), 'Array', [[3.5]], ['a'])
        """
        if self._meta is None:
            raise ArgumentError(
                "to_xarray: this FeatureCollection is not the result of reduceRegions. "
                "Use to_pandas() or to_geopandas() for other collections."
            )
        return reduction_to_xarray(self._meta, compute=compute)

    def explain(self) -> ReductionExplanation:
        """What computing this reduction will do, before any pixel is read.

        Only for the result of ``reduceRegions``. Plans the reduction (grids, coverage weights,
        blocks to read), which evaluates the features and computes their coverage (cached, so
        ``getInfo()`` does not redo it), and reads no pixel.

        Returns
        -------
        ReductionExplanation
            Prints as a short table; ``.to_dict()`` gives images, grids, features, blocks and bytes
            to read, weight entries, tasks, the estimated peak memory per task and the scheduler.

        Examples
        --------
        >>> import numpy as np, xarray as xr, rioxarray, geopandas as gpd, shapely
        >>> from reducer import Image, Reducer
        >>> arr = xr.DataArray(np.arange(1.0, 10.0).reshape(3, 3), dims=("y", "x"),
        ...                    coords={"y": [2.5, 1.5, 0.5], "x": [0.5, 1.5, 2.5]}).rio.write_crs("EPSG:32633")
        >>> fc = FeatureCollection(gpd.GeoDataFrame(geometry=[shapely.box(0.5, 0.5, 2.5, 2.5)], crs=32633))
        >>> plan = Image(arr).reduceRegions(fc, Reducer.mean(), scale=1).explain()
        >>> {k: plan.to_dict()[k] for k in ("images", "features", "blocks_to_read", "blocks_total")}
        {'images': 1, 'features': 1, 'blocks_to_read': 1, 'blocks_total': 1}
        >>> fc.explain()
        Traceback (most recent call last):
        ...
        reducer.errors.ArgumentError: explain: this FeatureCollection is not the result of reduceRegions...
        """
        if self._meta is None:
            raise ArgumentError(
                "explain: this FeatureCollection is not the result of reduceRegions, so there is no reduction "
                "to plan. Call explain() on what ImageCollection.reduceRegions or Image.reduceRegions returns, "
                "before filtering or mapping it."
            )
        return explain_reduction(self._meta)

    # -- filtering and ordering -----------------------------------------------------------------
    def filter(self, filter: Filter | str) -> FeatureCollection:  # noqa: A002 - Earth Engine's name
        """The features that pass ``filter``.

        Examples
        --------
        >>> fc = FeatureCollection([Feature(None, {"v": i}) for i in range(5)])
        >>> fc.filter(Filter.gte("v", 3)).aggregate_array("system:index").getInfo()
        ['3', '4']
        """
        if isinstance(filter, str):  # Earth Engine's filter string: 'name == "x" || pop > 10'
            filter = parse_filter(filter)
        if not isinstance(filter, Filter):
            raise ArgumentError(f"FeatureCollection.filter: expected an ee.Filter, got {filter!r}.")

        def run(gdf: Any) -> Any:
            if len(gdf) == 0:
                return gdf
            keep = filter_mask(filter, _table(gdf), gdf.geometry)
            return gdf[np.asarray(keep, dtype=bool)].copy()

        return self._with(run)

    def filterBounds(self, geometry: Any) -> FeatureCollection:
        """The features whose geometry intersects ``geometry``."""
        return self.filter(Filter.bounds(geometry))

    def filterMetadata(self, name: str, operator: str, value: Any) -> FeatureCollection:
        """The features whose property ``name`` passes ``operator`` (see :meth:`Filter.metadata`)."""
        return self.filter(Filter.metadata(name, operator, value))

    def filterDate(self, start: Any, end: Any = None) -> FeatureCollection:
        """The features with ``start <= system:time_start < end``; ``start`` may be an ``ee.DateRange``."""
        if isinstance(start, DateRange) and end is None:
            start, end = start.start(), start.end()
        return self.filter(Filter.date(start, end))

    def sort(self, property: str, ascending: bool = True) -> FeatureCollection:  # noqa: A002
        """Sorted by a property (stable; nulls last). A missing property keeps the order.

        Examples
        --------
        >>> fc = FeatureCollection([Feature(None, {"v": v}) for v in (2, None, 1)])
        >>> fc.sort("v").aggregate_array("system:index").getInfo()
        ['2', '0', '1']
        """
        name = str(unwrap(property))

        def run(gdf: Any) -> Any:
            if name not in gdf.columns and name != INDEX:
                return gdf
            key = pd.Series(gdf.index if name == INDEX else gdf[name].to_numpy(), index=range(len(gdf)))
            order = key.sort_values(ascending=bool(ascending), kind="mergesort", na_position="last").index
            return gdf.iloc[np.asarray(order)].copy()

        return self._with(run)

    def limit(self, max: Any, property: str | None = None, ascending: bool = True) -> FeatureCollection:  # noqa: A002
        """The first ``max`` features, after sorting by ``property`` if given."""
        src = self.sort(property, ascending) if property is not None else self
        return src._with(lambda gdf: gdf.iloc[: int(unwrap(max))].copy(), self._props)

    def distinct(self, properties: Any) -> FeatureCollection:
        """The first feature of each distinct combination of ``properties`` (``'.geo'`` is the geometry)."""
        sel = unwrap(properties)
        names = [sel] if isinstance(sel, str) else [str(unwrap(p)) for p in sel]

        def run(gdf: Any) -> Any:
            keys = pd.DataFrame(index=range(len(gdf)))
            for n in names:
                if n == ".geo":
                    keys[n] = [None if g is None else g.wkb for g in gdf.geometry.values]
                elif n == INDEX:
                    keys[n] = list(gdf.index)
                elif n in gdf.columns:
                    keys[n] = [repr(to_info(v)) for v in gdf[n].tolist()]
                else:
                    return gdf.iloc[:0].copy()
            keep = ~keys.duplicated(keep="first").to_numpy()
            return gdf[keep].copy()

        return self._with(run)

    def merge(self, collection2: Any) -> FeatureCollection:
        """Both collections; ids get the prefixes ``1_`` and ``2_``, as in Earth Engine.

        Examples
        --------
        >>> a = FeatureCollection([Feature(None, {"v": 1})])
        >>> a.merge(a).aggregate_array("system:index").getInfo()
        ['1_0', '2_0']
        """
        other = collection2 if isinstance(collection2, FeatureCollection) else FeatureCollection(collection2)

        def run(gdf: Any) -> Any:
            import geopandas as gpd

            g2 = other._gdf()
            if g2.crs != gdf.crs:
                g2 = g2.to_crs(gdf.crs)
            a, b = gdf.copy(), g2.copy()
            a.index = pd.Index(["1_" + str(i) for i in a.index], name=INDEX, dtype=object)
            b.index = pd.Index(["2_" + str(i) for i in b.index], name=INDEX, dtype=object)
            parts = [p for p in (a, b) if len(p)] or [a]
            out = pd.concat(parts)
            return gpd.GeoDataFrame(out, geometry="geometry", crs=gdf.crs)

        out = self._with(run)
        object.__setattr__(out, "_deps", tuple(dict.fromkeys([*self._deps, *other._deps])))
        return out

    def flatten(self) -> FeatureCollection:
        """The features of a collection of collections as one collection; a collection of features is returned as is.

        See :class:`NestedFeatureCollection` for what a collection of collections is (the result of
        ``ImageCollection.map`` with a function that returns collections, or of
        ``ee.FeatureCollection([fc1, fc2])``).

        Examples
        --------
        >>> fc = FeatureCollection([Feature(None, {"v": 1})])
        >>> fc.flatten().aggregate_array("system:index").getInfo()
        ['0']
        """
        return self

    # -- mapping --------------------------------------------------------------------------------
    def map(self, algorithm: Callable[[Feature], Any], dropNulls: bool = False) -> FeatureCollection:
        """Apply ``algorithm`` (Feature -> Feature) to each feature, when the collection is evaluated.

        Examples
        --------
        >>> fc = FeatureCollection([Feature(None, {"v": 1}), Feature(None, {"v": 2})])
        >>> fc.map(lambda f: f.set("w", Number(f.get("v")).multiply(10))).aggregate_array("w").getInfo()
        [10, 20]
        """
        if not callable(algorithm):
            raise ArgumentError(f"FeatureCollection.map: expected a function, got {algorithm!r}.")

        def run(gdf: Any) -> Any:
            values = []
            for v in _row_values(gdf):
                out = algorithm(Feature._of(v))
                if out is None:
                    if dropNulls:
                        continue
                    raise ArgumentError(
                        "FeatureCollection.map: the function returned None. Return a Feature, or pass dropNulls=True."
                    )
                if not isinstance(out, Feature):
                    raise ArgumentError(f"FeatureCollection.map: the function must return an ee.Feature, got {out!r}.")
                fv = out._evaluate()
                if fv is None:
                    if dropNulls:
                        continue
                    raise ArgumentError("FeatureCollection.map: the function returned a null Feature.")
                values.append(fv)
            if not values:
                return _empty_frame(gdf.crs)
            return _frame(values, gdf.crs)

        return self._with(run)

    def iterate(self, algorithm: Callable[[Feature, Any], Any], first: Any = None) -> ComputedObject:
        """Fold ``algorithm(feature, previous)`` over the features, starting from ``first``."""

        def run() -> Any:
            acc = first
            for v in _row_values(self._gdf()):
                acc = algorithm(Feature._of(v), acc)
            return plain_value(acc)

        return ComputedObject._lazy(run)

    def select(
        self, propertySelectors: Any, newProperties: Any = None, retainGeometry: bool = True
    ) -> FeatureCollection:
        """Only the properties matched by ``propertySelectors``, maybe renamed; geometry optional.

        Examples
        --------
        >>> fc = FeatureCollection([Feature(None, {"a": 1, "b": 2})])
        >>> fc.select(["b"], ["x"]).first().toDictionary().getInfo()
        {'x': 2}
        """

        def run(gdf: Any) -> Any:
            names = [c for c in gdf.columns if c != "geometry"]
            chosen = _select_names(names, propertySelectors, "FeatureCollection.select")
            new = _renamed(chosen, newProperties, "FeatureCollection.select")
            out = gdf[[*chosen, "geometry"]].copy()
            out.columns = [*new, "geometry"]
            out = out.set_geometry("geometry", crs=gdf.crs)
            if not retainGeometry:
                out["geometry"] = None
                out = out.set_geometry("geometry", crs=gdf.crs)
            return out

        return self._with(run)

    # -- collection properties ------------------------------------------------------------------
    def set(self, *args: Any) -> FeatureCollection:
        """Set collection properties: ``set(key, value)``, pairs, or ``set(dict)``."""
        new = {k: _prop(v) for k, v in parse_set_args(args, "FeatureCollection.set").items()}
        out = object.__new__(type(self))
        for slot in ("_thunk", "_meta", "_deps", *getattr(type(self), "__slots__", ())):
            object.__setattr__(out, slot, getattr(self, slot))  # the same frame
        object.__setattr__(out, "_props", {**self._props, **new})
        return out

    def get(self, property: str) -> ComputedObject:  # noqa: A002
        """A collection property (None when absent)."""
        return ComputedObject._of(self._props.get(str(unwrap(property))))

    # -- evaluation to values -------------------------------------------------------------------
    def size(self) -> Number:
        """The number of features."""
        return Number._lazy(lambda: len(self._gdf()))

    def first(self) -> Feature:
        """The first feature (null for an empty collection)."""

        def run() -> FeatureValue | None:
            gdf = self._gdf()
            return _row_values(gdf, [0])[0] if len(gdf) else None

        return Feature._lazy(run)

    def toList(self, count: Any, offset: Any = 0) -> List:
        """Up to ``count`` features after skipping ``offset``, as a List of Features."""

        def run() -> list:
            gdf = self._gdf()
            start = int(unwrap(offset))
            stop = min(len(gdf), start + int(unwrap(count)))
            return [Feature._of(v) for v in _row_values(gdf, range(start, stop))] if stop > start else []

        return List._lazy(run)

    def geometry(self, maxError: Any = None) -> Geometry:
        """The union of the features' geometries, in the collection's CRS."""

        def run() -> GeometryValue:
            gdf = self._gdf()
            geoms = [g for g in gdf.geometry.values if g is not None]
            shape = shapely.union_all(geoms) if geoms else shapely.GeometryCollection()
            return GeometryValue(shape, norm_crs(gdf.crs), norm_crs(gdf.crs).is_geographic)

        return Geometry._lazy(run)

    def bounds(self, maxError: Any = None, proj: Any = None) -> Geometry:
        """The bounding box of all features, in EPSG:4326 (or ``proj``)."""
        return self.geometry().bounds(maxError, proj)

    def union(self, maxError: Any = None) -> FeatureCollection:
        """One feature whose geometry is the union of all geometries."""
        geom = self.geometry()
        return FeatureCollection._lazy(lambda: _frame([FeatureValue(geom._evaluate(), {}, "0")]))

    def aggregate_array(self, property: str) -> List:  # noqa: A002
        """The non-null values of a property, in order (``system:index`` gives the ids).

        Examples
        --------
        >>> FeatureCollection([Feature(None, {"v": 1}), Feature(None, {})]).aggregate_array("v").getInfo()
        [1]
        """
        name = str(unwrap(property))

        def run() -> list:
            gdf = self._gdf()
            if name == INDEX:
                return [str(i) for i in gdf.index]
            if name not in gdf.columns:
                return []
            return [_prop(v) for v in gdf[name].tolist() if not _null(v)]

        return List._lazy(run)

    def _aggregate(self, property: str, reducer: Reducer, where: str, empty: Any = None) -> Number:  # noqa: A002
        """One statistic of a property's non-null values, through :meth:`reduceColumns`' reduction.

        A whole ``sum`` of ints is an int, and ``min``/``max`` give the value itself, as Python's
        ``sum``, ``min`` and ``max`` do; ``empty`` when there is no value.
        """
        name = str(unwrap(property))
        output = reducer.outputs[0]

        def run() -> Any:
            (values,) = _property_columns(_table(self._gdf()), [name])
            got = reduce_columns(reducer, [values], [name], where=f"FeatureCollection.{where}")[output.name]
            if got is None:
                return empty
            present = [v for v in values if v is not None]
            if output.stat in ("min", "max"):
                return next((v for v in present if v == got), got)
            if isinstance(got, float) and got.is_integer() and all(_is_int(v) for v in present):
                return int(got)
            return got

        return Number._lazy(run)

    def aggregate_sum(self, property: str) -> Number:  # noqa: A002
        """The sum of a property's non-null values (0 when there are none).

        Examples
        --------
        >>> fc = FeatureCollection([Feature(None, {"v": 1}), Feature(None, {"v": 2}), Feature(None, {})])
        >>> fc.aggregate_sum("v").getInfo(), fc.aggregate_sum("nope").getInfo()
        (3, 0)
        """
        return self._aggregate(property, Reducer.sum(), "aggregate_sum", empty=0)

    def aggregate_mean(self, property: str) -> Number:  # noqa: A002
        """The mean of a property's non-null values (None when there are none)."""
        return self._aggregate(property, Reducer.mean(), "aggregate_mean")

    def aggregate_min(self, property: str) -> Number:  # noqa: A002
        """The minimum of a property's non-null values (None when there are none); strings compare as strings.

        Examples
        --------
        >>> fc = FeatureCollection([Feature(None, {"v": 3, "k": "b"}), Feature(None, {"v": 2, "k": "a"})])
        >>> fc.aggregate_min("v").getInfo(), fc.aggregate_min("k").getInfo(), fc.aggregate_min("nope").getInfo()
        (2, 'a', None)
        """
        return self._aggregate(property, Reducer.min(), "aggregate_min")

    def aggregate_max(self, property: str) -> Number:  # noqa: A002
        """The maximum of a property's non-null values (None when there are none); strings compare as strings."""
        return self._aggregate(property, Reducer.max(), "aggregate_max")

    def aggregate_count(self, property: str) -> Number:  # noqa: A002
        """The number of non-null values of a property."""
        return self._aggregate(property, Reducer.count(), "aggregate_count")

    def aggregate_first(self, property: str) -> ComputedObject:  # noqa: A002
        """The first non-null value of a property (None when there is none)."""
        values = self.aggregate_array(property)
        return ComputedObject._lazy(lambda: v[0] if (v := values._evaluate()) else None)

    # -- reducers over property columns (statistics in reducer.stats, through reducers.reduce_columns) ----
    def reduceColumns(self, reducer: Any, selectors: Any, weightSelectors: Any = None) -> Dictionary:
        """Reduce property columns with any reducer: ``{output name: value}`` (lazy).

        One property per reducer input (``selectors``); ``weightSelectors`` weight the rows. Strings
        work with the reducers that need no arithmetic (``frequencyHistogram``, ``toList``,
        ``countDistinct``, ``mode``, ``first``, ``min``, ``max``, ``group``). Null properties are left
        out, except by ``countEvery``, ``first`` and ``last``.

        Examples
        --------
        >>> from reducer import Reducer
        >>> fc = FeatureCollection([Feature(None, {"v": 1, "k": "a"}), Feature(None, {"v": 3, "k": "b"}),
        ...                         Feature(None, {"v": 4, "k": "a"})])
        >>> fc.reduceColumns(Reducer.median(), ["v"]).getInfo()
        {'median': 3.0}
        >>> fc.reduceColumns(Reducer.sum().group(1, "k"), ["v", "k"]).getInfo()
        {'groups': [{'k': 'a', 'sum': 5.0}, {'k': 'b', 'sum': 3.0}]}
        """
        if not isinstance(reducer, Reducer):
            raise ArgumentError(f"reduceColumns: expected an ee.Reducer such as ee.Reducer.sum(), got {reducer!r}.")
        sel = [str(x) for x in unwrap(selectors)]
        if len(sel) != reducer.numInputs():
            raise ReducerInputError(
                f"reduceColumns: the reducer has {reducer.numInputs()} input(s) but {len(sel)} selector(s) {sel!r} "
                "were given. Give one property name per input."
            )
        ws = None if weightSelectors is None else [None if w is None else str(w) for w in unwrap(weightSelectors)]

        def run() -> dict:
            table = _table(self._gdf())
            return reduce_columns(reducer, _property_columns(table, sel), sel, _row_weights(table, ws))

        return Dictionary._lazy(run)

    def _reduce_one(self, property: str, reducer: Any, output: str) -> ComputedObject:
        d = self.reduceColumns(reducer, [str(unwrap(property))])
        return ComputedObject._lazy(lambda: d._evaluate()[output])

    def aggregate_count_distinct(self, property: str) -> Number:  # noqa: A002
        """The number of distinct non-null values of a property."""
        return self._reduce_one(property, Reducer.countDistinct(), "count")

    def aggregate_histogram(self, property: str) -> Dictionary:  # noqa: A002
        """How often each non-null value of a property occurs: ``{value: count}``."""
        return self._reduce_one(property, Reducer.frequencyHistogram(), "histogram")

    def aggregate_product(self, property: str) -> Number:  # noqa: A002
        """The product of a property's non-null values."""
        return self._reduce_one(property, Reducer.product(), "product")

    def aggregate_sample_sd(self, property: str) -> Number:  # noqa: A002
        """The sample standard deviation of a property's non-null values."""
        return self._reduce_one(property, Reducer.sampleStdDev(), "stdDev")

    def aggregate_sample_var(self, property: str) -> Number:  # noqa: A002
        """The sample variance of a property's non-null values."""
        return self._reduce_one(property, Reducer.sampleVariance(), "variance")

    def aggregate_total_sd(self, property: str) -> Number:  # noqa: A002
        """The population standard deviation of a property's non-null values."""
        return self._reduce_one(property, Reducer.stdDev(), "stdDev")

    def aggregate_total_var(self, property: str) -> Number:  # noqa: A002
        """The population variance of a property's non-null values."""
        return self._reduce_one(property, Reducer.variance(), "variance")

    def aggregate_stats(self, property: str) -> Dictionary:  # noqa: A002
        """Earth Engine's summary statistics of a property's values.

        Keys: max, mean, min, sample_sd, sample_var, sum, sum_sq, total_count, total_sd, total_var,
        valid_count and weight_sum.
        """
        red = Reducer.minMax()
        for r in (
            Reducer.mean(),
            Reducer.sum(),
            Reducer.sampleStdDev(),
            Reducer.sampleVariance(),
            Reducer.stdDev(),
            Reducer.variance(),
            Reducer.count(),
            Reducer.countEvery(),
        ):
            red = red.combine(r, sharedInputs=True)
        names = ["max", "min", "mean", "sum", "sample_sd", "sample_var", "total_sd", "total_var", "valid_count"]
        outs = "min max mean sum sample_sd sample_var total_sd total_var valid_count total_count"
        red = red.setOutputs(outs.split())
        d = self.reduceColumns(red, [str(unwrap(property))])

        def run() -> dict:
            out = dict(d._evaluate())
            n, mean, var = out["valid_count"], out["mean"], out["total_var"]
            out["sum_sq"] = None if not n else (var + mean * mean) * n
            out["weight_sum"] = n
            return {k: out[k] for k in sorted({*names, "sum_sq", "total_count", "weight_sum"})}

        return Dictionary._lazy(run)


def _plain_cell(v: Any) -> Any:
    """A property value as a plain Python/pandas value for the Python exits (see ``to_pandas``)."""
    if isinstance(v, ComputedObject):
        info = v.getInfo()
        if isinstance(info, Mapping) and info.get("type") == "Date":
            return pd.Timestamp(info["value"], unit="ms", tz="UTC")
        if isinstance(v, Geometry):
            return None if info is None else shapely.geometry.shape(info)
        return info
    if isinstance(v, list):
        return [_plain_cell(x) for x in v]
    if isinstance(v, dict):
        return {k: _plain_cell(x) for k, x in v.items()}
    return v


def _plain_cells(frame: Any) -> Any:
    """``frame`` with the ``ee`` objects in its object columns turned into plain values (in place)."""
    for c in frame.columns:
        if c != "geometry" and frame[c].dtype == object:
            values = frame[c].tolist()
            if any(isinstance(x, ComputedObject | list | dict) for x in values):
                frame[c] = pd.Series([_plain_cell(x) for x in values], index=frame.index, dtype=object)
    return frame


def _null(v: Any) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA or v is pd.NaT


def _is_int(v: Any) -> bool:
    return isinstance(v, int | np.integer) and not isinstance(v, bool)


def _property_columns(table: pd.DataFrame, names: list[str]) -> list[list[Any]]:
    """The values of each property (None for null; all None for a missing property)."""
    n = len(table)
    return [
        [None if _null(v) else v for v in table[name].tolist()] if name in table.columns else [None] * n
        for name in names
    ]


def _row_weights(table: pd.DataFrame, weight_selectors: list[str | None] | None) -> np.ndarray | None:
    """The weight of each row from ``weightSelectors`` (one property for every input), or None."""
    if not weight_selectors:
        return None
    wnames = {w for w in weight_selectors if w is not None}
    if len(wnames) > 1:
        raise NotImplementedError(
            f"reduceColumns: different weight columns per input {sorted(wnames)!r} are not supported; "
            "weight every input by the same column."
        )
    if not wnames:
        return None
    (wname,) = wnames
    if wname not in table.columns:
        raise ArgumentError(f"reduceColumns: weight property {wname!r} not found.")
    return pd.to_numeric(table[wname], errors="coerce").to_numpy(dtype="f8")


def _is_geo_frame(x: Any) -> bool:
    try:
        import geopandas as gpd
    except ImportError:  # pragma: no cover
        return False
    return isinstance(x, gpd.GeoDataFrame | gpd.GeoSeries)


def _from_mapping(d: Mapping, where: str) -> Any:
    kind = d.get("type")
    if kind == "FeatureCollection":
        values = [_feature_value(f, None, where) for f in d.get("features", [])]
        return _frame(values) if values else _empty_frame()
    if kind == "Feature" or "coordinates" in d or kind == "GeometryCollection":
        return _frame([_feature_value(d, None, where)])
    raise ArgumentError(
        f"{where}: {d!r} is not GeoJSON. Give a dict with type 'FeatureCollection', 'Feature' or a geometry."
    )


# -- collections of collections ---------------------------------------------------------------


def _is_collection_list(source: Any) -> bool:
    """True for a non-empty list or tuple of FeatureCollections (``ee.FeatureCollection([fc1, fc2])``)."""
    return (
        isinstance(source, list | tuple) and len(source) > 0 and all(isinstance(x, FeatureCollection) for x in source)
    )


@resolve_class("FeatureCollection", evaluate=False, aliases={"__init__": {"args": "source"}})
class NestedFeatureCollection(FeatureCollection):
    """A collection of collections: what ``ImageCollection.map`` gives when its function returns collections.

    As in Earth Engine, it is made to be flattened: :meth:`flatten` gives one collection of all the
    features, each with the id ``<outer id>_<feature id>`` (the outer id is the image's
    ``system:index`` after ``ImageCollection.map``, ``'0'``, ``'1'``, ... after
    ``ee.FeatureCollection([fc1, fc2])``) and its own properties. ``size()`` counts the collections;
    ``getInfo()`` shows each collection with its features. Other collection methods need the
    features: call ``flatten()`` first.

    When the collections are reductions of images over the same features with the same arguments
    (``ic.map(lambda i: i.reduceRegions(fc, reducer, scale)).flatten()``, even with a ``map`` or a
    ``filter`` after ``reduceRegions``), ``flatten`` computes them as one reduction over all images,
    with the coverage weights computed once (:func:`reducer.regions.reduce_jointly`).

    Parameters
    ----------
    source
        A list of FeatureCollections.

    Examples
    --------
    >>> a = FeatureCollection([Feature(None, {"v": 1}), Feature(None, {"v": 2})])
    >>> b = FeatureCollection([Feature(None, {"w": 3})])
    >>> nested = FeatureCollection([a, b])
    >>> nested.size().getInfo()
    2
    >>> flat = nested.flatten()
    >>> flat.aggregate_array("system:index").getInfo(), flat.aggregate_array("w").getInfo()
    (['0_0', '0_1', '1_0'], [3])
    """

    __slots__ = ("_parts",)

    def __init__(self, source: Any, column: str | None = None, *, layer: Any = None):
        if not _is_collection_list(source):
            raise ArgumentError(f"NestedFeatureCollection: expected a list of FeatureCollections, got {source!r}.")
        parts = tuple((str(i), fc) for i, fc in enumerate(source))
        _init_nested(self, parts)

    def _gdf(self) -> gpd.GeoDataFrame:
        raise NotImplementedError(
            f"this FeatureCollection holds {len(self._parts)} collections, not features; "
            "call .flatten() to get their features as one collection (as in Earth Engine)."
        )

    def _evaluate(self) -> Any:
        return self._gdf()

    def __repr__(self) -> str:
        return f"ee.FeatureCollection(<{len(self._parts)} collections>)"

    def getInfo(self) -> FeatureCollectionInfo:
        """Earth Engine's dict: a FeatureCollection whose features are the collections (with their features)."""
        reduce_jointly(self._deps)
        features = []
        for pid, fc in self._parts:
            info = dict(fc.getInfo())
            info["id"] = pid
            features.append(info)
        return {"type": "FeatureCollection", "columns": {}, "features": features, **_props_info(self._props)}

    def size(self) -> Number:
        """The number of collections."""
        return Number(len(self._parts))

    def flatten(self) -> FeatureCollection:
        """All features as one collection: ids ``<outer id>_<feature id>``, properties the features' own.

        Examples
        --------
        >>> a = FeatureCollection([Feature(None, {"v": 1})])
        >>> FeatureCollection([a, a]).flatten().getInfo()["features"][1]
        {'type': 'Feature', 'geometry': None, 'id': '1_0', 'properties': {'v': 1}}
        """
        parts, deps = self._parts, self._deps

        def run() -> Any:
            import geopandas as gpd

            reduce_jointly(deps)  # one computation for the reductions the parts share
            frames = [(pid, fc._gdf()) for pid, fc in parts]
            crs = next((g.crs for _, g in frames if len(g)), frames[0][1].crs if frames else WGS84)
            out = []
            for pid, g in frames:
                if not len(g):
                    continue
                g = g.to_crs(crs) if g.crs != crs else g.copy()
                g.index = pd.Index([f"{pid}_{fid}" for fid in g.index], name=INDEX, dtype=object)
                out.append(g)
            if not out:
                return _empty_frame(crs)
            frame = pd.concat(out) if len(out) > 1 else out[0]
            for c in frame.columns:  # integers missing from some collections stay integers, as in Earth Engine
                kinds = [g[c].dtype for g in out if c in g.columns]
                if frame[c].dtype == np.float64 and all(pd.api.types.is_integer_dtype(k) for k in kinds):
                    frame[c] = frame[c].astype("Int64")
            return gpd.GeoDataFrame(frame, geometry="geometry", crs=crs)

        return FeatureCollection._lazy(run, deps=deps)


def _props_info(props: Mapping[str, Any]) -> dict[str, Any]:
    return {"properties": to_info(props, sort_keys=True)} if props else {}


def _init_nested(obj: NestedFeatureCollection, parts: tuple[tuple[str, FeatureCollection], ...]) -> None:
    object.__setattr__(obj, "_parts", parts)
    object.__setattr__(obj, "_thunk", Thunk(obj._gdf))
    object.__setattr__(obj, "_meta", None)
    object.__setattr__(obj, "_props", {})
    object.__setattr__(obj, "_deps", tuple(dict.fromkeys(d for _, fc in parts for d in fc._deps)))


def collection_of_collections(parts: Iterable[tuple[str, FeatureCollection]]) -> NestedFeatureCollection:
    """A collection of collections with the given outer ids (what ``ImageCollection.map`` builds).

    Examples
    --------
    >>> a = FeatureCollection([Feature(None, {"v": 1})])
    >>> collection_of_collections([("img1", a)]).flatten().aggregate_array("system:index").getInfo()
    ['img1_0']
    """
    obj = object.__new__(NestedFeatureCollection)
    _init_nested(obj, tuple((str(pid), fc) for pid, fc in parts))
    return obj


def reduced_regions(
    rasters: Sequence[Raster],
    collection: Any,
    reducer: Reducer,
    scale: float | None,
    crs: Any,
    crsTransform: Sequence[float] | None,
    per_image_ids: bool,
    maxPixelsPerRegion: float | None,
) -> FeatureCollection:
    """``reduceRegions`` of ``rasters`` over ``collection`` as a lazy FeatureCollection (both facades' body).

    The collection's reduction (:attr:`FeatureCollection.reduction`) is kept for ``explain``,
    ``to_pandas(wide=True)`` and ``to_xarray``.
    """
    fc = collection if isinstance(collection, FeatureCollection) else FeatureCollection(collection)
    red = reduce_regions(
        rasters, fc._evaluate, reducer, scale, crs, crsTransform, per_image_ids, maxPixelsPerRegion=maxPixelsPerRegion
    )
    return FeatureCollection._lazy(lambda: long_frame(red), meta=red)


def collection_of_features(
    features: Iterable[tuple[str | None, Feature]], prepare: Callable[[], Any] | None = None
) -> FeatureCollection:
    """A collection of lazy features; a feature without an id takes the id given with it (lazy).

    What ``ImageCollection.map`` builds from a function that returns features: each feature keeps
    the ``system:index`` of the image it was made from, as Earth Engine's ``map`` keeps it.

    Examples
    --------
    >>> fc = collection_of_features([("a", Feature(None, {"v": 1})), ("b", Feature(None, {"v": 2}))])
    >>> fc.aggregate_array("system:index").getInfo(), fc.aggregate_array("v").getInfo()
    (['a', 'b'], [1, 2])
    """
    items = list(features)

    def run() -> Any:
        if prepare is not None:
            prepare()  # e.g. compute the features' pending reduceRegion calls as one reduction
        values = []
        for default, f in items:
            v = f._evaluate()
            if v is None:
                continue
            values.append(v if v.id is not None or default is None else replace(v, id=str(default)))
        return _frame(values) if values else _empty_frame()

    return FeatureCollection._lazy(run)
