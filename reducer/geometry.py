"""``ee.Geometry``: a shapely geometry with a CRS (EPSG:4326 unless given).

Measurements follow Earth Engine: areas and lengths are in metres, geodesic (on the WGS84
ellipsoid, with :class:`pyproj.Geod`) for geographic CRSs and planar for projected ones; a
``proj`` argument gives results in that projection's units instead. Buffers of geographic
geometries are built in a local azimuthal equidistant projection centred on the geometry, so
the distance is in metres. Edges are straight lines in the geometry's CRS (Earth Engine draws
geodesic edges between lon/lat vertices; the difference matters only for long edges).

``getInfo()`` returns GeoJSON in EPSG:4326, as Earth Engine does.

Examples
--------
>>> square = Geometry.Rectangle([0, 0, 1, 1])
>>> square.type().getInfo()
'Polygon'
>>> round(square.area().getInfo() / 1e6)  # km², one degree square at the equator
12309
>>> Geometry.Point(10, 20).getInfo()
{'type': 'Point', 'coordinates': [10.0, 20.0]}
"""

from __future__ import annotations

import math
import numbers
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import shapely
import shapely.geometry
from pyproj import CRS, Geod, Transformer
from shapely.geometry.base import BaseGeometry

from .arguments import resolve_class
from .errors import CRSError, GeometryError, ReprojectionWarning
from .grid import norm_crs
from .values import ComputedObject, List, Number, String, Thunk, to_info, unwrap

__all__ = ["Geometry", "GeometryValue", "as_geometry", "is_valid", "reproject", "reproject_features"]

WGS84 = CRS.from_epsg(4326)
_GEOD = Geod(ellps="WGS84")


@dataclass(frozen=True)
class GeometryValue:
    """The evaluated value of a :class:`Geometry`: a shapely geometry, its CRS and edge type."""

    shape: BaseGeometry
    crs: CRS
    geodesic: bool


def is_valid(geoms: np.ndarray | Sequence[BaseGeometry | None]) -> np.ndarray:
    """Which geometries are valid (OGC rules), as ``shapely.is_valid``; safe to call from several threads.

    ``shapely.is_valid`` silences GEOS with ``warnings.catch_warnings()``, which saves and restores the
    process-wide warning filters. Two threads doing so at once (the engine's coverage tasks) can leave
    its "ignore every warning" filter in place, silencing every later warning of the process. GEOS's
    reason is the same test without that.

    Examples
    --------
    >>> bowtie = shapely.Polygon([(0, 0), (2, 2), (2, 0), (0, 2)])
    >>> is_valid(np.array([shapely.box(0, 0, 1, 1), bowtie, shapely.Polygon(), None], dtype=object)).tolist()
    [True, False, True, False]
    """
    return np.asarray(shapely.is_valid_reason(np.asarray(geoms, dtype=object)) == "Valid Geometry", dtype=bool)


# -- CRS helpers ------------------------------------------------------------------------------


def proj_crs(proj: Any, what: str = "proj") -> CRS | None:
    """A CRS from ``proj``: a CRS-like value or an object with a ``crs`` attribute or method."""
    proj = unwrap(proj)
    if proj is None:
        return None
    if isinstance(proj, dict) and "crs" in proj:  # Earth Engine's {'type': 'Projection', 'crs': ...}
        proj = proj["crs"]
    elif not isinstance(proj, str | int | CRS) and hasattr(proj, "crs"):
        proj = proj.crs() if callable(proj.crs) else proj.crs
        proj = unwrap(proj)
    return norm_crs(proj, what)


@lru_cache(maxsize=256)
def _transformer(src: CRS, dst: CRS) -> Transformer:
    return Transformer.from_crs(src, dst, always_xy=True)


def reproject(shape: BaseGeometry, src: CRS, dst: CRS) -> BaseGeometry:
    """``shape`` transformed from CRS ``src`` to ``dst`` (vertex by vertex).

    Examples
    --------
    >>> p = reproject(shapely.Point(500000, 0), CRS.from_epsg(32633), WGS84)
    >>> [round(c, 6) for c in p.coords[0]]
    [15.0, 0.0]
    """
    if shape is None or src == dst or shape.is_empty:
        return shape
    return shapely.transform(shape, _xy_fn(src, dst))


def _xy_fn(src: CRS, dst: CRS) -> Callable[[np.ndarray], np.ndarray]:
    """The ``(n, 2)`` coordinates function from ``src`` to ``dst`` that ``shapely.transform`` calls."""
    t = _transformer(src, dst)

    def fn(xy: np.ndarray) -> np.ndarray:
        x, y = t.transform(xy[:, 0], xy[:, 1])
        return np.column_stack([x, y])

    return fn


# A feature wider or taller than this (degrees) is densified, checked and, where it reaches past the
# target CRS's area of use, clipped before it is reprojected; smaller ones are reprojected as they are.
LARGE_FEATURE_DEGREES = 1.0
# Densified lon/lat edges are at most this long (degrees).
DENSIFY_DEGREES = 0.25
# A large feature whose geodesic area changes by more than this fraction through a round trip to the
# target CRS and back is reported.
AREA_TOLERANCE = 0.01


def _lonlat_region(dst: CRS, keep: tuple[float, float, float, float] | None) -> shapely.Polygon | None:
    """The lon/lat box features are clipped to: the CRS's area of use and ``keep``, plus a margin."""
    boxes = []
    aou = dst.area_of_use
    if aou is None and dst.to_epsg() is not None:  # a CRS read from a file's WKT carries no area of use
        aou = CRS.from_epsg(dst.to_epsg()).area_of_use
    if aou is not None and aou.west < aou.east:
        boxes.append((aou.west, aou.south, aou.east, aou.north))
    if keep is not None:
        try:
            w, s, e, n = Transformer.from_crs(dst, WGS84, always_xy=True).transform_bounds(*keep, densify_pts=21)
        except Exception:  # noqa: BLE001 - a grid whose corners do not map to lon/lat: no clipping
            return None
        if not all(math.isfinite(v) for v in (w, s, e, n)) or w > e:  # across the antimeridian
            return None
        boxes.append((w, s, e, n))
    if not boxes:
        return None
    w, s, e, n = min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes)
    margin = 1.0
    return shapely.box(max(w - margin, -180.0), max(s - margin, -90.0), min(e + margin, 180.0), min(n + margin, 90.0))


