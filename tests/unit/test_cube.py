"""A reduction as a vector data cube (xvec's shape), checked with xvec's own accessors and numpy oracles."""

from __future__ import annotations

import dask.array as da
import geopandas as gpd
import numpy as np
import pytest
import shapely
import xvec  # noqa: F401

import reducer as ee
from reducer.sources import READ_COUNTER
from tests.common import CRS, ORIGIN, SQUARE, TOP_LEFT, VALUES_3x3, write_tif

# covered fraction of each pixel of the 3x3 grid (row 0 at the top)
W_SQUARE = np.array([[0.25, 0.5, 0.25], [0.5, 1, 0.5], [0.25, 0.5, 0.25]])
W_TOP_LEFT = np.array([[1, 1, 0], [0.8, 0.8, 0], [0, 0, 0]])


def _wmean(values: np.ndarray, w: np.ndarray) -> float:
    return float((values * w).sum() / w.sum())


@pytest.fixture
def job(tmp_path):
    paths = [write_tif(tmp_path / f"img_2024-0{m}-01.tif", VALUES_3x3 * m) for m in (1, 2)]
    gdf = gpd.GeoDataFrame({"name": ["square", "top"], "area_ha": [4.0, 3.6]}, geometry=[SQUARE, TOP_LEFT], crs=CRS)
    return ee.ImageCollection([str(p) for p in paths]), ee.FeatureCollection(gdf), gdf


def _expected_means() -> np.ndarray:
    return np.array([[_wmean(VALUES_3x3 * m, w) for m in (1, 2)] for w in (W_SQUARE, W_TOP_LEFT)])


def test_cube_dims_values_and_coordinates(job):
    ic, fc, gdf = job
    red = ee.Reducer.mean().combine(ee.Reducer.max(), sharedInputs=True)
    ds = ic.reduceRegions(fc, red).to_xarray()
    assert ds["mean"].dims == ds["max"].dims == ("geometry", "time")
    np.testing.assert_allclose(ds["mean"].values, _expected_means())
    maxes = [[float((VALUES_3x3 * m)[w > 0].max()) for m in (1, 2)] for w in (W_SQUARE, W_TOP_LEFT)]
    np.testing.assert_array_equal(ds["max"].values, maxes)
    assert ds["name"].dims == ("geometry",) and ds["name"].values.tolist() == ["square", "top"]
    assert ds["area_ha"].values.tolist() == [4.0, 3.6]
    assert [str(t)[:10] for t in ds.time.values] == ["2024-01-01", "2024-02-01"]
    assert ds["image_id"].values.tolist() == ["img_2024-01-01", "img_2024-02-01"]


def test_cube_passes_xvecs_accessors(job):
    ic, fc, gdf = job
    ds = ic.reduceRegions(fc, ee.Reducer.mean()).to_xarray()
    assert list(ds.xvec.geom_coords) == ["geometry"]
    assert ds.xvec.geom_coords["geometry"].crs == gdf.crs
    assert all(a.equals(b) for a, b in zip(ds.geometry.values, gdf.geometry.values, strict=True))
    out = ds.xvec.to_geodataframe(long=True)
    assert isinstance(out, gpd.GeoDataFrame) and out.crs == gdf.crs
    assert len(out) == 4  # 2 geometries x 2 dates
    np.testing.assert_allclose(np.sort(out["mean"].to_numpy()), np.sort(_expected_means().ravel()))
    # xvec's spatial queries work on the index
    hit = ds.xvec.query("geometry", shapely.Point(ORIGIN[0] + 0.2, ORIGIN[1] - 0.2).buffer(0.01))  # top-left pixel
    assert hit["name"].values.tolist() == ["top"]


def test_cube_is_lazy_on_request_and_dask_backed(job):
    ic, fc, _ = job
    res = ic.reduceRegions(fc, ee.Reducer.mean())
    READ_COUNTER.reset()
    ds = res.to_xarray(compute=False)
    assert READ_COUNTER.reads == 0
    assert isinstance(ds["mean"].data, da.Array)
    np.testing.assert_allclose(ds["mean"].isel(geometry=1).compute().values, _expected_means()[1])
    assert READ_COUNTER.reads > 0


def test_multiband_image_adds_a_band_dimension(tmp_path):
    path = write_tif(tmp_path / "two.tif", np.stack([VALUES_3x3, VALUES_3x3 * 100]), descriptions=["a", "b"])
    fc = ee.FeatureCollection(gpd.GeoDataFrame({"k": [1]}, geometry=[SQUARE], crs=CRS))
    ds = ee.Image(str(path)).reduceRegions(fc, ee.Reducer.mean().combine(ee.Reducer.min(), sharedInputs=True))
    cube = ds.to_xarray()
    assert cube["mean"].dims == ("geometry", "time", "band") and cube["band"].values.tolist() == ["a", "b"]
    np.testing.assert_allclose(
        cube["mean"].values[0, 0], [_wmean(VALUES_3x3, W_SQUARE), 100 * _wmean(VALUES_3x3, W_SQUARE)]
    )
    np.testing.assert_array_equal(cube["min"].values[0, 0], [1.0, 100.0])  # every touched pixel
    lazy = ds.to_xarray(compute=False)
    np.testing.assert_allclose(lazy["mean"].values, cube["mean"].values)


def test_not_a_reduction_is_an_error(job):
    _, fc, _ = job
    with pytest.raises(ee.errors.ArgumentError, match="reduceRegions"):
        fc.to_xarray()
