"""Issue 13, section 3: answers that used to be silently wrong, each against an independent computation."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import shapely
from affine import Affine

import reducer as ee
from reducer.errors import ReducerWarning
from tests.common import CRS, ORIGIN, VALUES_3x3, write_tif

MODIS_NAMES = ["MOD13Q1.A2024001.h25v08.061.tif", "MOD13Q1.A2024017.h25v08.061.tif", "MOD13Q1.A2024001.h26v08.061.tif"]


@pytest.fixture
def modis(tmp_path):
    for k, name in enumerate(MODIS_NAMES):
        write_tif(tmp_path / name, VALUES_3x3 + 10 * k)
    return tmp_path


def test_product_file_names_keep_every_dot_but_the_suffix(modis):
    ic = ee.ImageCollection(str(modis / "*.tif"))
    expected = sorted(n[: -len(".tif")] for n in MODIS_NAMES)
    assert ic.aggregate_array("system:index").getInfo() == expected
    assert ic.toBands().bandNames().getInfo() == [f"{i}_B1" for i in expected]
    # ids are unique, so reduceRegions gives one feature per (image, feature)
    fc = ee.FeatureCollection([ee.Feature(ee.Geometry.Point([ORIGIN[0] + 0.5, ORIGIN[1] - 0.5], CRS), {})])
    ids = ic.reduceRegions(fc, ee.Reducer.first(), 1).aggregate_array("system:index").getInfo()
    assert len(set(ids)) == 3
    # the day of year in the name is the date
    assert ic.aggregate_array("system:time_start").getInfo()[:2] == [
        ee.Date("2024-01-01").millis().getInfo(),
        ee.Date("2024-01-01").millis().getInfo(),
    ]


def test_colliding_file_names_are_disambiguated_with_a_warning(tmp_path):
    for sub in ("a", "b"):
        (tmp_path / sub).mkdir()
        write_tif(tmp_path / sub / "MOD13Q1.A2024001.h25v08.061.tif", VALUES_3x3)
    with pytest.warns(ReducerWarning, match="share a system:index"):
        ic = ee.ImageCollection(str(tmp_path / "*" / "*.tif"))
    ids = ic.aggregate_array("system:index").getInfo()
    assert ids == ["MOD13Q1.A2024001.h25v08.061", "MOD13Q1.A2024001.h25v08.061_1"]
    with pytest.warns(ReducerWarning):
        listed = ee.ImageCollection([str(tmp_path / "a" / "*.tif"), str(tmp_path / "b" / "*.tif")])
    assert listed.aggregate_array("system:index").getInfo() == ids
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ee.ImageCollection(str(tmp_path / "a" / "*.tif"))  # no collision, no warning


def test_map_with_band_math_keeps_each_index(modis):
    ic = ee.ImageCollection(str(modis / "*.tif"))
    mapped = ic.map(lambda i: i.multiply(0.1).copyProperties(i, ["system:time_start"]))
    assert mapped.aggregate_array("system:index").getInfo() == ic.aggregate_array("system:index").getInfo()
    assert mapped.aggregate_array("system:time_start").getInfo() == ic.aggregate_array("system:time_start").getInfo()
    # and the band math is applied: the first pixel of each image, times 0.1
    pt = ee.Geometry.Point([ORIGIN[0] + 0.5, ORIGIN[1] - 0.5], CRS)
    vals = ee.ImageCollection(mapped).getRegion(pt, 1).getInfo()[1:]
    firsts = sorted(float(VALUES_3x3[0, 0] + 10 * k) * 0.1 for k in range(3))
    assert sorted(r[4] for r in vals) == pytest.approx(firsts)


def test_empty_group_is_an_empty_list(tmp_path):
    data = np.stack([VALUES_3x3, np.array([[1, 1, 2], [2, 2, 3], [3, 3, 3]], "float32")])
    img = ee.Image(str(write_tif(tmp_path / "g.tif", data, nodata=None)))
    img = img.updateMask(img.select(0).gt(100))  # nothing valid
    region = ee.Geometry(shapely.box(ORIGIN[0], ORIGIN[1] - 3, ORIGIN[0] + 3, ORIGIN[1]), CRS)
    out = img.reduceRegion(ee.Reducer.sum().group(1, "class"), region, 1).getInfo()
    assert out == {"groups": []}
    fc = ee.FeatureCollection([ee.Feature(None, {"k": "a", "v": 1})])
    empty = fc.filter(ee.Filter.eq("k", "z")).reduceColumns(ee.Reducer.sum().group(1, "k"), ["v", "k"])
    assert empty.getInfo() == {"groups": []}


def test_constant_image_with_a_scale_is_evaluated_in_epsg4326():
    # Earth Engine's default projection is EPSG:4326: a 1-degree scale on [0, 3] x [0, 2] gives 6 pixels
    region = ee.Geometry.Rectangle([0, 0, 3, 2])
    one_degree = 111319.49079327357
    out = (
        ee.Image(2)
        .reduceRegion(ee.Reducer.sum().combine(ee.Reducer.count(), sharedInputs=True), region, one_degree)
        .getInfo()
    )
    n = 3 * 2  # pixel centres (0.5..2.5, 0.5..1.5) inside the rectangle
    assert out == {"constant_count": n, "constant_sum": 2.0 * n}


def _tile(path, values, x0, y0, res=1.0, crs=CRS):
    return write_tif(path, values.astype("float32"), transform=Affine(res, 0, x0, 0, -res, y0), crs=crs)


@pytest.mark.parametrize("method", ["mean", "median", "mosaic", "max", "qualityMosaic", "reduce"])
def test_composites_cover_every_tile(tmp_path, method):
    # two 3x3 tiles side by side (different grids) and one overlapping the first by a column
    a = VALUES_3x3
    b = VALUES_3x3 + 100
    c = np.full((3, 3), 50.0)
    x0, y0 = ORIGIN
    _tile(tmp_path / "a.tif", a, x0, y0)
    _tile(tmp_path / "b.tif", b, x0 + 3, y0)
    _tile(tmp_path / "c.tif", c, x0 + 2, y0 - 1)  # columns 2..4, rows 1..3 of the mosaic
    ic = ee.ImageCollection([str(tmp_path / n) for n in ("a.tif", "b.tif", "c.tif")])
    # an independent brute-force composite on the 6x4 union grid
    stack = np.full((3, 4, 6), np.nan)
    stack[0, 0:3, 0:3] = a
    stack[1, 0:3, 3:6] = b
    stack[2, 1:4, 2:5] = c
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        expected = {
            "mean": np.nanmean(stack, 0),
            "median": np.nanmedian(stack, 0),
            "max": np.nanmax(stack, 0),
            "qualityMosaic": np.nanmax(stack, 0),  # quality = the value itself
            "reduce": np.nanmean(stack, 0),
        }
    later_on_top = np.full((4, 6), np.nan)
    for k in range(3):
        later_on_top = np.where(np.isnan(stack[k]), later_on_top, stack[k])
    expected["mosaic"] = later_on_top
    if method == "qualityMosaic":
        img = ic.map(lambda i: i.addBands(i.rename("q"))).qualityMosaic("q").select("B1")
    elif method == "reduce":
        img = ic.reduce(ee.Reducer.mean())
    else:
        img = getattr(ic, method)()
    # each output pixel, read at its centre with reduceRegions on the composite's default grid
    pts = [
        ee.Feature(ee.Geometry.Point([x0 + j + 0.5, y0 - i - 0.5], CRS), {"i": i, "j": j})
        for i in range(4)
        for j in range(6)
    ]
    out = img.reduceRegions(ee.FeatureCollection(pts), ee.Reducer.first()).getInfo()["features"]
    got = np.full((4, 6), np.nan)
    for f in out:
        v = f["properties"].get("first")
        got[f["properties"]["i"], f["properties"]["j"]] = np.nan if v is None else v
    np.testing.assert_allclose(got, expected[method], equal_nan=True)


# -- a reduction must not silence the process's warnings ----------------------------------------------


def test_validity_checks_leave_the_warning_filters_alone(monkeypatch):
    """``shapely.is_valid`` wraps GEOS in ``warnings.catch_warnings()``: run by two coverage tasks at once it
    left an "ignore every warning" filter behind. The engine's validity checks must not touch the filters."""
    from reducer.coverage import coverage
    from reducer.grid import Grid
    from reducer.validate import check_geometries

    calls = []
    real = warnings.catch_warnings

    class Recording(real):
        def __enter__(self):
            calls.append(1)
            return super().__enter__()

    monkeypatch.setattr(warnings, "catch_warnings", Recording)
    grid = Grid(CRS, Affine(1, 0, 0, 0, -1, 8), 8, 8)
    bowtie = shapely.Polygon([(1, 1), (5, 5), (5, 1), (1, 5)])
    cov = coverage([shapely.box(0.5, 0.5, 3.5, 2.5), bowtie], grid)
    with pytest.warns(ReducerWarning):  # the bowtie is repaired, with a warning
        fixed = check_geometries([shapely.box(0, 0, 1, 1), bowtie], policy="repair")
    monkeypatch.setattr(warnings, "catch_warnings", real)
    assert calls == []  # (pytest.warns holds its own reference to the class)
    # the answers are unchanged: the square's fractions sum to its area, the bowtie still goes to exactextract
    assert abs(float(cov.weight[cov.feature == 0].sum()) - 6.0) < 1e-9 and (cov.feature == 1).any()
    assert fixed[1].is_valid and fixed[1].area == pytest.approx(8.0)


