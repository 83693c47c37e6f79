"""Coverage weights: hand-computed 3×3 cases, GDAL / rasterstats / exactextract cross-checks."""

from __future__ import annotations

import threading
import warnings
from pathlib import Path

import numpy as np
import pytest
import rasterio
import shapely
from affine import Affine
from rasterio.features import geometry_mask, rasterize
from shapely import GeometryCollection, LineString, MultiPoint, MultiPolygon, Point, Polygon, box

from reducer.coverage import (
    Coverage,
    coverage,
    estimate_pixels,
)
from reducer.errors import ArgumentError, GeometryError
from reducer.grid import Grid
from tests.common import CRS, EMPTY, OUTSIDE, SQUARE, TOP_LEFT, TRANSFORM_3x3, write_tif

PEER = Path("/work/shared/peerdata")
MODES = ("weighted", "centre", "touched")

# the 3×3 grid of unit pixels at the origin, and the same grid placed in UTM (tests/common.py)
UNIT = Grid(CRS, Affine(1, 0, 0, 0, -1, 3), 3, 3)
UTM = Grid(CRS, TRANSFORM_3x3, 3, 3)


def on(grid: Grid, geom):
    """Move a geometry drawn on the unit grid onto ``grid`` (both have unit pixels)."""
    t = grid.transform
    return shapely.affinity.translate(geom, t.c, t.f - 3)


def table(c: Coverage) -> dict[tuple[int, int], float]:
    return {(int(f), int(p)): float(w) for f, p, w in zip(c.feature, c.pixel, c.weight, strict=True)}


def grid3(c: Coverage, feature: int = 0) -> np.ndarray:
    out = np.zeros(9)
    sel = c.feature == feature
    out[c.pixel[sel]] = c.weight[sel]
    return out.reshape(3, 3)


@pytest.fixture(params=["unit", "utm"])
def grid(request):
    return UNIT if request.param == "unit" else UTM


# --------------------------------------------------------------------------------------------------
# hand-computed cases on the 3×3 grid

W_SQUARE = [[0.25, 0.5, 0.25], [0.5, 1, 0.5], [0.25, 0.5, 0.25]]
# box (0.6, 0.6)-(1.6, 1.6): pixel (1, 1) by 0.36, (1, 0) and (2, 1) by 0.24, (2, 0) by 0.16
W_OFFSET = [[0, 0, 0], [0.24, 0.36, 0], [0.16, 0.24, 0]]
HAND = [
    # (geometry on the unit grid, mode, expected 3×3 weights)
    (box(0.5, 0.5, 2.5, 2.5), "weighted", W_SQUARE),
    (box(0.5, 0.5, 2.5, 2.5), "touched", np.ones((3, 3))),
    (box(0, 1.2, 2, 3), "weighted", [[1, 1, 0], [0.8, 0.8, 0], [0, 0, 0]]),
    (box(0, 1.2, 2, 3), "centre", [[1, 1, 0], [1, 1, 0], [0, 0, 0]]),
    (box(0, 1.2, 2, 3), "touched", [[1, 1, 0], [1, 1, 0], [0, 0, 0]]),
    (box(0.6, 0.6, 1.6, 1.6), "weighted", W_OFFSET),
    (box(0.6, 0.6, 1.6, 1.6), "centre", [[0, 0, 0], [0, 1, 0], [0, 0, 0]]),
    (box(0.6, 0.6, 1.6, 1.6), "touched", [[0, 0, 0], [1, 1, 0], [1, 1, 0]]),
    # a small box inside the bottom-left pixel: 4 % of it, its centre outside
    (box(0.2, 0.2, 0.4, 0.4), "weighted", [[0, 0, 0], [0, 0, 0], [0.04, 0, 0]]),
    (box(0.2, 0.2, 0.4, 0.4), "centre", np.zeros((3, 3))),
    (box(0.2, 0.2, 0.4, 0.4), "touched", [[0, 0, 0], [0, 0, 0], [1, 0, 0]]),
    # a holed square: the hole takes 0.36 of the centre pixel and its centre
    (box(0, 0, 3, 3).difference(box(1.2, 1.2, 1.8, 1.8)), "weighted", [[1, 1, 1], [1, 0.64, 1], [1, 1, 1]]),
    (box(0, 0, 3, 3).difference(box(1.2, 1.2, 1.8, 1.8)), "centre", [[1, 1, 1], [1, 0, 1], [1, 1, 1]]),
    (box(0.1, 0.1, 2.9, 2.9).difference(box(1.2, 1.2, 1.8, 1.8)), "touched", np.ones((3, 3))),
    # a multipolygon: two corner pixels, one feature
    (MultiPolygon([box(0, 2, 1, 3), box(2, 0, 3, 1)]), "weighted", [[1, 0, 0], [0, 0, 0], [0, 0, 1]]),
    (MultiPolygon([box(0, 2, 1, 3), box(2, 0.5, 3, 1)]), "weighted", [[1, 0, 0], [0, 0, 0], [0, 0, 0.5]]),
    (MultiPolygon([box(0.1, 2.1, 0.9, 2.9), box(2.1, 0.1, 2.9, 0.9)]), "centre", [[1, 0, 0], [0, 0, 0], [0, 0, 1]]),
    # partly outside: clipped to the grid
    (box(-1, -1, 1, 1), "weighted", [[0, 0, 0], [0, 0, 0], [1, 0, 0]]),
    (box(-1, -1, 1, 1), "centre", [[0, 0, 0], [0, 0, 0], [1, 0, 0]]),
    (box(-1, -1, 1, 1), "touched", [[0, 0, 0], [0, 0, 0], [1, 0, 0]]),
    (box(2.5, -5, 9, 1.5), "weighted", [[0, 0, 0], [0, 0, 0.25], [0, 0, 0.5]]),
]


