"""A sparse job reads only the files' internal tiles that features touch, and answers as exactextract does."""

from __future__ import annotations

import threading

import geopandas as gpd
import numpy as np
import pytest
import shapely
from affine import Affine

import reducer as ee
import reducer.sources.files as files
from reducer.sources import READ_COUNTER
from tests.common import write_tif

exactextract = pytest.importorskip("exactextract")

CRS = "EPSG:32633"
PIXEL = 10.0
X0, Y0 = 600000.0, 5000000.0
SIZE = 1100  # two blocks of 1024 and 76 a side; tiles of 256 (the last one 76)
TILE = 256
T = Affine(PIXEL, 0, X0, 0, -PIXEL, Y0)
REDUCER = (
    ee.Reducer.mean()
    .combine(ee.Reducer.sum(), sharedInputs=True)
    .combine(ee.Reducer.minMax(), sharedInputs=True)
    .combine(ee.Reducer.count(), sharedInputs=True)
)
OPS = ["mean", "sum", "min", "max", "count"]
WEIGHTED = OPS[:-1]  # count is centre-in (Earth Engine's), exactextract's is weighted


def _xy(col: float, row: float) -> tuple[float, float]:
    return X0 + col * PIXEL, Y0 - row * PIXEL


def _box(c0: float, r0: float, c1: float, r1: float) -> shapely.Polygon:
    (x0, y0), (x1, y1) = _xy(c0, r1), _xy(c1, r0)
    return shapely.box(x0, y0, x1, y1)


def _sparse_fields() -> gpd.GeoDataFrame:
    """A cluster inside the first block across two tiles, an L whose bounding box meets a tile its
    geometry does not, a star across the corner of the four blocks, one on the raster's last tile,
    one partly outside the raster."""
    rng = np.random.default_rng(3)
    geoms = [_box(100.3, 40.2, 300.7, 90.9), _box(120, 60, 180, 200)]
    ell = shapely.union(_box(530, 530, 760, 560), _box(530, 530, 560, 760))  # tiles (2,2), (2,2..)
    geoms.append(ell)
    ang = np.sort(rng.uniform(0, 2 * np.pi, 11))
    rad = rng.uniform(15, 40, 11)
    cx, cy = _xy(1024, 1024)
    geoms.append(shapely.Polygon(np.c_[cx + PIXEL * rad * np.cos(ang), cy + PIXEL * rad * np.sin(ang)]))
    geoms.append(_box(1060.5, 1070.25, 1090, 1099.5))
    geoms.append(_box(-20, 600, 12.5, 640))
    return gpd.GeoDataFrame({"fid": range(len(geoms))}, geometry=geoms, crs=CRS)


@pytest.fixture(scope="module")
def tif(tmp_path_factory):
    rng = np.random.default_rng(11)
    vals = rng.normal(100, 20, (SIZE, SIZE)).astype("float32")
    vals[rng.random((SIZE, SIZE)) < 0.05] = -9999
    vals[150:170, 120:160] = -9999  # a cloud under the first fields
    path = tmp_path_factory.mktemp("sparse") / "v.tif"
    return write_tif(path, vals, transform=T, nodata=-9999, tiled=True, blocksize=TILE)


@pytest.fixture
def spy(monkeypatch):
    """Every window read through the file readers built while it is active: (path, band, row, col, h, w)."""
    calls: list[tuple] = []
    lock = threading.Lock()
    real = files.read_window

    def read_window(path, band, window, *args, **kwargs):
        with lock:
            calls.append((str(path), band, *window))
        return real(path, band, window, *args, **kwargs)

    monkeypatch.setattr(files, "read_window", read_window)
    return calls


