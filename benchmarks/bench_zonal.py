#!/usr/bin/env python
"""Zonal statistics benchmark (issue #3): reducer against rasterstats, exactextract, flox and the decode floor.

Usage (from the repository root, with the project's Python)::

    python benchmarks/bench_zonal.py --small                 # 4 images of 1024², 200 fields, 200 points
    python benchmarks/bench_zonal.py                         # 12 images of 4096², 1,000 fields, 1,000 points
    python benchmarks/bench_zonal.py --only reducer,floor    # some contenders only
    python benchmarks/bench_zonal.py --rs-subset 100         # rasterstats on 100 fields, extrapolated
    python benchmarks/bench_zonal.py --scaling --only none   # reducer alone as T and N grow
    python benchmarks/bench_zonal.py --profile reducer       # pyinstrument + py-spy profiles into benchmarks/
    python benchmarks/bench_zonal.py --sparse --only reducer,floor,floor-tiles,exactextract-list-fs
                                                             # fields in a few clusters on ~5% of the raster

Data is generated deterministically under ``benchmarks/data/`` and reused when the files exist with
the same parameters. Every contender runs in a fresh subprocess (``--run-one NAME``), so its peak RSS
is its own; the parent checks that the answers agree before it prints any ratio, and exits with
status 1 if they do not.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
# bump when a generator changes: cached files with another version are rebuilt
IMG_VERSION = 1
VEC_VERSION = 2

CRS = "EPSG:32633"
PIXEL = 10.0
ORIGIN = (500000.0, 5300000.0)  # upper-left corner, UTM 33N (about 47.8°N, 15°E)
NODATA = -9999.0
TILE = 512
OPS = ("mean", "min", "max", "count")

ZONAL = [
    "reducer",
    "reducer-getinfo",
    "reducer-unweighted",
    "rasterstats",
    "exactextract-fs",
    "exactextract-rs",
    "exactextract-list-fs",
    "exactextract-list-rs",
    "exactextract-2proc",
    "exactextract-list-2proc",
    "flox",
    "floor",
    "floor-gdal",
    "floor-tiles",
]
POINTS = ["points-reducer", "points-rasterstats"]
ALL = ZONAL + POINTS
ALIASES = {
    "all": ALL,
    "none": [],
    "exactextract": [c for c in ZONAL if c.startswith("exactextract")],
    "points": POINTS,
    "zonal": ZONAL,
}
SLOW = {"rasterstats", "points-rasterstats"}


# ---------------------------------------------------------------------------------------------------
# data


@dataclass(frozen=True)
class Params:
    size: int = 4096
    n_images: int = 12
    n_fields: int = 1000
    n_points: int = 1000
    cover: float = 0.25  # expected sum of field areas / raster area (see README)
    seed: int = 20240115
    sparse: bool = False  # fields in a few clusters covering ~SPARSE_COVER of the raster (the sparse job)


def image_dates(n: int) -> list[str]:
    """Mid-month dates from January 2024, one per image."""
    return [f"{2024 + k // 12:04d}-{k % 12 + 1:02d}-15" for k in range(n)]


def _transform(size: int):
    from affine import Affine

    return Affine(PIXEL, 0, ORIGIN[0], 0, -PIXEL, ORIGIN[1])


def _zoom_noise(rng: np.random.Generator, coarse: int, size: int) -> np.ndarray:
    """Smooth noise: a coarse normal field bilinearly upsampled to ``size``² (float32)."""
    from scipy.ndimage import zoom

    low = rng.standard_normal((coarse, coarse)).astype("float32")
    out = zoom(low, size / coarse, order=1, prefilter=False, grid_mode=True, mode="reflect")
    return out[:size, :size]


def _write_image(path: Path, size: int, k: int, p: Params) -> None:
    import rasterio

    land = _zoom_noise(np.random.default_rng([p.seed, size, 0]), max(4, size // 32), size)
    rng = np.random.default_rng([p.seed, size, 1000 + k])
    season = 0.6 + 0.4 * np.sin(2 * np.pi * (k % 12) / 12)
    vals = 0.45 + 0.12 * season * land
    vals += 0.03 * rng.standard_normal((size, size), dtype="float32")
    clumps = _zoom_noise(rng, max(4, size // 48), size)
    thresh = np.quantile(clumps[:: max(1, size // 512), :: max(1, size // 512)], 0.98)
    vals[clumps > thresh] = NODATA
    vals = vals.astype("float32")
    tmp = path.with_suffix(".tmp.tif")
    profile = dict(
        driver="GTiff",
        width=size,
        height=size,
        count=1,
        dtype="float32",
        crs=CRS,
        transform=_transform(size),
        nodata=NODATA,
        tiled=True,
        blockxsize=TILE,
        blockysize=TILE,
        compress="deflate",
        num_threads=2,
    )
    with rasterio.open(tmp, "w", **profile) as dst:
        dst.write(vals, 1)
        dst.update_tags(BENCH_PARAMS=_image_key(size, k, p))
    os.replace(tmp, path)


def _image_key(size: int, k: int, p: Params) -> str:
    return json.dumps({"v": IMG_VERSION, "size": size, "k": k, "seed": p.seed, "tile": TILE})


def _image_ok(path: Path, size: int, k: int, p: Params) -> bool:
    if not path.exists():
        return False
    import rasterio

    try:
        with rasterio.open(path) as src:
            return src.tags().get("BENCH_PARAMS") == _image_key(size, k, p)
    except rasterio.errors.RasterioIOError:
        return False


def _star(rng: np.random.Generator, cx: float, cy: float, r: float):
    import shapely

    m = int(rng.integers(7, 16))
    # jittered angles: consecutive gaps stay below pi, so the star polygon is simple (valid)
    ang = (np.arange(m) + rng.uniform(0.1, 0.9, m)) * (2 * np.pi / m) + rng.uniform(0, 2 * np.pi)
    rad = r * rng.uniform(0.6, 1.0, m)
    return shapely.Polygon(np.c_[cx + rad * np.cos(ang), cy + rad * np.sin(ang)])


def _write_fields(path: Path, p: Params) -> None:
    """Irregular fields in EPSG:4326: every 5th holed, every 7th multi-part, some partly outside."""
    import geopandas as gpd

    rng = np.random.default_rng([p.seed, p.size, p.n_fields, 7])
    ext = p.size * PIXEL
    area = p.cover * ext * ext / p.n_fields  # mean field area
    scale = rng.lognormal(0.0, 0.45, p.n_fields)
    scale /= np.mean(scale**2)  # so that the mean of r² is area / (pi * 0.65)
    r = np.sqrt(area * scale / (np.pi * 0.65))
    margin = 0.02 * ext
    cx = ORIGIN[0] + rng.uniform(-margin, ext + margin, p.n_fields)
    cy = ORIGIN[1] - rng.uniform(-margin, ext + margin, p.n_fields)
    geoms = _stars(rng, cx, cy, r)
    _write_fields_gpkg(gpd.GeoDataFrame({"field_id": np.arange(p.n_fields)}, geometry=geoms, crs=CRS), path)


def _stars(rng: np.random.Generator, cx: np.ndarray, cy: np.ndarray, r: np.ndarray) -> list:
    """One star per centre and radius; every 5th with a hole, every 7th with a second part."""
    import shapely

    geoms = []
    for k in range(len(cx)):
        poly = _star(rng, cx[k], cy[k], r[k])
        if k % 5 == 0:
            poly = poly.difference(shapely.Point(cx[k], cy[k]).buffer(0.3 * r[k], 8))
        if k % 7 == 0:
            part = _star(rng, cx[k] + 2.2 * r[k], cy[k] + 0.3 * r[k], 0.5 * r[k])
            poly = shapely.MultiPolygon([poly, part]) if not poly.intersects(part) else poly.union(part)
        geoms.append(poly)
    return geoms


def _write_fields_gpkg(gdf, path: Path) -> None:
    """The fields in EPSG:4326 to ``path`` (atomically), after checking that every one is valid."""
    gdf = gdf.to_crs("EPSG:4326")
    bad = ~gdf.is_valid.to_numpy()
    if bad.any():
        raise RuntimeError(f"generated {bad.sum()} invalid fields, e.g. {np.flatnonzero(bad)[:5]}")
    tmp = path.with_suffix(".tmp.gpkg")
    tmp.unlink(missing_ok=True)
    gdf.to_file(tmp, driver="GPKG", layer="fields")
    os.replace(tmp, path)


SPARSE_COVER = 0.05  # the sparse job's fields cover about this share of the raster
SPARSE_CLUSTERS = 4


def _write_sparse_fields(path: Path, p: Params) -> None:
    """The sparse job's fields: N stars in SPARSE_CLUSTERS clusters (disks inside the raster, apart from
    each other) whose union covers about SPARSE_COVER of the raster; holes and multi-parts as the dense ones."""
    import geopandas as gpd
    import shapely

    rng = np.random.default_rng([p.seed, p.size, p.n_fields, 13])
    ext = p.size * PIXEL
    k = SPARSE_CLUSTERS
    # the fields' union fills about 65% of their cluster's disk (they overlap): the disks hold SPARSE_COVER / 0.65
    rc = ext * np.sqrt(SPARSE_COVER / 0.65 / (k * np.pi))
    centres: list[tuple[float, float]] = []
    while len(centres) < k:
        c = rng.uniform(rc * 1.1, ext - rc * 1.1, 2)
        if all(np.hypot(*(c - np.array(o))) > 3 * rc for o in centres):
            centres.append((float(c[0]), float(c[1])))
    which = np.arange(p.n_fields) % k
    ang = rng.uniform(0, 2 * np.pi, p.n_fields)
    rad = rc * 0.85 * np.sqrt(rng.uniform(0, 1, p.n_fields))
    cx = ORIGIN[0] + np.array([centres[w][0] for w in which]) + rad * np.cos(ang)
    cy = ORIGIN[1] - np.array([centres[w][1] for w in which]) - rad * np.sin(ang)
    # mean nominal field area: twice the disks' area over N (stars come out at ~2/3 of it, and overlap)
    area = 2.0 * k * np.pi * rc**2 / p.n_fields
    scale = rng.lognormal(0.0, 0.45, p.n_fields)
    scale /= np.mean(scale**2)
    r = np.sqrt(area * scale / (np.pi * 0.65))
    geoms = _stars(rng, cx, cy, r)
    gdf = gpd.GeoDataFrame({"field_id": np.arange(p.n_fields)}, geometry=geoms, crs=CRS)
    share = shapely.union_all(gdf.geometry.values).intersection(shapely.box(*raster_bounds(p.size))).area / ext**2
    log(f"  sparse fields: {k} clusters of radius {rc / PIXEL:.0f} px cover {share:.1%} of the raster")
    _write_fields_gpkg(gdf, path)


def raster_bounds(size: int) -> tuple[float, float, float, float]:
    """(xmin, ymin, xmax, ymax) of the images, in EPSG:32633."""
    return (ORIGIN[0], ORIGIN[1] - size * PIXEL, ORIGIN[0] + size * PIXEL, ORIGIN[1])


def _write_points(path: Path, p: Params) -> None:
    """Random points in EPSG:4326, about 1% of them outside the raster."""
    import geopandas as gpd

    rng = np.random.default_rng([p.seed, p.size, p.n_points, 11])
    ext = p.size * PIXEL
    margin = 0.0025 * ext
    x = ORIGIN[0] + rng.uniform(-margin, ext + margin, p.n_points)
    y = ORIGIN[1] - rng.uniform(-margin, ext + margin, p.n_points)
    gdf = gpd.GeoDataFrame({"point_id": np.arange(p.n_points)}, geometry=gpd.points_from_xy(x, y), crs=CRS)
    gdf = gdf.to_crs("EPSG:4326")
    tmp = path.with_suffix(".tmp.gpkg")
    tmp.unlink(missing_ok=True)
    gdf.to_file(tmp, driver="GPKG", layer="points")
    os.replace(tmp, path)


def _sidecar_ok(path: Path, key: dict) -> bool:
    side = path.with_suffix(".json")
    return path.exists() and side.exists() and json.loads(side.read_text()) == key


def _vector(path: Path, key: dict, writer, p: Params) -> Path:
    if not _sidecar_ok(path, key):
        t0 = time.perf_counter()
        writer(path, p)
        path.with_suffix(".json").write_text(json.dumps(key))
        log(f"  wrote {path.name} in {time.perf_counter() - t0:.1f} s")
    return path


@dataclass(frozen=True)
class Dataset:
    glob: str
    tifs: list[str]
    fields: str
    points: str
    params: Params


def ensure_data(p: Params) -> Dataset:
    """Generate (or reuse) the images, the fields and the points for ``p``."""
    DATA.mkdir(parents=True, exist_ok=True)
    store = DATA / f"rasters_s{p.size}"
    store.mkdir(exist_ok=True)
    coll = DATA / f"coll_s{p.size}_t{p.n_images}"
    coll.mkdir(exist_ok=True)
    tifs = []
    for k, date in enumerate(image_dates(p.n_images)):
        path = store / f"img_{date}.tif"
        if not _image_ok(path, p.size, k, p):
            t0 = time.perf_counter()
            _write_image(path, p.size, k, p)
            log(f"  wrote {path.name} ({p.size}²) in {time.perf_counter() - t0:.1f} s")
        link = coll / path.name
        if not link.is_symlink() or os.readlink(link) != str(path):
            link.unlink(missing_ok=True)
            link.symlink_to(path)
        tifs.append(str(link))
    for stale in coll.glob("img_*.tif"):
        if str(stale) not in tifs:
            stale.unlink()
    if p.sparse:
        fkey = {"v": VEC_VERSION, "size": p.size, "n": p.n_fields, "sparse": SPARSE_COVER, "k": SPARSE_CLUSTERS}
        fkey["seed"] = p.seed
        name = f"fields_s{p.size}_n{p.n_fields}_sparse{SPARSE_COVER:g}_k{SPARSE_CLUSTERS}.gpkg"
        fields = _vector(DATA / name, fkey, _write_sparse_fields, p)
    else:
        fkey = {"v": VEC_VERSION, "size": p.size, "n": p.n_fields, "cover": p.cover, "seed": p.seed}
        fields = _vector(DATA / f"fields_s{p.size}_n{p.n_fields}_c{p.cover:g}.gpkg", fkey, _write_fields, p)
    pkey = {"v": VEC_VERSION, "size": p.size, "n": p.n_points, "seed": p.seed}
    points = _vector(DATA / f"points_s{p.size}_n{p.n_points}.gpkg", pkey, _write_points, p)
    return Dataset(str(coll / "img_*.tif"), sorted(tifs), str(fields), str(points), p)


# ---------------------------------------------------------------------------------------------------
# contenders: each runs in its own process (``--run-one``) and returns (answers, extra info)


def _reducer_stats(weighted: bool):
    import reducer as ee

    red = (
        ee.Reducer.mean().combine(ee.Reducer.minMax(), sharedInputs=True).combine(ee.Reducer.count(), sharedInputs=True)
    )
    return red if weighted else red.unweighted()


def _reducer_job(job: dict, weighted: bool, getinfo: bool):
    import reducer as ee

    fc = ee.FeatureCollection(job["fields"])
    out = ee.ImageCollection(job["glob"]).reduceRegions(fc, _reducer_stats(weighted))
    job["_reduction"] = out
    return out.getInfo() if getinfo else out.to_pandas()


def _reads(job: dict) -> dict:
    """What reducer read in this process (its read counter), and what its plan said it would read
    (``explain()``, called after the clock): tiles decoded, their size in the files, pixels decoded."""
    from reducer.sources import READ_COUNTER

    c = READ_COUNTER
    if not hasattr(c, "tiles"):  # a reducer from before tiles were counted
        return {"decoded_pixels": c.pixels, "reads": c.reads}
    out = {"tiles": c.tiles, "file_bytes": c.file_bytes, "decoded_pixels": c.pixels, "reads": c.reads}
    plan = job["_reduction"].explain().to_dict()
    out["explain_tiles"] = plan.get("tiles_to_read")
    out["explain_bytes"] = plan.get("bytes_to_read")
    return out


def _frame_answers(df, job: dict, id_col: str, ops=OPS) -> dict:
    """(T, N) arrays from reducer's long frame (rows image-major)."""
    n_img = len(job["tifs"])
    ids = df[id_col].to_numpy()
    n = len(ids) // n_img
    dates = [Path(t).stem for t in job["tifs"]]
    if list(df["image_id"].to_numpy()[::n]) != dates or not (ids.reshape(n_img, n) == np.arange(n)).all():
        raise SystemExit("reducer's rows are not in (image, feature) order")
    return {op: df[op].to_numpy(dtype="f8").reshape(n_img, n) for op in ops}