@pytest.mark.parametrize(("geom", "mode", "expected"), HAND)
def test_hand_computed(grid, geom, mode, expected):
    c = coverage([on(grid, geom)], grid, mode)
    np.testing.assert_allclose(grid3(c), np.asarray(expected, dtype=float), rtol=0, atol=1e-7)
    assert c.n_features == 1
    assert (c.weight > 0).all() and (c.weight <= 1).all()


def test_common_objects():
    """The canonical objects of tests/common.py on their own 3×3 UTM grid."""
    np.testing.assert_allclose(grid3(coverage([SQUARE], UTM)), W_SQUARE, atol=1e-7)
    np.testing.assert_allclose(grid3(coverage([TOP_LEFT], UTM)), [[1, 1, 0], [0.8, 0.8, 0], [0, 0, 0]], atol=1e-7)
    for mode in MODES:
        c = coverage([EMPTY, OUTSIDE], UTM, mode)
        assert len(c) == 0 and c.n_features == 2


def test_square_centre_follows_gdal_on_ties(grid):
    """Every centre of columns 1-2 lies on the square's boundary: GDAL takes right/top/bottom, not left."""
    sq = on(grid, box(0.5, 0.5, 2.5, 2.5))
    c = coverage([sq], grid, "centre")
    assert c.pixel.tolist() == [1, 2, 4, 5, 7, 8]
    burned = rasterize([(sq, 1)], out_shape=(3, 3), transform=grid.transform)  # GDAL, the oracle
    assert sorted(np.flatnonzero(burned).tolist()) == c.pixel.tolist()


@pytest.mark.parametrize("mode", MODES)
def test_points(grid, mode):
    pts = [
        Point(1.5, 1.5),  # centre pixel
        Point(1, 2.5),  # on the edge between pixels 0 and 1: floor goes right
        Point(0.5, 2),  # on the edge between pixels 0 and 3: floor goes below
        Point(3, 1.5),  # on the grid's right edge: outside
        Point(0, 3),  # the top-left corner: pixel 0
        MultiPoint([(0.2, 0.2), (0.8, 0.7), (2.5, 0.5)]),  # two points in pixel 6: counted once
        Point(-1, 1),  # outside
    ]
    c = coverage([on(grid, p) for p in pts], grid, mode)
    assert table(c) == {(0, 4): 1, (1, 1): 1, (2, 3): 1, (4, 0): 1, (5, 6): 1, (5, 8): 1}


@pytest.mark.parametrize("mode", MODES)
def test_lines_take_every_touched_pixel(grid, mode):
    lines = [
        LineString([(0.5, 0.5), (2.5, 0.5)]),  # along the bottom row
        LineString([(0.2, 0.5), (2.8, 2.4)]),  # diagonal, through no pixel corner
        LineString([(1.2, 1.2), (1.7, 1.3)]),  # inside the centre pixel
        LineString([(-5, 1.5), (-1, 1.5)]),  # outside
    ]
    c = coverage([on(grid, g) for g in lines], grid, mode)
    got = {f: sorted(c.pixel[c.feature == f].tolist()) for f in range(4)}
    # oracle: the pixels whose interior the line crosses (shapely)
    cells = [box(col, 2 - row, col + 1, 3 - row) for row in range(3) for col in range(3)]
    for f, line in enumerate(lines):
        expected = [i for i, cell in enumerate(cells) if line.intersection(cell).length > 0]
        assert got[f] == expected
    assert got[0] == [6, 7, 8]
    assert (c.weight == 1).all()