def _geodesic_area(shape: BaseGeometry) -> float:
    return abs(_GEOD.geometry_area_perimeter(shape)[0]) if not shape.is_empty else 0.0


def reproject_features(
    geoms: np.ndarray, src: CRS, dst: CRS, keep: tuple[float, float, float, float] | None = None
) -> np.ndarray:
    """Features (shapely geometries, ``None`` allowed) from CRS ``src`` to ``dst``, keeping their shape.

    From a geographic CRS, a large feature (wider or taller than 1°) is clipped to the lon/lat box
    of ``dst``'s area of use and of ``keep`` (plus 1°), then densified (edges of at most 0.25°), so
    that a polygon spanning the world does not collapse in a projected CRS. A large feature whose
    geodesic area changes by more than 1% through a round trip to ``dst`` and back gives a
    :class:`~reducer.errors.ReprojectionWarning`.

    Parameters
    ----------
    geoms
        The features' geometries.
    src, dst
        Their CRS and the target CRS.
    keep
        ``(xmin, ymin, xmax, ymax)`` in ``dst`` of the region the features are needed on (a grid's
        bounds); clipping never cuts into it.

    Examples
    --------
    A polygon over the whole world, in UTM zone 33N, still covers the zone:

    >>> world = np.array([shapely.box(-180, -90, 180, 90)], dtype=object)
    >>> out = reproject_features(world, WGS84, CRS.from_epsg(32633))
    >>> out[0].contains(shapely.Point(500000, 4000000))
    True
    """
    geoms = np.asarray(geoms, dtype=object)
    if src == dst or len(geoms) == 0:
        return geoms
    valid = ~shapely.is_missing(geoms) & ~shapely.is_empty(geoms)
    large = np.zeros(len(geoms), dtype=bool)
    if src.is_geographic and valid.any():
        b = shapely.bounds(geoms[valid].astype(object))
        large[valid] = ((b[:, 2] - b[:, 0]) > LARGE_FEATURE_DEGREES) | ((b[:, 3] - b[:, 1]) > LARGE_FEATURE_DEGREES)
    if large.any():
        region = _lonlat_region(dst, keep) if not dst.is_geographic else None
        geoms = geoms.copy()
        for i in np.flatnonzero(large):
            g = geoms[i]
            if region is not None and not region.contains(g):
                g = shapely.intersection(g, region)
            geoms[i] = shapely.segmentize(g, DENSIFY_DEGREES) if not g.is_empty else g
    out = np.empty(len(geoms), dtype=object)
    out[valid] = shapely.transform(geoms[valid], _xy_fn(src, dst)) if valid.any() else []
    out[~valid] = geoms[~valid]
    if not large.any():
        return out
    inverse = _xy_fn(dst, src)
    changed = []
    for i in np.flatnonzero(large):
        before = _geodesic_area(geoms[i])
        moved = out[i]
        finite = not moved.is_empty and bool(np.isfinite(shapely.get_coordinates(moved)).all())
        after = _geodesic_area(shapely.transform(moved, inverse)) if finite else 0.0
        if before > 0 and (not finite or not math.isfinite(after) or abs(after - before) > AREA_TOLERANCE * before):
            changed.append((int(i), before, after))
    if changed:
        i, before, after = changed[0]
        warnings.warn(
            f"{len(changed)} feature(s) change area when reprojected from {src.name!r} to {dst.name!r} "
            f"(feature {i}: {before / 1e6:.6g} km² becomes {after / 1e6:.6g} km²), so their statistics may be "
            "wrong. Clip the features to the raster's area first, or reduce in a CRS that holds them "
            "(the `crs` argument).",
            ReprojectionWarning,
            stacklevel=3,
        )
    return out


def _unit_factor(crs: CRS) -> float:
    """Metres per CRS unit of a projected CRS."""
    axis = crs.axis_info[0] if crs.axis_info else None
    return float(axis.unit_conversion_factor) if axis is not None else 1.0


def _center(shape: BaseGeometry) -> tuple[float, float]:
    xmin, ymin, xmax, ymax = shape.bounds
    return (xmin + xmax) / 2, (ymin + ymax) / 2


def _local_crs(lonlat_shape: BaseGeometry, kind: str = "aeqd") -> CRS:
    """A local metric CRS centred on a lon/lat geometry (``aeqd`` for distances, ``laea`` for areas)."""
    lon, lat = _center(lonlat_shape)
    return CRS.from_proj4(f"+proj={kind} +lat_0={lat:.9f} +lon_0={lon:.9f} +datum=WGS84 +units=m +no_defs")


def _box(xmin: float, ymin: float, xmax: float, ymax: float) -> shapely.Polygon:
    """A rectangle starting at the lower-left corner, counter-clockwise, as Earth Engine writes it."""
    return shapely.Polygon([(xmin, ymin), (xmax, ymin), (xmax, ymax), (xmin, ymax), (xmin, ymin)])


def _densified(lonlat: BaseGeometry, parts: int = 64) -> BaseGeometry:
    """Extra vertices on long lon/lat edges, so that edges keep their shape when reprojected."""
    if lonlat.is_empty or lonlat.geom_type in ("Point", "MultiPoint"):
        return lonlat
    xmin, ymin, xmax, ymax = lonlat.bounds
    step = max(xmax - xmin, ymax - ymin) / parts
    return shapely.segmentize(lonlat, step) if step > 0 else lonlat