def _info_answers(info: dict, job: dict) -> dict:
    import pandas as pd

    rows = [f["properties"] for f in info["features"]]
    df = pd.DataFrame.from_records(rows).astype({op: "f8" for op in OPS})
    return _frame_answers(df, job, "field_id")


def _fields_utm(job: dict, subset: np.ndarray | None = None):
    import geopandas as gpd

    gdf = gpd.read_file(job["fields"]).to_crs(CRS)
    return gdf if subset is None else gdf.iloc[subset]


def _subset(job: dict) -> np.ndarray | None:
    k = job.get("rs_subset")
    n = job["n_fields"]
    if not k or k >= n:
        return None
    return np.unique(np.linspace(0, n - 1, k).round().astype(int))


def peak_rss() -> int:
    """This process's peak RSS in bytes: ``VmHWM``, the high-water mark of its own address space.

    Not ``ru_maxrss``: Linux carries that over from the parent through fork and exec, so a child of a
    big parent would report at least the parent's size.
    """
    try:
        for ln in Path("/proc/self/status").read_text().splitlines():
            if ln.startswith("VmHWM:"):
                return int(ln.split()[1]) * 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _done(job: dict) -> None:
    """Stop the clock and note the peak RSS so far (answers are converted after this)."""
    import resource

    job["_t_end"] = time.perf_counter()
    ru = resource.getrusage(resource.RUSAGE_SELF)
    job["_peak"] = peak_rss()
    job["_cpu_end"] = ru.ru_utime + ru.ru_stime


