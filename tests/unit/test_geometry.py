from __future__ import annotations

import math

import geopandas as gpd
import pytest
import shapely
from pyproj import CRS

from reducer.errors import CRSError, GeometryError
from reducer.features import Feature
from reducer.geometry import Geometry, as_geometry
from reducer.values import Number

UTM = "EPSG:32633"
A = 6378137.0  # WGS84 semi-major axis
EQUATOR_DEGREE = A * math.pi / 180  # 111319.49 m
MERIDIAN_DEGREE = 110574.389  # metres from latitude 0 to 1 (WGS84)


def coords(g):
    return g.getInfo()["coordinates"]


# -- constructors ---------------------------------------------------------------------------------


def test_point_forms():
    assert Geometry.Point([1, 2]).getInfo() == {"type": "Point", "coordinates": [1.0, 2.0]}
    assert Geometry.Point(1, 2).getInfo() == {"type": "Point", "coordinates": [1.0, 2.0]}
    assert Geometry.Point(1, 2, UTM).crs == CRS.from_user_input(UTM)
    assert Geometry.Point([1, 2, 3]).coordinates().getInfo() == [1.0, 2.0]
    assert Geometry.Point([Number(1), Number(2)]).coordinates().getInfo() == [1.0, 2.0]


def test_polygon_forms_are_equivalent_and_closed():
    ring = [[0, 0], [2, 0], [2, 2], [0, 2]]
    expected = [[[0.0, 0.0], [2.0, 0.0], [2.0, 2.0], [0.0, 2.0], [0.0, 0.0]]]
    assert coords(Geometry.Polygon(ring)) == expected
    assert coords(Geometry.Polygon([ring])) == expected
    assert coords(Geometry.Polygon([0, 0, 2, 0, 2, 2, 0, 2])) == expected
    assert coords(Geometry({"type": "Polygon", "coordinates": [ring]})) == expected
    assert coords(Geometry(shapely.Polygon(ring))) == expected


def test_polygon_with_hole_measures():
    shell = [[0, 0], [4, 0], [4, 4], [0, 4]]
    hole = [[1, 1], [2, 1], [2, 2], [1, 2]]
    g = Geometry.Polygon([shell, hole], UTM)
    assert g.area().getInfo() == 15.0
    assert g.perimeter().getInfo() == 20.0
    assert g.length().getInfo() == 0.0


def test_self_intersecting_polygon_is_repaired_even_odd():
    g = Geometry.Polygon([[0, 0], [2, 2], [2, 0], [0, 2]], UTM)
    assert g.type().getInfo() == "MultiPolygon"
    assert g.area().getInfo() == pytest.approx(2.0)


def test_rectangle_forms():
    expected = [[[0.0, 0.0], [2.0, 0.0], [2.0, 1.0], [0.0, 1.0], [0.0, 0.0]]]
    assert coords(Geometry.Rectangle([0, 0, 2, 1])) == expected
    assert coords(Geometry.Rectangle([[0, 0], [2, 1]])) == expected
    assert coords(Geometry.Rectangle(0, 0, 2, 1)) == expected
    assert coords(Geometry.Rectangle([2, 1, 0, 0])) == expected  # corners in any order
    r = Geometry.Rectangle([0, 0, 100, 50], UTM)
    assert r.area().getInfo() == 5000.0
    assert r.perimeter().getInfo() == 300.0


def test_multi_and_line_constructors():
    assert Geometry.MultiPoint([0, 0, 1, 1]).coordinates().getInfo() == [[0.0, 0.0], [1.0, 1.0]]
    assert Geometry.LineString([[0, 0], [3, 4]], UTM).length().getInfo() == 5.0
    ml = Geometry.MultiLineString([[[0, 0], [3, 4]], [[0, 0], [0, 1]]], UTM)
    assert ml.length().getInfo() == 6.0
    mp = Geometry.MultiPolygon([[[[0, 0], [1, 0], [1, 1], [0, 1]]], [[[2, 2], [3, 2], [3, 3], [2, 3]]]], UTM)
    assert mp.area().getInfo() == 2.0
    assert Geometry.LinearRing([[0, 0], [1, 0], [1, 1]]).type().getInfo() == "LinearRing"
    gc = Geometry({"type": "GeometryCollection", "geometries": [{"type": "Point", "coordinates": [1, 2]}]})
    assert gc.type().getInfo() == "GeometryCollection"