def _in_metric(v: GeometryValue, kind: str = "aeqd") -> tuple[BaseGeometry, CRS]:
    """The geometry in a metric CRS: its own when projected, else a local one."""
    if not v.crs.is_geographic:
        return v.shape, v.crs
    lonlat = _densified(reproject(v.shape, v.crs, WGS84))
    local = _local_crs(lonlat, kind)
    return reproject(lonlat, WGS84, local), local


# -- coordinate parsing -----------------------------------------------------------------------


def _is_num(x: Any) -> bool:
    return isinstance(x, numbers.Real | np.number) and not isinstance(x, bool | np.bool_)


def _plainc(c: Any) -> Any:
    """Coordinates with ee objects unwrapped; ee Points become their coordinates."""
    if isinstance(c, Geometry):
        v = c._evaluate()
        if v is None or v.shape.geom_type != "Point":
            raise GeometryError(f"expected a Point inside coordinates, got {c!r}.")
        return list(reproject(v.shape, v.crs, WGS84).coords[0])
    c = unwrap(c)
    if isinstance(c, np.ndarray):
        return c.tolist()
    if isinstance(c, list | tuple):
        return [_plainc(x) for x in c]
    return c


def _depth(c: Any) -> int:
    d = 0
    while isinstance(c, list | tuple):
        if not c:
            return d + 1
        c, d = c[0], d + 1
    return d


def _xy(p: Any, what: str) -> tuple[float, float]:
    if not isinstance(p, list | tuple) or len(p) not in (2, 3) or not all(_is_num(v) for v in p):
        raise GeometryError(f"{what}: {p!r} is not a coordinate pair. Give [x, y] numbers (longitude, latitude).")
    x, y = float(p[0]), float(p[1])
    if not (math.isfinite(x) and math.isfinite(y)):
        raise GeometryError(f"{what}: coordinate {p!r} is not finite. Give finite numbers.")
    return x, y


def _xys(c: Any, what: str) -> list[tuple[float, float]]:
    """A list of points: ``[[x, y], ...]`` or a flat ``[x1, y1, x2, y2, ...]``."""
    if not isinstance(c, list | tuple):
        raise GeometryError(f"{what}: expected a list of [x, y] points, got {c!r}.")
    if c and all(_is_num(v) for v in c):
        if len(c) % 2:
            raise GeometryError(f"{what}: a flat coordinate list needs an even count of numbers, got {c!r}.")
        c = [c[i : i + 2] for i in range(0, len(c), 2)]
    return [_xy(p, what) for p in c]


def _ring(c: Any, what: str) -> list[tuple[float, float]]:
    pts = _xys(c, what)
    if pts and pts[0] != pts[-1]:
        pts.append(pts[0])
    if len(set(pts)) < 3:
        raise GeometryError(f"{what}: a ring needs at least 3 distinct points, got {c!r}.")
    return pts


def _polygon(c: Any, what: str) -> shapely.Polygon:
    """Polygon coordinates: a list of rings, or a single ring (of pairs or flat numbers)."""
    if isinstance(c, list | tuple) and not c:
        return shapely.Polygon()
    rings = [c] if _depth(c) <= 2 else list(c)
    rings = [_ring(r, what) for r in rings]
    return shapely.Polygon(rings[0], rings[1:])


def _check_lat(shape: BaseGeometry, crs: CRS, original: Any) -> None:
    if not shape.is_empty and not np.isfinite(shapely.get_coordinates(shape)).all():
        raise GeometryError(
            f"a coordinate of {original!r} is not finite (NaN or infinity). Give finite numbers: drop or fix "
            "that vertex."
        )
    if crs.is_geographic and not shape.is_empty:
        ymin, ymax = shape.bounds[1], shape.bounds[3]
        if ymin < -90 - 1e-9 or ymax > 90 + 1e-9:
            raise GeometryError(
                f"latitude out of range [-90, 90] in {original!r}. Coordinates are [longitude, latitude]; "
                "for projected coordinates give proj, e.g. proj='EPSG:32633'."
            )


def _valid(shape: BaseGeometry) -> BaseGeometry:
    """Self-intersecting polygons are repaired (the even-odd rule, as Earth Engine's default)."""
    if shape.geom_type in ("Polygon", "MultiPolygon") and not shape.is_valid:
        fixed = shapely.make_valid(shape)
        polys = [g for g in getattr(fixed, "geoms", [fixed]) if g.geom_type in ("Polygon", "MultiPolygon")]
        return shapely.union_all(polys) if polys else fixed
    return shape


def _build(kind: str, coords: Any, what: str) -> BaseGeometry:
    c = _plainc(coords)
    if kind == "Point":
        if isinstance(c, list | tuple) and not c:
            return shapely.Point()
        return shapely.Point(_xy(c, what))
    if kind == "MultiPoint":
        return shapely.MultiPoint(_xys(c, what)) if c else shapely.MultiPoint()
    if kind in ("LineString", "LinearRing"):
        pts = _xys(c, what)
        if not pts:
            return shapely.LineString()
        if len(pts) < 2:
            raise GeometryError(f"{what}: a line needs at least 2 points, got {coords!r}.")
        return shapely.LinearRing(_ring(pts, what)) if kind == "LinearRing" else shapely.LineString(pts)
    if kind == "MultiLineString":
        if not isinstance(c, list | tuple):
            raise GeometryError(f"{what}: expected a list of lines, got {coords!r}.")
        lines = [_xys(line, what) for line in c] if _depth(c) >= 3 else [_xys(c, what)]
        if any(len(line) < 2 for line in lines):
            raise GeometryError(f"{what}: each line needs at least 2 points, got {coords!r}.")
        return shapely.MultiLineString(lines) if lines else shapely.MultiLineString()
    if kind == "Polygon":
        return _valid(_polygon(c, what))
    if kind == "MultiPolygon":
        if not isinstance(c, list | tuple):
            raise GeometryError(f"{what}: expected a list of polygons, got {coords!r}.")
        if not c:
            return shapely.MultiPolygon()
        polys = [_polygon(p, what) for p in c] if _depth(c) >= 3 else [_polygon(c, what)]
        return _valid(shapely.MultiPolygon(polys))
    raise GeometryError(
        f"unknown geometry type {kind!r}. Give one of Point, MultiPoint, LineString, LinearRing, "
        "MultiLineString, Polygon, MultiPolygon or GeometryCollection."
    )