def run_reducer(job: dict) -> tuple[dict, dict]:
    df = _reducer_job(job, weighted=True, getinfo=False)
    _done(job)
    return _frame_answers(df, job, "field_id"), _reads(job)


def run_reducer_getinfo(job: dict) -> tuple[dict, dict]:
    info = _reducer_job(job, weighted=True, getinfo=True)
    _done(job)
    return _info_answers(info, job), _reads(job)


def run_reducer_unweighted(job: dict) -> tuple[dict, dict]:
    df = _reducer_job(job, weighted=False, getinfo=False)
    _done(job)
    return _frame_answers(df, job, "field_id"), _reads(job)


SECOND_CALL = {"reducer": (True, False), "reducer-getinfo": (True, True), "reducer-unweighted": (False, False)}


def _second_call(job: dict, name: str) -> float:
    """The same job again in the same process: coverage and partitions come from reducer's caches."""
    t0 = time.perf_counter()
    _reducer_job(job, *SECOND_CALL[name])
    return time.perf_counter() - t0


def run_rasterstats(job: dict) -> tuple[dict, dict]:
    from rasterstats import zonal_stats

    t0 = time.perf_counter()
    subset = _subset(job)
    geoms = list(_fields_utm(job, subset).geometry)
    prep = time.perf_counter() - t0
    res = [zonal_stats(geoms, tif, stats="mean min max count") for tif in job["tifs"]]
    _done(job)
    ans = {op: np.array([[np.nan if r[op] is None else r[op] for r in rs] for rs in res], dtype="f8") for op in OPS}
    return ans, {"subset": None if subset is None else subset.tolist(), "prep_s": prep}


def _ee_frame_answers(frames: list, n_img: int, names: list[str] | None = None) -> dict:
    """exactextract frames: one per image, or one with ``<raster>_<op>`` columns."""
    out = {}
    for op in OPS:
        if names is None:
            out[op] = np.stack([f[op].to_numpy(dtype="f8") for f in frames])
        else:
            out[op] = np.stack([frames[0][f"{nm}_{op}"].to_numpy(dtype="f8") for nm in names])
    return out


def _ee_each(job: dict, strategy: str) -> tuple[dict, dict]:
    from exactextract import exact_extract

    fields = _fields_utm(job)
    frames = [exact_extract(tif, fields, list(OPS), strategy=strategy, output="pandas") for tif in job["tifs"]]
    _done(job)
    return _ee_frame_answers(frames, len(job["tifs"])), {"strategy": strategy}


def _ee_list(job: dict, strategy: str) -> tuple[dict, dict]:
    from exactextract import exact_extract

    fields = _fields_utm(job)
    df = exact_extract(job["tifs"], fields, list(OPS), strategy=strategy, output="pandas")
    _done(job)
    names = [Path(t).stem for t in job["tifs"]]
    return _ee_frame_answers([df], len(job["tifs"]), names), {"strategy": strategy}


def run_exactextract_fs(job):
    return _ee_each(job, "feature-sequential")


def run_exactextract_rs(job):
    return _ee_each(job, "raster-sequential")


def run_exactextract_list_fs(job):
    return _ee_list(job, "feature-sequential")


def run_exactextract_list_rs(job):
    return _ee_list(job, "raster-sequential")


EE_2PROC_STRATEGY = "feature-sequential"


def _ee_worker(args):
    import pickle

    from exactextract import exact_extract

    c0 = time.process_time()
    tif, fields_pickle = args
    fields = pickle.loads(fields_pickle)
    df = exact_extract(tif, fields, list(OPS), strategy=EE_2PROC_STRATEGY, output="pandas")
    out = {op: df[op].to_numpy(dtype="f8") for op in OPS}
    out["_cpu"] = time.process_time() - c0
    return out


def _ee_warm(_):
    import exactextract  # noqa: F401
    import geopandas  # noqa: F401

    return os.getpid()


def run_exactextract_2proc(job: dict) -> tuple[dict, dict]:
    """exactextract on two processes, one image per task (the pool is started before the clock)."""
    import pickle

    pool = job["_pool"]
    fields = _fields_utm(job)
    blob = pickle.dumps(fields)
    parts = list(pool.map(_ee_worker, [(tif, blob) for tif in job["tifs"]]))
    _done(job)
    job["_cpu_workers"] = sum(p["_cpu"] for p in parts)
    return {op: np.stack([p[op] for p in parts]) for op in OPS}, {"strategy": EE_2PROC_STRATEGY, "processes": 2}


def _ee_list_worker(args):
    import pickle

    from exactextract import exact_extract

    c0 = time.process_time()
    tifs, fields_pickle = args
    fields = pickle.loads(fields_pickle)
    df = exact_extract(tifs, fields, list(OPS), strategy="feature-sequential", output="pandas")
    names = [Path(t).stem for t in tifs]
    out = {op: np.stack([df[f"{nm}_{op}"].to_numpy(dtype="f8") for nm in names]) for op in OPS}
    out["_cpu"] = time.process_time() - c0
    return out