def test_bbox_wraps_and_clamps():
    g = Geometry.BBox(170, -10, -170, 10)
    assert g.type().getInfo() == "MultiPolygon"
    assert g.to_shapely().bounds == (-180.0, -10.0, 180.0, 10.0)
    assert g.area(proj="EPSG:4326").getInfo() == pytest.approx(20 * 20)
    assert Geometry.BBox(-200, -100, 200, 100).to_shapely().bounds == (-180.0, -90.0, 180.0, 90.0)
    assert Geometry.BBox(190, 0, 200, 1).to_shapely().bounds == (-170.0, 0.0, -160.0, 1.0)
    assert Geometry.BBox(0, 0, 1, 1).edgesAreGeodesics().getInfo() is False
    with pytest.raises(GeometryError, match="is north of north"):
        Geometry.BBox(0, 10, 1, 0)


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: Geometry.Point([1, float("nan")]), r"coordinate \[1, nan\] is not finite"),
        (lambda: Geometry.Point([[1, 2]]), r"\[\[1, 2\]\] is not a coordinate pair"),
        (lambda: Geometry.Point(["a", 2]), r"\['a', 2\] is not a coordinate pair"),
        (lambda: Geometry.Point([0, 95]), r"latitude out of range .*\[0, 95\]"),
        (lambda: Geometry.LineString([[0, 0]]), r"a line needs at least 2 points"),
        (lambda: Geometry.Polygon([[0, 0], [1, 1]]), r"a ring needs at least 3 distinct points"),
        (lambda: Geometry.Polygon([0, 0, 1]), r"even count of numbers"),
        (lambda: Geometry.Rectangle([0, 0, 1]), r"expected \[xmin, ymin, xmax, ymax\]"),
        (lambda: Geometry({"type": "Hexagon", "coordinates": []}), r"unknown geometry type 'Hexagon'"),
        (lambda: Geometry({"kind": "Point"}), r"is not a GeoJSON geometry"),
        (lambda: Geometry("POINT (1 2)"), r"cannot make a geometry from 'POINT \(1 2\)'"),
    ],
)
def test_invalid_input_raises_geometry_error(build, message):
    with pytest.raises(GeometryError, match=message):
        build()


def test_projected_coordinates_may_exceed_latitude_range():
    g = Geometry.Point([500000, 4000000], UTM)
    assert g.getInfo()["coordinates"][1] == pytest.approx(36.1447, abs=1e-4)


# -- measurements ---------------------------------------------------------------------------------


def test_geodesic_lengths_match_known_arcs():
    assert Geometry.LineString([[0, 0], [1, 0]]).length().getInfo() == pytest.approx(EQUATOR_DEGREE, rel=1e-9)
    assert Geometry.LineString([[0, 0], [0, 1]]).length().getInfo() == pytest.approx(MERIDIAN_DEGREE, rel=1e-6)


def test_geodesic_area_of_a_degree_square_at_the_equator():
    # on a sphere of the authalic radius: R² Δλ (sin φ2 - sin φ1); the ellipsoid gives 0.45 % less
    r = 6371007.2
    sphere = r * r * math.radians(1) * math.sin(math.radians(1))
    area = Geometry.Rectangle([0, 0, 1, 1]).area().getInfo()
    assert area == pytest.approx(sphere, rel=0.01)
    assert Geometry.Rectangle([0, 0, 1, 1]).area(proj="EPSG:4326").getInfo() == pytest.approx(1.0)
    perimeter = Geometry.Rectangle([0, 0, 1, 1]).perimeter().getInfo()
    assert perimeter == pytest.approx(2 * EQUATOR_DEGREE + 2 * MERIDIAN_DEGREE, rel=1e-3)


def test_points_and_lines_have_no_area_and_empty_geometries_measure_zero():
    assert Geometry.Point([0, 0]).area().getInfo() == 0.0
    assert Geometry.LineString([[0, 0], [1, 1]]).area().getInfo() == 0.0
    empty = Geometry(shapely.Polygon())
    assert empty.area().getInfo() == 0.0
    assert empty.getInfo() == {"type": "Polygon", "coordinates": []}
    assert empty.bounds().getInfo() == {"type": "Polygon", "coordinates": []}
    assert empty.centroid().getInfo() == {"type": "Point", "coordinates": []}
    assert empty.buffer(10).area().getInfo() == 0.0