def _from_geojson(d: dict, what: str) -> BaseGeometry:
    kind = d.get("type")
    if kind == "Feature":
        g = d.get("geometry")
        if g is None:
            raise GeometryError(f"{what}: the GeoJSON Feature has no geometry: {d!r}.")
        return _from_geojson(g, what)
    if kind == "GeometryCollection":
        return shapely.GeometryCollection([_from_geojson(g, what) for g in d.get("geometries", [])])
    if "coordinates" not in d:
        raise GeometryError(f"{what}: {d!r} is not a GeoJSON geometry. Give a dict with 'type' and 'coordinates'.")
    return _build(str(kind), d["coordinates"], what)


def _geojson_crs(d: dict) -> Any:
    crs = d.get("crs")
    if isinstance(crs, dict):
        return crs.get("properties", {}).get("name")
    return crs


def _value_of(obj: Any, proj: Any = None, geodesic: Any = None) -> GeometryValue | None:
    """Evaluate anything Geometry accepts into a GeometryValue (None for a null geometry)."""
    crs = proj_crs(proj)
    if isinstance(obj, Geometry):
        v = obj._evaluate()
        if v is None or crs is None:
            return v
        return GeometryValue(reproject(v.shape, v.crs, crs), crs, v.geodesic)
    if isinstance(obj, ComputedObject):
        obj = obj._evaluate()
        if obj is None or isinstance(obj, GeometryValue):
            return obj
        return _value_of(obj, proj, geodesic)
    if isinstance(obj, GeometryValue):
        return obj
    if isinstance(obj, BaseGeometry):
        shape = obj
    elif hasattr(obj, "__geo_interface__") and not isinstance(obj, dict):
        return _value_of(obj.__geo_interface__, proj, geodesic)
    elif isinstance(obj, dict):
        if crs is None and _geojson_crs(obj) is not None:
            crs = proj_crs(_geojson_crs(obj))
        if geodesic is None and "geodesic" in obj:
            geodesic = obj["geodesic"]
        shape = _from_geojson(obj, "ee.Geometry")
    else:
        raise GeometryError(
            f"ee.Geometry: cannot make a geometry from {obj!r}. Give a GeoJSON dict, a shapely geometry, "
            "an ee.Geometry or use a constructor such as ee.Geometry.Point([x, y])."
        )
    crs = crs or WGS84
    _check_lat(shape, crs, obj)
    return GeometryValue(shape, crs, crs.is_geographic if geodesic is None else bool(unwrap(geodesic)))


def geometry_geojson(v: GeometryValue | None) -> dict | None:
    if v is None:
        return None
    return to_info(shapely.geometry.mapping(reproject(v.shape, v.crs, WGS84)))


# -- measurements -----------------------------------------------------------------------------


def _parts(shape: BaseGeometry, kinds: tuple[str, ...]) -> list[BaseGeometry]:
    if shape.is_empty:
        return []
    if shape.geom_type in kinds:
        return [shape]
    if hasattr(shape, "geoms"):
        return [p for g in shape.geoms for p in _parts(g, kinds)]
    return []


_POLYGONAL = ("Polygon",)
_LINEAR = ("LineString", "LinearRing")


def _measure(v: GeometryValue, proj: Any, what: str) -> float:
    """Area, perimeter or length of ``v`` in metres (geodesic for geographic CRSs) or in ``proj`` units."""
    crs = proj_crs(proj)
    shape, planar_crs = v.shape, v.crs
    if crs is not None:
        shape, planar_crs = reproject(v.shape, v.crs, crs), crs
    kinds = _LINEAR if what == "length" else _POLYGONAL
    parts = _parts(shape, kinds)
    if planar_crs.is_geographic and crs is None:
        geod = v.crs.get_geod() or _GEOD
        total = 0.0
        for p in parts:
            if what == "length":
                total += geod.geometry_length(p)
            else:
                area, perimeter = geod.geometry_area_perimeter(p)
                total += abs(area) if what == "area" else perimeter
        return total
    f = _unit_factor(planar_crs) if crs is None else 1.0
    if what == "area":
        return sum(p.area for p in parts) * f * f
    if what == "perimeter":
        return sum(p.boundary.length for p in parts) * f
    return sum(p.length for p in parts) * f


def _quad_segs(distance: float, max_error: float | None) -> int:
    r = abs(distance)
    if r == 0:
        return 8
    e = 0.01 * r if max_error is None else max(float(max_error), 1e-9)
    if e >= r:
        return 1
    n = math.pi / math.acos(1 - e / r)
    return int(min(max(math.ceil(n / 4), 8), 256))


# -- Geometry ---------------------------------------------------------------------------------


