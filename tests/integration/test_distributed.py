"""The same reductions on a real ``distributed.LocalCluster`` (2 worker processes): results, graph, faults.

One cluster serves the whole module. Rasters are small (192² in 64² blocks, so each image is 9
blocks) to keep the module short. Results on the cluster are compared with dask's
threaded scheduler with ``==``: the graph fixes the order of every sum, so they are identical.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import signal
import threading
import time
from dataclasses import replace
from pathlib import Path

import cloudpickle
import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
import xarray as xr
from affine import Affine
from dask.base import collections_to_expr

import reducer as ee
import reducer.sources.files as sources
from reducer.engine import ReductionRequest, clear_weights_cache, plan_reduction
from reducer.errors import ArgumentError, InputFileError, ReducerError
from reducer.sources import READ_COUNTER
from tests.common import CRS, write_tif

distributed = pytest.importorskip("distributed")
Client = distributed.Client

# the scheduler's HTTP server (health, metrics) takes another port when 8787 is in use
pytestmark = pytest.mark.filterwarnings("ignore:Port 8787 is already in use")

SIZE = 192  # pixels per side
BLOCK = 64  # pixels per block side: 9 blocks per image
PIXEL = 10.0
X0, Y0 = 500000.0, 4000000.0  # upper-left corner
T = 3  # images
REDUCER = (
    ee.Reducer.mean()
    .combine(ee.Reducer.count(), sharedInputs=True)
    .combine(ee.Reducer.minMax(), sharedInputs=True)
    .combine(ee.Reducer.stdDev(), sharedInputs=True)
)


# -- fixtures ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        silence_logs=logging.CRITICAL,  # a failing task logs its traceback on the worker; the test checks it
    ) as c:
        yield c


@pytest.fixture(scope="module")
def client(cluster):
    """A client that is not the default one: tests choose where to run with set_options or a default Client."""
    with Client(cluster, set_as_default=False) as c:
        yield c


@pytest.fixture
def on(client):
    """``on(scheduler)``: a context manager that sets ``reducer.set_options(scheduler=...)`` and restores it."""

    @contextlib.contextmanager
    def use(scheduler):
        old = ee.set_options(scheduler=scheduler, progress=False)
        try:
            yield
        finally:
            ee.set_options(**old)

    return use


def _write_images(folder: Path, n: int, seed: int = 0) -> list[str]:
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for t in range(n):
        data = rng.integers(0, 10000, (SIZE, SIZE)).astype("uint16")
        data[:8, :] = 65535  # a nodata strip
        path = folder / f"img_2024-01-{t + 1:02d}.tif"
        write_tif(path, data, Affine(PIXEL, 0, X0, 0, -PIXEL, Y0), CRS, nodata=65535, tiled=True, blocksize=BLOCK)
        paths.append(str(path))
    return paths


def _collection(paths: list[str]) -> ee.ImageCollection:
    """Images read in BLOCK² blocks (the block size is fixed when an image is built)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(sources, "TARGET_BLOCK", BLOCK)
        return ee.ImageCollection(paths)


def _features(n_side: int = 6, size: float = 300.0) -> ee.FeatureCollection:
    """Squares on a lattice (overlapping block edges), two points, one square outside the rasters."""
    extent = SIZE * PIXEL
    step = extent / n_side
    geoms = [
        shapely.box(
            X0 + i * step + 7, Y0 - extent + j * step + 3, X0 + i * step + 7 + size, Y0 - extent + j * step + 3 + size
        )
        for i in range(n_side)
        for j in range(n_side)
    ]
    geoms += [shapely.Point(X0 + 15, Y0 - 1000), shapely.Point(X0 + 1234, Y0 - 1555)]
    geoms.append(shapely.box(X0 - 5000, Y0, X0 - 4000, Y0 + 1000))
    names = [f"f{k}" for k in range(len(geoms))]
    return ee.FeatureCollection(gpd.GeoDataFrame({"name": names}, geometry=geoms, crs=CRS))


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    paths = _write_images(tmp_path_factory.mktemp("dist"), T)
    return _collection(paths), _features()