def test_line_on_a_pixel_edge_follows_gdal(grid):
    """A line along a pixel edge touches the pixels on both sides; GDAL burns those below it."""
    line = on(grid, LineString([(0.5, 1), (2.5, 1)]))
    c = coverage([line], grid, "centre")
    burned = rasterize([(line, 1)], out_shape=(3, 3), transform=grid.transform, all_touched=True)
    assert c.pixel.tolist() == sorted(np.flatnonzero(burned).tolist()) == [6, 7, 8]


@pytest.mark.parametrize("mode", MODES)
def test_empty_none_and_outside(grid, mode):
    geoms = [EMPTY, None, GeometryCollection(), on(grid, box(10, 10, 11, 11)), Point(), LineString()]
    c = coverage(geoms, grid, mode)
    assert len(c) == 0 and c.n_features == 6
    assert c.feature.dtype == c.pixel.dtype == np.int64 and c.weight.dtype == np.float64
    assert len(coverage([], grid, mode)) == 0


@pytest.mark.parametrize("mode", MODES)
def test_overlapping_features_are_reduced_independently(grid, mode):
    a, b = on(grid, box(0, 0, 2, 2)), on(grid, box(1, 1, 3, 3))
    c = coverage([a, b], grid, mode)
    # sorted by pixel, then feature; the centre pixel belongs to both
    assert c.pixel.tolist() == [1, 2, 3, 4, 4, 5, 6, 7]
    assert c.feature.tolist() == [1, 1, 0, 0, 1, 1, 0, 0]
    np.testing.assert_allclose(c.weight, 1.0)
    alone = coverage([b], grid, mode)
    assert alone.pixel.tolist() == c.pixel[c.feature == 1].tolist()


def test_geometry_collection_parts_count_once(grid):
    gc = GeometryCollection(
        [
            box(0, 2, 0.5, 3),  # half of pixel 0
            box(0.25, 2, 1, 3),  # overlaps it: the union covers pixel 0 fully
            Point(0.5, 0.5),  # pixel 6
            Point(2.9, 2.9),  # pixel 2 ...
            box(2.5, 2, 3, 3),  # ... which a polygon covers by half: the point's 1 wins
            GeometryCollection([LineString([(1.5, 1.2), (1.5, 1.8)])]),  # pixel 4, nested
        ]
    )
    c = coverage([on(grid, gc)], grid, "weighted")
    assert table(c) == pytest.approx({(0, 0): 1.0, (0, 2): 1.0, (0, 4): 1.0, (0, 6): 1.0}, abs=1e-7)
    c = coverage([on(grid, gc)], grid, "centre")
    assert table(c) == {(0, 0): 1, (0, 2): 1, (0, 4): 1, (0, 6): 1}


def test_invalid_overlapping_multipolygon_covers_a_pixel_once(grid):
    mp = on(grid, MultiPolygon([box(0, 0, 2, 2), box(1, 1, 3, 3)]))  # invalid: the parts overlap
    assert not mp.is_valid
    expected = {(0, p): 1.0 for p in (1, 2, 3, 4, 5, 6, 7)}
    for mode in MODES:
        assert table(coverage([mp], grid, mode)) == expected


def test_entries_sorted_unique_readonly():
    rng = np.random.default_rng(1)
    g = Grid(CRS, Affine(10, 0, 500000, 0, -10, 4000500), 50, 50)
    geoms = shapely.buffer(shapely.points(rng.uniform(500000, 500500, 40), rng.uniform(4000000, 4000500, 40)), 60)
    geoms = list(geoms) + [MultiPoint(rng.uniform(500000, 500500, (30, 2)))]
    for mode in MODES:
        c = coverage(geoms, g, mode)
        key = c.pixel * c.n_features + c.feature
        assert (np.diff(key) > 0).all()  # sorted by (pixel, feature), no pair twice
        assert c.pixel.min() >= 0 and c.pixel.max() < 2500
        for a in (c.feature, c.pixel, c.weight):
            assert not a.flags.writeable
        rows = c.pixel_range(10 * 50, 20 * 50)
        assert ((c.pixel[rows] >= 500) & (c.pixel[rows] < 1000)).all()
        assert ((c.pixel < 500) | (c.pixel >= 1000)).sum() == len(c) - (rows.stop - rows.start)
        assert c.nbytes == 16 * len(c) + (8 * len(c) if mode == "weighted" else 8)
        assert c.weight.dtype == np.float64 and c.weight.shape == c.pixel.shape