def test_buffer_point_in_metres():
    disc = Geometry.Point([10, 45]).buffer(1000)
    assert disc.crs.to_epsg() == 4326
    assert disc.area().getInfo() == pytest.approx(math.pi * 1000**2, rel=0.01)
    fine = Geometry.Point([10, 45]).buffer(1000, maxError=1)
    # a regular 72-gon inscribed in the circle: (N / 2π) sin(2π / N) of the disc
    assert fine.area().getInfo() == pytest.approx(math.pi * 1e6 * (72 / (2 * math.pi)) * math.sin(2 * math.pi / 72))


def test_buffer_in_projected_units():
    square = Geometry.Rectangle([0, 0, 10, 10], UTM)
    assert square.buffer(-2).area().getInfo() == pytest.approx(36.0)
    assert square.buffer(-5).area().getInfo() == 0.0
    assert square.buffer(1, maxError=0.001).area().getInfo() == pytest.approx(100 + 40 + math.pi, rel=1e-4)
    assert square.buffer(1, proj=UTM).area().getInfo() == pytest.approx(100 + 40 + math.pi, rel=1e-2)


def test_centroid_and_bounds():
    r = Geometry.Rectangle([0, 0, 100, 50], UTM)
    assert r.centroid(proj=UTM).coordinates().getInfo() == pytest.approx([50.0, 25.0])
    c = Geometry.Rectangle([499950, 0, 500050, 50], UTM).centroid().coordinates().getInfo()  # in EPSG:4326
    assert c[0] == pytest.approx(15.0, abs=1e-9) and c[1] == pytest.approx(25 / MERIDIAN_DEGREE, rel=1e-2)
    assert Geometry.Point([3, 4]).centroid().coordinates().getInfo() == [3.0, 4.0]
    b = Geometry.Rectangle([500000, 0, 600000, 100000], UTM).bounds()
    xmin, ymin, xmax, ymax = b.to_shapely().bounds
    assert (xmin, ymin) == pytest.approx((15.0, 0.0), abs=1e-9)
    assert xmax == pytest.approx(15.8983, abs=1e-3) and ymax == pytest.approx(0.9044, abs=1e-3)
    assert b.type().getInfo() == "Polygon"


def test_transform_and_getinfo_are_in_4326():
    p = Geometry.Point([500000, 0], UTM)
    assert p.getInfo()["coordinates"] == pytest.approx([15.0, 0.0])
    assert p.coordinates().getInfo() == [500000.0, 0.0]  # coordinates() are in the geometry's CRS
    back = Geometry.Point([15, 0]).transform(UTM)
    assert back.coordinates().getInfo() == pytest.approx([500000.0, 0.0])
    assert Geometry.Point([15, 0]).to_shapely(UTM).x == pytest.approx(500000.0)
    assert p.to_shapely().x == 500000.0
    assert Geometry(p, proj="EPSG:4326").coordinates().getInfo() == pytest.approx([15.0, 0.0])


def test_projection_like_objects():
    class Proj:
        crs = UTM

    assert Geometry.Point([1, 2], Proj()).crs.to_epsg() == 32633
    assert Geometry.Point([1, 2], {"type": "Projection", "crs": UTM}).crs.to_epsg() == 32633
    with pytest.raises(CRSError, match="not a CRS that PROJ knows"):
        Geometry.Point([1, 2], "EPSG:0")


# -- relations ------------------------------------------------------------------------------------