def run_exactextract_list_2proc(job: dict) -> tuple[dict, dict]:
    """exactextract with the list of rasters (coverage once per feature), the fields split west/east
    between two processes (so each decodes about half of the tiles)."""
    import pickle

    pool = job["_pool"]
    fields = _fields_utm(job)
    x = fields.geometry.bounds["minx"].to_numpy()
    order = np.argsort(x, kind="stable")
    halves = [np.sort(order[: len(order) // 2]), np.sort(order[len(order) // 2 :])]
    parts = list(pool.map(_ee_list_worker, [(job["tifs"], pickle.dumps(fields.iloc[h])) for h in halves]))
    _done(job)
    job["_cpu_workers"] = sum(p["_cpu"] for p in parts)
    ans = {op: np.full((len(job["tifs"]), len(fields)), np.nan) for op in OPS}
    for h, part in zip(halves, parts, strict=True):
        for op in OPS:
            ans[op][:, h] = part[op]
    return ans, {"strategy": "feature-sequential, list of rasters, fields split west/east", "processes": 2}


def _windows(height: int, width: int, step: int):
    from rasterio.windows import Window

    return [
        Window(c, r, min(step, width - c), min(step, height - r))
        for r in range(0, height, step)
        for c in range(0, width, step)
    ]


def decode_image(
    path: str, pool, step: int = 1024, out: np.ndarray | None = None, windows: list | None = None
) -> np.ndarray | int:
    """Decode band 1 with a thread pool over windows (one dataset handle per thread): every pixel in
    ``step``-sized windows, or only ``windows``.

    With ``out`` the pixels are written into it; without, only the nodata count is kept (the floor).
    """
    import rasterio

    with rasterio.open(path) as src:
        h, w, nodata = src.height, src.width, src.nodata
    local = threading.local()
    handles, lock = [], threading.Lock()

    def read(win):
        src = getattr(local, "src", None)
        if src is None:
            src = local.src = rasterio.open(path)
            with lock:
                handles.append(src)
        a = src.read(1, window=win)
        if out is not None:
            out[win.row_off : win.row_off + win.height, win.col_off : win.col_off + win.width] = a
            return 0
        return int(np.count_nonzero(a == nodata))

    try:
        n = sum(pool.map(read, _windows(h, w, step) if windows is None else windows))
    finally:
        for s in handles:
            s.close()
    return out if out is not None else n


def file_tiles(path: str, tiles: list[tuple[int, int]] | None = None) -> tuple[int, int]:
    """How many internal tiles of band 1 (all, or ``tiles``) and their size in the file (TIFF BLOCK_SIZE)."""
    import rasterio

    with rasterio.open(path) as src:
        th, tw = src.block_shapes[0]
        if tiles is None:
            tiles = [(i, j) for i in range(-(-src.height // th)) for j in range(-(-src.width // tw))]
        return len(tiles), int(sum(src.block_size(1, i, j) for i, j in tiles))


def _tile_counts(tifs: list[str], tiles: list[tuple[int, int]] | None = None) -> dict:
    n = [file_tiles(t, tiles) for t in tifs]
    return {"tiles": sum(a for a, _ in n), "file_bytes": sum(b for _, b in n)}


def run_floor(job: dict) -> tuple[dict, dict]:
    from concurrent.futures import ThreadPoolExecutor

    step = job.get("floor_step", 1024)
    with ThreadPoolExecutor(2) as pool:
        nodata = [decode_image(tif, pool, step) for tif in job["tifs"]]
    _done(job)
    extra = {"nodata_pixels": int(sum(nodata)), "window": step, "threads": 2}
    return {}, {**extra, **_tile_counts(job["tifs"])}


def fields_tiles(job: dict) -> list[tuple[int, int]]:
    """The (row, col) internal tiles of the images that some field's geometry intersects (shapely, exact)."""
    import rasterio
    import shapely

    with rasterio.open(job["tifs"][0]) as src:
        (th, tw), t, h, w = src.block_shapes[0], src.transform, src.height, src.width
    geoms = np.asarray(_fields_utm(job).geometry.values, dtype=object)
    ti, tj = np.divmod(np.arange(-(-h // th) * -(-w // tw)), -(-w // tw))
    x0, x1 = t.c + tj * tw * t.a, t.c + np.minimum((tj + 1) * tw, w) * t.a
    y1, y0 = t.f + ti * th * t.e, t.f + np.minimum((ti + 1) * th, h) * t.e
    boxes = shapely.box(x0, y0, x1, y1)
    hit = np.unique(shapely.STRtree(geoms).query(boxes, predicate="intersects")[0])
    return [(int(ti[k]), int(tj[k])) for k in hit]


def run_floor_tiles(job: dict) -> tuple[dict, dict]:
    """The sparse job's floor: decode only the internal tiles some field touches (found with shapely, in
    the clock), each tile a window read, on a pool of 2 threads (one dataset handle per thread)."""
    from concurrent.futures import ThreadPoolExecutor

    import rasterio
    from rasterio.windows import Window

    tiles = fields_tiles(job)
    with rasterio.open(job["tifs"][0]) as src:
        (th, tw), h, w = src.block_shapes[0], src.height, src.width
    wins = [Window(j * tw, i * th, min(tw, w - j * tw), min(th, h - i * th)) for i, j in tiles]
    with ThreadPoolExecutor(2) as pool:
        n = sum(decode_image(tif, pool, windows=wins) for tif in job["tifs"])
    _done(job)
    return {}, {"nodata_pixels": n, "threads": 2, **_tile_counts(job["tifs"], tiles)}


def run_floor_gdal(job: dict) -> tuple[dict, dict]:
    """The floor by GDAL's own multithreaded decoding (NUM_THREADS=2), one whole-image read each."""
    import rasterio

    n = 0
    for tif in job["tifs"]:
        with rasterio.open(tif, num_threads=2) as src:
            a = src.read(1)
            n += int(np.count_nonzero(a == src.nodata))
        del a
    _done(job)
    return {}, {"nodata_pixels": n, "threads": 2}


def run_flox(job: dict) -> tuple[dict, dict]:
    """Centre-in label raster (one rasterize of all fields), then flox per image on the labelled pixels."""
    from concurrent.futures import ThreadPoolExecutor

    import flox
    import rasterio
    from rasterio.features import rasterize

    fields = _fields_utm(job)
    n = len(fields)
    with rasterio.open(job["tifs"][0]) as src:
        shape, transform = (src.height, src.width), src.transform
    labels = rasterize(
        zip(fields.geometry, np.arange(1, n + 1), strict=True),
        out_shape=shape,
        transform=transform,
        fill=0,
        dtype="int32",
        all_touched=False,
    ).ravel()
    where = np.flatnonzero(labels)  # pixels of some field; overlaps go to the last field burned
    codes = labels[where] - 1
    groups = np.arange(n)
    buf = np.empty(shape, dtype="float32")
    ans = {op: np.full((len(job["tifs"]), n), np.nan) for op in OPS}
    with ThreadPoolExecutor(2) as pool:
        for t, tif in enumerate(job["tifs"]):
            decode_image(tif, pool, 1024, out=buf)
            v = buf.ravel()[where]
            v[v == NODATA] = np.nan
            for op, func in zip(OPS, ("nanmean", "nanmin", "nanmax", "count"), strict=True):
                r, _ = flox.groupby_reduce(v, codes, func=func, expected_groups=groups, engine="flox")
                ans[op][t] = r
    _done(job)
    return ans, {"labelled_pixels": int(where.size)}


def run_points_reducer(job: dict) -> tuple[dict, dict]:
    import reducer as ee

    fc = ee.FeatureCollection(job["points"])
    df = ee.ImageCollection(job["glob"]).reduceRegions(fc, ee.Reducer.mean()).to_pandas()
    _done(job)
    return _frame_answers(df, job, "point_id", ops=("mean",)), {}


def run_points_rasterstats(job: dict) -> tuple[dict, dict]:
    import geopandas as gpd
    from rasterstats import point_query

    pts = list(gpd.read_file(job["points"]).to_crs(CRS).geometry)
    res = [point_query(pts, tif, interpolate="nearest") for tif in job["tifs"]]
    _done(job)
    return {"mean": np.array([[np.nan if v is None else v for v in r] for r in res], dtype="f8")}, {}


RUNNERS = {
    "reducer": run_reducer,
    "reducer-getinfo": run_reducer_getinfo,
    "reducer-unweighted": run_reducer_unweighted,
    "rasterstats": run_rasterstats,
    "exactextract-fs": run_exactextract_fs,
    "exactextract-rs": run_exactextract_rs,
    "exactextract-list-fs": run_exactextract_list_fs,
    "exactextract-list-rs": run_exactextract_list_rs,
    "exactextract-2proc": run_exactextract_2proc,
    "exactextract-list-2proc": run_exactextract_list_2proc,
    "flox": run_flox,
    "floor": run_floor,
    "floor-gdal": run_floor_gdal,
    "floor-tiles": run_floor_tiles,
    "points-reducer": run_points_reducer,
    "points-rasterstats": run_points_rasterstats,
}


def _preimport(name: str) -> None:
    """Import what a contender needs before the clock starts (import time is not per-job cost)."""
    import geopandas  # noqa: F401
    import pandas  # noqa: F401
    import pyogrio  # noqa: F401
    import rasterio  # noqa: F401

    if name.startswith("reducer") or name == "points-reducer":
        import dask.array  # noqa: F401
        import exactextract  # noqa: F401  (reducer imports it on first use)

        import reducer  # noqa: F401
    elif name.startswith("exactextract"):
        import exactextract  # noqa: F401
    elif name.startswith("rasterstats") or name == "points-rasterstats":
        import rasterstats  # noqa: F401
    elif name == "flox":
        import flox  # noqa: F401
        import rasterio.features  # noqa: F401


def run_one(name: str, job: dict) -> None:
    """Run one contender in this (fresh) process and print its timing as one JSON line."""
    import resource

    import psutil

    _preimport(name)
    pool = None
    if name.startswith("exactextract") and name.endswith("2proc"):
        import multiprocessing as mp
        from concurrent.futures import ProcessPoolExecutor

        pool = ProcessPoolExecutor(2, mp_context=mp.get_context("spawn"))
        list(pool.map(_ee_warm, range(2)))
        job["_pool"] = pool
    rss_base = psutil.Process().memory_info().rss
    ru0 = resource.getrusage(resource.RUSAGE_SELF)
    t0 = time.perf_counter()
    answers, extra = RUNNERS[name](job)
    wall = job["_t_end"] - t0
    cpu = job["_cpu_end"] - (ru0.ru_utime + ru0.ru_stime) + job.get("_cpu_workers", 0.0)
    peak_self = job["_peak"]
    if name in SECOND_CALL and not job.get("no_second"):
        extra["second_call_s"] = _second_call(job, name)
    if pool is not None:
        pool.shutdown()
    peak_children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
    if job.get("answers"):
        np.savez(job["answers"], **answers)
    rec = {
        "name": name,
        "wall_s": wall,
        "cpu_s": cpu,
        "peak_rss": peak_self,
        "peak_rss_children": peak_children if pool is not None else 0,
        "rss_after_imports": rss_base,
        **{k: v for k, v in extra.items()},
    }
    print("BENCH-RESULT " + json.dumps(rec), flush=True)


# ---------------------------------------------------------------------------------------------------
# parent: spawn, sample memory, check, report


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _cpu_busy_s() -> float:
    """CPU seconds the whole machine has been busy (all cores), from /proc/stat."""
    f = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(x) for x in f[:8])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def wait_idle(max_wait: float, threshold: float = 0.15) -> float:
    """Wait (up to ``max_wait`` s) until the machine is idle for 1 s: other sessions may share the cores."""
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < max_wait:
        b0 = _cpu_busy_s()
        time.sleep(1.0)
        if _cpu_busy_s() - b0 < threshold:
            break
    return time.perf_counter() - t0


def spawn(name: str, job: dict, timeout: float | None = None, idle_wait: float = 0) -> dict:
    """Run ``--run-one name`` in a fresh interpreter; sample its process tree's RSS meanwhile.

    Also measures the CPU that *other* processes used meanwhile (``foreign_cores``, the machine's busy
    time minus this child's and this process's), because other sessions may share the two cores.
    """
    import resource

    import psutil

    waited = wait_idle(idle_wait) if idle_wait else 0.0
    cmd = [sys.executable, str(Path(__file__).resolve()), "--run-one", name, "--job", json.dumps(job)]
    ru_c0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    ru_s0 = resource.getrusage(resource.RUSAGE_SELF)
    busy0, w0 = _cpu_busy_s(), time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    peak_tree = 0
    stop = threading.Event()

    def sample():
        nonlocal peak_tree
        try:
            p = psutil.Process(proc.pid)
            while not stop.is_set():
                try:
                    procs = [p, *p.children(recursive=True)]
                    peak_tree = max(peak_tree, sum(q.memory_info().rss for q in procs))
                except psutil.Error:
                    pass
                stop.wait(0.05)
        except psutil.Error:
            pass

    th = threading.Thread(target=sample, daemon=True)
    th.start()
    try:
        out, _ = proc.communicate(timeout=timeout)
    finally:
        stop.set()
        th.join()
    busy1, w1 = _cpu_busy_s(), time.perf_counter()
    ru_c1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    ru_s1 = resource.getrusage(resource.RUSAGE_SELF)
    if proc.returncode != 0:
        raise RuntimeError(f"contender {name!r} failed with exit status {proc.returncode}")
    line = [ln for ln in out.splitlines() if ln.startswith("BENCH-RESULT ")][-1]
    rec = json.loads(line[len("BENCH-RESULT ") :])
    ours = (ru_c1.ru_utime + ru_c1.ru_stime - ru_c0.ru_utime - ru_c0.ru_stime) + (
        ru_s1.ru_utime + ru_s1.ru_stime - ru_s0.ru_utime - ru_s0.ru_stime
    )
    rec["foreign_cores"] = max(0.0, (busy1 - busy0 - ours) / (w1 - w0))
    rec["idle_wait_s"] = waited
    # ru_maxrss is exact for one process; for a process pool, the tree's sampled sum is the honest figure
    rec["peak_rss_tree"] = peak_tree
    rec["peak"] = max(rec["peak_rss"], peak_tree) if rec.get("processes") else rec["peak_rss"]
    return rec


def warm_page_cache(paths: list[str]) -> None:
    """Read every file once so that no contender pays for the disk (all run on a warm cache)."""
    for p in paths:
        with open(os.path.realpath(p), "rb") as f:
            while f.read(1 << 24):
                pass


@dataclass
class Check:
    what: str
    ok: bool
    detail: str
    names: tuple[str, ...] = ()


def _isnan_eq(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.isnan(a) == np.isnan(b)


def compare(
    what: str,
    got: dict,
    ref: dict,
    ops: list[str],
    rtol: float,
    exact: tuple[str, ...] = (),
    cols=None,
    empty=None,
) -> Check:
    """Compare (T, N) answers op by op; NaN must match NaN. ``empty``: (T, N) mask of 'no valid pixel' in ref."""
    problems = []
    for op in ops:
        a = np.asarray(got[op], dtype="f8")
        b = np.asarray(ref[op], dtype="f8")
        if cols is not None:
            a = a[:, cols]
        if a.shape != b.shape:
            problems.append(f"{op}: shapes {a.shape} vs {b.shape}")
            continue
        if empty is not None:
            bad = empty & ~np.isnan(a)
            if bad.any():
                t, f = np.argwhere(bad)[0]
                problems.append(
                    f"{op}: {bad.sum()} (image, feature) pairs with no valid pixel in the reference "
                    f"have a value here, e.g. image {t} feature {f}: {a[t, f]!r}"
                )
            a = np.where(empty, np.nan, a)
            b = np.where(empty, np.nan, b)
        nan_mismatch = ~_isnan_eq(a, b)
        if nan_mismatch.any():
            t, f = np.argwhere(nan_mismatch)[0]
            problems.append(
                f"{op}: {nan_mismatch.sum()} NaN/None mismatches, e.g. image {t} feature {f}: "
                f"{a[t, f]!r} vs {b[t, f]!r}"
            )
        both = ~np.isnan(a) & ~np.isnan(b)
        if op in exact:
            diff = both & (a != b)
        else:
            with np.errstate(invalid="ignore", divide="ignore"):
                diff = both & (np.abs(a - b) > rtol * np.maximum(np.abs(a), np.abs(b)))
        if diff.any():
            t, f = np.argwhere(diff)[0]
            worst = np.nanmax(np.where(both, np.abs(a - b) / np.maximum(np.abs(b), 1e-300), 0))
            problems.append(
                f"{op}: {diff.sum()} values differ beyond {'exact' if op in exact else rtol}, "
                f"e.g. image {t} feature {f}: {a[t, f]!r} vs {b[t, f]!r} (worst rel {worst:.3g})"
            )
    n = sum(np.isfinite(np.asarray(ref[op], dtype="f8")).sum() for op in ops)
    detail = "; ".join(problems) if problems else f"{n} values agree"
    return Check(what, not problems, detail)


def _overlapping(fields_path: str) -> np.ndarray:
    """Indices of fields whose interior overlaps another field's (a label raster cannot hold those)."""
    import geopandas as gpd
    import shapely

    g = np.asarray(gpd.read_file(fields_path).to_crs(CRS).geometry.values, dtype=object)
    tree = shapely.STRtree(g)
    i, j = tree.query(g, predicate="intersects")
    keep = i != j
    i, j = i[keep], j[keep]
    area = shapely.area(shapely.intersection(g[i], g[j]))
    return np.unique(np.r_[i[area > 0], j[area > 0]])


def check_answers(res: dict, answers: dict, ds: Dataset) -> list[Check]:
    checks = []
    a = answers

    def add(names, chk):
        chk.names = tuple(names)
        checks.append(chk)

    if "reducer" in a and "reducer-getinfo" in a:
        add(
            ("reducer", "reducer-getinfo"),
            compare(
                "reducer getInfo == to_pandas (exactly)", a["reducer-getinfo"], a["reducer"], list(OPS), 0.0, exact=OPS
            ),
        )
    if "rasterstats" in a:
        sub = res["rasterstats"].get("subset")
        on = "" if sub is None else f" on the {len(sub)} fields timed"
        if "reducer-unweighted" in a:
            add(
                ("reducer-unweighted", "rasterstats"),
                compare(
                    f"reducer unweighted == rasterstats{on} (count exact; mean/min/max rel 1e-6)",
                    a["reducer-unweighted"],
                    a["rasterstats"],
                    list(OPS),
                    1e-6,
                    exact=("count",),
                    cols=sub,
                ),
            )
        if "reducer" in a:
            add(
                ("reducer", "rasterstats"),
                compare(
                    f"reducer weighted count == rasterstats count{on} (centre-in, exact)",
                    a["reducer"],
                    a["rasterstats"],
                    ["count"],
                    0.0,
                    exact=("count",),
                    cols=sub,
                ),
            )
    for name in [c for c in ZONAL if c.startswith("exactextract")]:
        if "reducer" in a and name in a:
            ref = a[name]
            empty = ref["count"] == 0  # exactextract: count 0 (and NaN or 0 stats) where no valid pixel
            add(
                ("reducer", name),
                compare(
                    f"reducer weighted == {name} (mean/min/max rel 1e-6; no valid pixel: None vs count 0)",
                    a["reducer"],
                    ref,
                    ["mean", "min", "max"],
                    1e-6,
                    empty=empty,
                ),
            )
    if "flox" in a and "reducer-unweighted" in a:
        over = _overlapping(ds.fields)
        keep = np.setdiff1d(np.arange(ds.params.n_fields), over)
        ref = {op: a["flox"][op][:, keep] for op in OPS}
        ref["count"] = np.where(np.isnan(ref["count"]), 0, ref["count"])
        add(
            ("flox", "reducer-unweighted"),
            compare(
                f"flox == reducer unweighted on the {keep.size} fields that overlap no other "
                f"({over.size} do; count exact, rel 1e-5)",
                a["reducer-unweighted"],
                ref,
                list(OPS),
                1e-5,
                exact=("count",),
                cols=keep,
            ),
        )
    if "points-reducer" in a and "points-rasterstats" in a:
        add(
            ("points-reducer", "points-rasterstats"),
            compare(
                "points: reducer == rasterstats point_query(interpolate='nearest'), exactly",
                a["points-reducer"],
                a["points-rasterstats"],
                ["mean"],
                0.0,
                exact=("mean",),
            ),
        )
    return checks


def mb(x: float) -> str:
    return f"{x / 2**20:,.0f}"


FLOORS = ("floor", "floor-gdal", "floor-tiles")


def floor_of(res: dict) -> tuple[str, float] | None:
    """The fastest contender decoding the whole images: the floor the targets compare with."""
    have = [n for n in ("floor", "floor-gdal") if n in res]
    if not have:
        return None
    n = min(have, key=lambda n: res[n]["wall_s"])
    return n, res[n]["wall_s"]


def fmt_table(res: dict, extrapolated: dict) -> str:
    ref_w = res.get("reducer", {}).get("wall_s")
    ref_u = res.get("reducer-unweighted", {}).get("wall_s")
    ref_p = res.get("points-reducer", {}).get("wall_s")
    lines = [
        "| contender | wall s | CPU s | peak RSS MB | ÷ reducer weighted | ÷ reducer unweighted | runs (wall s) "
        "| other load | notes |",
        "|---|---:|---:|---:|---:|---:|---|---:|---|",
    ]
    for name, r in res.items():
        wall = r["wall_s"]
        notes = []
        if name in extrapolated:
            notes.append(extrapolated[name])
        sc = r.get("second_call_s")
        if sc is not None and np.isfinite(sc):
            notes.append(f"2nd call in the same process (coverage cached) {sc:.2f} s")
        if r.get("strategy"):
            notes.append(r["strategy"])
        if r.get("processes"):
            notes.append(f"{r['processes']} processes; RSS = sampled sum over the process tree")
        if name == "floor":
            notes.append(f"rasterio, {r['window']}² windows on a pool of {r['threads']} threads")
        if name == "floor-gdal":
            notes.append("rasterio whole-image read, GDAL NUM_THREADS=2")
        if name == "floor-tiles":
            notes.append(f"rasterio, the tiles fields touch (shapely), one window each, {r['threads']} threads")
        if r.get("tiles") is not None:
            notes.append(
                f"decoded {r['tiles']:,} tiles, {r['file_bytes'] / 2**20:,.1f} MB in the files"
                + (f" ({r['decoded_pixels'] / 2**20:,.1f} M pixels)" if r.get("decoded_pixels") is not None else "")
            )
        elif r.get("decoded_pixels") is not None:
            notes.append(f"read {r['decoded_pixels'] / 2**20:,.1f} M pixels in {r['reads']:,} windows")
        if r.get("explain_tiles") is not None:
            notes.append(
                f"explain(): {r['explain_tiles']:,} tiles, {r['explain_bytes'] / 2**20:,.1f} MB decoded as floats"
            )
        if name == "flox":
            notes.append("centre-in label raster: overlapping fields cannot be represented")
        notes.append(f"RSS after imports {mb(r['rss_after_imports'])} MB")
        if name.startswith("points"):
            rw = f"{wall / ref_p:.1f}" if ref_p else "–"
            ru = "–"
        else:
            rw = f"{wall / ref_w:.2f}" if ref_w else "–"
            ru = f"{wall / ref_u:.2f}" if ref_u else "–"
        label = name + (" (extrapolated)" if name in extrapolated else "")
        runs = ", ".join(f"{x:.2f}" for x in r.get("all_wall_s", [wall]))
        lines.append(
            f"| {label} | {wall:.2f} | {r['cpu_s']:.2f} | {mb(r['peak'])} | {rw} | {ru} | {runs} | "
            f"{r.get('foreign_cores', 0):.2f} | {'; '.join(notes)} |"
        )
    return "\n".join(lines)


def targets(res: dict) -> list[str]:
    out = []
    w, u = res.get("reducer", {}).get("wall_s"), res.get("reducer-unweighted", {}).get("wall_s")

    def line(desc, value, ok):
        out.append(f"- {desc}: {value} → {'met' if ok else 'NOT met'}")

    if u and "rasterstats" in res:
        r = res["rasterstats"]["wall_s"] / u
        line("reducer unweighted vs rasterstats (target ≥30× faster)", f"{r:.1f}×", r >= 30)
    if w and "rasterstats" in res:
        r = res["rasterstats"]["wall_s"] / w
        line("reducer weighted vs rasterstats (target ≥30× faster)", f"{r:.1f}×", r >= 30)
    ee = [n for n in res if n.startswith("exactextract")]
    if w and ee:
        best = min(ee, key=lambda n: res[n]["wall_s"])
        r = res[best]["wall_s"] / w
        line(f"reducer weighted vs fastest exactextract ({best}) (target ≥3× faster)", f"{r:.2f}×", r >= 3)
    fl = floor_of(res)
    if fl:
        for nm, t in (("weighted", w), ("unweighted", u)):
            if t:
                line(
                    f"reducer {nm} vs decode floor ({fl[0]}, {fl[1]:.2f} s) (target ≤1.5×)",
                    f"{t / fl[1]:.2f}×",
                    t / fl[1] <= 1.5,
                )
    for nm in ("reducer", "reducer-unweighted", "reducer-getinfo", "points-reducer"):
        if nm in res:
            p = res[nm]["peak"]
            line(f"{nm} peak RSS (target <1.5 GB)", f"{mb(p)} MB", p < 1.5 * 2**30)
    if "points-reducer" in res and "points-rasterstats" in res:
        r = res["points-rasterstats"]["wall_s"] / res["points-reducer"]["wall_s"]
        line("points: reducer vs point_query (target ≥30× faster)", f"{r:.1f}×", r >= 30)
    full = res.get("floor", {}).get("tiles")
    for nm in ("reducer", "reducer-unweighted", "reducer-getinfo"):
        if nm not in res or not full or res[nm].get("tiles") is None or "floor-tiles" not in res:
            continue  # the sparse job's targets, with its touched-tiles floor
        r = res[nm]
        share = r["tiles"] / full
        tiles_floor = res.get("floor-tiles", {}).get("tiles")
        if tiles_floor is not None:
            line(
                f"{nm} decodes only the tiles fields touch: {r['tiles']:,} tiles "
                f"(the touched-tiles floor: {tiles_floor:,}; all: {full:,})",
                f"{r['tiles'] / tiles_floor:.2f}× the touched tiles",
                r["tiles"] <= tiles_floor * 1.05,
            )
        ratio = r["wall_s"] / res["floor"]["wall_s"]
        line(
            f"{nm} vs the whole-image floor, beating it by the uncovered share (target ≤ {share:.2f}×, "
            f"the share of tiles it decodes)",
            f"{ratio:.2f}× (CPU {r['cpu_s'] / res['floor']['cpu_s']:.2f}×)",
            ratio <= share,
        )
        if "floor-tiles" in res:
            ft = res["floor-tiles"]
            line(
                f"{nm} vs the touched-tiles floor ({ft['wall_s']:.2f} s) (for orientation: ≤1.3× as the dense target)",
                f"{r['wall_s'] / ft['wall_s']:.2f}× (CPU {r['cpu_s'] / ft['cpu_s']:.2f}×)",
                r["wall_s"] / ft["wall_s"] <= 1.3,
            )
    return out


def base_job(ds: Dataset, args) -> dict:
    return {
        "glob": ds.glob,
        "tifs": ds.tifs,
        "fields": ds.fields,
        "points": ds.points,
        "n_fields": ds.params.n_fields,
        "rs_subset": args.rs_subset,
        "floor_step": args.floor_step,
        "no_second": args.no_second_call,
    }


def run_contenders(names: list[str], ds: Dataset, args) -> tuple[dict, dict, dict]:
    """Run every contender ``--repeat`` times, round robin (so that a burst of load from elsewhere hits
    them alike), each in a fresh process; keep each contender's fastest run."""
    runs: dict[str, list[dict]] = {n: [] for n in names}
    answers, extrapolated = {}, {}
    outdir = DATA / "answers"
    outdir.mkdir(exist_ok=True)
    for rep in range(args.repeat):
        for name in names:
            if name in SLOW and rep > 0:
                continue
            job = base_job(ds, args)
            job["answers"] = str(outdir / f"{name}.npz") if rep == 0 else ""
            log(f"running {name} ({rep + 1}/{args.repeat}) …")
            rec = spawn(name, job, idle_wait=args.idle_wait)
            log(
                f"  {name}: {rec['wall_s']:.2f} s (cpu {rec['cpu_s']:.2f} s), peak RSS {mb(rec['peak'])} MB, "
                f"other load {rec['foreign_cores']:.2f} cores"
            )
            runs[name].append(rec)
            if rep == 0:
                with np.load(job["answers"]) as z:
                    answers[name] = {k: z[k] for k in z.files}
    res = {}
    for name in names:
        best = min(runs[name], key=lambda r: r["wall_s"])
        best["all_wall_s"] = [r["wall_s"] for r in runs[name]]
        best["peak"] = max(r["peak"] for r in runs[name])  # the worst peak over the repeats
        sub = best.get("subset")
        if name == "rasterstats" and sub is not None:
            measured, prep, f = best["wall_s"], best["prep_s"], ds.params.n_fields / len(sub)
            best["wall_s_measured"] = measured
            best["wall_s"] = prep + (measured - prep) * f  # reading and reprojecting all fields is not scaled
            best["cpu_s"] = prep + (best["cpu_s"] - prep) * f
            extrapolated[name] = (
                f"extrapolated linearly from {len(sub)} of {ds.params.n_fields} fields ({measured:.2f} s measured)"
            )
        res[name] = best
    return res, answers, extrapolated


def versions() -> dict:
    import importlib.metadata as md

    import rasterio

    out = {"python": sys.version.split()[0], "GDAL": rasterio.__gdal_version__}
    try:
        root = HERE.parent
        head = subprocess.run(["git", "-C", str(root), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
        dirty = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "reducer/"], capture_output=True, text=True
        ).stdout.splitlines()
        out["reducer_git"] = head.stdout.strip() + (f" + {len(dirty)} uncommitted files in reducer/" if dirty else "")
    except OSError:
        pass
    for pkg in (
        "reducer",
        "numpy",
        "dask",
        "rasterio",
        "exactextract",
        "rasterstats",
        "flox",
        "xarray",
        "geopandas",
        "shapely",
        "pyproj",
        "pandas",
    ):
        try:
            out[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            out[pkg] = "not installed"
    return out


def machine() -> dict:
    import platform

    import psutil

    return {
        "cores": os.cpu_count(),
        "sched_affinity": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "platform": platform.platform(),
        "cpu": platform.processor() or _cpu_model(),
    }


def _cpu_model() -> str:
    try:
        for ln in Path("/proc/cpuinfo").read_text().splitlines():
            if ln.startswith("model name"):
                return ln.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown"


def scaling(args, base: Params) -> list[dict]:
    """reducer alone (weighted and unweighted) and the floor as T and N grow."""
    rows = []
    steps = [("T", replace_params(base, n_images=base.n_images * m)) for m in (1, 2, 4)]
    steps += [("N", replace_params(base, n_fields=base.n_fields * m)) for m in (10, 100)]
    for axis, p in steps:
        ds = ensure_data(p)
        warm_page_cache(ds.tifs)
        args_local = argparse.Namespace(**{**vars(args), "rs_subset": None})
        for name in ("reducer", "reducer-unweighted", "floor"):
            if name == "floor" and axis == "N":
                continue
            job = base_job(ds, args_local)
            job["no_second"] = True
            job["answers"] = ""
            best = None
            for _ in range(args.repeat):
                rec = spawn(name, job, idle_wait=args.idle_wait)
                best = rec if best is None or rec["wall_s"] < best["wall_s"] else best
            row = {
                "cpu_s": best["cpu_s"],
                "foreign_cores": best["foreign_cores"],
                "axis": axis,
                "T": p.n_images,
                "N": p.n_fields,
                "name": name,
                "wall_s": best["wall_s"],
                "peak": best["peak"],
            }
            log(
                f"  scaling {axis}: T={p.n_images} N={p.n_fields} {name}: {best['wall_s']:.2f} s, {mb(best['peak'])} MB"
            )
            rows.append(row)
    return rows


def replace_params(p: Params, **kw) -> Params:
    from dataclasses import replace

    return replace(p, **kw)


def fmt_scaling(rows: list[dict]) -> str:
    lines = [
        "| T | N | contender | wall s | CPU s | s per image | peak RSS MB | other load |",
        "|---:|---:|---|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['T']} | {r['N']:,} | {r['name']} | {r['wall_s']:.2f} | {r['cpu_s']:.2f} "
            f"| {r['wall_s'] / r['T']:.3f} | {mb(r['peak'])} | {r['foreign_cores']:.2f} |"
        )
    return "\n".join(lines)


def scaling_targets(rows: list[dict], base: Params) -> list[str]:
    out = []
    for name in ("reducer", "reducer-unweighted"):
        mine = [r for r in rows if r["name"] == name]
        b = next((r for r in mine if r["T"] == base.n_images and r["N"] == base.n_fields), None)
        if b is None:
            continue
        tmax = max((r for r in mine if r["N"] == base.n_fields), key=lambda r: r["T"])
        nmax = max((r for r in mine if r["T"] == base.n_images), key=lambda r: r["N"])
        for lab, r in ((f"T {base.n_images}→{tmax['T']}", tmax), (f"N {base.n_fields:,}→{nmax['N']:,}", nmax)):
            change = r["peak"] / b["peak"] - 1
            ok = abs(change) <= 0.15 and r["peak"] < 1.5 * 2**30
            out.append(
                f"- {name} peak RSS, {lab}: {mb(b['peak'])} → {mb(r['peak'])} MB ({change:+.0%}; target "
                f"within ±15%, < 1.5 GB) → {'met' if ok else 'NOT met'}"
            )
        g = nmax["wall_s"] / b["wall_s"]
        out.append(
            f"- {name} time, N {base.n_fields:,}→{nmax['N']:,}: ×{g:.2f} (target <2×) → {'met' if g < 2 else 'NOT met'}"
        )
    return out


def profile(name: str, ds: Dataset, args) -> None:
    """Profile one contender two ways (each a fresh process, like the timed runs).

    - pyinstrument with dask's synchronous scheduler: one thread, so the call tree is complete;
    - py-spy on the real (threaded) run, Python frames: phases, threads and hottest lines. (``--native``
      slows this machine's runs tenfold, so time in C is charged to the Python line that called it.)
    """
    q = ds.params
    tag = f"{name}_s{q.size}_t{q.n_images}_n{q.n_fields}"
    job = base_job(ds, args)
    job["no_second"] = True
    job["answers"] = ""
    me = [sys.executable, str(Path(__file__).resolve()), "--run-one", name, "--job", json.dumps(job)]
    out_txt = HERE / f"profile_{tag}_pyinstrument.txt"
    subprocess.run([*me, "--pyinstrument", str(out_txt)], check=True, stdout=subprocess.DEVNULL)
    log(f"wrote {out_txt}")
    spy = str(Path(sys.executable).parent / "py-spy")
    raw = DATA / f"pyspy_{tag}.txt"
    cmd = [spy, "record", "-r", "250", "--threads", "-f", "raw", "-o", str(raw)]
    subprocess.run([*cmd, "--", *me], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    summary = HERE / f"profile_{tag}_pyspy.txt"
    summary.write_text(summarise_pyspy(raw, name))
    log(f"wrote {summary}")


# Phases of a run, by the frames on the stack (the innermost frame that names one decides).
IDLE, STARTUP = "idle (waiting for work or the GIL)", "start-up and exit (imports before the clock)"
_STARTUP = ("_preimport (", "<module> (bench_zonal.py", "<module> (benchmarks/bench_zonal.py")
PHASES = [
    ("decode: rasterio.open per block", ("open (rasterio/__init__.py", "wrapper (rasterio/env.py")),
    ("decode: read + nodata→NaN (read_window)", ("read_window",)),
    ("floor/flox decode", ("decode_image", "run_floor")),
    ("weights: coverage (exactextract, scanline, burn)", ("coverage (reducer/coverage.py",)),
    ("weights: split to block, sort (_weights_task)", ("_weights_task",)),
    ("assign features to blocks", ("assign_blocks",)),
    ("chunk kernel (gather, reduceat)", ("chunk_stats", "_chunk_task")),
    ("combine + finalize", ("combine_partials", "_finalize_task", "_combine_task")),
    ("output: GeoDataFrame / getInfo dict", ("to_geodataframe", "_fc_info", "to_info (")),
    ("benchmark, after the clock: answers to arrays", ("_frame_answers", "_info_answers", "savez")),
    ("features: read file, validate, reproject", ("read_file", "to_crs", "check_geometries", "check_overlap")),
    ("graph build, tokenize", ("graph (reducer/engine.py", "tokenize (dask/", "to_delayed (", "_features_token (")),
    ("plan (other)", ("plan_reduction",)),
    ("compute: import distributed", ("_active_client",)),
    ("dask scheduler", ("dask/local.py", "dask/threaded.py")),
]
_IDLE = (
    "_worker (concurrent/futures/thread.py",
    "wait (threading.py",
    "Condition.wait",
    "Queue.get",
    "Event.wait",
    "Thread.join",
    "_wait_for_tstate_lock",
    "get (queue.py",
)


def summarise_pyspy(raw: Path, name: str) -> str:
    """Phases, threads and hottest lines from py-spy's raw (collapsed) output.

    A sample goes to the phase of its innermost frame that names one (so a thread inside
    ``_weights_task`` → ``coverage`` counts as coverage), or to "idle" when its innermost Python frame
    waits for work.
    """
    from collections import Counter

    phase, threads, line_hits, thread_job = Counter(), Counter(), Counter(), Counter()
    total = 0
    for ln in raw.read_text().splitlines():
        stack, _, n = ln.rpartition(" ")
        n = int(n)
        frames = stack.split(";")
        total += n
        threads[frames[0].split(":")[0]] += n
        py = [f for f in frames if ".py:" in f]
        inner = py[-1] if py else frames[-1]
        in_main = any(f.startswith("main (") and "bench_zonal.py" in f for f in frames)
        run_one_import = any(
            f.startswith("run_one (") and frames[i + 1].startswith("_find_and_load") for i, f in enumerate(frames[:-1])
        )
        if (
            len(frames) == 1  # no Python frame: interpreter start-up or exit
            or run_one_import
            or any(k in f for f in frames for k in _STARTUP[:1])
            or (not in_main and any(k in f for f in frames for k in _STARTUP[1:]))
        ):
            phase[STARTUP] += n
            continue
        if any(k in inner for k in _IDLE) or "Condition.notify" in inner:
            phase[IDLE] += n
            continue
        label = next(
            (lab for f in reversed(frames) for lab, keys in PHASES if any(k in f for k in keys)),
            "other",
        )
        phase[label] += n
        line_hits[inner] += n
        thread_job[frames[0].split(":")[0] + (" (main)" if "MainThread" in frames[0] else "")] += n
    busy = total - phase[IDLE]
    job = busy - phase[STARTUP]
    head = (
        f"py-spy record --threads at 250 Hz on contender {name!r} (threaded scheduler, as timed): "
        f"{total} samples over all threads; {busy} busy, {job} of them in the job (not startup)"
    )
    out = [head, "", "phases (busy samples: one thread on a core for 4 ms; % of the job's busy samples):"]
    for k, v in sorted(phase.items(), key=lambda kv: -kv[1]):
        share = f"{v / job:6.1%}" if k not in (IDLE, STARTUP) else "      "
        out.append(f"  {v:7d}  {share}  {k}")
    out += ["", "threads (all samples):"] + [f"  {v:7d}  {k}" for k, v in threads.most_common()]
    out += ["", "threads (busy samples in the job; the main thread's work is serial):"]
    out += [f"  {v:7d}  {k}" for k, v in thread_job.most_common()]
    out += ["", "hottest Python lines in the job (innermost Python frame; time in C goes to its caller):"]
    out += [f"  {v:7d}  {k}" for k, v in line_hits.most_common(30)]
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--small", action="store_true", help="4 images of 1024², 200 fields, 200 points")
    ap.add_argument("--size", type=int, help="raster width and height in pixels (default 4096)")
    ap.add_argument("--n-images", type=int, help="number of images T (default 12)")
    ap.add_argument("--n-fields", type=int, help="number of fields N (default 1000)")
    ap.add_argument("--n-points", type=int, help="number of points (default 1000)")
    ap.add_argument("--cover", type=float, default=0.25, help="sum of field areas / raster area (default 0.25)")
    ap.add_argument(
        "--sparse",
        action="store_true",
        help=f"the sparse job: the same images, the fields in {SPARSE_CLUSTERS} clusters covering "
        f"~{SPARSE_COVER:.0%} of the raster (add floor-tiles to --only: the touched-tiles floor)",
    )
    ap.add_argument("--only", default="all", help=f"comma-separated contenders or groups {sorted(ALIASES)}: {ALL}")
    ap.add_argument("--skip-slow", action="store_true", help="skip rasterstats (zonal and points)")
    ap.add_argument(
        "--rs-subset",
        type=int,
        default=None,
        help="time rasterstats on this many fields (evenly spaced) and extrapolate linearly",
    )
    ap.add_argument("--repeat", type=int, default=1, help="runs per contender (fresh process each); best is kept")
    ap.add_argument(
        "--idle-wait",
        type=float,
        default=None,
        help="before each run, wait up to this many seconds for the machine to be idle (0: never; "
        "default 60, or 0 with --small)",
    )
    ap.add_argument("--floor-step", type=int, default=1024, help="window size of the floor's decode")
    ap.add_argument("--no-second-call", action="store_true", help="do not time reducer's second call")
    ap.add_argument("--scaling", action="store_true", help="also time reducer alone as T grows ×4 and N ×100")
    ap.add_argument("--profile", metavar="NAME", help="profile one contender into benchmarks/profile_*.txt and exit")
    ap.add_argument("--json", metavar="PATH", help="write all results as JSON here")
    ap.add_argument("--run-one", metavar="NAME", help=argparse.SUPPRESS)
    ap.add_argument("--job", help=argparse.SUPPRESS)
    ap.add_argument("--pyinstrument", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    if args.run_one:
        job = json.loads(args.job)
        if args.pyinstrument:
            from pyinstrument import Profiler

            import reducer as ee

            ee.set_options(scheduler="synchronous")
            _preimport(args.run_one)
            prof = Profiler(interval=0.001)
            prof.start()
            run_one(args.run_one, job)
            prof.stop()
            Path(args.pyinstrument).write_text(
                "pyinstrument, dask scheduler='synchronous' (one thread, so the tree is complete)\n\n"
                + prof.output_text(unicode=True, color=False, show_all=False)
            )
        else:
            run_one(args.run_one, job)
        return 0

    small = Params(size=1024, n_images=4, n_fields=200, n_points=200) if args.small else Params()
    p = replace_params(
        small,
        size=args.size or small.size,
        n_images=args.n_images or small.n_images,
        n_fields=args.n_fields or small.n_fields,
        n_points=args.n_points or small.n_points,
        cover=args.cover,
        sparse=args.sparse,
    )
    if args.idle_wait is None:
        args.idle_wait = 0.0 if args.small else 60.0
    log(f"data: {asdict(p)}")
    ds = ensure_data(p)
    warm_page_cache(ds.tifs)

    if args.profile:
        profile(args.profile, ds, args)
        return 0

    names = []
    for item in args.only.split(","):
        item = item.strip()
        for n in ALIASES.get(item, [item]):
            if n not in RUNNERS:
                ap.error(f"unknown contender {n!r}; choose from {ALL} or {sorted(ALIASES)}")
            if n not in names and not (args.skip_slow and n in SLOW):
                names.append(n)

    at_start = versions()
    res, answers, extrapolated = run_contenders(names, ds, args)
    checks = check_answers(res, answers, ds)
    at_end = versions()
    if at_end.get("reducer_git") != at_start.get("reducer_git"):
        at_start["reducer_git"] += f" at the start; {at_end.get('reducer_git')} at the end"
    report = {
        "params": asdict(p),
        "machine": machine(),
        "versions": at_start,
        "results": res,
        "checks": [asdict(c) for c in checks],
    }
    job_kind = f"sparse: fields in {SPARSE_CLUSTERS} clusters on ~{SPARSE_COVER:.0%} of the raster" if p.sparse else ""
    print(
        f"\n## {p.n_images} images of {p.size}², {p.n_fields:,} fields, {p.n_points:,} points; {os.cpu_count()} cores"
        + (f" ({job_kind})" if job_kind else "")
        + "\n"
    )
    print("versions: " + ", ".join(f"{k} {v}" for k, v in report["versions"].items()) + "\n")
    print("answers:")
    for c in checks:
        print(f"- [{'ok' if c.ok else 'DISAGREE'}] {c.what}: {c.detail}")
    failed = [c for c in checks if not c.ok]
    if failed:
        print("\nThe answers disagree: no ratios are printed.")
        print("| contender | wall s | peak RSS MB |\n|---|---:|---:|")
        for n, r in res.items():
            print(f"| {n} | {r['wall_s']:.2f} | {mb(r['peak'])} |")
        if args.json:
            Path(args.json).write_text(json.dumps(report, indent=1, default=str))
        return 1
    checked = {n for c in checks for n in c.names}
    unchecked = [n for n in res if n not in checked and n not in FLOORS]
    print()
    print(fmt_table(res, extrapolated))
    if unchecked:
        print(f"\n(answers not cross-checked in this run: {', '.join(unchecked)})")
    default = replace_params(p, sparse=False) == Params()
    print("\ntargets:" if default else "\ntargets (stated for the default size; here for orientation only):")
    for ln in targets(res):
        print(ln)
    if args.scaling:
        rows = scaling(args, p)
        report["scaling"] = rows
        print("\n### scaling (reducer alone; to_pandas; best of --repeat)\n")
        print(fmt_scaling(rows))
        print()
        for ln in scaling_targets(rows, p):
            print(ln)
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
