"""The image model: Band and Raster, band selection, constant and file bands, reprojection."""

from __future__ import annotations

import dask.array as da
import numpy as np
import pytest
import rasterio
from affine import Affine

from reducer.errors import BandError
from reducer.grid import Grid
from reducer.raster import Raster, constant_band, file_band, rename_bands, select_bands
from reducer.sources import open_raster
from tests.common import CRS, TRANSFORM_3x3, VALUES_3x3, write_tif

GRID_3x3 = Grid(CRS, TRANSFORM_3x3, 3, 3)


@pytest.fixture
def tif(tmp_path):
    data = np.stack([VALUES_3x3, VALUES_3x3 * 10])
    return write_tif(tmp_path / "two_2024-01-05.tif", data, nodata=-1.0, descriptions=["a", "b"])


def test_stack_on_its_own_grid_is_the_file(tif):
    r = open_raster(tif)
    with rasterio.open(tif) as src:
        expected = src.read().astype("f8")
    assert r.names == ["a", "b"] and r.grid.crs.to_epsg() == 32633
    assert (r.grid.transform, r.grid.shape) == (TRANSFORM_3x3, (3, 3))
    np.testing.assert_array_equal(r.stack(r.grid).compute(), expected)


def test_properties_are_read_only_and_updates_make_new_rasters(tif):
    r = open_raster(tif)
    assert r.properties["system:index"] == "two_2024-01-05"
    with pytest.raises(TypeError):
        r.properties["x"] = 1  # type: ignore[index]
    r2 = r.updated({"x": 1})
    assert "x" in r2.properties and "x" not in r.properties and r2.bands == r.bands


@pytest.mark.parametrize(
    ("selectors", "new", "expected"),
    [
        (["b"], None, ["b"]),
        (["[ab]"], None, ["a", "b"]),
        ([1, 0], None, ["b", "a"]),
        ([-1], ["z"], ["z"]),
    ],
)
def test_select_bands(tif, selectors, new, expected):
    assert select_bands(open_raster(tif), selectors, new).names == expected


def test_select_and_rename_errors_name_the_bands(tif):
    r = open_raster(tif)
    missing = r"pattern 'c' did not match any bands of image 'two_2024-01-05'. Available: \['a', 'b'\]"
    with pytest.raises(BandError, match=missing):
        select_bands(r, ["c"])
    with pytest.raises(BandError, match="out of range"):
        select_bands(r, [2])
    with pytest.raises(BandError, match="pattern 'a\\[' did not match"):  # a bad regex is not a crash
        select_bands(r, ["a["])
    with pytest.raises(BandError, match="1 names"):
        rename_bands(r, ["x"])


def test_constant_band_fills_any_grid():
    g = Grid("EPSG:4326", Affine(0.5, 0, 10, 0, -0.5, 50), 5, 3)
    arr = constant_band("c", 2.5).on(g).compute()
    assert arr.shape == (3, 5) and (arr == 2.5).all()
    assert constant_band("c", 3).dtype == "int64" and constant_band("c", 3.0).dtype == "float64"


def test_file_band_resamples_by_nearest_pixel_centre():
    # a 4x4 array on 1 m pixels read on a 2 m grid: each coarse pixel centre falls in fine pixel (2i+1, 2j+1)
    fine = Grid(CRS, Affine(1, 0, 0, 0, -1, 4), 4, 4)
    coarse = Grid(CRS, Affine(2, 0, 0, 0, -2, 4), 2, 2)
    values = np.arange(16.0).reshape(4, 4)
    band = file_band("v", "float64", da.from_array(values, chunks=2), fine)
    np.testing.assert_array_equal(band.on(fine).compute(), values)
    got = band.on(coarse).compute()
    np.testing.assert_array_equal(got, values[1::2, 1::2])


def test_raster_without_bands_cannot_stack():
    with pytest.raises(BandError, match="no bands"):
        Raster().stack(GRID_3x3)


def _nearest_oracle(vals: np.ndarray, src: Grid, dst: Grid) -> np.ndarray:
    """Brute force: every target pixel centre through pyproj, then the source pixel that contains it."""
    from pyproj import Transformer

    rows, cols = np.mgrid[0 : dst.height, 0 : dst.width]
    t, s = dst.transform, src.transform
    x, y = t.c + (cols + 0.5) * t.a, t.f + (rows + 0.5) * t.e
    sx, sy = Transformer.from_crs(dst.crs, src.crs, always_xy=True).transform(x, y)
    sc, sr = np.floor((sx - s.c) / s.a).astype(int), np.floor((sy - s.f) / s.e).astype(int)
    ok = (sc >= 0) & (sc < src.width) & (sr >= 0) & (sr < src.height)
    out = np.full(dst.shape, np.nan)
    out[ok] = vals[sr[ok], sc[ok]]
    return out


@pytest.mark.parametrize(
    "dst",
    [
        Grid("EPSG:4326", Affine(0.0003, 0, 14.995, 0, -0.0003, 47.84), 500, 400),  # finer, overhanging the source
        Grid("EPSG:3857", Affine(40, 0, 1669000, 0, -40, 6075000), 300, 300),
    ],
)
def test_nearest_across_crs_takes_the_pixel_holding_each_centre_exactly(dst):
    """GDAL's approximate transformer picked another neighbour for 9,535 of these 200,000 pixels."""
    from reducer.raster import reproject

    n = 400
    vals = np.arange(n * n, dtype="float64").reshape(n, n)
    src = Grid("EPSG:32633", Affine(30, 0, 500000, 0, -30, 5300000), n, n)
    got = reproject(da.from_array(vals, chunks=256), src, dst, "nearest").compute()
    expect = _nearest_oracle(vals, src, dst)
    assert np.isfinite(expect).sum() > 0.5 * expect.size
    np.testing.assert_array_equal(got, expect)
