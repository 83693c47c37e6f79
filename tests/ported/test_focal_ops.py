"""Earth Engine guide-style neighbourhood snippets, written as an Earth Engine user writes them.

Each script is what a user runs with ``import ee``; only the import and the data paths change. The
numbers are checked against numpy: NaN-padded sliding windows (``sliding_window_view``), an
implementation independent of the package's.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from affine import Affine
from numpy.lib.stride_tricks import sliding_window_view

import reducer as ee
from tests.common import write_tif

ORIGIN = (300000.0, 5000000.0)
T30 = Affine(30, 0, ORIGIN[0], 0, -30, ORIGIN[1])
NODATA = -9999.0


def _windows(a: np.ndarray, footprint: np.ndarray) -> np.ndarray:
    """``(y, x, k)``: each pixel's neighbours under ``footprint`` (NaN beyond the edge)."""
    ry, rx = footprint.shape[0] // 2, footprint.shape[1] // 2
    padded = np.pad(a.astype("f8"), ((ry, ry), (rx, rx)), constant_values=np.nan)
    win = sliding_window_view(padded, footprint.shape)
    return win[..., footprint.astype(bool)]


def _focal(a: np.ndarray, footprint: np.ndarray, fn) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN windows give NaN
        return fn(_windows(a, footprint), axis=-1)


def _box(col0: int, row0: int, col1: int, row1: int) -> ee.Geometry:
    x0, y0 = ORIGIN[0] + 30 * col0, ORIGIN[1] - 30 * row1
    x1, y1 = ORIGIN[0] + 30 * col1, ORIGIN[1] - 30 * row0
    return ee.Geometry.Rectangle([x0, y0, x1, y1], "EPSG:32633", False)


PLUS = np.array([[0, 1, 0], [1, 1, 1], [0, 1, 0]])


def test_morphological_opening(tmp_path, monkeypatch):
    """Guide 'Morphological operations': open a water mask with a circle of radius 1, twice each way."""
    monkeypatch.setattr("reducer.sources.files.TARGET_BLOCK", 8)
    rng = np.random.default_rng(11)
    water = (rng.random((40, 36)) < 0.6).astype("uint8")
    path = write_tif(tmp_path / "water.tif", water, transform=T30, crs="EPSG:32633", tiled=True, blocksize=16)

    # --- the script -----------------------------------------------------------------------------
    image = ee.Image(str(path))
    kernel = ee.Kernel.circle(radius=1)
    opened = image.focal_min(kernel=kernel, iterations=2).focal_max(kernel=kernel, iterations=2)
    stats = opened.reduceRegion(reducer=ee.Reducer.sum(), geometry=_box(0, 0, 36, 40), scale=30).getInfo()
    # ---------------------------------------------------------------------------------------------

    a = water.astype("f8")
    for fn in (np.nanmin, np.nanmin, np.nanmax, np.nanmax):
        a = _focal(a, PLUS, fn)  # a circle of radius 1 pixel is the plus
    assert stats == {"B1": pytest.approx(a.sum())}


def test_texture_and_cloud_buffer_zonal_stats(tmp_path, monkeypatch):
    """Guide 'Texture' and a QA cloud buffer, then zonal means per field, as a time-series script does."""
    monkeypatch.setattr("reducer.sources.files.TARGET_BLOCK", 8)
    rng = np.random.default_rng(5)
    nir = rng.normal(3000, 400, (40, 36)).astype("float32")
    nir[rng.random(nir.shape) < 0.05] = NODATA
    qa = np.zeros((40, 36), "uint16")
    qa[10:12, 20:23] = 1 << 3  # a small cloud
    nir_path = write_tif(tmp_path / "nir.tif", nir, transform=T30, crs="EPSG:32633", nodata=NODATA, tiled=True,
                         blocksize=16)  # fmt: skip
    qa_path = write_tif(tmp_path / "qa.tif", qa, transform=T30, crs="EPSG:32633", tiled=True, blocksize=16)

    # --- the script -----------------------------------------------------------------------------
    image = ee.Image(str(nir_path)).rename("nir")
    cloud = ee.Image(str(qa_path)).bitwiseAnd(1 << 3).neq(0)
    buffered = cloud.focal_max(radius=60, kernelType="square", units="meters")
    clear = image.updateMask(buffered.Not())
    texture = clear.reduceNeighborhood(reducer=ee.Reducer.stdDev(), kernel=ee.Kernel.square(2))
    smooth = clear.focal_mean(radius=1, kernelType="square")
    fields = ee.FeatureCollection(
        [ee.Feature(_box(0, 0, 18, 20), {"name": "a"}), ee.Feature(_box(15, 5, 30, 25), {"name": "b"})]
    )
    out = texture.addBands(smooth.rename("smooth")).reduceRegions(
        collection=fields, reducer=ee.Reducer.mean(), scale=30
    )
    rows = {f["properties"]["name"]: f["properties"] for f in out.getInfo()["features"]}
    # ---------------------------------------------------------------------------------------------

    n = np.where(nir == NODATA, np.nan, nir.astype("f8"))
    cloud_buffer = _focal(((qa & 8) != 0).astype("f8"), np.ones((5, 5)), np.nanmax)  # 60 m = 2 pixels
    clear_px = np.where(cloud_buffer == 0, n, np.nan)
    sd = np.where(np.isnan(clear_px), np.nan, _focal(clear_px, np.ones((5, 5)), np.nanstd))
    mean3 = _focal(clear_px, np.ones((3, 3)), np.nanmean)
    for name, (c0, r0, c1, r1) in {"a": (0, 0, 18, 20), "b": (15, 5, 30, 25)}.items():
        assert rows[name]["nir_stdDev"] == pytest.approx(np.nanmean(sd[r0:r1, c0:c1]), rel=1e-9)
        assert rows[name]["smooth"] == pytest.approx(np.nanmean(mean3[r0:r1, c0:c1]), rel=1e-9)
    assert np.isnan(clear_px[9:13, 19:24]).all()  # the cloud and its 60 m buffer are gone