@resolve_class("Geometry", evaluate=False)
class Geometry(ComputedObject):
    """``ee.Geometry``: a shapely geometry with a CRS.

    Parameters
    ----------
    geoJson
        A GeoJSON geometry dict (or Feature dict), a shapely geometry, an object with
        ``__geo_interface__``, or another Geometry.
    proj
        The CRS of the coordinates (EPSG:4326 by default). For a Geometry input, the geometry is
        transformed to ``proj``.
    geodesic
        Whether edges are geodesics; stored for ``edgesAreGeodesics()``. Measurements do not
        depend on it (see the module notes).
    evenOdd
        Accepted for Earth Engine compatibility; self-intersecting polygons are repaired with
        the even-odd rule.

    Examples
    --------
    >>> g = Geometry({"type": "Point", "coordinates": [1, 2]})
    >>> g.coordinates().getInfo()
    [1.0, 2.0]
    >>> Geometry(shapely.Polygon()).area().getInfo()  # empty geometry
    0.0
    >>> Geometry({"type": "Point", "coordinates": [0, 95]})
    Traceback (most recent call last):
    ...
    reducer.errors.GeometryError: latitude out of range [-90, 90] in {'type': 'Point', ...}. ...
    """

    __slots__ = ()

    def __init__(self, geoJson: Any, proj: Any = None, geodesic: Any = None, evenOdd: Any = None):
        if isinstance(geoJson, Geometry) and proj is None and geodesic is None:
            thunk = geoJson._value_thunk()
        elif isinstance(geoJson, ComputedObject):
            thunk = Thunk(lambda: _value_of(geoJson, proj, geodesic))
        else:
            thunk = Thunk.of(_value_of(geoJson, proj, geodesic))
        object.__setattr__(self, "_thunk", thunk)

    @classmethod
    def _from(cls, shape: BaseGeometry, crs: Any = None, geodesic: bool | None = None) -> Geometry:
        c = WGS84 if crs is None else norm_crs(crs)
        return cls._of(GeometryValue(shape, c, c.is_geographic if geodesic is None else geodesic))

    def _info(self, value: Any) -> Any:
        return geometry_geojson(value)

    def __repr__(self) -> str:
        v = self._known()
        if isinstance(v, GeometryValue):
            wkt = v.shape.wkt
            wkt = wkt if len(wkt) <= 60 else wkt[:57] + "..."
            epsg = v.crs.to_epsg()
            return f"ee.Geometry({wkt}, {f'EPSG:{epsg}' if epsg else 'custom CRS'})"
        return super().__repr__()

    def _map(self, fn: Callable[[GeometryValue], GeometryValue | None]) -> Geometry:
        def run() -> GeometryValue | None:
            v = self._evaluate()
            return None if v is None else fn(v)

        return Geometry._lazy(run)

    def _scalar(self, fn: Callable[[GeometryValue], Any], cls: type = Number) -> Any:
        def run() -> Any:
            v = self._evaluate()
            return None if v is None else fn(v)

        return cls._lazy(run)

    def _binary(self, right: Any, fn: Callable[[BaseGeometry, BaseGeometry, CRS], Any], cls: type) -> Any:
        other = as_geometry(right)

        def run() -> Any:
            a, b = self._evaluate(), other._evaluate()
            if a is None or b is None:
                raise GeometryError("a geometry is null (a feature without geometry). Give a geometry.")
            return fn(a.shape, reproject(b.shape, b.crs, a.crs), a.crs)

        if cls is Geometry:
            return Geometry._lazy(lambda: _wrap_shape(run(), self._evaluate()))
        return cls._lazy(run)

    # -- constructors ---------------------------------------------------------------------------
    @staticmethod
    def Point(coords: Any, proj: Any = None, *args: Any) -> Geometry:
        """A point: ``Point([x, y])``, ``Point([x, y], proj)`` or ``Point(x, y)``.

        Examples
        --------
        >>> [round(c, 9) for c in Geometry.Point([500000, 0], "EPSG:32633").getInfo()["coordinates"]]
        [15.0, 0.0]
        >>> Geometry.Point(1, 2).coordinates().getInfo()
        [1.0, 2.0]
        >>> Geometry.Point([1, float("nan")])
        Traceback (most recent call last):
        ...
        reducer.errors.GeometryError: Geometry.Point: coordinate [1, nan] is not finite. Give finite numbers.
        """
        if _is_num(unwrap(coords)) and _is_num(unwrap(proj)):
            coords, proj = [coords, proj], (args[0] if args else None)
        return _construct("Point", coords, proj, None)

    @staticmethod
    def MultiPoint(coords: Any, proj: Any = None) -> Geometry:
        """Points: ``[[x, y], ...]`` or a flat list of numbers."""
        return _construct("MultiPoint", coords, proj, None)

    @staticmethod
    def LineString(coords: Any, proj: Any = None, geodesic: Any = None, maxError: Any = None) -> Geometry:
        """A line through ``[[x, y], ...]``."""
        return _construct("LineString", coords, proj, geodesic)

    @staticmethod
    def LinearRing(coords: Any, proj: Any = None, geodesic: Any = None, maxError: Any = None) -> Geometry:
        """A closed line through ``[[x, y], ...]`` (closed for you)."""
        return _construct("LinearRing", coords, proj, geodesic)

    @staticmethod
    def MultiLineString(coords: Any, proj: Any = None, geodesic: Any = None, maxError: Any = None) -> Geometry:
        """Lines: ``[[[x, y], ...], ...]``."""
        return _construct("MultiLineString", coords, proj, geodesic)

    @staticmethod
    def Polygon(
        coords: Any, proj: Any = None, geodesic: Any = None, maxError: Any = None, evenOdd: Any = None
    ) -> Geometry:
        """A polygon: a list of rings (shell then holes), or one ring as ``[[x, y], ...]``.

        Rings are closed for you.

        Examples
        --------
        >>> ring = [[0, 0], [2, 0], [2, 2], [0, 2]]
        >>> Geometry.Polygon(ring).getInfo() == Geometry.Polygon([ring]).getInfo()
        True
        >>> Geometry.Polygon([[0, 0], [1, 1]])
        Traceback (most recent call last):
        ...
        reducer.errors.GeometryError: Geometry.Polygon: a ring needs at least 3 distinct points, ...
        """
        return _construct("Polygon", coords, proj, geodesic)

    @staticmethod
    def MultiPolygon(
        coords: Any, proj: Any = None, geodesic: Any = None, maxError: Any = None, evenOdd: Any = None
    ) -> Geometry:
        """Polygons: a list of polygon coordinates (each a list of rings, or one ring)."""
        return _construct("MultiPolygon", coords, proj, geodesic)

    @staticmethod
    def Rectangle(coords: Any, proj: Any = None, geodesic: Any = None, evenOdd: Any = None, *args: Any) -> Geometry:
        """A rectangle from ``[xmin, ymin, xmax, ymax]``, ``[[xmin, ymin], [xmax, ymax]]`` or 4 numbers.

        Examples
        --------
        >>> Geometry.Rectangle([0, 0, 2, 1]).bounds().getInfo()["coordinates"]
        [[[0.0, 0.0], [2.0, 0.0], [2.0, 1.0], [0.0, 1.0], [0.0, 0.0]]]
        >>> Geometry.Rectangle(0, 0, 2, 1).getInfo() == Geometry.Rectangle([[0, 0], [2, 1]]).getInfo()
        True
        """
        if all(_is_num(unwrap(v)) for v in (coords, proj, geodesic, evenOdd)):
            coords = [coords, proj, geodesic, evenOdd]
            proj, geodesic = (args + (None, None))[:2]
        c = _plainc(coords)
        if isinstance(c, list | tuple) and len(c) == 2 and _depth(c) == 2:
            c = [*c[0][:2], *c[1][:2]]
        if not (isinstance(c, list | tuple) and len(c) == 4 and all(_is_num(v) for v in c)):
            raise GeometryError(
                "Geometry.Rectangle: expected [xmin, ymin, xmax, ymax] or [[xmin, ymin], [xmax, ymax]], "
                f"got {coords!r}."
            )
        xmin, ymin, xmax, ymax = (float(v) for v in c)
        if not all(math.isfinite(v) for v in c):
            raise GeometryError(f"Geometry.Rectangle: corners {coords!r} are not finite. Give finite numbers.")
        shape = _box(min(xmin, xmax), min(ymin, ymax), max(xmin, xmax), max(ymin, ymax))
        return _construct_shape(shape, proj, geodesic, coords)

    @staticmethod
    def BBox(west: Any, south: Any, east: Any, north: Any) -> Geometry:
        """A planar lon/lat rectangle; ``east < west`` crosses the antimeridian (a MultiPolygon).

        Longitudes are wrapped to [-180, 180]; a span of 360° or more covers the globe.
        Latitudes are clamped to [-90, 90].

        Examples
        --------
        >>> Geometry.BBox(170, -10, -170, 10).type().getInfo()
        'MultiPolygon'
        >>> Geometry.BBox(-200, -100, 200, 100).getInfo()["coordinates"][0][2]
        [180.0, 90.0]
        """
        w, s, e, n = (float(unwrap(v)) for v in (west, south, east, north))
        if not all(math.isfinite(v) for v in (w, s, e, n)):
            raise GeometryError(f"Geometry.BBox: {(west, south, east, north)!r} are not all finite numbers.")
        s, n = max(s, -90.0), min(n, 90.0)
        if s > n:
            raise GeometryError(f"Geometry.BBox: south {south!r} is north of north {north!r}. Swap them.")
        if e - w >= 360:
            shape = _box(-180, s, 180, n)
        else:
            w, e = ((w + 180) % 360) - 180, ((e + 180) % 360) - 180
            if e == -180 and w > -180:
                e = 180.0
            if w <= e:
                shape = _box(w, s, e, n)
            else:
                shape = shapely.MultiPolygon([_box(w, s, 180, n), _box(-180, s, e, n)])
        return Geometry._from(shape, WGS84, geodesic=False)

    # -- accessors ------------------------------------------------------------------------------
    @property
    def crs(self) -> CRS:
        """The geometry's CRS (evaluates the geometry)."""
        v = self._evaluate()
        return WGS84 if v is None else v.crs

    def to_shapely(self, crs: Any = None) -> BaseGeometry | None:
        """The shapely geometry, in its own CRS or transformed to ``crs``.

        Examples
        --------
        >>> round(Geometry.Point([15, 0]).to_shapely("EPSG:32633").x, 6)
        500000.0
        """
        v = self._evaluate()
        if v is None:
            return None
        return v.shape if crs is None else reproject(v.shape, v.crs, norm_crs(crs))

    def type(self) -> String:
        """The GeoJSON type: ``Point``, ``LineString``, ``Polygon``, ``MultiPolygon``, ..."""
        return self._scalar(lambda v: v.shape.geom_type, String)

    def coordinates(self) -> List:
        """The GeoJSON coordinates, in the geometry's CRS."""
        return self._scalar(lambda v: to_info(shapely.geometry.mapping(v.shape)).get("coordinates", []), List)

    def geometries(self) -> List:
        """The parts of a multi-geometry as a list of Geometries (a single geometry gives itself)."""

        def run(v: GeometryValue) -> list:
            parts = list(v.shape.geoms) if hasattr(v.shape, "geoms") else [v.shape]
            return [Geometry._of(GeometryValue(p, v.crs, v.geodesic)) for p in parts]

        return self._scalar(run, List)

    def edgesAreGeodesics(self) -> Number:
        """Whether edges are geodesics (as given at construction)."""
        return self._scalar(lambda v: v.geodesic)

    def isUnbounded(self) -> Number:
        """Always False: local geometries are bounded."""
        return self._scalar(lambda v: False)

    # -- measurements ---------------------------------------------------------------------------
    def area(self, maxError: Any = None, proj: Any = None) -> Number:
        """Area in m² (geodesic for geographic CRSs), or in ``proj`` units². Points and lines have 0.

        Examples
        --------
        >>> Geometry.Rectangle([0, 0, 100, 50], "EPSG:32633").area().getInfo()
        5000.0
        """
        return self._scalar(lambda v: _measure(v, proj, "area"))

    def perimeter(self, maxError: Any = None, proj: Any = None) -> Number:
        """Perimeter of the polygonal parts, in metres (or ``proj`` units).

        Examples
        --------
        >>> Geometry.Rectangle([0, 0, 100, 50], "EPSG:32633").perimeter().getInfo()
        300.0
        """
        return self._scalar(lambda v: _measure(v, proj, "perimeter"))

    def length(self, maxError: Any = None, proj: Any = None) -> Number:
        """Length of the linear parts, in metres (or ``proj`` units); polygons have 0.

        Examples
        --------
        >>> round(Geometry.LineString([[0, 0], [0, 1]]).length().getInfo())
        110574
        """
        return self._scalar(lambda v: _measure(v, proj, "length"))

    def bounds(self, maxError: Any = None, proj: Any = None) -> Geometry:
        """The bounding rectangle, in EPSG:4326 (or ``proj``).

        Examples
        --------
        >>> Geometry.Point([1, 2]).bounds().type().getInfo()
        'Polygon'
        """

        def run(v: GeometryValue) -> GeometryValue:
            crs = proj_crs(proj) or WGS84
            if v.shape.is_empty:
                return GeometryValue(shapely.Polygon(), crs, False)
            shape = v.shape
            if v.crs != crs and shape.geom_type != "Point":
                xmin, ymin, xmax, ymax = shape.bounds
                step = max(xmax - xmin, ymax - ymin) / 64 or 1.0
                shape = shapely.segmentize(shape, step)
            shape = reproject(shape, v.crs, crs)
            return GeometryValue(_box(*shape.bounds), crs, False)

        return self._map(run)

    def centroid(self, maxError: Any = None, proj: Any = None) -> Geometry:
        """The centroid of the highest-dimension parts, in EPSG:4326 (or ``proj``).

        For geographic geometries it is computed in a local equal-area projection.

        Examples
        --------
        >>> [round(c, 3) for c in Geometry.Rectangle([0, 0, 2, 2]).centroid().coordinates().getInfo()]
        [1.0, 1.0]
        """

        def run(v: GeometryValue) -> GeometryValue:
            crs = proj_crs(proj) or WGS84
            if v.shape.is_empty:
                return GeometryValue(shapely.Point(), crs, False)
            if v.crs.is_geographic and v.shape.geom_type != "Point":
                shape, local = _in_metric(v, "laea")
                c = reproject(shape.centroid, local, crs)
            else:
                c = reproject(v.shape.centroid, v.crs, crs)
            return GeometryValue(c, crs, crs.is_geographic)

        return self._map(run)

    def buffer(self, distance: Any, maxError: Any = None, proj: Any = None) -> Geometry:
        """The geometry grown (or shrunk, for a negative ``distance``) by ``distance`` metres.

        With ``proj`` the buffer is built in that projection and ``distance`` is in its units.
        ``maxError`` (default 1% of the distance) sets how finely circles are approximated.
        The result keeps the geometry's CRS.

        Examples
        --------
        >>> disc = Geometry.Point([0, 0]).buffer(1000)
        >>> round(disc.area().getInfo() / (math.pi * 1000**2), 1)
        1.0
        >>> Geometry.Rectangle([0, 0, 10, 10], "EPSG:32633").buffer(-5).area().getInfo()
        0.0
        """

        def run(v: GeometryValue) -> GeometryValue:
            if v.shape.is_empty:
                return v
            d = float(unwrap(distance))
            crs = proj_crs(proj)
            if crs is not None:
                shape, work = reproject(v.shape, v.crs, crs), crs
                units = d
            else:
                shape, work = _in_metric(v, "aeqd")
                units = d / _unit_factor(work)
            me = None if maxError is None else float(unwrap(maxError)) / (1 if crs else _unit_factor(work))
            out = shape.buffer(units, quad_segs=_quad_segs(units, me))
            return GeometryValue(reproject(out, work, v.crs), v.crs, v.geodesic)

        return self._map(run)

    def simplify(self, maxError: Any, proj: Any = None) -> Geometry:
        """Simplified so that no point moves more than ``maxError`` metres (or ``proj`` units)."""

        def run(v: GeometryValue) -> GeometryValue:
            if v.shape.is_empty:
                return v
            crs = proj_crs(proj)
            if crs is not None:
                shape, work, tol = reproject(v.shape, v.crs, crs), crs, float(unwrap(maxError))
            else:
                shape, work = _in_metric(v, "aeqd")
                tol = float(unwrap(maxError)) / _unit_factor(work)
            return GeometryValue(reproject(shape.simplify(tol), work, v.crs), v.crs, v.geodesic)

        return self._map(run)

    def convexHull(self, maxError: Any = None, proj: Any = None) -> Geometry:
        """The convex hull."""
        return self._map(lambda v: GeometryValue(v.shape.convex_hull, v.crs, v.geodesic))

    def dissolve(self, maxError: Any = None, proj: Any = None) -> Geometry:
        """The union of the geometry's parts."""
        return self._map(lambda v: GeometryValue(shapely.union_all([v.shape]), v.crs, v.geodesic))

    def transform(self, proj: Any = "EPSG:4326", maxError: Any = None) -> Geometry:
        """The geometry in another CRS.

        Examples
        --------
        >>> [round(c, 6) for c in Geometry.Point([15, 0]).transform("EPSG:32633").coordinates().getInfo()]
        [500000.0, 0.0]
        """
        crs = proj_crs(proj) or WGS84
        return self._map(lambda v: GeometryValue(reproject(v.shape, v.crs, crs), crs, crs.is_geographic))

    # -- relations (the other geometry is transformed to this one's CRS) -------------------------
    def intersects(self, right: Any, maxError: Any = None, proj: Any = None) -> Number:
        """True if the geometries intersect.

        Examples
        --------
        >>> a = Geometry.Rectangle([0, 0, 2, 2])
        >>> a.intersects(Geometry.Point([1, 1])).getInfo(), a.intersects(Geometry.Point([3, 3])).getInfo()
        (True, False)
        """
        return self._binary(right, lambda a, b, c: bool(a.intersects(b)), Number)

    def contains(self, right: Any, maxError: Any = None, proj: Any = None) -> Number:
        """True if ``right`` lies inside this geometry."""
        return self._binary(right, lambda a, b, c: bool(a.contains(b)), Number)

    def containedIn(self, right: Any, maxError: Any = None, proj: Any = None) -> Number:
        """True if this geometry lies inside ``right``."""
        return self._binary(right, lambda a, b, c: bool(b.contains(a)), Number)

    def disjoint(self, right: Any, maxError: Any = None, proj: Any = None) -> Number:
        """True if the geometries do not intersect."""
        return self._binary(right, lambda a, b, c: bool(a.disjoint(b)), Number)

    def distance(self, right: Any, maxError: Any = None, proj: Any = None) -> Number:
        """The minimum distance in metres (in a local projection for geographic CRSs).

        Examples
        --------
        >>> Geometry.Point([0, 0], "EPSG:32633").distance(Geometry.Point([3, 4], "EPSG:32633")).getInfo()
        5.0
        """

        def fn(a: BaseGeometry, b: BaseGeometry, crs: CRS) -> float:
            if crs.is_geographic:
                both = GeometryValue(shapely.GeometryCollection([a, b]), crs, True)
                _, local = _in_metric(both)
                a, b = reproject(a, crs, local), reproject(b, crs, local)
                return float(a.distance(b))
            return float(a.distance(b)) * _unit_factor(crs)

        return self._binary(right, fn, Number)

    def withinDistance(self, right: Any, distance: Any, maxError: Any = None, proj: Any = None) -> Number:
        """True if the geometries are within ``distance`` metres."""
        d = self.distance(right)
        return Number._lazy(lambda: d._evaluate() <= float(unwrap(distance)))

    def intersection(self, right: Any, maxError: Any = None, proj: Any = None) -> Geometry:
        """The intersection, in this geometry's CRS."""
        return self._binary(right, lambda a, b, c: a.intersection(b), Geometry)

    def union(self, right: Any, maxError: Any = None, proj: Any = None) -> Geometry:
        """The union, in this geometry's CRS."""
        return self._binary(right, lambda a, b, c: a.union(b), Geometry)

    def difference(self, right: Any, maxError: Any = None, proj: Any = None) -> Geometry:
        """The part of this geometry outside ``right``, in this geometry's CRS.

        Examples
        --------
        >>> a = Geometry.Rectangle([0, 0, 2, 1], "EPSG:32633")
        >>> a.difference(Geometry.Rectangle([1, 0, 2, 1], "EPSG:32633")).area().getInfo()
        1.0
        """
        return self._binary(right, lambda a, b, c: a.difference(b), Geometry)

    def symmetricDifference(self, right: Any, maxError: Any = None, proj: Any = None) -> Geometry:
        """The parts in exactly one of the geometries."""
        return self._binary(right, lambda a, b, c: a.symmetric_difference(b), Geometry)


