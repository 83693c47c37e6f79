"""Time reducer's neighbourhood operations against numpy sliding windows on the same raster.

Each case computes the whole raster with reducer (lazy bands, computed per dask block with a halo)
and with ``numpy.lib.stride_tricks.sliding_window_view`` on the array in memory, checks that the two
agree, then prints wall times. Nothing is asserted about speed; this script is where it is shown.

    python benchmarks/bench_focal.py            # 2048² float32, a few kernels
    python benchmarks/bench_focal.py --size 1024
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import rasterio
from affine import Affine
from numpy.lib.stride_tricks import sliding_window_view

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import reducer as ee  # noqa: E402


def _numpy_focal(a: np.ndarray, footprint: np.ndarray, fn) -> np.ndarray:
    r = footprint.shape[0] // 2
    padded = np.pad(a, r, constant_values=np.nan)
    win = sliding_window_view(padded, footprint.shape)[..., footprint.astype(bool)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return fn(win, axis=-1)


def main() -> None:
    """Run the cases and print a table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=2048)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    a = rng.normal(100, 10, (args.size, args.size)).astype("float32")
    a[rng.random(a.shape) < 0.02] = np.nan
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "img.tif"
        profile = dict(driver="GTiff", width=args.size, height=args.size, count=1, dtype="float32", crs="EPSG:32633",
                       transform=Affine(10, 0, 500000, 0, -10, 4000000), nodata=np.nan, tiled=True, blockxsize=512,
                       blockysize=512)  # fmt: skip
        with rasterio.open(path, "w", **profile) as dst:
            dst.write(a, 1)
        img = ee.Image(str(path))
        grid = img.raster.grid
        square3 = np.ones((3, 3))  # the circle of radius 1.5
        cases = [
            ("focalMean(1.5)", img.focalMean(), square3, np.nanmean),
            ("focalMax(3, 'square')", img.focalMax(3, "square"), np.ones((7, 7)), np.nanmax),
            ("focalMedian(1.5)", img.focalMedian(), square3, np.nanmedian),
        ]
        print(f"{'operation':<24}{'reducer s':>12}{'numpy s':>10}")
        for name, im, footprint, fn in cases:
            t = time.perf_counter()
            got = im.raster.bands[0].on(grid).compute()
            t_reducer = time.perf_counter() - t
            t = time.perf_counter()
            expected = _numpy_focal(a.astype("f8"), footprint, fn)
            t_numpy = time.perf_counter() - t
            np.testing.assert_allclose(got, expected, rtol=1e-9, equal_nan=True)
            print(f"{name:<24}{t_reducer:>12.2f}{t_numpy:>10.2f}")


if __name__ == "__main__":
    main()