def _walk_hits(lab: np.ndarray, step: tuple[int, int], n: int) -> np.ndarray:
    """True where a non-zero pixel is met within ``n`` steps of ``step`` (or the pixel is non-zero)."""
    out = lab != 0
    for k in range(1, n + 1):
        shifted = np.zeros_like(out)
        r, c = step[0] * k, step[1] * k
        h, w = lab.shape
        src = lab[max(0, r) : h + min(0, r), max(0, c) : w + min(0, c)] != 0
        shifted[max(0, -r) : h + min(0, -r), max(0, -c) : w + min(0, -c)] = src
        out |= shifted
    return out


def test_sentinel2_cloud_shadow_projection(tmp_path):
    """The s2cloudless tutorial's shadow step: project clouds away from the sun, intersect with dark pixels."""
    rng = np.random.default_rng(9)
    prob = np.zeros((60, 60), "float32")
    prob[30:36, 30:38] = 80  # a cloud
    prob[8:10, 50:52] = 70
    b8 = rng.integers(500, 3000, (60, 60)).astype("float32")
    t20 = Affine(20, 0, ORIGIN[0], 0, -20, ORIGIN[1])
    prob_path = write_tif(tmp_path / "prob.tif", prob, transform=t20, crs="EPSG:32633")
    b8_path = write_tif(tmp_path / "b8.tif", b8, transform=t20, crs="EPSG:32633")
    CLD_PRB_THRESH, NIR_DRK_THRESH, CLD_PRJ_DIST, SR_BAND_SCALE = 50, 0.15, 1, 1e4

    # --- the script -----------------------------------------------------------------------------
    img = ee.Image(str(b8_path)).rename("B8").set("MEAN_SOLAR_AZIMUTH_ANGLE", 135)
    cld_prb = ee.Image(str(prob_path)).rename("probability")
    img = img.addBands(cld_prb.gt(CLD_PRB_THRESH).rename("clouds"))
    dark_pixels = img.select("B8").lt(NIR_DRK_THRESH * SR_BAND_SCALE).rename("dark_pixels")
    shadow_azimuth = ee.Number(90).subtract(ee.Number(img.get("MEAN_SOLAR_AZIMUTH_ANGLE")))
    cld_proj = (
        img.select("clouds")
        .directionalDistanceTransform(shadow_azimuth, CLD_PRJ_DIST * 10)
        .reproject(**{"crs": img.select(0).projection(), "scale": 40})
        .select("distance")
        .mask()
        .rename("cloud_transform")
    )
    shadows = cld_proj.multiply(dark_pixels).rename("shadows")
    region = ee.Geometry.Rectangle([ORIGIN[0], ORIGIN[1] - 1200, ORIGIN[0] + 1200, ORIGIN[1]], "EPSG:32633", False)
    n_shadow = shadows.reduceRegion(ee.Reducer.sum(), region, 20).getInfo()["shadows"]
    # ---------------------------------------------------------------------------------------------

    # On the 40 m grid a pixel takes the 20 m pixel holding its centre; the search runs at -45°
    # (towards the sun in the south-east), one row down and one column right per step, for the
    # 7 diagonal pixels that 10 unit steps reach; the projection is then read back at 20 m.
    coarse = (prob[1::2, 1::2] > CLD_PRB_THRESH).astype(int)
    projected = _walk_hits(coarse, (1, 1), 7)
    on_native = np.repeat(np.repeat(projected, 2, axis=0), 2, axis=1)
    expected = (on_native & (b8 < NIR_DRK_THRESH * SR_BAND_SCALE)).sum()
    assert expected > 0
    assert n_shadow == pytest.approx(expected)