def test_geoseries_and_arrays_are_accepted():
    gpd = pytest.importorskip("geopandas")
    s = gpd.GeoSeries([SQUARE, None, TOP_LEFT], crs=CRS)
    a = coverage(s, UTM)
    b = coverage(np.array([SQUARE, None, TOP_LEFT], dtype=object), UTM)
    c = coverage((SQUARE, None, TOP_LEFT), UTM)
    assert table(a) == table(b) == table(c)
    assert a.n_features == 3


# --------------------------------------------------------------------------------------------------
# errors


@pytest.mark.parametrize(
    "transform",
    [
        Affine(1, 0.1, 0, 0.1, -1, 3),  # rotated
        Affine(1, 0, 0, 0, 1, 0),  # south-up
        Affine(-1, 0, 3, 0, -1, 3),  # east-to-west
    ],
)
def test_unsupported_grids(transform):
    with pytest.raises(NotImplementedError, match="north-up"):
        coverage([SQUARE], Grid(CRS, transform, 3, 3))


def test_bad_arguments():
    with pytest.raises(ArgumentError, match="'weighted'"):
        coverage([SQUARE], UTM, "area")  # type: ignore[arg-type]
    with pytest.raises(GeometryError, match="geometry 1 is 'POINT"):
        coverage([SQUARE, "POINT (0 0)"], UTM)