def _tiles(calls, tile: int = TILE) -> set[tuple[int, int]]:
    """The (tile row, tile col) the windows cover, checking that each window is made of whole tiles."""
    out = set()
    for _, _, r0, c0, h, w in calls:
        assert r0 % tile == 0 and c0 % tile == 0, "a read starts inside a tile"
        assert (r0 + h) % tile == 0 or r0 + h == SIZE, "a read ends inside a tile"
        assert (c0 + w) % tile == 0 or c0 + w == SIZE, "a read ends inside a tile"
        for i in range(r0 // tile, (r0 + h - 1) // tile + 1):
            for j in range(c0 // tile, (c0 + w - 1) // tile + 1):
                assert (i, j) not in out, "a tile read twice"
                out.add((i, j))
    return out


def _tile_box(i: int, j: int, tile: int) -> shapely.Polygon:
    return _box(j * tile, i * tile, min((j + 1) * tile, SIZE), min((i + 1) * tile, SIZE))


def _oracle_tiles(fields, tile: int = TILE) -> tuple[set, set]:
    """The tiles whose inside the fields' geometries meet (shapely), and those within 1.5 pixels of one.

    (A tile that a field only touches along its edge holds no pixel of the field's coverage.)
    """
    n = -(-SIZE // tile)
    geoms = np.asarray(fields.geometry.values, dtype=object)
    meet, near = set(), set()
    for i in range(n):
        for j in range(n):
            box = _tile_box(i, j, tile)
            if shapely.relate_pattern(geoms, box, "T********").any():
                meet.add((i, j))
            if shapely.dwithin(geoms, box, 1.5 * PIXEL).any():
                near.add((i, j))
    return meet, near


def _exactextract(path, fields):
    ref = exactextract.exact_extract(str(path), fields, OPS, output="pandas")
    empty = ref["count"].to_numpy() == 0
    return ref, empty


def test_sparse_job_reads_only_touched_tiles_and_agrees_with_exactextract(tif, spy):
    fields = _sparse_fields()
    image = ee.Image(str(tif))  # built under the spy: its reader reads through it
    out = image.reduceRegions(ee.FeatureCollection(fields), REDUCER)
    plan = out.explain()
    before = (READ_COUNTER.tiles, READ_COUNTER.pixels, READ_COUNTER.file_bytes)
    got = out.to_pandas()
    read = _tiles(spy)
    meet, near = _oracle_tiles(fields)
    assert meet <= read <= near
    assert len(read) < 0.5 * (-(-SIZE // TILE)) ** 2  # the job is sparse
    # the counter and the plan say the same, and count what was read
    assert READ_COUNTER.tiles - before[0] == len(read) == plan["tiles_to_read"]
    pixels = sum(h * w for *_, h, w in spy)
    assert READ_COUNTER.pixels - before[1] == pixels and plan["bytes_to_read"] == 4 * pixels
    assert READ_COUNTER.file_bytes - before[2] > 0
    assert plan["blocks_to_read"] == 4  # the corner star touches all four blocks
    assert "file tiles" in str(plan)

    ref, empty = _exactextract(tif, fields)
    assert empty.sum() == 0
    for k in WEIGHTED:
        np.testing.assert_allclose(got[k].astype(float), ref[k].astype(float), rtol=1e-9, err_msg=k)


def test_sparse_answers_equal_those_of_a_dense_read(tif):
    """Adding a field over the whole raster makes every tile read: the other fields' answers do not move."""
    fields = _sparse_fields()
    whole = gpd.GeoDataFrame({"fid": [99]}, geometry=[_box(0, 0, SIZE, SIZE)], crs=CRS)
    dense = gpd.GeoDataFrame(gpd.pd.concat([fields, whole], ignore_index=True), crs=CRS)
    image = ee.Image(str(tif))
    sparse = image.reduceRegions(ee.FeatureCollection(fields), REDUCER).to_pandas()
    full = image.reduceRegions(ee.FeatureCollection(dense), REDUCER).to_pandas()
    for k in OPS:
        np.testing.assert_array_equal(sparse[k].to_numpy(float), full[k].to_numpy(float)[: len(fields)], err_msg=k)


def test_dense_job_reads_each_block_at_once(tif, spy):
    rng = np.random.default_rng(8)
    geoms = [_box(c, r, c + 60, r + 60) for r, c in rng.uniform(0, SIZE - 60, (400, 2))]
    geoms += [_box(c, r, c + 40, r + 40) for r in range(0, SIZE, 128) for c in range(0, SIZE, 128)]
    fields = gpd.GeoDataFrame({"fid": range(len(geoms))}, geometry=geoms, crs=CRS)
    image = ee.Image(str(tif))
    got = image.reduceRegions(ee.FeatureCollection(fields), REDUCER).to_pandas()
    blocks = {(r, c, min(1024, SIZE - r), min(1024, SIZE - c)) for r in (0, 1024) for c in (0, 1024)}
    assert sorted(tuple(w) for _, _, *w in spy) == sorted(blocks)
    ref, empty = _exactextract(tif, fields)
    for k in WEIGHTED:
        ok = ~empty
        np.testing.assert_allclose(got[k][ok].astype(float), ref[k][ok].astype(float), rtol=1e-9, err_msg=k)


def test_bands_of_two_files_with_other_tiles_read_their_own_tiles(tif, tmp_path, spy):
    rng = np.random.default_rng(4)
    other = rng.integers(0, 1000, (SIZE, SIZE)).astype("uint16")
    path2 = write_tif(tmp_path / "w.tif", other, transform=T, nodata=0, tiled=True, blocksize=128)
    fields = _sparse_fields()
    image = ee.Image(str(tif)).addBands(ee.Image(str(path2)).rename("w"))
    got = image.reduceRegions(ee.FeatureCollection(fields), ee.Reducer.mean().forEachBand(image)).to_pandas()
    for path, tile in ((tif, TILE), (path2, 128)):  # each file in its own tiles, only those touched
        meet, near = _oracle_tiles(fields, tile)
        assert meet <= _tiles([c for c in spy if c[0] == str(path)], tile) <= near
    for name, path in (("B1", tif), ("w", path2)):
        ref, empty = _exactextract(path, fields)
        np.testing.assert_allclose(got[name].astype(float), ref["mean"].astype(float), rtol=1e-9, err_msg=name)
