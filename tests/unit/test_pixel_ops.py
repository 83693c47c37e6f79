"""clamp, unitScale, remap, interpolate and where against numpy on real GeoTIFFs with masked pixels."""

from __future__ import annotations

import numpy as np
import pytest
from affine import Affine

import reducer as ee
from reducer.errors import ArgumentError, BandError
from tests.common import CRS, write_tif

NODATA = -9999.0


@pytest.fixture
def small_blocks(monkeypatch):
    monkeypatch.setattr("reducer.sources.files.TARGET_BLOCK", 8)


def _values() -> np.ndarray:
    rng = np.random.default_rng(7)
    a = rng.integers(0, 6, (20, 18)).astype("float32")
    a[rng.random(a.shape) < 0.1] = NODATA
    return a


def _image(tmp_path, a: np.ndarray, name: str = "a.tif") -> ee.Image:
    t = Affine(10, 0, 500000, 0, -10, 4000000)
    return ee.Image(str(write_tif(tmp_path / name, a, transform=t, nodata=NODATA, tiled=True, blocksize=16)))


def _pixels(img: ee.Image, k: int = 0) -> np.ndarray:
    grid = next(b.grid for b in img.raster.bands if b.grid is not None)
    return img.raster.bands[k].on(grid).compute()


def _masked(a: np.ndarray) -> np.ndarray:
    return np.where(a == NODATA, np.nan, a.astype("f8"))


def test_clamp(tmp_path, small_blocks):
    a = _values()
    out = _image(tmp_path, a).clamp(1, 4)
    np.testing.assert_array_equal(_pixels(out), np.clip(_masked(a), 1, 4))
    assert out.bandNames().getInfo() == ["B1"]
    with pytest.raises(ArgumentError, match="greater than high"):
        _image(tmp_path, a).clamp(4, 1)


def test_unit_scale_is_not_clamped(tmp_path, small_blocks):
    a = _values()
    out = _image(tmp_path, a).unitScale(1, 3)
    np.testing.assert_allclose(_pixels(out), (_masked(a) - 1) / 2, equal_nan=True)
    assert np.nanmax(_pixels(out)) == pytest.approx(2.0)  # 5 -> 2: outside [0, 1], kept
    assert out.bandTypes().getInfo() == {"B1": "float32"}


def test_remap_with_and_without_default(tmp_path, small_blocks):
    a = _values()
    img = _image(tmp_path, a)
    src, dst = [0, 1, 2], [10, 11, 12]
    m = _masked(a)
    expected = np.full(m.shape, np.nan)
    for f, t in zip(src, dst, strict=True):
        expected[m == f] = t
    np.testing.assert_array_equal(_pixels(img.remap(src, dst)), expected)
    with_default = np.where(np.isnan(expected) & ~np.isnan(m), -1, expected)
    out = img.remap(src, dst, -1)
    np.testing.assert_array_equal(_pixels(out), with_default)
    assert out.bandNames().getInfo() == ["remapped"]
    assert img.remap(**{"from": src, "to": dst}).bandNames().getInfo() == ["remapped"]


def test_remap_picks_band_name(tmp_path):
    a = _values()
    two = _image(tmp_path, a).addBands(_image(tmp_path, a, "b.tif").add(1).rename("c"))
    expected = np.where(_masked(a) + 1 == 3, 30.0, 0.0)
    expected[np.isnan(_masked(a))] = np.nan
    np.testing.assert_array_equal(_pixels(two.remap([3], [30], 0, "c")), expected)
    with pytest.raises(BandError):
        two.remap([3], [30], 0, "nope")
    with pytest.raises(ArgumentError, match="one 'to' value"):
        two.remap([1, 2], [1])


@pytest.mark.parametrize("behavior", ["extrapolate", "clamp", "mask", "input"])
def test_interpolate(tmp_path, small_blocks, behavior):
    a = _values()
    x, y = [1, 2, 4], [10, 30, 20]
    m = _masked(a)
    inside = np.interp(m, x, y)
    below, above = m < 1, m > 4
    expected = {
        "extrapolate": np.where(below, 10 + (m - 1) * 20, np.where(above, 30 + (m - 2) * -5, inside)),
        "clamp": inside,
        "mask": np.where(below | above, np.nan, inside),
        "input": np.where(below | above, m, inside),
    }[behavior]
    expected = np.where(np.isnan(m), np.nan, expected)
    out = _image(tmp_path, a).interpolate(x, y, behavior)
    np.testing.assert_allclose(_pixels(out), expected, equal_nan=True)
    assert out.bandNames().getInfo() == ["B1"]


def test_interpolate_rejects_bad_input(tmp_path):
    img = _image(tmp_path, _values())
    with pytest.raises(ArgumentError, match="strictly increasing"):
        img.interpolate([2, 1], [0, 1])
    with pytest.raises(ArgumentError, match="behavior="):
        img.interpolate([1, 2], [0, 1], "nearest")


def test_where_follows_earth_engines_mask_rules(tmp_path, small_blocks):
    """Masked test or value: the input is kept; a masked input stays masked; properties are kept."""
    a = _values()
    rng = np.random.default_rng(1)
    t = np.where(rng.random(a.shape) < 0.2, NODATA, (rng.random(a.shape) < 0.5).astype("float32"))
    v = np.where(rng.random(a.shape) < 0.2, NODATA, rng.integers(100, 200, a.shape).astype("float32"))
    img = _image(tmp_path, a).set("keep", 1)
    out = img.where(_image(tmp_path, t, "t.tif"), _image(tmp_path, v, "v.tif"))
    ma, mt, mv = _masked(a), _masked(t), _masked(v)
    use = ~np.isnan(ma) & ~np.isnan(mt) & (mt != 0) & ~np.isnan(mv)
    np.testing.assert_array_equal(_pixels(out), np.where(use, mv, ma))
    assert out.get("keep").getInfo() == 1


def test_pixel_ops_through_a_reduction(tmp_path):
    a = _values()
    img = _image(tmp_path, a)
    region = ee.Geometry.Rectangle([500000, 4000000 - 200, 500000 + 180, 4000000], CRS, False)
    got = img.unitScale(0, 5).clamp(0, 0.5).reduceRegion(ee.Reducer.sum(), region, 10).getInfo()
    assert got["B1"] == pytest.approx(np.nansum(np.clip(_masked(a) / 5, 0, 0.5)))
