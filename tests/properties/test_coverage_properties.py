"""Coverage properties on random polygons and small grids, against shapely, rasterio and GDAL."""

from __future__ import annotations

import math

import numpy as np
import pytest
import shapely
from affine import Affine
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from rasterio.features import geometry_mask, rasterize

from reducer.coverage import coverage
from reducer.grid import Grid

SETTINGS = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# exactextract computes coverage fractions in single precision (float32), so they match the exact
# area of intersection to ~6e-8, not to 1e-9; we allow a little more for its own float64 arithmetic.
FRACTION_TOL = 2e-7


@st.composite
def grids(draw) -> Grid:
    width = draw(st.integers(1, 12))
    height = draw(st.integers(1, 12))
    if draw(st.booleans()):  # projected: metres
        res = draw(st.sampled_from([1.0, 0.5, 10.0, 1 / 3, 25.52514657450613]))
        x0 = draw(st.sampled_from([0.0, -7.25, 500000.0, 244300.61494985913]))
        y0 = draw(st.sampled_from([0.0, 12.5, 4000000.0, 1000868.7876863468]))
        crs = "EPSG:32633"
    else:  # geographic: arc-seconds to tenths of a degree
        res = draw(st.sampled_from([1 / 3600, 1 / 1200, 0.1]))
        x0 = draw(st.sampled_from([-180.0, 10.0, 7.123456789]))
        y0 = draw(st.sampled_from([90.0, 50.0, -33.3]))
        crs = "EPSG:4326"
    return Grid(crs, Affine(res, 0, x0, 0, -res, y0), width, height)


@st.composite
def polygons(draw, grid: Grid):
    """A star-shaped polygon (sorted angles: simple), perhaps with a hole, around the grid."""
    xmin, ymin, xmax, ymax = grid.bounds
    size = max(xmax - xmin, ymax - ymin)
    u = st.floats(-0.3, 1.3, allow_nan=False)
    cx = xmin + draw(u) * (xmax - xmin)
    cy = ymin + draw(u) * (ymax - ymin)
    n = draw(st.integers(3, 12))
    angles = np.sort(np.array(draw(st.lists(st.floats(0, 2 * math.pi), min_size=n, max_size=n, unique=True))))
    radii = np.array(draw(st.lists(st.floats(0.05, 0.8), min_size=n, max_size=n))) * size
    poly = shapely.Polygon(np.c_[cx + radii * np.cos(angles), cy + radii * np.sin(angles)])
    assume(poly.is_valid and poly.area > 1e-6 * size * size)
    if draw(st.booleans()):
        hole = shapely.Point(cx, cy).buffer(float(radii.min()) * 0.5, quad_segs=3)
        poly = poly.difference(hole)
    return poly


@st.composite
def grid_and_polygon(draw):
    grid = draw(grids())
    return grid, draw(polygons(grid))


def pixel_boxes(grid: Grid) -> np.ndarray:
    t = grid.transform
    rows, cols = np.divmod(np.arange(grid.width * grid.height), grid.width)
    return shapely.box(t.c + cols * t.a, t.f + (rows + 1) * t.e, t.c + (cols + 1) * t.a, t.f + rows * t.e)


def dense(c, grid: Grid, feature: int = 0) -> np.ndarray:
    out = np.zeros(grid.width * grid.height)
    sel = c.feature == feature
    out[c.pixel[sel]] = c.weight[sel]
    return out


def clear_of_centres(poly, grid: Grid) -> bool:
    """No pixel centre within a millionth of a pixel of the boundary (GDAL's rounding decides those)."""
    rows, cols = np.divmod(np.arange(grid.width * grid.height), grid.width)
    xs, ys = grid.pixel_centers(rows, cols)
    return bool(shapely.distance(poly.boundary, shapely.points(xs, ys)).min() > 1e-6 * grid.res[0])


@SETTINGS
@given(grid_and_polygon())
def test_weighted_is_the_area_of_intersection(gp):
    grid, poly = gp
    c = coverage([poly], grid, "weighted")
    exact = shapely.area(shapely.intersection(pixel_boxes(grid), poly)) / (grid.res[0] * grid.res[1])
    got = dense(c, grid)
    np.testing.assert_allclose(got, exact, rtol=0, atol=FRACTION_TOL)
    assert ((got > 0) | (exact <= FRACTION_TOL)).all()  # no covered pixel is missing
    assert (c.weight > 0).all() and (c.weight <= 1).all()


@SETTINGS
@given(grid_and_polygon())
def test_centre_is_geometry_mask_and_contains(gp):
    grid, poly = gp
    assume(clear_of_centres(poly, grid))
    c = coverage([poly], grid, "centre")
    mask = ~geometry_mask([poly], out_shape=grid.shape, transform=grid.transform)
    np.testing.assert_array_equal(c.pixel, np.flatnonzero(mask))
    rows, cols = np.divmod(np.arange(grid.width * grid.height), grid.width)
    xs, ys = grid.pixel_centers(rows, cols)
    np.testing.assert_array_equal(c.pixel, np.flatnonzero(shapely.contains_xy(poly, xs, ys)))
    assert (c.weight == 1).all()


