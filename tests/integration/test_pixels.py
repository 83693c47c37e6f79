"""Pixels out: ``Image.to_xarray`` / ``ImageCollection.to_xarray`` against rasterio reads of the same files."""

from __future__ import annotations

import math

import numpy as np
import pytest
import rasterio
import rasterio.warp
import rioxarray  # noqa: F401
import shapely
from affine import Affine
from rasterio.enums import Resampling

import reducer as ee
from reducer.sources import READ_COUNTER
from tests.common import CRS, write_tif

NODATA = -9999.0
T0 = Affine(10, 0, 500000, 0, -10, 4000300)


def _data(seed: int, shape: tuple[int, int] = (30, 40)) -> np.ndarray:
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 100, size=shape).astype("float32")
    a[rng.random(shape) < 0.1] = NODATA
    return a


def _as_nan(a: np.ndarray) -> np.ndarray:
    out = a.astype("f8")
    out[a == NODATA] = np.nan
    return out


@pytest.fixture
def stack(tmp_path):
    paths = []
    for k in range(3):
        p = tmp_path / f"img_2024-0{k + 1}-15.tif"
        write_tif(p, _data(k), transform=T0, nodata=NODATA, tiled=True, blocksize=16)
        paths.append(p)
    return paths


def test_native_grid_equals_rasterio(stack):
    ds = ee.Image(str(stack[0])).to_xarray()
    with rasterio.open(stack[0]) as src:
        expected = src.read(1, masked=True).filled(np.nan).astype("f8")
        transform, crs = src.transform, src.crs
    np.testing.assert_array_equal(ds["B1"].values, expected)
    assert ds.rio.transform() == transform
    assert ds.rio.crs == crs
    # pixel centres as coordinates
    assert ds.x.values[0] == transform.c + 5 and ds.y.values[0] == transform.f - 5


def test_scale_equals_every_third_pixel_and_rasterio_warp(stack):
    ds = ee.Image(str(stack[0])).to_xarray(scale=30)
    raw = _as_nan(_data(0))
    # 30 m pixels on the same origin: each one's centre is the centre of the middle 10 m pixel
    np.testing.assert_array_equal(ds["B1"].values[:, :13], raw[1::3, 1::3])
    assert np.isnan(ds["B1"].values[:, 13]).all()  # 40 columns make 13 1/3 pixels: the last centre is outside
    dst = np.full((10, 14), np.nan)
    with rasterio.open(stack[0]) as src:
        rasterio.warp.reproject(
            rasterio.band(src, 1),
            dst,
            dst_transform=Affine(30, 0, 500000, 0, -30, 4000300),
            dst_crs=src.crs,
            dst_nodata=np.nan,
            resampling=Resampling.nearest,
        )
    np.testing.assert_array_equal(ds["B1"].values, dst)
    assert ds.rio.transform() == Affine(30, 0, 500000, 0, -30, 4000300)


def test_other_crs_equals_rasterio_warp(stack):
    scale = 20.0
    ds = ee.Image(str(stack[0])).to_xarray(crs="EPSG:3857", scale=scale)
    t = ds.rio.transform()
    # Earth Engine's rule: pixels of `scale` metres on the target CRS's own origin
    assert t.a == scale and t.e == -scale
    assert math.isclose(t.c / scale, round(t.c / scale)) and math.isclose(t.f / scale, round(t.f / scale))
    height, width = ds["B1"].shape
    dst = np.full((height, width), np.nan)
    with rasterio.open(stack[0]) as src:
        rasterio.warp.reproject(
            rasterio.band(src, 1),
            dst,
            dst_transform=t,
            dst_crs="EPSG:3857",
            dst_nodata=np.nan,
            resampling=Resampling.nearest,
        )
    got = ds["B1"].values
    # GDAL's approximate transformer may pick another neighbour for a handful of pixels
    same = (got == dst) | (np.isnan(got) & np.isnan(dst))
    assert same.mean() > 0.995
    assert ds.rio.crs.to_epsg() == 3857


