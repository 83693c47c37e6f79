"""The engine: requests, plans (blocks, shared weights) and reductions, against hand and numpy oracles."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from affine import Affine
from dask.base import tokenize
from hypothesis import given
from hypothesis import strategies as st

import reducer as ee
from reducer.engine import ReductionRequest, assign_blocks, plan_reduction, reduce_images
from reducer.errors import MaxPixelsError
from reducer.grid import Grid
from reducer.sources import open_raster
from tests.common import CRS, OUTSIDE, SQUARE, TOP_LEFT, VALUES_3x3, write_tif


@pytest.fixture
def raster(tmp_path):
    return open_raster(write_tif(tmp_path / "v.tif", VALUES_3x3))


def _geoms(*shapes):
    return np.array(list(shapes), dtype=object)


def test_request_tokens_follow_what_determines_the_result(raster):
    a = ReductionRequest((raster,), ee.Reducer.mean(), scale=10)
    assert tokenize(a) == tokenize(ReductionRequest((raster,), ee.Reducer.mean(), scale=10))
    assert tokenize(a) != tokenize(ReductionRequest((raster,), ee.Reducer.mean(), scale=20))
    assert tokenize(a) != tokenize(ReductionRequest((raster,), ee.Reducer.max(), scale=10))
    assert ReductionRequest((raster,), ee.Reducer.mean(), crs_transform=[1, 0, 0, 0, -1, 0]).crs_transform == (
        1.0,
        0.0,
        0.0,
        0.0,
        -1.0,
        0.0,
    )


def _oracle_weighted_mean(shape):
    """Brute force: each pixel's covered fraction from shapely, then sum(w v) / sum(w)."""
    w = np.zeros((3, 3))
    for r in range(3):
        for c in range(3):
            cell = shapely.box(500000 + c, 4000003 - r - 1, 500000 + c + 1, 4000003 - r)
            w[r, c] = shape.intersection(cell).area
    return float((w * VALUES_3x3).sum() / w.sum())


def _oracle_centre_mean(shape):
    v = [
        VALUES_3x3[r, c]
        for r in range(3)
        for c in range(3)
        if shape.contains(shapely.Point(500000 + c + 0.5, 4000003 - r - 0.5))
    ]
    return float(np.mean(v))


def test_reduce_images_matches_the_oracles(raster):
    geoms = _geoms(SQUARE, TOP_LEFT, OUTSIDE)
    [(columns, values)] = reduce_images(ReductionRequest((raster,), ee.Reducer.mean()), geoms, CRS)
    assert [c.name for c in columns] == ["mean"]
    assert values["mean"][0] == pytest.approx(_oracle_weighted_mean(SQUARE), rel=1e-7) == pytest.approx(5.0)
    assert values["mean"][1] == pytest.approx(_oracle_weighted_mean(TOP_LEFT), rel=1e-7)
    assert np.isnan(values["mean"][2])
    [(_, unweighted)] = reduce_images(ReductionRequest((raster,), ee.Reducer.mean().unweighted()), geoms, CRS)
    assert unweighted["mean"][1] == _oracle_centre_mean(TOP_LEFT) == 3.0


def test_plan_reads_only_touched_blocks_and_shares_weights_across_images(tmp_path, monkeypatch):
    monkeypatch.setattr("reducer.sources.files.TARGET_BLOCK", 16)
    values = np.arange(64 * 64, dtype="float32").reshape(64, 64)
    transform = Affine(1, 0, 0, 0, -1, 64)
    paths = [write_tif(tmp_path / f"t{k}.tif", values + k, transform, tiled=True, blocksize=16) for k in range(3)]
    rasters = tuple(open_raster(p) for p in paths)
    # one small feature in the top-left block and one across the four centre blocks
    geoms = _geoms(shapely.box(0.2, 60.2, 1.8, 63.8), shapely.box(30, 30, 34, 34))
    plan = plan_reduction(ReductionRequest(rasters, ee.Reducer.mean()), geoms, "EPSG:32633")
    assert len(plan.images) == 3 and len({ip.key for ip in plan.images}) == 1  # one weights key for all
    assert plan.images[0].touched == [(0, 0), (1, 1), (1, 2), (2, 1), (2, 2)]  # of 4 x 4 blocks
    info = plan.explain()
    assert info["images"] == 3 and info["grids"] == 1 and info["blocks_to_read"] == 3 * 5
    [(_, got)] = reduce_images(ReductionRequest(rasters[:1], ee.Reducer.mean().unweighted()), geoms, "EPSG:32633")
    # oracle: centre-in pixels of each box, straight from the array
    assert got["mean"].tolist() == [values[0:4, 0:2].mean(), values[30:34, 30:34].mean()]