def test_weighted_reductions_on_threads_keep_later_warnings_visible(tmp_path):
    """End to end, as the flaky test showed it: weighted reductions with several coverage batches on the
    threaded scheduler, then a warning of the user's own, which must still be shown."""
    rng = np.random.default_rng(3)
    path = write_tif(tmp_path / "big.tif", rng.random((2048, 2048)).astype("f4"), tiled=True, blocksize=512)
    cells = [(i, j) for i in range(0, 2048, 64) for j in range(0, 2048, 64)]
    polys = [
        shapely.box(ORIGIN[0] + j + 3.3, ORIGIN[1] - i - 60.7, ORIGIN[0] + j + 50.2, ORIGIN[1] - i - 2.1)
        for i, j in cells
    ]
    fc = ee.FeatureCollection([ee.Feature(ee.Geometry(p, CRS), {"k": n}) for n, p in enumerate(polys)])
    before = list(warnings.filters)
    for _ in range(6):
        from reducer.engine import clear_weights_cache

        clear_weights_cache()  # coverage again, in parallel batches
        out = ee.Image(str(path)).reduceRegions(fc, ee.Reducer.mean()).getInfo()["features"]
        assert len(out) == len(polys)
        assert warnings.filters == before
    with pytest.warns(UserWarning, match="still shown"):
        warnings.warn("still shown", UserWarning, stacklevel=1)