def test_region_crops_to_its_bounding_box(stack):
    region = ee.Geometry.Rectangle([500050, 4000100, 500120, 4000200], CRS, False)
    ds = ee.Image(str(stack[0])).to_xarray(region=region)
    raw = _as_nan(_data(0))
    # rows from the top: (4000300 - 4000200) / 10 = 10 .. 20; columns 5 .. 12
    np.testing.assert_array_equal(ds["B1"].values, raw[10:20, 5:12])
    assert ds.rio.transform() == Affine(10, 0, 500050, 0, -10, 4000200)


def test_building_reads_no_pixel(stack):
    ic = ee.ImageCollection([str(p) for p in stack]).map(lambda i: i.updateMask(i.gt(20)).multiply(2))
    READ_COUNTER.reset()
    ds = ic.to_xarray()
    one = ic.median().to_xarray(region=ee.Geometry.Rectangle([500050, 4000100, 500120, 4000200], CRS, False))
    assert READ_COUNTER.reads == 0
    first = ds["B1"].isel(time=0).values
    median = one["B1"].values
    assert READ_COUNTER.reads > 0 and first.shape == (30, 40) and median.shape == (10, 7)


def test_collection_dims_time_and_properties(stack):
    ic = ee.ImageCollection([str(p) for p in stack]).map(lambda i: i.set("cloud", i.date().get("month").multiply(10)))
    ds = ic.to_xarray()
    assert ds["B1"].dims == ("time", "y", "x")
    assert [str(t)[:10] for t in ds.time.values] == ["2024-01-15", "2024-02-15", "2024-03-15"]
    assert ds["cloud"].values.tolist() == [10, 20, 30]
    assert list(ds["system:index"].values) == [p.stem for p in stack]
    for k in range(3):
        np.testing.assert_array_equal(ds["B1"].isel(time=k).values, _as_nan(_data(k)))


def test_masked_band_math_collection_round_trips_through_rio_to_raster(stack, tmp_path):
    ic = ee.ImageCollection([str(p) for p in stack]).map(lambda i: i.updateMask(i.gt(20)).multiply(2).add(1))
    out = tmp_path / "stack.tif"
    ic.to_xarray()["B1"].rio.to_raster(out)
    with rasterio.open(out) as src:
        got = src.read().astype("f8")
        assert src.transform == T0 and src.crs == rasterio.crs.CRS.from_string(CRS)
    for k in range(3):
        raw = _as_nan(_data(k))
        expected = np.where(raw > 20, raw * 2 + 1, np.nan)
        np.testing.assert_array_equal(got[k], expected)


def test_composite_round_trips_through_rio_to_raster(stack, tmp_path):
    ic = ee.ImageCollection([str(p) for p in stack]).map(lambda i: i.updateMask(i.gt(20)))
    out = tmp_path / "median.tif"
    ic.median().to_xarray().rio.to_raster(out)
    raws = np.stack([_as_nan(_data(k)) for k in range(3)])
    masked = np.where(raws > 20, raws, np.nan)
    with np.errstate(all="ignore"), pytest.warns(RuntimeWarning):
        expected = np.nanmedian(masked, axis=0)
    with rasterio.open(out) as src:
        got = src.read(1).astype("f8")
        assert src.transform == T0
    np.testing.assert_array_equal(got, expected)


def test_region_outside_the_image_is_an_error(stack):
    far = ee.Geometry.Rectangle([0, 0, 10, 10], CRS, False)
    with pytest.raises(ee.errors.ArgumentError, match="does not overlap"):
        ee.Image(str(stack[0])).to_xarray(region=far)


def test_constant_image_needs_a_grid():
    with pytest.raises(ee.errors.CRSError, match="no projection"):
        ee.Image(3).to_xarray()
    ds = ee.Image(3).to_xarray(region=shapely.box(0, 0, 2, 2), crs="EPSG:4326", scale=111319.49079327357)
    assert ds["constant"].shape == (2, 2) and float(ds["constant"].sum()) == 12.0