def test_max_pixels_is_enforced_in_planning(raster):
    with pytest.raises(MaxPixelsError, match="Found 4, but maxPixels allows only 3"):
        plan_reduction(ReductionRequest((raster,), ee.Reducer.mean(), max_pixels=3), _geoms(SQUARE), CRS)


@given(
    boxes=st.lists(
        st.tuples(st.floats(-2, 9), st.floats(-2, 9), st.floats(0.1, 4), st.floats(0.1, 4)), min_size=1, max_size=8
    ),
    step=st.integers(1, 4),
)
def test_assign_blocks_equals_brute_force(boxes, step):
    grid = Grid("EPSG:32633", Affine(1, 0, 0, 0, -1, 8), 8, 8)
    chunks = (tuple([step] * (8 // step) + ([8 % step] if 8 % step else [])),) * 2
    geoms = _geoms(*[shapely.box(x, y, x + w, y + h) for x, y, w, h in boxes])
    got = {k: sorted(v.tolist()) for k, v in assign_blocks(geoms, grid, chunks).items()}
    edges = np.concatenate([[0], np.cumsum(chunks[0])])
    expected: dict[tuple[int, int], list[int]] = {}
    for i in range(len(chunks[0])):
        for j in range(len(chunks[1])):
            # block (i, j) spans rows edges[i]..edges[i+1], i.e. y from 8 - edges[i+1] to 8 - edges[i]
            block = shapely.box(edges[j], 8 - edges[i + 1], edges[j + 1], 8 - edges[i])
            hits = []
            for f, g in enumerate(geoms):
                x0, y0, x1, y1 = g.bounds
                # the pixels the box's bounds reach (a bound on a pixel edge does not reach the next pixel)
                c0, c1 = np.floor(x0), np.ceil(x1) - 1
                r0, r1 = np.floor(8 - y1), np.ceil(8 - y0) - 1
                c0, c1, r0, r1 = max(c0, 0), min(c1, 7), max(r0, 0), min(r1, 7)
                if c0 > c1 or r0 > r1:
                    continue
                pix = shapely.box(c0, 8 - r1 - 1, c1 + 1, 8 - r0)
                if pix.intersection(block).area > 0:
                    hits.append(f)
            if hits:
                expected[(i, j)] = hits
    assert got == expected


def test_each_feature_is_covered_once_and_weights_are_compact(tmp_path, monkeypatch):
    """A feature over many blocks is covered once (in its home block's batch); answers match a brute force."""
    from reducer import engine
    from reducer.coverage import coverage as real_coverage

    rng = np.random.default_rng(3)
    vals = rng.uniform(0, 100, (64, 64)).astype("float32")
    t = Affine(1, 0, 500000, 0, -1, 4000064)
    monkeypatch.setattr("reducer.sources.files.TARGET_BLOCK", 16)
    raster = open_raster(write_tif(tmp_path / "big.tif", vals, transform=t, tiled=True, blocksize=16))
    shapes = [
        shapely.box(500003.3, 4000010.2, 500050.7, 4000061.1),
        shapely.box(500020.5, 4000020.5, 500021.5, 4000021.5),
    ]
    seen: list[int] = []

    def counting(geoms, grid, mode="weighted"):
        seen.extend([1] * len(geoms))
        return real_coverage(geoms, grid, mode)

    monkeypatch.setattr(engine, "coverage", counting)
    engine.clear_weights_cache()
    req = ReductionRequest((raster,), ee.Reducer.mean())
    plan = plan_reduction(req, _geoms(*shapes), CRS)
    assert len(plan.images[0].blocks) > 4  # the big box spans many 16 x 16 blocks
    [(_, got)] = reduce_images(req, _geoms(*shapes), CRS)
    assert len(seen) == 2  # one coverage per feature, not one per block it meets
    for k, shape in enumerate(shapes):  # brute force: shapely's covered fraction of each pixel
        w = np.zeros((64, 64))
        for r in range(64):
            for c in range(64):
                w[r, c] = shape.intersection(shapely.box(500000 + c, 4000063 - r, 500001 + c, 4000064 - r)).area
        assert got["mean"][k] == pytest.approx(float((w * vals).sum() / w.sum()), rel=1e-6)
    kept = [v for v, _ in engine._WEIGHTS.values()]
    assert kept and all(bw.pixel.dtype == np.uint32 and bw.weight.dtype == np.float32 for bw in kept)
    # a second reduction reuses the weights: its graph holds no coverage task, and no coverage runs
    seen.clear()
    graph = dict(plan_reduction(req, _geoms(*shapes), CRS).graph()[0].__dask_graph__())
    assert not [k for k in graph if isinstance(k, str) and k.startswith("coverage-")]
    [(_, again)] = reduce_images(req, _geoms(*shapes), CRS)
    assert seen == [] and np.array_equal(again["mean"], got["mean"])


def test_fine_scale_on_coarse_raster_resamples_only_touched_windows(tmp_path):
    """Two points on a 1.5 degree raster at scale=10 in EPSG:4326: a 16,698² grid, of which two windows are built."""
    n = 150
    vals = np.arange(n * n, dtype="float32").reshape(n, n)
    path = write_tif(tmp_path / "coarse.tif", vals, transform=Affine(0.01, 0, 14, 0, -0.01, 48), crs="EPSG:4326")
    raster = open_raster(path)
    pts = _geoms(shapely.Point(14.2031, 47.7012), shapely.Point(15.3017, 46.6523))
    req = ReductionRequest((raster,), ee.Reducer.mean(), scale=10, crs="EPSG:4326")
    plan = plan_reduction(req, pts, "EPSG:4326")
    ip = plan.images[0]
    assert ip.grid.shape[0] > 16000 and ip.stack is None and len(ip.touched) == 2
    graph = dict(plan.graph()[0].__dask_graph__())
    assert len(graph) < 40  # a handful of tasks per touched window, none for the other ~270 windows
    [(_, got)] = reduce_images(req, pts, "EPSG:4326")
    # brute force: the target pixel holding each point, and the source pixel holding that pixel's centre
    t = ip.grid.transform
    expect = []
    for p in pts:
        col, row = np.floor((p.x - t.c) / t.a), np.floor((p.y - t.f) / t.e)
        cx, cy = t.c + (col + 0.5) * t.a, t.f + (row + 0.5) * t.e
        expect.append(vals[int(np.floor((48 - cy) / 0.01)), int(np.floor((cx - 14) / 0.01))])
    assert got["mean"].tolist() == expect


@pytest.mark.parametrize("scheduler", [None, "synchronous", "threads"])
def test_a_reduction_without_a_client_does_not_import_distributed(tmp_path, scheduler):
    # dask.compute imports distributed to look for a client unless told the scheduler; none can exist
    # while distributed is not imported, and importing it costs a quarter of a second
    import subprocess
    import sys

    path = write_tif(tmp_path / "a.tif", VALUES_3x3)
    script = (
        "import sys, dask, reducer as ee, shapely\n"
        f"ee.set_options(scheduler={scheduler!r})\n"
        "from reducer.engine import ReductionRequest, reduce_images\n"
        "from reducer.sources import open_raster\n"
        "import numpy as np\n"
        f"req = ReductionRequest((open_raster({str(path)!r}),), ee.Reducer.mean())\n"
        f"geoms = np.array([shapely.from_wkt({SQUARE.wkt!r})], dtype=object)\n"
        f"[(cols, vals)] = reduce_images(req, geoms, {CRS!r})\n"
        "print(float(vals['mean'][0]), 'distributed' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout.split()
    assert out[1] == "False"
    [(_, vals)] = reduce_images(
        ReductionRequest((open_raster(str(path)),), ee.Reducer.mean()), np.array([SQUARE], dtype=object), CRS
    )
    assert float(out[0]) == pytest.approx(float(vals["mean"][0]))