def test_relations_and_overlay():
    a = Geometry.Rectangle([0, 0, 2, 2], UTM)
    b = Geometry.Rectangle([1, 1, 3, 3], UTM)
    far = Geometry.Point([10, 10], UTM)
    assert a.intersects(b).getInfo() is True
    assert a.intersects(far).getInfo() is False
    assert a.disjoint(far).getInfo() is True
    assert a.contains(Geometry.Point([1, 1], UTM)).getInfo() is True
    assert Geometry.Point([1, 1], UTM).containedIn(a).getInfo() is True
    assert a.intersection(b).area().getInfo() == 1.0
    assert a.union(b).area().getInfo() == 7.0
    assert a.difference(b).area().getInfo() == 3.0
    assert a.symmetricDifference(b).area().getInfo() == 6.0
    assert Geometry.Point([0, 0], UTM).distance(Geometry.Point([3, 4], UTM)).getInfo() == 5.0
    assert a.withinDistance(far, 11.4).getInfo() is True
    assert a.withinDistance(far, 11.3).getInfo() is False


def test_relations_across_crs():
    a = Geometry.Rectangle([14.9, -0.1, 15.1, 0.1])  # EPSG:4326
    p = Geometry.Point([500000, 0], UTM)
    assert a.intersects(p).getInfo() is True
    assert a.intersection(p).crs.to_epsg() == 4326
    d = Geometry.Point([0, 0]).distance(Geometry.Point([1, 0])).getInfo()
    assert d == pytest.approx(EQUATOR_DEGREE, rel=1e-6)


# -- as_geometry and laziness ---------------------------------------------------------------------


def test_as_geometry_accepts_and_rejects():
    g = Geometry.Point([1, 2])
    assert as_geometry(g) is g
    assert as_geometry(Feature(g, {"a": 1})).getInfo() == g.getInfo()
    assert as_geometry(shapely.Point(1, 2)).getInfo() == g.getInfo()
    assert as_geometry({"type": "Point", "coordinates": [1, 2]}).getInfo() == g.getInfo()
    assert as_geometry({"type": "Feature", "geometry": {"type": "Point", "coordinates": [1, 2]}}).getInfo() == (
        g.getInfo()
    )
    gdf = gpd.GeoDataFrame(geometry=[shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2, 1)], crs=UTM)
    union = as_geometry(gdf)
    assert union.crs.to_epsg() == 32633 and union.area().getInfo() == 2.0
    with pytest.raises(CRSError, match="has no CRS"):
        as_geometry(gpd.GeoDataFrame(geometry=[shapely.Point(0, 0)]))
    with pytest.raises(GeometryError, match=r"got \[1, 2\]"):
        as_geometry([1, 2])
    with pytest.raises(GeometryError, match="got None"):
        as_geometry(None)


def test_geometry_methods_are_lazy():
    calls = []

    def make():
        calls.append(1)
        return Geometry.Rectangle([0, 0, 10, 10], UTM)._evaluate()

    g = Geometry._lazy(make)
    area = g.buffer(1).intersection(Geometry.Point([0, 0], UTM).buffer(5)).area()
    assert calls == []
    assert area.getInfo() > 0
    assert calls == [1]
    assert repr(Geometry._lazy(make)) == "ee.Geometry(<lazy>)"
    assert repr(Geometry.Point([1, 2])) == "ee.Geometry(POINT (1 2), EPSG:4326)"


def test_geodesic_flag_defaults():
    assert Geometry.Point([0, 0]).edgesAreGeodesics().getInfo() is True
    assert Geometry.Point([0, 0], UTM).edgesAreGeodesics().getInfo() is False
    assert Geometry.Polygon([[0, 0], [1, 0], [1, 1]], geodesic=False).edgesAreGeodesics().getInfo() is False
    assert Geometry.Point([0, 0]).isUnbounded().getInfo() is False


def test_world_polygon_reaches_a_crs_read_from_a_file_without_area_of_use(tmp_path):
    # a CRS from a GeoTIFF's WKT has no area of use; the EPSG code's is used to clip before densifying
    import numpy as np
    import rasterio

    from reducer.geometry import WGS84, reproject_features
    from tests.common import VALUES_3x3, write_tif

    with rasterio.open(write_tif(tmp_path / "a.tif", VALUES_3x3)) as src:
        file_crs = CRS.from_wkt(src.crs.to_wkt())
    assert file_crs.to_epsg() == 32633
    [moved] = reproject_features(np.array([shapely.box(-180, -90, 180, 90)], dtype=object), WGS84, file_crs)
    assert moved.contains(shapely.Point(500000, 4000000)) and moved.contains(shapely.Point(300000, 6000000))
