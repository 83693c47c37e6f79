"""Per-pixel composites over time against numpy, on real dated GeoTIFFs with nodata."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from affine import Affine

import reducer as ee
from reducer.errors import ArgumentError, BandError, ReducerInputError
from reducer.grid import Grid
from reducer.sources import READ_COUNTER
from tests.common import CRS, write_tif

ND = -9999.0
T = Affine(10, 0, 600000, 0, -10, 5000040)
DATES = ["2024-03-05", "2024-03-15", "2024-03-25", "2024-04-04", "2024-04-14"]


def _stack():
    rng = np.random.default_rng(7)
    a = rng.integers(0, 4, (5, 4, 4)).astype("float64")
    b = rng.normal(0.5, 0.2, (5, 4, 4))
    mask = rng.random((5, 4, 4)) < 0.25
    mask[:, 0, 0] = True  # never valid
    mask[:, 3, 3] = False  # always valid
    mask[1:, 0, 1] = True  # valid once
    a[mask] = np.nan
    b[mask] = np.nan
    return a, b


A, B = _stack()


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("comp")
    for k, d in enumerate(DATES):
        data = np.stack([np.nan_to_num(A[k], nan=ND), np.nan_to_num(B[k], nan=ND)]).astype("float32")
        write_tif(tmp / f"s_{d}.tif", data, transform=T, nodata=ND, descriptions=["a", "b"])
    return tmp


@pytest.fixture(scope="module")
def ic(folder):
    return ee.ImageCollection(str(folder))


AF = A.astype("float32").astype("f8")
BF = B.astype("float32").astype("f8")


def px(image, grid=None):
    return np.asarray(image.raster.stack(grid or image.raster.grid).compute())


def same(actual, expected, rtol=1e-6):
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=1e-12, equal_nan=True)


def _mode(x):
    out = np.full(x.shape[1:], np.nan)
    for idx in np.ndindex(*x.shape[1:]):
        v = x[(slice(None), *idx)]
        v = v[~np.isnan(v)]
        if v.size:
            vals, counts = np.unique(v, return_counts=True)
            out[idx] = vals[np.argmax(counts)]  # np.unique sorts: ties go to the smallest
    return out


def _masked_if_none(x, f):
    return np.where((~np.isnan(x)).sum(0) > 0, f(np.nan_to_num(x, nan=0.0 if f is np.sum else 1.0), axis=0), np.nan)


REFERENCE = {
    "mean": lambda x: np.nanmean(x, 0),
    "median": lambda x: np.nanmedian(x, 0),
    "min": lambda x: np.nanmin(x, 0),
    "max": lambda x: np.nanmax(x, 0),
    "sum": lambda x: _masked_if_none(x, np.sum),
    "product": lambda x: _masked_if_none(x, np.prod),
    "count": lambda x: (~np.isnan(x)).sum(0).astype(float),
    "mode": _mode,
}


@pytest.mark.parametrize("stat", sorted(REFERENCE))
def test_shortcuts_match_numpy(ic, stat):
    out = getattr(ic, stat)()
    assert out.bandNames().getInfo() == ["a", "b"]
    assert out.propertyNames().getInfo() == []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        expected = np.stack([REFERENCE[stat](AF), REFERENCE[stat](BF)])
    same(px(out), expected)
    got = px(out)
    if stat == "count":
        assert got[0, 0, 0] == 0 and got[0, 3, 3] == 5
    else:
        assert np.isnan(got[:, 0, 0]).all()  # no valid value: masked


def test_types(ic):
    assert ic.count().bandTypes().getInfo() == {"a": "int64", "b": "int64"}
    assert ic.max().bandTypes().getInfo() == {"a": "float32", "b": "float32"}
    assert ic.mean().bandTypes().getInfo() == {"a": "float64", "b": "float64"}


def test_mosaic_later_images_on_top(ic):
    expected = np.full((2, 4, 4), np.nan)
    for k in range(5):
        for i, x in enumerate((AF, BF)):
            expected[i] = np.where(np.isnan(x[k]), expected[i], x[k])
    same(px(ic.mosaic()), expected)
    assert ic.mosaic().bandNames().getInfo() == ["a", "b"]


def test_quality_mosaic(ic):
    out = ic.qualityMosaic("b")
    q = np.where(np.isnan(BF), -np.inf, BF)
    idx = 4 - np.argmax(q[::-1], axis=0)  # ties: the later image
    expected = np.stack([np.take_along_axis(x, idx[None], 0)[0] for x in (AF, BF)])
    expected[:, np.isnan(BF).all(0)] = np.nan
    same(px(out), expected)
    assert BF[:, 3, 3].max() == px(out)[1, 3, 3]
    with pytest.raises(BandError, match="no band 'NDVI'"):
        ic.qualityMosaic("NDVI")


def test_reduce_names_and_values(ic):
    r = ee.Reducer.mean().combine(ee.Reducer.stdDev(), sharedInputs=True)
    out = ic.reduce(r)
    assert out.bandNames().getInfo() == ["a_mean", "a_stdDev", "b_mean", "b_stdDev"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        same(px(out), np.stack([np.nanmean(AF, 0), np.nanstd(AF, 0), np.nanmean(BF, 0), np.nanstd(BF, 0)]))
        same(px(ic.reduce(ee.Reducer.variance()))[1], np.nanvar(BF, 0))
    assert ic.reduce(ee.Reducer.minMax()).bandNames().getInfo() == ["a_min", "a_max", "b_min", "b_max"]
    assert ic.reduce(ee.Reducer.count()).bandNames().getInfo() == ["a_count", "b_count"]
    same(px(ic.reduce(ee.Reducer.sum().unweighted()))[0], REFERENCE["sum"](AF))
    # a reducer with two inputs reads bands a and b, keeping its output names
    two = ic.reduce(ee.Reducer.mean().combine(ee.Reducer.max()))
    assert two.bandNames().getInfo() == ["mean", "max"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        same(px(two), np.stack([np.nanmean(AF, 0), np.nanmax(BF, 0)]))
    with pytest.raises(ReducerInputError, match="has 2 inputs but the collection has 1 band"):
        ic.select("a").reduce(ee.Reducer.mean().combine(ee.Reducer.max()))
    # a reducer given by name is promoted, as Earth Engine's client does
    same(px(ic.select("a").reduce("mean")), px(ic.select("a").reduce(ee.Reducer.mean())))
    with pytest.raises(ArgumentError, match="not the name of an ee.Reducer"):
        ic.reduce("nope")


def test_to_bands(ic):
    out = ic.toBands()
    names = out.bandNames().getInfo()
    assert names[:2] == ["s_2024-03-05_a", "s_2024-03-05_b"] and len(names) == 10
    same(px(out)[2], AF[1])
    mapped = ic.map(lambda i: i.multiply(2))  # Earth Engine's map keeps each image's system:index
    assert mapped.toBands().bandNames().getInfo() == names
    unnamed = ee.ImageCollection([ee.Image(1), ee.Image(2)])  # no system:index: positions are used
    assert unnamed.toBands().bandNames().getInfo() == ["0_constant", "1_constant"]


def test_bands_are_matched_by_name(ic):
    first = ic.first()
    mixed = ee.ImageCollection([first.select("a"), first.select(["b", "a"]), first.select("b").rename("c")])
    out = mixed.mean()
    assert out.bandNames().getInfo() == ["a", "b", "c"]
    same(px(out)[0], AF[0])
    same(px(out)[2], BF[0])
    assert ee.ImageCollection([]).mean().bandNames().getInfo() == []


def test_images_on_different_grids_use_the_first_grid(folder, tmp_path):
    shifted = Affine(20, 0, 600000, 0, -20, 5000040)
    coarse = write_tif(tmp_path / "c_2024-03-30.tif", np.full((2, 2), 100, "float32"), transform=shifted)
    first = ee.Image(str(sorted(folder.iterdir())[0])).select("a")
    ic = ee.ImageCollection([first, ee.Image(str(coarse)).rename("a")])
    out = ic.max()
    assert out.raster.grid == first.raster.grid
    same(px(out)[0], np.full((4, 4), 100.0))
    counted = px(ic.count())[0]
    same(counted, (~np.isnan(AF[0])).astype(float) + 1)
    # asked for on another grid, every image is read on that grid
    g = Grid(CRS, shifted, 2, 2)
    same(px(ic.min(), g)[0], np.fmin(AF[0][1::2, 1::2], 100.0))


def test_map_set_filter_then_composite(ic):
    def add_ndvi(img):
        nd = img.normalizedDifference(["a", "b"]).rename("nd")
        return img.addBands(nd).set("doy", img.date().getRelative("day", "year"))

    mapped = ic.map(add_ndvi)
    march = mapped.filter(ee.Filter.lt("doy", 91))  # 2024 is a leap year: 1 April is day 91 (0-based)
    assert march.size().getInfo() == 3
    assert march.aggregate_array("doy").getInfo() == [64, 74, 84]
    out = march.median()
    assert out.bandNames().getInfo() == ["a", "b", "nd"]
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        nd = (AF[:3] - BF[:3]) / (AF[:3] + BF[:3])
        nd[(AF[:3] < 0) | (BF[:3] < 0) | (AF[:3] + BF[:3] == 0)] = np.nan
        same(px(out)[2], np.nanmedian(nd, 0))
    masked = ic.map(lambda i: i.updateMask(i.select("a").gt(1)))
    assert masked.filterDate("2024-04-01", "2024-05-01").size().getInfo() == 2
    same(px(masked.count())[0], (AF > 1).sum(0).astype(float))


def test_tasks_are_block_sized(tmp_path, monkeypatch):
    monkeypatch.setattr("reducer.sources.files.TARGET_BLOCK", 64)
    paths = []
    for k in range(3):
        data = np.full((128, 128), k, "float32")
        paths.append(write_tif(tmp_path / f"t_2024-01-0{k + 1}.tif", data, transform=T, tiled=True, blocksize=64))
    ic = ee.ImageCollection([str(p) for p in paths])
    arr = ic.median().raster.stack(ic.first().raster.grid)
    assert arr.chunks[1:] == ((64, 64), (64, 64))
    graph = dict(arr.__dask_graph__())
    reads = [k for k in graph if str(k[0] if isinstance(k, tuple) else k).startswith("read-")]
    assert len(reads) == 3 * 4  # each block of each image is read once
    same(arr.compute()[0], np.full((128, 128), 1.0))


def test_building_composites_reads_no_pixel(ic):
    READ_COUNTER.reset()
    built = [
        ic.mean(),
        ic.median(),
        ic.min(),
        ic.max(),
        ic.sum(),
        ic.count(),
        ic.mode(),
        ic.product(),
        ic.mosaic(),
        ic.qualityMosaic("b"),
        ic.reduce(ee.Reducer.mean().combine(ee.Reducer.stdDev(), sharedInputs=True)),
        ic.toBands(),
        ic.map(lambda i: i.addBands(i.normalizedDifference(["a", "b"]))).median(),
    ]
    for im in built:
        im.bandNames().getInfo()
        im.raster.stack(ic.first().raster.grid)
    assert READ_COUNTER.reads == 0
