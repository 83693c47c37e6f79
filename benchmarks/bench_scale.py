#!/usr/bin/env python
"""Scaling benchmark (issue #9): one reduction on threads, on 1 and 2 worker processes, and as features and images grow.

Usage (from the repository root, with the project's Python)::

    python benchmarks/bench_scale.py --small      # 10,000 features x 12 images; sweeps 1k-10k features, 4-12 images
    python benchmarks/bench_scale.py              # 100,000 features x 120 images; sweeps 1k-100k, 12-120 images
    python benchmarks/bench_scale.py --no-sweep   # the main workload only (threads, 1 worker, 2 workers)

Sweeps (features at the main number of images, images at the main number of features) run on threads
and on 2 workers.

The job is ``ImageCollection.reduceRegions(features, ee.Reducer.mean(), scale=10).to_xarray()``: every
(feature, image) mean, as a feature x time cube. Images are synthetic 1024² uint16 GeoTIFFs (deflate, 256²
tiles, read in 512² blocks, so 4 blocks per image); features are small squares (25 m, about 9 to 16
pixels of 10 m) on a lattice over the raster. Data is generated once under ``benchmarks/data/``.

Each configuration runs in a fresh interpreter (``--run-one``), so caches and peak memory are its own.
A cluster is a ``distributed.LocalCluster(n_workers=W, threads_per_worker=1, processes=True)``, started
and warmed up (imports) before the clock starts. Reported per run:

- ``plan_s``: ``explain()`` (reads the features, plans grids and blocks; reads no pixel);
- ``compute_s``: ``to_xarray()``: the graph, its computation and the gathered result;
- ``tasks``: keys in the graph (block reads, per-block weights and chunks, combines, finalizes) and its
  pickled size (what the client ships to the scheduler);
- ``peak worker RSS``: each worker's peak resident memory (``getrusage`` in the worker, via
  ``client.run``) and, before the job, after the imports; for threads, the process itself;
- ``other cores``: CPU that other processes used meanwhile (``/proc/stat``): other sessions may share
  the two cores, which slows every run.

All runs of one workload must give the same sum of means (they do, bit for bit); the script exits with
status 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
GEN_VERSION = 1

CRS = "EPSG:32633"
PIXEL = 10.0
ORIGIN = (500000.0, 5300000.0)  # upper-left corner
SIZE = 1024
TILE = 256
BLOCK = 512
SQUARE = 25.0  # metres per feature side


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# -- data -------------------------------------------------------------------------------------------


def image_paths(n: int, size: int = SIZE) -> list[str]:
    """``n`` daily images (2024-01-01, ...), generated when missing; deterministic."""
    import datetime as dt

    import rasterio
    from affine import Affine

    folder = DATA / f"scale_v{GEN_VERSION}_s{size}"
    folder.mkdir(parents=True, exist_ok=True)
    transform = Affine(PIXEL, 0, ORIGIN[0], 0, -PIXEL, ORIGIN[1])
    yy, xx = np.mgrid[0:size, 0:size]
    paths = []
    for k in range(n):
        day = dt.date(2024, 1, 1) + dt.timedelta(days=k)
        path = folder / f"img_{day.isoformat()}.tif"
        if not path.exists():
            rng = np.random.default_rng(k)
            smooth = 3000 + 2000 * np.sin(xx / 97.0 + k / 10.0) * np.cos(yy / 131.0)
            data = (smooth + rng.normal(0, 200, (size, size))).clip(1, 65534).astype("uint16")
            tmp = path.with_suffix(".tmp.tif")
            with rasterio.open(
                tmp, "w", driver="GTiff", width=size, height=size, count=1, dtype="uint16", crs=CRS,
                transform=transform, nodata=0, tiled=True, blockxsize=TILE, blockysize=TILE, compress="deflate",
            ) as dst:  # fmt: skip
                dst.write(data[None])
            os.replace(tmp, path)
        paths.append(str(path))
    return paths


def features_path(n: int, size: int = SIZE) -> str:
    """``n`` squares of SQUARE metres on a lattice over the raster, as GeoParquet; generated when missing."""
    import geopandas as gpd
    import shapely

    path = DATA / f"scale_v{GEN_VERSION}_s{size}_features_{n}.parquet"
    if not path.exists():
        side = math.ceil(math.sqrt(n))
        extent = size * PIXEL
        step = extent / side
        k = np.arange(n)
        x0 = ORIGIN[0] + (k % side) * step + 0.37 * (step - SQUARE)
        y1 = ORIGIN[1] - (k // side) * step - 0.41 * (step - SQUARE)
        geoms = shapely.box(x0, y1 - SQUARE, x0 + SQUARE, y1)
        gdf = gpd.GeoDataFrame({"fid": k}, geometry=geoms, crs=CRS)
        tmp = path.with_suffix(".tmp.parquet")
        gdf.to_parquet(tmp)
        os.replace(tmp, path)
    return str(path)


# -- one run (in its own interpreter) -----------------------------------------------------------------


def _cpu_busy_s() -> float:
    """CPU seconds the whole machine has been busy (all cores), from /proc/stat."""
    f = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(x) for x in f[:8])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def _own_cpu_s() -> float:
    ru_self = resource.getrusage(resource.RUSAGE_SELF)
    ru_children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru_self.ru_utime + ru_self.ru_stime + ru_children.ru_utime + ru_children.ru_stime


def _worker_stats() -> dict:
    import resource

    import psutil

    proc = psutil.Process()
    times = proc.cpu_times()
    return {
        "rss": proc.memory_info().rss,
        "peak_rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        "cpu_s": times.user + times.system,
    }


def _warm() -> int:
    import exactextract  # noqa: F401
    import geopandas  # noqa: F401
    import rasterio  # noqa: F401

    import reducer.engine  # noqa: F401

    return os.getpid()


def run_one(job: dict) -> dict:
    """Run one configuration: ``job = {"workers": 0 (threads) | W, "features": N, "images": T, ...}``."""
    import cloudpickle
    from dask.base import collections_to_expr

    import reducer as ee
    import reducer.sources.files as sources
    from reducer.engine import ReductionRequest, plan_reduction

    sources.TARGET_BLOCK = job["block"]
    workers = job["workers"]
    out: dict = {"job": job}
    cluster = client = None
    if workers:
        import logging

        from distributed import Client, LocalCluster

        cluster = LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            silence_logs=logging.ERROR,
        )
        client = Client(cluster)
        client.run(_warm)
        out["workers_before"] = list(client.run(_worker_stats).values())
    _warm()  # the client's imports too (pyarrow for the features file), before the clock starts
    import pyarrow.parquet  # noqa: F401

    ee.set_options(scheduler=client if client is not None else "threads", progress=False)

    ic = ee.ImageCollection(image_paths(job["images"], job["size"]))
    fc = ee.FeatureCollection(features_path(job["features"], job["size"]))
    busy0, own0, load0 = _cpu_busy_s(), _own_cpu_s(), os.getloadavg()[0]
    t0 = time.perf_counter()
    lazy = ic.reduceRegions(fc, ee.Reducer.mean(), scale=PIXEL)
    plan = lazy.explain()
    t1 = time.perf_counter()
    cube = lazy.to_xarray()
    t2 = time.perf_counter()
    busy1, own1 = _cpu_busy_s(), _own_cpu_s()
    out["plan_s"] = t1 - t0
    out["compute_s"] = t2 - t1
    out["wall_s"] = t2 - t0
    out["explain"] = plan.to_dict()
    values = cube["mean"].values
    out["shape"] = list(values.shape)
    out["checksum"] = float(np.nansum(values))
    out["valid"] = int(np.isfinite(values).sum())
    out["load_start"] = load0
    if client is not None:
        stats = client.run(_worker_stats)
        out["workers_after"] = list(stats.values())
        out["worker_cpu_s"] = sum(s["cpu_s"] for s in stats.values()) - sum(s["cpu_s"] for s in out["workers_before"])
    out["client_peak_rss"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    # the graph, as shipped (outside the timing)
    gdf = fc._gdf()
    rplan = plan_reduction(
        ReductionRequest(ic.rasters, ee.Reducer.mean(), PIXEL), np.asarray(gdf.geometry.values, dtype=object), gdf.crs
    )
    graph = dict(collections_to_expr(rplan.graph(), optimize_graph=False).__dask_graph__())
    out["graph_tasks"] = len(graph)
    out["graph_bytes"] = len(cloudpickle.dumps(graph))
    own_cpu = own1 - own0 + out.get("worker_cpu_s", 0.0)
    out["own_cores"] = own_cpu / out["wall_s"]
    out["other_cores"] = max(0.0, (busy1 - busy0) - own_cpu) / out["wall_s"]
    if client is not None:
        client.close()
        cluster.close()
    return out


# -- parent -------------------------------------------------------------------------------------------


def spawn(job: dict, timeout: float) -> dict:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--run-one", json.dumps(job)]
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, text=True, timeout=timeout)
    if proc.returncode != 0:
        raise SystemExit(f"run failed ({proc.returncode}): {job}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _mib(n: float) -> str:
    return f"{n / 2**20:,.0f}"


def describe(rec: dict) -> str:
    j = rec["job"]
    where = "threads" if not j["workers"] else f"{j['workers']} worker{'s' if j['workers'] > 1 else ''}"
    if j["workers"]:
        peak = max(w["peak_rss"] for w in rec["workers_after"])
        base = max(w["peak_rss"] for w in rec["workers_before"])
        mem = f"{_mib(peak)} (after imports {_mib(base)})"
    else:
        mem = f"{_mib(rec['client_peak_rss'])} (one process)"
    n, t = j["features"], j["images"]
    per = rec["compute_s"] / (n * t) * 1e9
    return (
        f"| {n:,} | {t} | {where} | {rec['plan_s']:.2f} | {rec['compute_s']:.1f} | {per:,.0f} | "
        f"{rec['graph_tasks']:,} | {rec['graph_bytes'] / 1e6:.2f} | {mem} | {_mib(rec['client_peak_rss'])} | "
        f"{rec['own_cores']:.2f} | {rec['other_cores']:.2f} |"
    )


HEADER = (
    "| features | images | where | plan s | compute s | ns per feature-image | graph tasks | graph MB "
    "| peak worker RSS MiB | client peak RSS MiB | own cores | other cores |\n"
    "|---:|---:|---|---:|---:|---:|---:|---:|---|---:|---:|---:|"
)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--small", action="store_true", help="10,000 features x 12 images (and small sweeps)")
    ap.add_argument("--features", type=int, help="features in the main workload")
    ap.add_argument("--images", type=int, help="images in the main workload")
    ap.add_argument("--size", type=int, default=SIZE, help="raster side in pixels")
    ap.add_argument("--block", type=int, default=BLOCK, help="pixels per block side")
    ap.add_argument("--no-sweep", action="store_true", help="only the main workload on threads, 1 and 2 workers")
    ap.add_argument("--timeout", type=float, default=1800, help="seconds per run")
    ap.add_argument("--run-one", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.run_one:
        print(json.dumps(run_one(json.loads(args.run_one))))
        return

    n_main = args.features or (10_000 if args.small else 100_000)
    t_main = args.images or (12 if args.small else 120)
    n_sweep = [1_000, 10_000] if args.small else [1_000, 10_000, 100_000]
    t_sweep = [4, 12] if args.small else [12, 30, 120]
    log(f"generating data under {DATA} (once) ...")
    image_paths(max([t_main, *t_sweep]), args.size)
    for n in {n_main, *n_sweep}:
        features_path(n, args.size)

    def job(workers: int, n: int, t: int) -> dict:
        return {"workers": workers, "features": n, "images": t, "size": args.size, "block": args.block}

    jobs = [job(0, n_main, t_main), job(1, n_main, t_main), job(2, n_main, t_main)]
    if not args.no_sweep:
        for workers in (0, 2):
            jobs += [job(workers, n, t_main) for n in n_sweep if n != n_main]
            jobs += [job(workers, n_main, t) for t in t_sweep if t != t_main]
    records = []
    print(HEADER, flush=True)
    for j in jobs:
        log(f"running {j} ...")
        rec = spawn(j, args.timeout)
        records.append(rec)
        print(describe(rec), flush=True)
    results = DATA / f"scale_results_{n_main}x{t_main}.json"
    results.write_text(json.dumps(records, indent=1))
    log(f"wrote {results}")

    main_runs = [r for r in records if (r["job"]["features"], r["job"]["images"]) == (n_main, t_main)]
    sums = {r["checksum"] for r in main_runs}
    if len(sums) != 1:
        raise SystemExit(f"the schedulers disagree: checksums {sorted(sums)}")
    log(f"threads, 1 and 2 workers agree: sum of means {sums.pop()!r}")


if __name__ == "__main__":
    main()
