"""Reading only the tiles features touch: the tile mask (touched_tiles) and the reads of a block (tile_rects)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import shapely
from affine import Affine
from rasterio.features import rasterize

from reducer.engine import touched_tiles
from reducer.grid import Grid
from reducer.raster import FileReader, constant_band, file_band, tile_rects
from tests.common import write_tif


def _pixels(rects, window):
    """The set of grid pixels the rectangles cover, checking that they do not overlap."""
    r0, c0, _, _ = window
    seen = np.zeros((window[2], window[3]), int)
    for rr, cc, hh, ww in rects:
        assert hh > 0 and ww > 0
        seen[rr : rr + hh, cc : cc + ww] += 1
    assert seen.max(initial=0) <= 1, "rectangles overlap"
    rows, cols = np.nonzero(seen)
    return set(zip((rows + r0).tolist(), (cols + c0).tolist(), strict=True))


@pytest.mark.parametrize("seed", range(20))
def test_tile_rects_cover_exactly_the_touched_tiles_of_the_window(seed):
    rng = np.random.default_rng(seed)
    th, tw = int(rng.integers(1, 6)), int(rng.integers(1, 6))
    h, w = int(rng.integers(1, 40)), int(rng.integers(1, 40))
    mask = rng.random((-(-h // th), -(-w // tw))) < rng.choice([0.1, 0.5, 0.9, 1.0])
    r0, c0 = int(rng.integers(0, h)), int(rng.integers(0, w))
    window = (r0, c0, int(rng.integers(1, h - r0 + 1)), int(rng.integers(1, w - c0 + 1)))
    rects = tile_rects(mask, (th, tw), window)
    # brute force: every pixel of the window whose tile is marked
    expected = {
        (r, c)
        for r in range(window[0], window[0] + window[2])
        for c in range(window[1], window[1] + window[3])
        if mask[r // th, c // tw]
    }
    assert _pixels(rects, window) == expected
    tiles_in_window = mask[r0 // th : (r0 + window[2] - 1) // th + 1, c0 // tw : (c0 + window[3] - 1) // tw + 1]
    if tiles_in_window.all():
        assert rects == [(0, 0, window[2], window[3])]  # a dense window: one read
    # each rectangle starts and ends on tile edges or the window's
    for rr, cc, hh, ww in rects:
        for a, b, t, lo, n in ((rr, hh, th, r0, window[2]), (cc, ww, tw, c0, window[3])):
            assert (a + lo) % t == 0 or a == 0
            assert (a + b + lo) % t == 0 or a + b == n


def _polygons(rng, n, extent):
    out = []
    for _ in range(n):
        cx, cy = rng.uniform(0, extent, 2)
        r = rng.uniform(0.3, extent / 4)
        m = int(rng.integers(3, 9))
        ang = np.sort(rng.uniform(0, 2 * np.pi, m))
        rad = r * rng.uniform(0.2, 1.0, m)
        poly = shapely.Polygon(np.c_[cx + rad * np.cos(ang), cy + rad * np.sin(ang)]).buffer(0)
        if not poly.is_empty:
            out.append(poly)
    return np.array(out, dtype=object)


@pytest.mark.parametrize("seed", range(8))
def test_touched_tiles_between_exact_intersection_and_one_pixel_around(seed):
    """Every tile whose inside a geometry meets is marked, and no tile farther than one pixel (diagonally) from all."""
    rng = np.random.default_rng(seed)
    g = Grid("EPSG:32633", Affine(2, 0, 1000, 0, -2, 5000), 61, 47)  # 2 m pixels, partial edge tiles
    geoms = _polygons(rng, 12, 90.0)
    geoms = np.array([shapely.affinity.translate(x, 1000, 5000 - 94) for x in geoms], dtype=object)
    tile = (int(rng.integers(3, 12)), int(rng.integers(3, 12)))
    mask = touched_tiles(geoms, g, tile)
    th, tw = tile
    assert mask.shape == (-(-g.height // th), -(-g.width // tw))
    for i in range(mask.shape[0]):
        for j in range(mask.shape[1]):
            x0, x1 = 1000 + 2 * j * tw, 1000 + 2 * min((j + 1) * tw, g.width)
            y1, y0 = 5000 - 2 * i * th, 5000 - 2 * min((i + 1) * th, g.height)
            box = shapely.box(x0, y0, x1, y1)
            if shapely.relate_pattern(geoms, box, "T********").any():  # interiors meet
                assert mask[i, j], (i, j)
            if mask[i, j]:
                assert shapely.dwithin(geoms, box, 1.5 * 2 * np.sqrt(2)).any(), (i, j)


def test_touched_tiles_hold_every_pixel_a_feature_touches():
    """rasterio's all-touched burn (an independent rasterizer) never finds a pixel outside the marked tiles."""
    rng = np.random.default_rng(5)
    g = Grid("EPSG:32633", Affine(1, 0, 0, 0, -1, 100), 100, 100)
    geoms = _polygons(rng, 30, 100.0)
    mask = touched_tiles(geoms, g, (8, 8))
    burnt = rasterize([(x, 1) for x in geoms], out_shape=(100, 100), transform=g.transform, all_touched=True)
    rows, cols = np.nonzero(burnt)
    assert mask[rows // 8, cols // 8].all()
    assert not mask.all()  # sparse enough to mean something


def test_touched_tiles_of_a_huge_feature_is_its_bounding_box(monkeypatch):
    import reducer.engine as engine

    g = Grid("EPSG:32633", Affine(1, 0, 0, 0, -1, 16), 16, 16)
    ell = shapely.union(shapely.box(0.5, 0.5, 15.5, 1.5), shapely.box(0.5, 0.5, 1.5, 15.5))
    assert touched_tiles(np.array([ell]), g, (4, 4)).sum() == 7
    monkeypatch.setattr(engine, "_MAX_TILE_TESTS", 4)  # more tiles than this: no geometry test
    assert touched_tiles(np.array([ell]), g, (4, 4)).all()


def test_empty_and_outside_features_touch_no_tile():
    g = Grid("EPSG:32633", Affine(1, 0, 0, 0, -1, 8), 8, 8)
    geoms = np.array([None, shapely.Polygon(), shapely.box(20, 20, 30, 30)], dtype=object)
    assert not touched_tiles(geoms, g, (4, 4)).any()


def test_a_band_reader_is_its_file_bands_own(tmp_path):
    import reducer as ee

    path = write_tif(tmp_path / "a.tif", np.arange(12, dtype="float32").reshape(3, 4))
    band = ee.Image(str(path)).raster.bands[0]
    assert isinstance(band.reader, FileReader)
    assert band.reader.read((1, 1, 2, 2)).tolist() == [[5.0, 6.0], [9.0, 10.0]]
    assert band.renamed("x").reader is band.reader  # the same pixels under another name
    # a band whose pixel function was replaced is no longer the file's: no reader
    assert replace(band, fn=lambda grid, resampling: band.fn(grid, resampling) * 2).reader is None
    assert constant_band("c", 1).reader is None
    assert file_band("a", "float32", lambda: None, band.grid).reader is None


def test_explain_of_a_resampled_image_counts_blocks_not_tiles(tmp_path):
    """On another grid than its file's, an image is read by blocks of that grid: no file tile is counted."""
    import geopandas as gpd

    import reducer as ee
    from tests.common import CRS, ORIGIN

    path = write_tif(tmp_path / "a.tif", np.arange(9, dtype="float32").reshape(3, 3))
    fc = ee.FeatureCollection(
        gpd.GeoDataFrame(geometry=[shapely.box(ORIGIN[0], ORIGIN[1] - 2, ORIGIN[0] + 2, ORIGIN[1])], crs=CRS)
    )
    native = ee.Image(str(path)).reduceRegions(fc, ee.Reducer.mean()).explain()
    finer = ee.Image(str(path)).reduceRegions(fc, ee.Reducer.mean(), scale=0.5).explain()
    assert native["tiles_to_read"] == 1 and native["bytes_to_read"] == 3 * 3 * 4  # the file is one strip of 3 rows
    assert finer["tiles_to_read"] == 0 and finer["blocks_to_read"] == finer["blocks_total"] == 1
    assert finer["bytes_to_read"] == 6 * 6 * 8