def _outputs(ic: ee.ImageCollection, fc: ee.FeatureCollection, folder: Path) -> dict:
    """Every way out of a reduction: getInfo, pandas, xarray, an exported file, a chart, reduceRegion."""
    out = ic.reduceRegions(fc, REDUCER, scale=PIXEL)
    info = out.getInfo()  # computes once; the frames below come from the same result
    path = ee.export_table(ic.reduceRegions(fc, REDUCER, scale=PIXEL), folder / "stats.csv", overwrite=True)
    chart = ee.ui.Chart.image.seriesByRegion(ic, fc, ee.Reducer.mean(), scale=PIXEL, seriesProperty="name")
    return {
        "info": info,
        "pandas": out.to_pandas(),
        "xarray": out.to_xarray(),
        "csv": path.read_bytes(),
        "chart": chart.to_pandas(),
        "region": ic.first().reduceRegion(REDUCER, fc.geometry(), scale=PIXEL).getInfo(),
    }


@pytest.fixture(scope="module")
def reference(data, tmp_path_factory):
    """Results on dask's threaded scheduler."""
    old = ee.set_options(scheduler="threads", progress=False)
    try:
        return _outputs(*data, tmp_path_factory.mktemp("threads"))
    finally:
        ee.set_options(**old)


def _worker_reads(client) -> int:
    def reads() -> int:
        from reducer.sources import READ_COUNTER

        return READ_COUNTER.reads

    return sum(client.run(reads).values())


# -- results on the cluster -------------------------------------------------------------------------


