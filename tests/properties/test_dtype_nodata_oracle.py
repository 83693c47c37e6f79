"""Property (issue 16): real GeoTIFFs of every dtype, nodata at each dtype's extremes or NaN, masks and
random boxes, reduced and compared with a brute-force numpy/shapely oracle: no wrong number.

Each example writes a small GeoTIFF (int8 … uint64, float32/64) whose nodata is None, the dtype's
minimum or maximum, or NaN for floats (64-bit integer nodata is written as GDAL writes it, which
rasterio cannot report: GDAL's mask must be read), masks some pixels with ``updateMask``, and reduces
random boxes (partly outside the raster) with mean, sum, count, min, max and variance, weighted and
unweighted. The oracle, over the valid pixels (not nodata, not masked):

- weighted: coverage c = area(box ∩ pixel) / pixel area; mean = Σcx / Σc, sum = Σcx,
  variance = Σc(x - mean)² / Σc; min and max over the pixels with c > 0;
- unweighted: c = 1 for the pixels whose centre is inside the box, else 0;
- count: the valid pixels whose centre is inside; no valid pixel: None (count 0).
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely
from affine import Affine
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import reducer as ee
from tests.common import write_tif
from tests.unit.test_hostile import _set_nodata_tag

CRS = "EPSG:32633"
DTYPES = ["int8", "uint8", "int16", "uint16", "int32", "uint32", "int64", "uint64", "float32", "float64"]
STATS = ("mean", "sum", "count", "min", "max", "variance")


def _extremes(dtype: str) -> list[float | None]:
    dt = np.dtype(dtype)
    if dt.kind == "f":
        return [None, float(np.finfo(dt).min), float(np.finfo(dt).max), math.nan]
    return [None, int(np.iinfo(dt).min), int(np.iinfo(dt).max)]


@st.composite
def cases(draw: st.DrawFn):
    dtype = draw(st.sampled_from(DTYPES))
    dt = np.dtype(dtype)
    ny, nx = draw(st.integers(2, 5)), draw(st.integers(2, 5))
    lo, hi = (max(-100, int(np.iinfo(dt).min)), min(100, int(np.iinfo(dt).max))) if dt.kind in "iu" else (-100, 100)
    values = np.array(draw(st.lists(st.integers(lo, hi), min_size=ny * nx, max_size=ny * nx)), dtype=dt)
    values = values.reshape(ny, nx)
    if dt.kind == "f":
        values = values + np.array(draw(st.floats(0, 0.875)), dtype=dt)  # exact in float32
    nodata = draw(st.sampled_from(_extremes(dtype)))
    is_nodata = np.array(draw(st.lists(st.booleans(), min_size=ny * nx, max_size=ny * nx))).reshape(ny, nx)
    masked = np.array(draw(st.lists(st.booleans(), min_size=ny * nx, max_size=ny * nx))).reshape(ny, nx)
    if nodata is not None:
        values[is_nodata] = nodata
    coord = st.floats(-1.0, 6.0, allow_nan=False)
    boxes = []
    for _ in range(draw(st.integers(1, 3))):
        x0, x1 = sorted((draw(coord), draw(coord)))
        y0, y1 = sorted((draw(coord), draw(coord)))
        assume(x1 - x0 > 0.05 and y1 - y0 > 0.05)
        boxes.append((x0, y0, x1, y1))
    weighted = draw(st.booleans())
    return dtype, values, nodata, masked, boxes, weighted


T = Affine(1, 0, 500000, 0, -1, 4000010)


def _box(b: tuple[float, float, float, float], ny: int) -> shapely.Polygon:
    # pixel units: x to the right from the left edge, y up from the bottom edge
    x0, y0, x1, y1 = b
    return shapely.box(T.c + x0, T.f - ny + y0, T.c + x1, T.f - ny + y1)


def _oracle(values, valid, poly, weighted: bool) -> dict:
    ny, nx = values.shape
    xs, cs, centres = [], [], 0
    for r in range(ny):
        for c in range(nx):
            pixel = shapely.box(T.c + c, T.f - r - 1, T.c + c + 1, T.f - r)
            centre_in = bool(shapely.contains_xy(poly, T.c + c + 0.5, T.f - r - 0.5))
            cover = shapely.intersection(poly, pixel).area if weighted else float(centre_in)
            if not valid[r, c]:
                continue
            centres += centre_in
            if cover > 0:
                xs.append(float(values[r, c]))
                cs.append(cover)
    if not xs:
        return {"count": 0, **{s: None for s in STATS if s != "count"}}
    x, w = np.array(xs), np.array(cs)
    mean = (w * x).sum() / w.sum()
    return {
        "count": centres,
        "mean": mean,
        "sum": (w * x).sum(),
        "min": x.min(),
        "max": x.max(),
        "variance": (w * (x - mean) ** 2).sum() / w.sum(),
    }


def _near_boundary(poly, ny: int, nx: int) -> bool:
    """A pixel centre within 1e-6 of the box's edge, where centre-in depends on rounding."""
    pts = [(T.c + c + 0.5, T.f - r - 0.5) for r in range(ny) for c in range(nx)]
    return any(poly.exterior.distance(shapely.Point(p)) < 1e-6 for p in pts)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(case=cases())
def test_every_dtype_and_nodata_matches_the_oracle(tmp_path_factory, case) -> None:
    dtype, values, nodata, masked, boxes, weighted = case
    ny, nx = values.shape
    tmp = Path(tmp_path_factory.mktemp("p"))
    is64 = np.dtype(dtype).kind in "iu" and np.dtype(dtype).itemsize == 8
    if nodata is not None and is64:
        path = write_tif(tmp / "r.tif", values, transform=T, nodata=7)
        _set_nodata_tag(path, str(nodata))  # as GDAL writes it: rasterio cannot
    else:
        path = write_tif(tmp / "r.tif", values, transform=T, nodata=nodata)
    polys = [_box(b, ny) for b in boxes]
    assume(not any(_near_boundary(p, ny, nx) for p in polys))
    valid = ~masked
    if nodata is not None:
        valid &= ~(np.isnan(values) if isinstance(nodata, float) and math.isnan(nodata) else values == nodata)
    mask = write_tif(tmp / "m.tif", (~masked).astype("uint8"), transform=T)
    img = ee.Image(str(path)).updateMask(ee.Image(str(mask)))
    red = ee.Reducer.mean()
    for s in ("sum", "count", "min", "max", "variance"):
        red = red.combine(getattr(ee.Reducer, s)(), sharedInputs=True)
    if not weighted:
        red = red.unweighted()
    fc = ee.FeatureCollection(gpd.GeoDataFrame(geometry=polys, crs=CRS))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        got = img.reduceRegions(fc, red).getInfo()["features"]
    for f, poly in zip(got, polys, strict=True):
        exp = _oracle(values, valid, poly, weighted)
        props = f["properties"]
        assert props["count"] == exp["count"], (props, exp)
        for s in STATS:
            if s == "count":
                continue
            if exp[s] is None:
                assert props[s] is None, (s, props, exp)
            else:
                assert props[s] is not None and math.isclose(props[s], exp[s], rel_tol=1e-6, abs_tol=1e-4), (
                    s,
                    props[s],
                    exp[s],
                    dtype,
                    nodata,
                )
