#!/usr/bin/env python
"""Load check (issue 16), not a test: memory of a large reduceRegions, and time to build a large collection.

Usage (from the repository root, with the project's Python)::

    python benchmarks/bench_load.py                  # both checks
    python benchmarks/bench_load.py --only build     # 2,000 images in one collection
    python benchmarks/bench_load.py --only memory    # 100,000 polygons x 6 images through getInfo()

Targets: peak RSS under 1.0 GB (10^9 bytes) for 100,000 polygons x 6 images (512 x 512 each) through
``reduceRegions(...).getInfo()``, and 2,000 files in one ``ee.ImageCollection`` built in under 3 s.
Each check runs in a fresh subprocess so that its peak RSS is its own. The machine may be shared:
the script prints what it measures (and the load average), and says plainly whether a target was met.
Data is generated under ``benchmarks/data/load/`` and reused.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
DATA = HERE / "data" / "load"
CRS = "EPSG:32633"


def _write(path: Path, data: np.ndarray, transform) -> None:
    import rasterio

    with rasterio.open(
        path, "w", driver="GTiff", width=data.shape[1], height=data.shape[0], count=1, dtype=data.dtype,
        crs=CRS, transform=transform, nodata=0, tiled=True, blockxsize=256, blockysize=256, compress="deflate",
    ) as dst:  # fmt: skip
        dst.write(data, 1)


def make_build_data(n: int) -> Path:
    from affine import Affine

    folder = DATA / f"many_{n}"
    if len(list(folder.glob("*.tif"))) == n:
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    data = np.arange(64 * 64, dtype="uint16").reshape(64, 64)
    for k in range(n):
        day = np.datetime64("2020-01-01") + np.timedelta64(k, "D")
        _write(folder / f"S_{day}.tif", data, Affine(10, 0, 500000, 0, -10, 4000640))
    return folder


def make_memory_data(n_images: int, n_polys: int) -> tuple[list[Path], Path]:
    import geopandas as gpd
    import shapely
    from affine import Affine

    DATA.mkdir(parents=True, exist_ok=True)
    size, res = 512, 10.0
    t = Affine(res, 0, 500000, 0, -res, 4000000 + size * res)
    rng = np.random.default_rng(16)
    images = []
    for k in range(n_images):
        p = DATA / f"img_2024-05-{k + 1:02d}.tif"
        if not p.exists():
            _write(p, rng.integers(1, 10000, (size, size), dtype="uint16"), t)
        images.append(p)
    polys = DATA / f"polys_{n_polys}.parquet"
    if not polys.exists():
        x = 500000 + rng.uniform(0, size * res - 30, n_polys)
        y = 4000000 + rng.uniform(0, size * res - 30, n_polys)
        w = rng.uniform(5, 30, n_polys)
        geoms = shapely.box(x, y, x + w, y + w)
        gpd.GeoDataFrame({"fid": np.arange(n_polys)}, geometry=geoms, crs=CRS).to_parquet(polys)
    return images, polys


def _rss_mib() -> float:
    """The current RSS in MiB (Linux), else NaN."""
    try:
        with open("/proc/self/status") as f:
            return next(int(line.split()[1]) / 1024 for line in f if line.startswith("VmRSS"))
    except (OSError, StopIteration):
        return float("nan")


def run_build(n: int) -> dict:
    import reducer as ee

    folder = make_build_data(n)
    t0, c0 = time.perf_counter(), time.process_time()
    ic = ee.ImageCollection(str(folder / "*.tif"))
    built, cpu = time.perf_counter() - t0, time.process_time() - c0
    return {"images": ic.size().getInfo(), "build_s": built, "cpu_s": cpu, "load": os.getloadavg()[0]}


def run_memory(n_images: int, n_polys: int) -> dict:
    import geopandas as gpd

    import reducer as ee

    images, polys = make_memory_data(n_images, n_polys)
    fc = ee.FeatureCollection(gpd.read_parquet(polys))
    ic = ee.ImageCollection([str(p) for p in images])
    before = _rss_mib()  # the libraries and the features, before the reduction
    t0, c0 = time.perf_counter(), time.process_time()
    info = ic.reduceRegions(fc, ee.Reducer.mean()).getInfo()
    took, cpu = time.perf_counter() - t0, time.process_time() - c0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux -> MiB
    return {
        "features": len(info["features"]),
        "getinfo_s": took,
        "cpu_s": cpu,
        "rss_before_mb": before,
        "rss_after_mb": _rss_mib(),  # mostly the answer itself: 600,000 feature dicts
        "peak_rss_mb": peak,
        "load": os.getloadavg()[0],
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--only", choices=["build", "memory"])
    ap.add_argument("--images", type=int, default=2000)
    ap.add_argument("--polys", type=int, default=100_000)
    ap.add_argument("--run-one", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.run_one == "build":
        print(json.dumps(run_build(args.images)))
        return 0
    if args.run_one == "memory":
        print(json.dumps(run_memory(6, args.polys)))
        return 0
    print(f"load average {os.getloadavg()}, {os.cpu_count()} CPUs (shared machines slow these numbers down)")
    ok = True
    for check in ["build", "memory"]:
        if args.only and args.only != check:
            continue
        cmd = [sys.executable, __file__, "--run-one", check, "--images", str(args.images), "--polys", str(args.polys)]
        out = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(HERE.parent)})
        if out.returncode != 0:
            print(out.stderr[-2000:])
            return 2
        res = json.loads(out.stdout.strip().splitlines()[-1])
        if check == "build":
            met = res["build_s"] < 3.0
            print(f"build: {res['images']} images in one collection in {res['build_s']:.2f} s wall, "
                  f"{res['cpu_s']:.2f} s CPU, load {res['load']:.2f} (target < 3 s wall): "
                  f"target {'met' if met else 'NOT met'}")  # fmt: skip
        else:
            peak_gb = res["peak_rss_mb"] * 2**20 / 1e9
            met = peak_gb < 1.0  # 1.0 GB = 10^9 bytes (954 MiB): the stricter reading of "1.0 GB"
            print(f"memory: {res['features']} rows ({args.polys:,} polygons x 6 images) through getInfo() in "
                  f"{res['getinfo_s']:.1f} s wall, {res['cpu_s']:.1f} s CPU, load {res['load']:.2f}; RSS "
                  f"{res['rss_before_mb']:.0f} MiB before (libraries, features), {res['rss_after_mb']:.0f} MiB "
                  f"after (mostly the answer), peak {res['peak_rss_mb']:.0f} MiB = {peak_gb:.2f} GB (target < 1.0 GB "
                  f"peak): target {'met' if met else 'NOT met'}")  # fmt: skip
        ok &= met
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