def test_default_client_runs_getinfo_exports_and_charts_identically(cluster, data, reference, tmp_path):
    ic, fc = data
    with Client(cluster) as c:  # the default client, as a user script makes it
        local, remote = READ_COUNTER.reads, _worker_reads(c)
        got = _outputs(ic, fc, tmp_path)
        assert READ_COUNTER.reads == local, "pixels were read in this process, not on the workers"
        # every block was read on the workers at least once. Not necessarily 3 times (getInfo, the export,
        # the chart): in one full-suite run the workers counted 63 reads, not 81, with no worker restarted and
        # the same answers; alone the module counts 27 per computation. Probably the export's graph, whose
        # keys equal the getInfo's, found some still held by the scheduler while the client released them.
        assert _worker_reads(c) - remote >= T * (SIZE // BLOCK) ** 2
    assert got["info"] == reference["info"]
    pd.testing.assert_frame_equal(got["pandas"], reference["pandas"], check_exact=True)
    xr.testing.assert_identical(got["xarray"], reference["xarray"])
    assert got["csv"] == reference["csv"]
    pd.testing.assert_frame_equal(got["chart"], reference["chart"], check_exact=True)
    assert got["region"] == reference["region"]
    values = [f["properties"]["mean"] for f in got["info"]["features"]]
    assert sum(v is not None for v in values) > 0 and sum(v is None for v in values) == T  # the outside square


def test_set_options_scheduler_chooses_where_it_runs(cluster, client, data, reference, on):
    ic, fc = data
    with pytest.raises(ValueError):
        distributed.default_client()  # no client is active: threads
    local, remote = READ_COUNTER.reads, _worker_reads(client)
    assert ic.reduceRegions(fc, REDUCER, scale=PIXEL).getInfo() == reference["info"]
    assert READ_COUNTER.reads > local and _worker_reads(client) == remote

    local = READ_COUNTER.reads
    with on(client):  # a client that is not the default one
        assert ic.reduceRegions(fc, REDUCER, scale=PIXEL).getInfo() == reference["info"]
    assert READ_COUNTER.reads == local and _worker_reads(client) > remote

    remote = _worker_reads(client)
    with Client(cluster), on("threads"):  # a default client is active, but the option wins
        assert ic.reduceRegions(fc, REDUCER, scale=PIXEL).getInfo() == reference["info"]
    assert READ_COUNTER.reads > local and _worker_reads(client) == remote


def test_a_deep_band_math_chain_runs_on_the_cluster(client, data, on):
    # past algebra._SEGMENT operations a band's segment is one fused task per block: it ships and runs
    ic, fc = data
    img = ic.first()
    acc = img
    for _ in range(300):
        acc = acc.add(img).multiply(0.5).subtract(1)
    reducer = ee.Reducer.mean()
    local = acc.reduceRegion(reducer, fc.geometry(), scale=PIXEL).getInfo()
    with on(client):
        remote = acc.reduceRegion(reducer, fc.geometry(), scale=PIXEL).getInfo()
    assert remote == local and local["B1"] is not None


# -- the graph -------------------------------------------------------------------------------------


def _plan(ic: ee.ImageCollection, fc: ee.FeatureCollection):
    gdf = fc._gdf()
    geoms = np.asarray(gdf.geometry.values, dtype=object)
    return plan_reduction(ReductionRequest(ic.rasters, REDUCER, PIXEL), geoms, gdf.crs)


def _graph(plan) -> dict:
    return dict(collections_to_expr(plan.graph(), optimize_graph=False).__dask_graph__())


WEIGHT_KEYS = ("weights-", "coverage-")  # a block's weights, and the coverage batches they are cut from


def _graph_sizes(paths: list[str], fc: ee.FeatureCollection) -> dict:
    """Pickled sizes of the graph for 1, 2 and 8 images, as the client ships it (cloudpickle)."""
    out: dict = {"total": {}, "weights": {}, "weight_keys": {}}
    clear_weights_cache()  # weights kept from earlier tests would be in the graph as values
    for n in (1, 2, 8):
        plan = _plan(_collection(paths[:n]), fc)
        graph = _graph(plan)
        out["total"][n] = len(cloudpickle.dumps(graph))  # no open file, nothing unpicklable
        weight_keys = [k for k in graph if isinstance(k, str) and k.startswith(WEIGHT_KEYS)]
        # one weights key per (block, coverage mode) and one coverage key per (batch, mode), shared by
        # every image on the grid
        blocks = {(b, m) for ip in plan.images for b in ip.touched for m in ip.kinds}
        batches = {(h, m) for ip in plan.images for h in ip.homes for m in ip.kinds}
        assert len(weight_keys) == len(blocks) + len(batches)
        out["weight_keys"][n] = len(weight_keys)
        out["weights"][n] = sum(len(cloudpickle.dumps(graph[k])) for k in weight_keys)
        if n == 8:
            out["largest_other"] = max(len(cloudpickle.dumps(graph[k])) for k in graph if k not in weight_keys)
    return out


def test_graph_grows_with_images_and_blocks_not_with_features_times_images(tmp_path):
    """T=2 -> T=8 adds six images' worth of tasks; the weights (or what makes them) are in the graph once."""
    paths = _write_images(tmp_path, 8)
    few = _graph_sizes(paths, _features(n_side=6, size=300.0))  # 36 squares (+3)
    many = _graph_sizes(paths, _features(n_side=32, size=40.0))  # 1,024 small squares (+3)
    for g in (few, many):
        assert g["weight_keys"][1] == g["weight_keys"][2] == g["weight_keys"][8]
        assert g["weights"][1] == g["weights"][2] == g["weights"][8]
        per_image = g["total"][2] - g["total"][1]
        growth = g["total"][8] - g["total"][2]
        assert 0.8 * 6 * per_image < growth < 1.25 * 6 * per_image
    print(
        f"graph bytes, 1,027 features: T=1 {many['total'][1]:,} T=2 {many['total'][2]:,} T=8 {many['total'][8]:,}; "
        f"weights {many['weights'][8]:,} in {many['weight_keys'][8]} keys"
    )
    # what an image adds does not depend on the number of features, and is far less than the weights
    per_image_few = few["total"][2] - few["total"][1]
    per_image_many = many["total"][2] - many["total"][1]
    assert abs(per_image_many - per_image_few) < 0.1 * per_image_few
    assert many["total"][8] - many["total"][2] < 0.5 * many["weights"][8]
    assert many["weights"][8] > 4 * few["weights"][8]
    # no task besides the weights carries per-feature data
    assert many["largest_other"] < 1.1 * few["largest_other"]


def test_memory_per_task_does_not_grow_with_images(tmp_path):
    paths = _write_images(tmp_path, 8)
    fc = _features()
    small = _plan(_collection(paths[:2]), fc).explain()
    large = _plan(_collection(paths), fc).explain()
    assert large["peak_task_memory_bytes"] == small["peak_task_memory_bytes"]
    assert large["peak_task_memory_bytes"] < 2 * BLOCK * BLOCK * 4 + 8 * 64 * large["features"] + 2**20
    assert large["blocks_to_read"] == 4 * small["blocks_to_read"]
    assert large["weight_entries"] == small["weight_entries"]


# -- failures --------------------------------------------------------------------------------------


def test_corrupt_file_raises_input_file_error_naming_it_across_the_cluster(client, tmp_path, on):
    paths = _write_images(tmp_path, 2, seed=3)
    ic = _collection(paths)  # headers read now, while the files are whole
    os.truncate(paths[1], os.path.getsize(paths[1]) // 2)
    fc = ee.FeatureCollection(gpd.GeoDataFrame(geometry=[shapely.box(X0, Y0 - SIZE * PIXEL, X0 + 2560, Y0)], crs=CRS))
    with on(client), pytest.raises(InputFileError) as info:
        ic.reduceRegions(fc, ee.Reducer.mean(), scale=PIXEL).getInfo()
    assert isinstance(info.value, ReducerError) and isinstance(info.value, OSError)
    assert paths[1] in str(info.value) and "cannot read pixels" in str(info.value)
    # GDAL's own reason crosses the cluster in the message (issue 16), not "See previous exception"
    assert "See previous exception" not in str(info.value)
    assert re.search(r"(?i)TIFF|read error|IReadBlock|failed", str(info.value).split("):", 1)[-1]), str(info.value)
    with on("threads"), pytest.raises(InputFileError, match="cannot read pixels"):
        ic.reduceRegions(fc, ee.Reducer.mean(), scale=PIXEL).getInfo()
    assert len(client.run(os.getpid)) == 2  # the cluster is still whole


def _slowed(image: ee.Image, seconds: float) -> ee.Image:
    """The same image, each block sleeping ``seconds`` after it is read (a slow map over images)."""

    def slow(fn):
        def on_grid(grid, resampling):
            def sleepy(block):
                time.sleep(seconds)
                return block

            arr = fn(grid, resampling)
            return arr.map_blocks(sleepy, dtype=arr.dtype)

        return on_grid

    return ee.Image(image.raster.with_bands([replace(b, fn=slow(b.fn)) for b in image.raster.bands]))


def test_killed_worker_gives_the_same_complete_result(cluster, client, data, reference, on):
    ic, fc = data
    slow = ic.map(lambda image: _slowed(image, 0.08))  # 27 blocks: ~1.1 s on two workers
    out = slow.reduceRegions(fc, REDUCER, scale=PIXEL)
    result: dict = {}

    def run():
        try:
            result["info"] = out.getInfo()
        except BaseException as exc:  # pragma: no cover - reported below
            result["error"] = exc

    pids = client.run(os.getpid)
    start = _worker_reads(client)
    with on(client):
        thread = threading.Thread(target=run)
        thread.start()
        deadline = time.monotonic() + 30
        while _worker_reads(client) - start < 6 and time.monotonic() < deadline:
            time.sleep(0.02)
        victim = sorted(pids)[0]
        assert thread.is_alive(), "the reduction finished before a worker could be killed"
        os.kill(pids[victim], signal.SIGKILL)
        thread.join(timeout=60)
    assert not thread.is_alive() and "error" not in result, result.get("error")
    client.wait_for_workers(2, timeout=30)
    assert pids[victim] not in client.run(os.getpid).values()  # the worker did die (and was restarted)

    info = result["info"]
    assert info == reference["info"]
    ids = [f["id"] for f in info["features"]]
    feature_ids = fc.aggregate_array("system:index").getInfo()
    image_ids = [raster.properties["system:index"] for raster in ic.rasters]
    assert len(ids) == len(set(ids)) == T * len(feature_ids)
    assert set(ids) == {f"{i}_{f}" for i in image_ids for f in feature_ids}


# -- explain ----------------------------------------------------------------------------------------


def test_explain_plans_without_reading_pixels(client, data, reference, on):
    ic, fc = data
    reads = READ_COUNTER.reads
    out = ic.reduceRegions(fc, REDUCER, scale=PIXEL)
    with on(client):
        plan = out.explain()
    assert READ_COUNTER.reads == reads
    d = plan.to_dict()
    assert d["images"] == T and d["grids"] == 1 and d["features"] == len(fc._gdf())
    assert d["blocks_total"] == T * (SIZE // BLOCK) ** 2 and 0 < d["blocks_to_read"] <= d["blocks_total"]
    assert d["bytes_to_read"] == d["blocks_to_read"] * BLOCK * BLOCK * 4
    assert d["tasks"] > d["blocks_to_read"] + T and d["weight_entries"] > 0 and d["peak_task_memory_bytes"] > 0
    assert "distributed" in d["scheduler"]
    text = repr(plan)
    for word in ("images", "grids", "features", "blocks to read", "tasks", "peak memory/task", "EPSG:32633"):
        assert word in text
    assert out.getInfo() == reference["info"]  # explain() leaves the result as it was

    single = ic.first().reduceRegions(fc, ee.Reducer.mean(), scale=PIXEL).explain()
    assert single["images"] == 1 and "dask threads" in str(single)
    with pytest.raises(ArgumentError, match="not the result of reduceRegions"):
        fc.explain()
    with pytest.raises(ArgumentError, match="not the result of reduceRegions"):
        out.filter(ee.Filter.eq("name", "f1")).explain()