def test_coverage_in_threads_equals_serial():
    """The engine computes coverage in dask's threads: exactextract, GDAL and numpy side by side."""
    grid = SLOPE_GRID
    sets = [random_polygons(grid, 25, seed=s) for s in range(3)]
    jobs = [(geoms, mode) for geoms in sets for mode in MODES]
    serial = [table(coverage(g, grid, m)) for g, m in jobs]
    results: dict[int, dict] = {}

    def work(i):
        g, m = jobs[i]
        results[i] = table(coverage(g, grid, m))

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(jobs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [results[i] for i in range(len(jobs))] == serial


# --------------------------------------------------------------------------------------------------
# estimate_pixels


def test_estimate_pixels(grid):
    assert estimate_pixels([on(grid, box(0.5, 0.5, 2.5, 2.5))], grid) == 4
    assert estimate_pixels([on(grid, box(-10, -10, 10, 10))], grid) == 9  # clipped to the grid
    assert estimate_pixels([on(grid, Point(1, 1)), on(grid, Point(5, 5))], grid) == 1
    assert estimate_pixels([on(grid, LineString([(0, 0.5), (2, 0.5)]))], grid) == 3
    assert estimate_pixels([EMPTY, None, on(grid, box(10, 10, 11, 11))], grid) == 0
    assert estimate_pixels([on(grid, box(0.6, 0.6, 1.6, 1.6))] * 3, grid) == 3


# --------------------------------------------------------------------------------------------------
# cross-checks: GDAL, rasterstats and exactextract on real files


def random_polygons(grid: Grid, n: int, seed: int) -> list:
    """Buffered points, stars with concave parts, holed discs and multipolygons, some partly outside."""
    rng = np.random.default_rng(seed)
    xmin, ymin, xmax, ymax = grid.bounds
    size = xmax - xmin
    out = []
    for i in range(n):
        cx = rng.uniform(xmin - 0.1 * size, xmax + 0.1 * size)
        cy = rng.uniform(ymin - 0.1 * size, ymax + 0.1 * size)
        r = rng.uniform(0.01, 0.3) * size
        ang = np.sort(rng.uniform(0, 2 * np.pi, 12))
        star = Polygon(
            np.c_[cx + r * rng.uniform(0.3, 1, 12) * np.cos(ang), cy + r * rng.uniform(0.3, 1, 12) * np.sin(ang)]
        )
        kind = i % 4
        if kind == 0:
            out.append(Point(cx, cy).buffer(r, quad_segs=int(rng.integers(2, 12))))
        elif kind == 1:
            out.append(star)
        elif kind == 2:
            out.append(Point(cx, cy).buffer(r).difference(Point(cx + 0.3 * r, cy).buffer(0.4 * r)))
        else:
            out.append(MultiPolygon([star, shapely.affinity.translate(star, 2.2 * r, 0)]).buffer(0))
    return out


SLOPE_GRID = Grid(
    CRS, Affine(25.52514657450613, 0, 244300.61494985913, 0, -25.52514657450613, 1000868.7876863468), 84, 78
)


@pytest.mark.parametrize("all_touched", [False, True])
@pytest.mark.parametrize("grid", [SLOPE_GRID, Grid("EPSG:4326", Affine(1 / 3600, 0, 10, 0, -1 / 3600, 50), 60, 50)])
def test_centre_and_touched_equal_gdal_per_feature(grid, all_touched):
    """The vectorised rules equal GDAL's own burn of each feature on rasterstats' window."""
    geoms = random_polygons(grid, 120, seed=7)
    t = grid.transform
    # grid-snapped polygons: vertices on pixel corners and centres (GDAL's ties)
    rng = np.random.default_rng(3)
    for _ in range(60):
        cr = rng.integers(-2, 62, (5, 2)) + rng.choice([0, 0.5], (5, 2))
        p = Polygon([(t.c + c * t.a, t.f + r * t.e) for c, r in cr]).convex_hull
        if p.geom_type == "Polygon":
            geoms.append(p)
    c = coverage(geoms, grid, "touched" if all_touched else "centre")
    h, w = grid.shape
    rs_io = pytest.importorskip("rasterstats.io")
    for i, g in enumerate(geoms):
        # rasterstats' window and window transform, burned by GDAL
        (r0, r1), (c0, c1) = rs_io.bounds_window(g.bounds, t)
        west, _, _, north = rs_io.window_bounds(((r0, r1), (c0, c1)), t)
        wt = Affine(t.a, t.b, west, t.d, t.e, north)
        burned = rasterize([(g, 1)], out_shape=(r1 - r0, c1 - c0), transform=wt, all_touched=all_touched)
        rr, cc = np.nonzero(burned)
        rr, cc = rr + r0, cc + c0
        inside = (rr >= 0) & (rr < h) & (cc >= 0) & (cc < w)
        expected = sorted((rr[inside] * w + cc[inside]).tolist())
        assert c.pixel[c.feature == i].tolist() == expected, i


def test_centre_equals_geometry_mask_for_clear_cases():
    grid = SLOPE_GRID
    geoms = random_polygons(grid, 40, seed=11)
    c = coverage(geoms, grid, "centre")
    rows, cols = np.divmod(np.arange(grid.width * grid.height), grid.width)
    xs, ys = grid.pixel_centers(rows, cols)
    centres = shapely.points(xs, ys)
    for i, g in enumerate(geoms):
        # clear cases only: no pixel centre within a millionth of a pixel of the boundary
        assert shapely.distance(g.boundary, centres).min() > 1e-6 * grid.res[0]
        mask = ~geometry_mask([g], out_shape=grid.shape, transform=grid.transform)  # True inside
        np.testing.assert_array_equal(c.pixel[c.feature == i], np.flatnonzero(mask))
        inside = shapely.contains_xy(g, xs, ys)
        np.testing.assert_array_equal(c.pixel[c.feature == i], np.flatnonzero(inside))


def _zonal(geoms, path, **kw):
    rasterstats = pytest.importorskip("rasterstats")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return rasterstats.zonal_stats(geoms, str(path), **kw)


@pytest.mark.parametrize("all_touched", [False, True])
def test_rasterstats_count_and_sum(tmp_path, all_touched):
    grid = Grid(CRS, Affine(10, 0, 500000, 0, -10, 4000400), 40, 40)
    rng = np.random.default_rng(5)
    values = rng.uniform(0, 100, grid.shape).astype("float64")
    path = write_tif(tmp_path / "r.tif", values, transform=grid.transform, nodata=-9999.0)
    t = grid.transform
    geoms = random_polygons(grid, 30, seed=2) + [
        box(t.c + 5, t.f - 25, t.c + 25, t.f - 5),  # through pixel centres: GDAL's ties
        box(t.c + 50, t.f - 200, t.c + 150, t.f - 50),  # on pixel edges
        box(t.c - 100, t.f - 100, t.c + 55, t.f + 100),  # mostly outside
        Polygon([(t.c + 15, t.f - 15), (t.c + 95, t.f - 55), (t.c + 35, t.f - 135)]),  # vertices on centres
    ]
    c = coverage(geoms, grid, "touched" if all_touched else "centre")
    stats = _zonal(geoms, path, stats="count sum", all_touched=all_touched)
    flat = values.ravel()
    for i, s in enumerate(stats):
        pix = c.pixel[c.feature == i]
        assert len(pix) == s["count"], i
        if s["count"]:
            assert flat[pix].sum() == pytest.approx(s["sum"], rel=1e-12)


@pytest.mark.skipif(not (PEER / "rasterstats" / "slope.tif").exists(), reason="peer fixtures absent")
@pytest.mark.parametrize(
    "shapes", ["polygons.shp", "polygons_partial_overlap.shp", "polygons_no_overlap.shp", "multipolygons.shp"]
)
def test_peer_slope_fixture(shapes):
    gpd = pytest.importorskip("geopandas")
    tif = PEER / "rasterstats" / "slope.tif"
    geoms = list(gpd.read_file(PEER / "rasterstats" / shapes).geometry)
    with rasterio.open(tif) as src:
        values = src.read(1)
        grid = Grid(CRS, src.transform, src.width, src.height)
        valid = (values != src.nodata).ravel()
    assert grid.transform == SLOPE_GRID.transform and grid.shape == SLOPE_GRID.shape
    # centre and touched: rasterstats' counts exclude nodata cells
    for mode, at in (("centre", False), ("touched", True)):
        c = coverage(geoms, grid, mode)
        stats = _zonal(geoms, tif, stats="count", all_touched=at)
        for i, s in enumerate(stats):
            pix = c.pixel[c.feature == i]
            assert int(valid[pix].sum()) == s["count"], (mode, i)
    # weighted: exactextract's count is the sum of coverage over non-nodata cells
    from exactextract import exact_extract

    c = coverage(geoms, grid, "weighted")
    with rasterio.open(tif) as src:
        gdf = gpd.GeoDataFrame(geometry=geoms, crs=src.crs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ee = exact_extract(str(tif), gdf, ["count"], output="pandas")
    for i, expected in enumerate(ee["count"]):
        sel = c.feature == i
        ours = float(c.weight[sel][valid[c.pixel[sel]]].sum())
        assert ours == pytest.approx(float(expected), rel=1e-9, abs=1e-9), i


@pytest.mark.parametrize("origin", [(0, 12.5, 1, 4), (-3, 12.5, 6, 6)])
def test_weighted_survives_exactextract_losing_a_cell(origin):
    """exactextract 0.3 drops a whole cell for a vertex 9e-17 off a pixel edge; we check and redo."""
    x0, y0, w, h = origin
    grid = Grid(CRS, Affine(1, 0, x0, 0, -1, y0), w, h)
    poly = Polygon(
        [(1.5, 10), (1.080605, 11.682942), (9.184851e-17, 11.5), (-0.494996, 10.07056), (1.920341, 9.441169)]
    )
    c = coverage([poly], grid, "weighted")
    rows, cols = np.divmod(np.arange(w * h), w)
    boxes = shapely.box(x0 + cols, y0 - rows - 1, x0 + cols + 1, y0 - rows)
    np.testing.assert_allclose(grid3_like(c, w * h), shapely.area(shapely.intersection(boxes, poly)), atol=1e-7)


def grid3_like(c: Coverage, n: int) -> np.ndarray:
    out = np.zeros(n)
    out[c.pixel] = c.weight
    return out


def test_weighted_equals_exactextract_cells(tmp_path):
    """Cell by cell, the weights are exactextract's coverage on a nodata-free raster, to float32's last bit.

    Both round an exact fraction to float32; exactextract's arithmetic is a few ulps less exact, so a
    weight may be one float32 step (6e-8) away from exactextract's.
    """
    from exactextract import exact_extract
    from exactextract.raster import NumPyRasterSource

    grid = Grid(CRS, Affine(10, 0, 500000, 0, -10, 4000400), 40, 40)
    geoms = random_polygons(grid, 20, seed=9)
    c = coverage(geoms, grid, "weighted")
    xmin, ymin, xmax, ymax = grid.bounds
    src = NumPyRasterSource(np.zeros(grid.shape, np.uint8), xmin, ymin, xmax, ymax)
    feats = [{"type": "Feature", "properties": {}, "geometry": g.__geo_interface__} for g in geoms]
    out = exact_extract(src, feats, ["cell_id", "coverage"])
    for i, f in enumerate(out):
        cells, cover = np.asarray(f["properties"]["cell_id"]), np.asarray(f["properties"]["coverage"])
        keep = cover > 0
        sel = c.feature == i
        np.testing.assert_array_equal(c.pixel[sel], cells[keep])
        np.testing.assert_allclose(c.weight[sel], cover[keep], rtol=0, atol=6e-8)


def _shapely_fractions(geoms, grid: Grid) -> np.ndarray:
    """Brute force: each pixel box intersected with each geometry, ``(n_geoms, height * width)``."""
    t = grid.transform
    rows, cols = np.divmod(np.arange(grid.width * grid.height), grid.width)
    boxes = shapely.box(t.c + cols * t.a, t.f + (rows + 1) * t.e, t.c + (cols + 1) * t.a, t.f + rows * t.e)
    return np.stack([shapely.area(shapely.intersection(boxes, g)) / abs(t.a * t.e) for g in geoms])


def _dense(c: Coverage, n_geoms: int, n_pixels: int) -> np.ndarray:
    out = np.zeros((n_geoms, n_pixels))
    out[c.feature, c.pixel] = c.weight
    return out


@pytest.mark.parametrize("batch_cells", [1 << 20, 64, 1])
def test_weighted_equals_shapely_areas(monkeypatch, batch_cells):
    """Every weight is the area of pixel ∩ polygon (shapely), to float32's precision, whatever the
    batches the (feature, row) spans are summed in (down to one span at a time)."""
    from reducer import coverage as coverage_module

    monkeypatch.setattr(coverage_module, "_BATCH_CELLS", batch_cells)
    grid = Grid(CRS, Affine(0.7, 0, 10, 0, -0.9, 50), 37, 29)
    geoms = [g for g in random_polygons(grid, 40, seed=3) if shapely.is_valid(g)]  # invalid: exactextract's
    assert len(geoms) > 30
    xmin, ymin, xmax, ymax = grid.bounds
    geoms += [
        box(xmin - 1e6, ymin - 1e6, xmax + 1e6, ymax + 1e6),  # far larger than the grid: every pixel is 1
        box(xmin + 0.35, ymin + 0.2, xmin + 0.36, ymax + 5),  # a sliver thinner than a pixel
        box(xmin, ymin, xmin + 2 * 0.7, ymin + 3 * 0.9),  # on pixel edges exactly
        shapely.LineString([(xmin - 3, ymax + 2), (xmax + 1, ymin - 4)]).buffer(0.2),  # long, thin, diagonal
    ]
    c = coverage(geoms, grid, "weighted")
    expected = _shapely_fractions(geoms, grid)
    got = _dense(c, len(geoms), grid.width * grid.height)
    np.testing.assert_allclose(got, expected, rtol=1e-7, atol=1e-12)
    assert (c.weight.astype("f4") == c.weight).all()  # float32 values, as exactextract stores them


def test_weighted_invalid_polygon_falls_back_to_exactextract():
    """A self-intersecting polygon is weighted as exactextract does (overlapping parts capped at 1)."""
    from exactextract import exact_extract
    from exactextract.raster import NumPyRasterSource

    grid = Grid(CRS, Affine(1, 0, 0, 0, -1, 4), 4, 4)
    bowtie = Polygon([(0, 0), (4, 4), (4, 0), (0, 4)])
    assert not shapely.is_valid(bowtie)
    c = coverage([bowtie, box(0.5, 0.5, 2.5, 2.5)], grid, "weighted")
    src = NumPyRasterSource(np.zeros(grid.shape, np.uint8), *grid.bounds)
    out = exact_extract(
        src, [{"type": "Feature", "properties": {}, "geometry": bowtie.__geo_interface__}], ["cell_id", "coverage"]
    )
    cells, cover = np.asarray(out[0]["properties"]["cell_id"]), np.asarray(out[0]["properties"]["coverage"])
    sel = c.feature == 0
    np.testing.assert_array_equal(c.pixel[sel], cells[cover > 0])
    np.testing.assert_array_equal(c.weight[sel], np.minimum(cover[cover > 0], 1))
    np.testing.assert_allclose(_dense(c, 2, 16)[1], _shapely_fractions([box(0.5, 0.5, 2.5, 2.5)], grid)[0])