@SETTINGS
@given(grid_and_polygon())
def test_touched_contains_centre_and_covered_pixels(gp):
    grid, poly = gp
    touched = set(coverage([poly], grid, "touched").pixel.tolist())
    centre = set(coverage([poly], grid, "centre").pixel.tolist())
    boxes = pixel_boxes(grid)
    assert centre <= touched
    assert touched <= set(np.flatnonzero(shapely.intersects(boxes, poly)).tolist())
    # every pixel the polygon enters by more than 1e-3 pixel (GDAL ignores entries under 1e-4 pixel)
    inner = shapely.buffer(boxes, -1e-3 * grid.res[0], join_style="mitre")
    assert set(np.flatnonzero(shapely.intersects(inner, poly)).tolist()) <= touched


@st.composite
def snapped_polygons(draw):
    """Polygons with vertices on a quarter-pixel lattice: edges through centres and corners (ties)."""
    grid = draw(grids())
    t = grid.transform
    n = draw(st.integers(3, 7))
    cr = draw(
        st.lists(
            st.tuples(st.integers(-8, 4 * grid.width + 8), st.integers(-8, 4 * grid.height + 8)),
            min_size=n,
            max_size=n,
        )
    )
    poly = shapely.Polygon([(t.c + c / 4 * t.a, t.f + r / 4 * t.e) for c, r in cr])
    if not poly.is_valid:
        poly = poly.convex_hull
    assume(poly.geom_type == "Polygon" and poly.area > 0)
    return grid, poly


@SETTINGS
@given(snapped_polygons(), st.booleans())
def test_centre_and_touched_reproduce_rasterstats_windows(gp, all_touched):
    """On ties too: the result is GDAL's burn of the feature on rasterstats' window."""
    rs_io = pytest.importorskip("rasterstats.io")
    grid, poly = gp
    t = grid.transform
    c = coverage([poly], grid, "touched" if all_touched else "centre")
    (r0, r1), (c0, c1) = rs_io.bounds_window(poly.bounds, t)
    west, _, _, north = rs_io.window_bounds(((r0, r1), (c0, c1)), t)
    burned = rasterize(
        [(poly, 1)],
        out_shape=(r1 - r0, c1 - c0),
        transform=Affine(t.a, t.b, west, t.d, t.e, north),
        all_touched=all_touched,
    )
    rr, cc = np.nonzero(burned)
    rr, cc = rr + r0, cc + c0
    h, w = grid.shape
    inside = (rr >= 0) & (rr < h) & (cc >= 0) & (cc < w)
    assert c.pixel.tolist() == sorted((rr[inside] * w + cc[inside]).tolist())


@SETTINGS
@given(grids(), st.lists(st.tuples(st.floats(-0.2, 1.2), st.floats(-0.2, 1.2)), min_size=1, max_size=20))
def test_points_take_the_pixel_that_contains_them(grid, uv):
    xmin, ymin, xmax, ymax = grid.bounds
    t = grid.transform
    pts = []
    for u, v in uv:
        p = shapely.Point(xmin + u * (xmax - xmin), ymin + v * (ymax - ymin))
        fc, fr = (p.x - t.c) / t.a, (p.y - t.f) / t.e
        if min(abs(fc - round(fc)), abs(fr - round(fr))) > 1e-6:  # not on a pixel edge
            pts.append(p)
    c = coverage(pts, grid, "centre")
    expected = set()
    for i, p in enumerate(pts):
        col, row = math.floor((p.x - t.c) / t.a), math.floor((p.y - t.f) / t.e)
        if 0 <= col < grid.width and 0 <= row < grid.height:
            expected.add((i, row * grid.width + col))
    assert set(zip(c.feature.tolist(), c.pixel.tolist(), strict=True)) == expected


@SETTINGS
@given(grids(), st.data())
def test_entries_sorted_unique_and_per_feature_independent(grid, data):
    geoms = [data.draw(polygons(grid)) for _ in range(data.draw(st.integers(1, 4)))]
    mode = data.draw(st.sampled_from(["weighted", "centre", "touched"]))
    c = coverage(geoms, grid, mode)
    key = c.pixel.astype(np.int64) * len(geoms) + c.feature
    assert (np.diff(key) > 0).all()
    for i, g in enumerate(geoms):
        alone = coverage([g], grid, mode)
        sel = c.feature == i
        np.testing.assert_array_equal(c.pixel[sel], alone.pixel)
        np.testing.assert_array_equal(c.weight[sel], alone.weight)