def _wrap_shape(shape: BaseGeometry, like: GeometryValue) -> GeometryValue:
    return GeometryValue(shape, like.crs, like.geodesic)


def _construct_shape(shape: BaseGeometry, proj: Any, geodesic: Any, original: Any) -> Geometry:
    crs = proj_crs(proj) or WGS84
    _check_lat(shape, crs, original)
    g = unwrap(geodesic)
    return Geometry._from(shape, crs, crs.is_geographic if g is None else bool(g))


def _construct(kind: str, coords: Any, proj: Any, geodesic: Any) -> Geometry:
    shape = _build(kind, coords, f"Geometry.{kind}")
    return _construct_shape(shape, proj, geodesic, coords)


def as_geometry(x: Any) -> Geometry:
    """``x`` as a :class:`Geometry` (not evaluated).

    Accepts a Geometry; a Feature or anything with a ``geometry()`` method (a FeatureCollection
    gives the union of its geometries); a shapely geometry (assumed EPSG:4326); a GeoJSON
    geometry or Feature dict; an object with ``__geo_interface__``.

    Raises
    ------
    GeometryError
        For anything else.

    Examples
    --------
    >>> as_geometry(shapely.Point(1, 2)).getInfo()
    {'type': 'Point', 'coordinates': [1.0, 2.0]}
    >>> as_geometry([1, 2])
    Traceback (most recent call last):
    ...
    reducer.errors.GeometryError: expected a Geometry, a Feature, ... got [1, 2]. ...
    """
    if isinstance(x, Geometry):
        return x
    if hasattr(x, "union_all") and hasattr(x, "crs"):  # a GeoDataFrame or GeoSeries
        if x.crs is None:
            raise CRSError(f"the {type(x).__name__} has no CRS. Set it with gdf.set_crs('EPSG:4326') and try again.")
        return Geometry(x.union_all(), proj=x.crs)
    if isinstance(x, BaseGeometry | dict) or (hasattr(x, "__geo_interface__") and not isinstance(x, type)):
        return Geometry(x)
    geometry = getattr(x, "geometry", None)
    if callable(geometry):
        g = geometry()
        return g if isinstance(g, Geometry) else as_geometry(g)
    raise GeometryError(
        f"expected a Geometry, a Feature, a shapely geometry or a GeoJSON dict, got {x!r}. "
        "Build one with ee.Geometry.Point([lon, lat]) or ee.Geometry.Rectangle([xmin, ymin, xmax, ymax])."
    )
