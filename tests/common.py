"""Canonical test objects: the 3×3 raster of 1..9, the half-pixel square, nodata and empty cases."""

from __future__ import annotations

import builtins
import contextlib
from pathlib import Path

import numpy as np
import rasterio
import shapely
from affine import Affine

CRS = "EPSG:32633"
ORIGIN = (500000.0, 4000003.0)
TRANSFORM_3x3 = Affine(1, 0, ORIGIN[0], 0, -1, ORIGIN[1])
VALUES_3x3 = np.arange(1, 10, dtype="float32").reshape(3, 3)


def write_tif(
    path: Path,
    data: np.ndarray,
    transform: Affine = TRANSFORM_3x3,
    crs: str | None = CRS,
    nodata: float | None = None,
    descriptions: list[str] | None = None,
    tags: dict | None = None,
    tiled: bool = False,
    blocksize: int = 256,
) -> Path:
    """Write a real GeoTIFF; ``data`` is (y, x) or (band, y, x)."""
    data = np.asarray(data)
    if data.ndim == 2:
        data = data[None]
    profile = dict(
        driver="GTiff",
        width=data.shape[2],
        height=data.shape[1],
        count=data.shape[0],
        dtype=data.dtype,
        crs=crs,
        transform=transform,
        nodata=nodata,
    )
    if tiled:
        profile.update(tiled=True, blockxsize=blocksize, blockysize=blocksize, compress="deflate")
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data)
        if descriptions:
            for i, d in enumerate(descriptions, 1):
                dst.set_band_description(i, d)
        if tags:
            dst.update_tags(**tags)
    return Path(path)


def local_box(x0: float, y0: float, x1: float, y1: float) -> shapely.Polygon:
    """A box in 3×3-pixel coordinates (column x, row-from-bottom y), placed on the test grid."""
    return shapely.box(ORIGIN[0] + x0, ORIGIN[1] - 3 + y0, ORIGIN[0] + x1, ORIGIN[1] - 3 + y1)


# The square (0.5,0.5)–(2.5,2.5): covers the corner cells by 0.25, the edge cells by 0.5, the centre by 1.
SQUARE = local_box(0.5, 0.5, 2.5, 2.5)
# Top two rows of the first two columns, the second row by 0.8: centres of 1, 2, 4, 5 inside.
TOP_LEFT = local_box(0, 1.2, 2, 3)
OUTSIDE = local_box(10, 10, 11, 11)
EMPTY = shapely.Polygon()


@contextlib.contextmanager
def no_python_evaluation():
    """Replace eval, exec and compile so that any use of them fails the test."""

    def boom(*args, **kwargs):
        raise AssertionError("Image.expression reached Python evaluation")

    saved = builtins.eval, builtins.exec, builtins.compile
    builtins.eval = builtins.exec = builtins.compile = boom
    try:
        yield
    finally:
        builtins.eval, builtins.exec, builtins.compile = saved
