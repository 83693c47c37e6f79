#!/usr/bin/env python
"""``ic.map(lambda i: i.reduceRegions(fc, r, scale)).flatten()`` against ``ic.reduceRegions(fc, r, scale)`` (issue #13).

Earth Engine's portable time-series idiom maps ``reduceRegions`` over the images and flattens the
collection of collections. reducer computes it as one reduction over all images (features read and
coverage weights computed once, :func:`reducer.regions.reduce_jointly`), as ``ImageCollection.reduceRegions``
does. This script runs both on the same job, each in a fresh subprocess, alternating, and prints the
median times, their ratio and whether the answers are equal (ids and values). Exit status 1 when they
differ or the ratio exceeds ``--max-ratio``.

Usage (from the repository root, with the project's Python)::

    python benchmarks/bench_map_flatten.py                 # 8 images of 2048², 500 fields, 3 repeats
    python benchmarks/bench_map_flatten.py --small         # 4 images of 512², 100 fields
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
DATA = HERE / "data" / "map_flatten"
CRS = "EPSG:32633"
ORIGIN = (500000.0, 5300000.0)
PIXEL = 10.0


def make_data(n_images: int, size: int, n_fields: int) -> Path:
    """Write the images and fields under ``benchmarks/data/map_flatten/<params>/`` (reused when present)."""
    import geopandas as gpd
    import rasterio
    import shapely
    from affine import Affine

    folder = DATA / f"t{n_images}_s{size}_n{n_fields}"
    fields = folder / "fields.gpkg"
    if fields.exists():
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    transform = Affine(PIXEL, 0, ORIGIN[0], 0, -PIXEL, ORIGIN[1])
    for k in range(n_images):
        data = rng.uniform(0, 1, (size, size)).astype("float32")
        profile = dict(
            driver="GTiff",
            width=size,
            height=size,
            count=1,
            dtype="float32",
            crs=CRS,
            transform=transform,
            tiled=True,
            blockxsize=256,
            blockysize=256,
            compress="deflate",
        )
        with rasterio.open(folder / f"img_2024-01-{k + 1:02d}.tif", "w", **profile) as dst:
            dst.write(data[None])
    extent = size * PIXEL
    x = rng.uniform(0, extent * 0.9, n_fields) + ORIGIN[0]
    y = ORIGIN[1] - rng.uniform(0, extent * 0.9, n_fields)
    w = rng.uniform(50, extent * 0.08, n_fields)
    geoms = [shapely.box(a, b - s, a + s, b).buffer(s / 5) for a, b, s in zip(x, y, w, strict=True)]
    gpd.GeoDataFrame({"field": np.arange(n_fields)}, geometry=geoms, crs=CRS).to_file(fields)
    return folder


def run_one(name: str, folder: Path, out: Path) -> None:
    """Run one contender in this process; write its answer to ``out`` and print its time as JSON."""
    sys.path.insert(0, str(HERE.parent))
    import reducer as ee

    t0 = time.perf_counter()
    images = ee.ImageCollection(str(folder / "img_*.tif"))
    fields = ee.FeatureCollection(str(folder / "fields.gpkg"))
    if name in ("map-features", "reduceRegions-1"):
        # the other idiom: one region per image as a Feature, against reduceRegions on that region
        region = ee.Geometry(fields.to_geopandas().geometry.union_all(), proj=str(fields.to_geopandas().crs))
        if name == "map-features":
            result = images.map(lambda img: ee.Feature(None, img.reduceRegion(ee.Reducer.mean(), region, 10)))
            table = result.to_pandas().rename(columns={"B1": "mean"})
        else:
            table = images.reduceRegions(ee.FeatureCollection([ee.Feature(region)]), ee.Reducer.mean(), 10).to_pandas()
            table.index = table["image_id"].astype(str)
        seconds = time.perf_counter() - t0
        np.save(out, np.array([table.index.to_numpy(dtype=str), table["mean"].to_numpy(dtype="f8").astype(str)]))
        print(json.dumps({"name": name, "seconds": seconds}))
        return
    if name == "map-flatten":
        result = images.map(lambda img: img.reduceRegions(fields, ee.Reducer.mean(), 10)).flatten()
    else:
        result = images.reduceRegions(fields, ee.Reducer.mean(), 10)
    table = result.to_pandas()
    seconds = time.perf_counter() - t0
    np.save(out, np.array([table.index.to_numpy(dtype=str), table["mean"].to_numpy(dtype="f8").astype(str)]))
    print(json.dumps({"name": name, "seconds": seconds}))


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--small", action="store_true", help="4 images of 512², 100 fields")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--max-ratio", type=float, default=1.10)
    p.add_argument("--run-one", help=argparse.SUPPRESS)
    p.add_argument("--folder", help=argparse.SUPPRESS)
    p.add_argument("--out", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.run_one:
        run_one(args.run_one, Path(args.folder), Path(args.out))
        return 0
    n_images, size, n_fields = (4, 512, 100) if args.small else (8, 2048, 500)
    folder = make_data(n_images, size, n_fields)
    times: dict[str, list[float]] = {"reduceRegions": [], "map-flatten": [], "reduceRegions-1": [], "map-features": []}
    for _ in range(args.repeats):
        for name in times:
            cmd = [
                sys.executable,
                __file__,
                "--run-one",
                name,
                "--folder",
                str(folder),
                "--out",
                str(folder / f"answer_{name}.npy"),
            ]
            done = subprocess.run(cmd, check=True, capture_output=True, text=True)
            times[name].append(json.loads(done.stdout.strip().splitlines()[-1])["seconds"])
    a = np.load(folder / "answer_reduceRegions.npy")
    b = np.load(folder / "answer_map-flatten.npy")
    equal = a.shape == b.shape and bool((a == b).all())
    c = np.load(folder / "answer_reduceRegions-1.npy")
    d = np.load(folder / "answer_map-features.npy")
    equal_features = c.shape == d.shape and bool((c == d).all())
    med = {k: statistics.median(v) for k, v in times.items()}
    ratio = med["map-flatten"] / med["reduceRegions"]
    ratio_features = med["map-features"] / med["reduceRegions-1"]
    print(
        f"job: {n_images} images of {size}x{size}, {n_fields} fields, Reducer.mean(), scale 10; "
        f"median of {args.repeats} fresh processes"
    )
    for k, v in med.items():
        print(f"  {k:<14} {v:7.2f} s   (runs: {', '.join(f'{x:.2f}' for x in times[k])})")
    print(f"  ratio map-flatten / reduceRegions = {ratio:.3f}")
    print(f"  answers equal (ids and means): {equal}")
    print(f"  ratio map-features / reduceRegions-1 (one region: all fields' union) = {ratio_features:.3f}")
    print(f"  answers equal (image ids and means): {equal_features}")
    ok = equal and equal_features and max(ratio, ratio_features) <= args.max_ratio
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