def test_a_computation_gives_back_the_warning_filters_its_threads_leaked():
    """Two tasks interleave ``catch_warnings`` as shapely, rasterio's rasterize and reproject do: the one that
    leaves last puts back the other's "ignore" filter. ``compute`` undoes it, and keeps ``showwarning``."""
    import threading

    import dask

    from reducer.compute import compute

    first_in, both_in, first_left = threading.Event(), threading.Barrier(2), threading.Event()

    def late(first: bool) -> int:
        if not first:
            first_in.wait(timeout=10)  # the first enters first ...
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            first_in.set()
            both_in.wait(timeout=10)
            if not first:
                first_left.wait(timeout=10)  # ... and leaves first: the second then restores the first's filter
        if first:
            first_left.set()
        return 1

    before, show = list(warnings.filters), warnings.showwarning
    parts = [dask.delayed(late)(True), dask.delayed(late)(False)]
    with dask.config.set(scheduler="threads", num_workers=2):
        assert compute(*parts) == (1, 1)
    assert warnings.filters == before and warnings.showwarning is show
    with pytest.warns(UserWarning, match="still shown"):
        warnings.warn("still shown", UserWarning, stacklevel=1)
    # without compute's guard the same interleaving leaks: the oracle that the test exercises the race
    first_in.clear()
    both_in.reset()
    first_left.clear()
    with dask.config.set(scheduler="threads", num_workers=2):
        dask.compute(*[dask.delayed(late)(True), dask.delayed(late)(False)])
    leaked = warnings.filters != before
    warnings.resetwarnings()
    warnings.filters.extend(before)
    assert leaked
