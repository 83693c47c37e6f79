"""Hostile inputs (issue 16): each test feeds a bad input or a fault and checks the outcome.

The right number (against a numpy oracle), the named error, or a bounded time.
"""

from __future__ import annotations

import struct
import warnings
from pathlib import Path

import numpy as np
import pytest

import reducer as ee
from reducer.errors import ReprojectionWarning
from tests.common import write_tif

MEAN_COUNT = ee.Reducer.mean().combine(ee.Reducer.count(), sharedInputs=True)


def _set_nodata_tag(path: Path, text: str) -> None:
    """Rewrite the GDAL_NODATA TIFF tag (42113) as ``text``, as GDAL writes a 64-bit nodata.

    rasterio cannot write a nodata that a float does not hold exactly (the int64 maximum), so the
    tag's text is appended to the file and the tag pointed at it.
    """
    b = bytearray(path.read_bytes())
    assert b[:4] == b"II*\x00"
    ifd = struct.unpack_from("<I", b, 4)[0]
    for i in range(struct.unpack_from("<H", b, ifd)[0]):
        entry = ifd + 2 + 12 * i
        if struct.unpack_from("<H", b, entry)[0] == 42113:
            if len(b) % 2:
                b += b"\x00"
            offset, text_bytes = len(b), text.encode() + b"\x00"
            b += text_bytes
            struct.pack_into("<II", b, entry + 4, len(text_bytes), offset)
            path.write_bytes(bytes(b))
            return
    raise AssertionError("no GDAL_NODATA tag")


# -- 1. 64-bit integer nodata -----------------------------------------------------------------------


@pytest.mark.parametrize("dtype", ["int64", "uint64"])
def test_int64_nodata_at_type_max_is_masked(tmp_path: Path, dtype: str) -> None:
    nodata = np.iinfo(dtype).max
    data = (np.arange(16, dtype=dtype).reshape(4, 4) * 10 + 5).astype(dtype)
    data[:2] = nodata
    # a value next to the maximum that a float nodata would swallow: it must stay data
    data[3, 3] = nodata - 1
    path = write_tif(tmp_path / f"{dtype}.tif", data, nodata=7)
    _set_nodata_tag(path, str(nodata))
    valid = data[data != nodata].astype("float64")
    out = ee.Image(str(path)).reduceRegion(MEAN_COUNT, scale=1).getInfo()
    assert out["B1_count"] == valid.size == 8
    assert out["B1_mean"] == pytest.approx(valid.mean(), rel=1e-12)


# -- 2. a polygon spanning the world, reprojected ---------------------------------------------------


def test_world_polygon_in_lonlat_covers_a_utm_raster(tmp_path: Path) -> None:
    import geopandas as gpd
    import shapely

    from tests.common import VALUES_3x3

    path = write_tif(tmp_path / "v.tif", VALUES_3x3)
    world = [shapely.box(-180, -90, 180, 90), shapely.box(-170, -80, 170, 80)]
    fc = ee.FeatureCollection(gpd.GeoDataFrame(geometry=world, crs=4326))
    with warnings.catch_warnings():
        warnings.simplefilter("error", ReprojectionWarning)
        out = ee.Image(str(path)).reduceRegions(fc, MEAN_COUNT, scale=1).getInfo()["features"]
    # both polygons hold the whole 3x3 raster: every pixel, fully covered
    for f in out:
        assert f["properties"]["count"] == VALUES_3x3.size
        assert f["properties"]["mean"] == pytest.approx(VALUES_3x3.mean())


def test_reprojection_that_changes_area_warns() -> None:
    import shapely
    from pyproj import CRS, Geod

    from reducer.geometry import WGS84, reproject_features

    # a CRS without an area of use: nothing to clip the world polygon to, so it degenerates
    tmerc = CRS.from_proj4("+proj=tmerc +lon_0=15 +datum=WGS84 +units=m +no_defs")
    geoms = np.array([shapely.box(-180, -90, 180, 90), shapely.box(14, 40, 16, 42)], dtype=object)
    with pytest.warns(ReprojectionWarning, match=r"1 feature\(s\) change area.*feature 0"):
        reproject_features(geoms, WGS84, tmerc)
    # a 2° box near the central meridian keeps its area: no warning
    with warnings.catch_warnings():
        warnings.simplefilter("error", ReprojectionWarning)
        out = reproject_features(geoms[1:], WGS84, tmerc)
    geodesic = abs(Geod(ellps="WGS84").geometry_area_perimeter(shapely.segmentize(geoms[1], 0.01))[0])
    assert out[0].area == pytest.approx(geodesic, rel=1e-3)  # transverse Mercator: nearly equal-area there


# -- 3. a corrupt tile, caught by the file's own statistics -----------------------------------------


def _with_statistics(path: Path, lo: float, hi: float) -> None:
    import rasterio

    with rasterio.open(path, "r+") as dst:
        dst.update_tags(1, STATISTICS_MINIMUM=str(lo), STATISTICS_MAXIMUM=str(hi))


def test_block_outside_the_files_statistics_is_refused(tmp_path: Path) -> None:
    from reducer.errors import InputFileError
    from tests.common import VALUES_3x3

    path = write_tif(tmp_path / "v.tif", VALUES_3x3)
    _with_statistics(path, 1, 9)
    assert ee.Image(str(path)).reduceRegion(MEAN_COUNT, scale=1).getInfo()["B1_mean"] == pytest.approx(5.0)
    # garbage where the pixel 5 was, as a tile that decodes wrongly gives
    data = path.read_bytes()
    five = np.float32(5).tobytes()
    assert data.count(five) == 1
    path.write_bytes(data.replace(five, np.float32(9.2e34).tobytes()))
    with pytest.raises(InputFileError, match=r"v\.tif.*outside its own statistics 1\.\.9.*corrupt"):
        ee.Image(str(path)).reduceRegion(MEAN_COUNT, scale=1).getInfo()


# -- 6. reduceRegions' pixel limits ------------------------------------------------------------------


def _square_fc():
    import geopandas as gpd

    from tests.common import CRS, SQUARE, TOP_LEFT

    return ee.FeatureCollection(gpd.GeoDataFrame(geometry=[SQUARE, TOP_LEFT], crs=CRS))


def test_reduce_regions_refuses_a_huge_plan_at_once(tmp_path: Path) -> None:
    from reducer.errors import MaxPixelsError
    from reducer.sources import READ_COUNTER
    from tests.common import VALUES_3x3

    path = write_tif(tmp_path / "v.tif", VALUES_3x3)
    READ_COUNTER.reset()
    # degrees typed as metres: 0.0001 m pixels on a 3 m raster; 4 + 3.6 m² of features are 7.6e8 entries
    with pytest.raises(
        MaxPixelsError, match=r"plan 760000000 .*30000 x 30000 grid.*limit of 100000000.*max_plan_pixels"
    ):
        ee.Image(str(path)).reduceRegions(_square_fc(), ee.Reducer.mean(), scale=0.0001).getInfo()
    assert READ_COUNTER.reads == 0
    old = ee.set_options(max_plan_pixels=None)  # the limit can be lifted; a smaller scale then works
    try:
        out = ee.Image(str(path)).reduceRegions(_square_fc(), ee.Reducer.mean(), scale=0.25).getInfo()
    finally:
        ee.set_options(**old)
    assert out["features"][0]["properties"]["mean"] == pytest.approx(5.0)


def test_max_pixels_per_region_is_enforced_per_region(tmp_path: Path) -> None:
    from reducer.errors import ArgumentError, MaxPixelsError
    from tests.common import VALUES_3x3

    img = ee.Image(str(write_tif(tmp_path / "v.tif", VALUES_3x3)))
    # at 0.5 m, SQUARE (2 x 2 m) holds 16 pixels and TOP_LEFT (2 x 1.8 m) 15: the limit 15 names feature 0
    with pytest.raises(
        MaxPixelsError, match=r"region 0 \(feature 0\)\. Found 16, but maxPixelsPerRegion allows only 15"
    ):
        img.reduceRegions(_square_fc(), ee.Reducer.mean(), scale=0.5, maxPixelsPerRegion=15).getInfo()
    out = img.reduceRegions(_square_fc(), ee.Reducer.mean(), scale=0.5, maxPixelsPerRegion=16).getInfo()
    assert out["features"][0]["properties"]["mean"] == pytest.approx(5.0)
    ic = ee.ImageCollection([str(tmp_path / "v.tif")])
    with pytest.raises(MaxPixelsError, match="maxPixelsPerRegion allows only 15"):
        ic.reduceRegions(_square_fc(), ee.Reducer.mean(), scale=0.5, maxPixelsPerRegion=15).getInfo()
    for bad in ("x", -1, 0):
        with pytest.raises(ArgumentError, match=f"maxPixelsPerRegion={bad!r}"):
            img.reduceRegions(_square_fc(), ee.Reducer.mean(), maxPixelsPerRegion=bad)
        with pytest.raises(ArgumentError, match=f"maxPixels={bad!r}"):
            img.reduceRegion(ee.Reducer.mean(), scale=1, maxPixels=bad).getInfo()


# -- 7. long chains of band math ---------------------------------------------------------------------


def test_ten_thousand_image_add_chain(tmp_path: Path) -> None:
    from tests.common import VALUES_3x3

    img = ee.Image(str(write_tif(tmp_path / "v.tif", VALUES_3x3)))
    steps = [0.1 * k for k in range(1, 10_000)]
    acc = img
    for k, step in enumerate(steps):
        acc = acc.add(img if k % 2 else ee.Image.constant(step))
    # the oracle: the same left-to-right fold in float64, per pixel
    expected = VALUES_3x3.astype("float64")
    for k, step in enumerate(steps):
        expected = expected + (VALUES_3x3.astype("float64") if k % 2 else step)
    out = acc.reduceRegion(ee.Reducer.minMax(), scale=1).getInfo()
    assert out["B1_min"] == expected.min() and out["B1_max"] == expected.max()


def test_long_min_and_max_chains() -> None:
    acc_min = acc_max = ee.Image.constant(0)
    for k in range(2000):  # deeper than Python's recursion limit
        acc_min = acc_min.min(ee.Image.constant(k - 1500))
        acc_max = acc_max.max(ee.Image.constant(k - 1500))
    point = ee.Geometry.Point(0, 0)
    assert acc_min.reduceRegion(ee.Reducer.first(), point, scale=1000, crs="EPSG:4326").getInfo() == {"constant": -1500}
    assert acc_max.reduceRegion(ee.Reducer.first(), point, scale=1000, crs="EPSG:4326").getInfo() == {"constant": 499}


def _mixed_chain(img: ee.Image, values: np.ndarray, depth: int) -> tuple[ee.Image, np.ndarray]:
    """``depth`` operations that do not flatten (mixed operators, subtract, divide, masks), and their numpy fold."""
    acc, expected = img, values.copy()
    for k in range(depth):
        step = k % 9
        if step == 0:
            acc, expected = acc.add(img), expected + values
        elif step == 1:
            acc, expected = acc.multiply(0.5), expected * 0.5
        elif step == 2:
            acc, expected = acc.subtract(img.multiply(0.25)), expected - values * 0.25
        elif step == 3:
            acc, expected = acc.divide(1.25), expected / 1.25
        elif step == 4:
            acc, expected = acc.unmask(-1.0).updateMask(img), np.where(np.isnan(values), np.nan, expected)
        elif step == 5:
            acc, expected = acc.clamp(-50, 50), np.clip(expected, -50, 50)
        elif step == 6:
            acc, expected = acc.abs().toFloat(), np.abs(expected).astype("f4").astype("f8")
        elif step == 7:  # the running value used twice
            acc, expected = acc.subtract(acc.multiply(0.5)), expected - expected * 0.5
        else:
            acc, expected = acc.max(img.subtract(3)), np.maximum(expected, values - 3)
    return acc, expected


@pytest.mark.parametrize("depth", [3000])
def test_deep_mixed_chains_are_evaluated_without_recursion(tmp_path: Path, depth: int) -> None:
    # add-then-multiply, subtract, divide, masks, casts: nothing flattens, so the expression is `depth` deep
    rng = np.random.default_rng(16)
    data = rng.normal(size=(4, 5)).astype("f4")
    data[1, 2] = -9999.0
    img = ee.Image(str(write_tif(tmp_path / "v.tif", data, nodata=-9999.0)))
    values = np.where(data == -9999.0, np.nan, data).astype("f8")
    acc, expected = _mixed_chain(img, values, depth)
    got = acc.to_xarray()["B1"].values
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-5)  # float32 steps on the file band
    assert np.array_equal(np.isnan(got), np.isnan(expected))
    subtracted = img
    for _ in range(depth):
        subtracted = subtracted.subtract(img)
    out = subtracted.reduceRegion(ee.Reducer.minMax(), scale=1).getInfo()
    expected_sub = values - depth * values
    assert out["B1_min"] == pytest.approx(np.nanmin(expected_sub)) and out["B1_max"] == pytest.approx(
        np.nanmax(expected_sub)
    )


def test_fused_deep_chains_give_the_bits_of_one_operation_at_a_time(tmp_path: Path, monkeypatch) -> None:
    # past algebra._SEGMENT operations a band runs its segment as one program per block; the bits are
    # those of the unfused graph (one dask layer per operation)
    from reducer import algebra

    rng = np.random.default_rng(3)
    data = rng.normal(size=(6, 7)).astype("f4")
    data[2, 3] = -9999.0
    img = ee.Image(str(write_tif(tmp_path / "v.tif", data, nodata=-9999.0)))
    other = ee.Image(str(write_tif(tmp_path / "w.tif", rng.normal(size=(6, 7)).astype("f4"))))
    values = np.zeros((6, 7))
    results = []
    for segment in (10**9, 3, 5):
        monkeypatch.setattr(algebra, "_SEGMENT", segment)
        acc, _ = _mixed_chain(img, values, 120)
        acc = acc.add(other.multiply(acc)).addBands(acc.rename("again"))
        cube = acc.to_xarray().to_array()
        fused = [name for name in cube.data.dask.layers if name.startswith("fused-")]
        assert bool(fused) == (segment < 120)
        results.append(cube.values)
    assert np.array_equal(results[0], results[1], equal_nan=True)
    assert np.array_equal(results[0], results[2], equal_nan=True)


# -- 8. STAC link cycles ----------------------------------------------------------------------------


def _stac_tree(root: Path, sub_links: list[dict]) -> Path:
    """catalog.json -> sub/catalog.json (with ``sub_links``) -> item a (3x3 raster)."""
    import json

    from tests.common import VALUES_3x3

    (root / "sub").mkdir(parents=True)
    write_tif(root / "sub" / "a.tif", VALUES_3x3)
    cat = {
        "type": "Catalog",
        "stac_version": "1.0.0",
        "id": "root",
        "description": "root",
        "links": [{"rel": "root", "href": "./catalog.json"}, {"rel": "child", "href": "./sub/catalog.json"}],
    }
    sub = {
        "type": "Catalog",
        "stac_version": "1.0.0",
        "id": "sub",
        "description": "sub",
        "links": [{"rel": "root", "href": "../catalog.json"}, {"rel": "item", "href": "./a.json"}, *sub_links],
    }
    item = {
        "type": "Feature",
        "stac_version": "1.0.0",
        "id": "a",
        "geometry": {"type": "Point", "coordinates": [15, 36]},
        "bbox": [15, 36, 15, 36],
        "properties": {"datetime": "2024-05-01T00:00:00Z"},
        "links": [],
        "assets": {"data": {"href": "./a.tif", "type": "image/tiff; application=geotiff", "roles": ["data"]}},
    }
    (root / "catalog.json").write_text(json.dumps(cat))
    (root / "sub" / "catalog.json").write_text(json.dumps(sub))
    (root / "sub" / "a.json").write_text(json.dumps(item))
    return root / "catalog.json"


def test_stac_link_cycle_is_named(tmp_path: Path) -> None:
    from reducer.errors import InputFileError

    path = _stac_tree(tmp_path / "c", [{"rel": "child", "href": "../catalog.json"}])
    with pytest.raises(
        InputFileError, match=r"link cycle: catalog 'sub' \(.*sub/catalog\.json\) links .* to catalog 'root'"
    ):
        ee.ImageCollection.fromStac(str(path))
    # without the cycle the same tree reads its one item
    ok = _stac_tree(tmp_path / "ok", [])
    ic = ee.ImageCollection.fromStac(str(ok))
    assert ic.aggregate_array("system:index").getInfo() == ["a"]


# -- 16. exports stay under the export root ----------------------------------------------------------


@pytest.mark.parametrize("folder", ["../x", "a/../../b", "/tmp/abs", "link/inside"])
def test_export_folder_outside_the_root_is_refused(tmp_path: Path, folder: str) -> None:
    import os

    import geopandas as gpd
    import shapely

    from reducer.errors import OutputPathError

    root = tmp_path / "root"
    root.mkdir()
    os.symlink(tmp_path, root / "link")  # a symbolic link out of the root
    fc = ee.FeatureCollection(gpd.GeoDataFrame({"v": [1]}, geometry=[shapely.Point(0, 0)], crs=4326))
    old = ee.set_options(export_root=str(root))
    try:
        with pytest.raises(OutputPathError, match=f"folder={folder!r} resolves outside the export root"):
            ee.batch.Export.table.toDrive(fc, "t", folder=folder)
        task = ee.batch.Export.table.toDrive(fc, "t", folder="a/../b")  # stays inside: allowed
        task.start()
    finally:
        ee.set_options(**old)
    before = set(tmp_path.rglob("*"))
    assert (root / "b" / "t.csv").is_file()
    assert not any(p.name.startswith("t.") and root not in p.parents for p in before)


def test_unwritable_output_folder_names_the_target(tmp_path: Path, monkeypatch) -> None:
    import os
    import tempfile

    import pandas as pd

    from reducer.errors import OutputPathError

    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        if os.access(folder, os.W_OK):  # running as root, which ignores permissions: the OS's answer, simulated

            def refuse(*args, **kwargs):
                raise PermissionError(13, "Permission denied", str(folder / ".out.abc.tmp.csv"))

            monkeypatch.setattr(tempfile, "mkstemp", refuse)
            monkeypatch.setattr("reducer.export._anonymous", lambda folder: None)  # no O_TMPFILE: mkstemp
        target = folder / "out.csv"
        with pytest.raises(OutputPathError, match=f"cannot write '{target}'.*is not writable") as info:
            ee.export_table(pd.DataFrame({"a": [1]}), target)
        assert ".tmp" not in str(info.value)
    finally:
        folder.chmod(0o700)


# -- 13. the project's errors, naming the value and the fix -----------------------------------------


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (("abc",), r"percentiles='abc' is not a list.*e\.g\. \[10, 90\]"),
        ((50,), r"percentiles=50 is not a list.*e\.g\. \[50\]"),
        (([None],), r"None in percentiles=\[None\] is not a number"),
        (([10, float("nan")],), r"nan in percentiles=.* is not a number"),
    ],
)
def test_bad_percentiles(args: tuple, match: str) -> None:
    from reducer.errors import ArgumentError

    with pytest.raises(ArgumentError, match=match):
        ee.Reducer.percentile(*args)


@pytest.mark.parametrize("transform", [[0, 0, 500000, 0, -1, 4000003], [1, 0, 500000, 0, 0, 4000003], ["x"] * 6])
def test_degenerate_crs_transform(tmp_path: Path, transform: list) -> None:
    from reducer.errors import CRSError
    from tests.common import VALUES_3x3

    img = ee.Image(str(write_tif(tmp_path / "v.tif", VALUES_3x3)))
    with pytest.raises(CRSError, match=r"crsTransform=\[.*(zero pixel size|6 finite numbers)"):
        img.reduceRegion(ee.Reducer.mean(), crs="EPSG:32633", crsTransform=transform).getInfo()


def test_dataarray_nodata_that_does_not_fit_its_dtype() -> None:
    import rioxarray  # noqa: F401
    import xarray as xr

    from reducer.errors import NodataError

    arr = xr.DataArray(
        np.ones((3, 3), "uint8"), dims=("y", "x"), coords={"y": [2.5, 1.5, 0.5], "x": [0.5, 1.5, 2.5]}
    ).rio.write_crs("EPSG:32633")
    arr.attrs["_FillValue"] = 999
    with pytest.raises(NodataError, match=r"nodata 999 does not fit its uint8 pixels.*write_nodata"):
        ee.Image(arr)


# -- 9. rotated, south-up and un-georeferenced rasters, refused when the collection is built ---------


@pytest.mark.parametrize(
    ("transform", "crs", "what"),
    [
        ((1, 0.5, 500000, 0.5, -1, 4000003), "EPSG:32633", "rotated"),
        ((1, 0, 500000, 0, 1, 4000000), "EPSG:32633", "south-up"),
        ((1, 0, 0, 0, 1, 0), None, "not georeferenced"),
    ],
)
def test_unsupported_grids_are_named_when_built(tmp_path: Path, transform: tuple, crs: str | None, what: str) -> None:
    from affine import Affine

    from reducer.errors import UnsupportedRasterError
    from tests.common import VALUES_3x3

    path = write_tif(tmp_path / "odd.tif", VALUES_3x3, transform=Affine(*transform), crs=crs)
    with pytest.raises(UnsupportedRasterError, match=rf"raster '.*odd\.tif' is {what}.*gdalwarp"):
        ee.ImageCollection([str(path)])
    with pytest.raises(UnsupportedRasterError, match=what):
        ee.Image(str(path))


# -- 10. a file that does not match its expected size; bad STAC metadata ----------------------------


def _small_item(tmp_path: Path, shape: tuple[int, int]):
    from tests.common import CRS, TRANSFORM_3x3, VALUES_3x3
    from tests.integration.test_sources import make_item

    path = write_tif(tmp_path / "s.tif", VALUES_3x3.astype("uint16"))
    return path, make_item("s", "2024-05-01", 0.0, "x", {"red": (str(path), CRS, TRANSFORM_3x3, shape)})


def test_stac_shape_larger_than_the_file_is_named(tmp_path: Path) -> None:
    from reducer.errors import InputFileError

    _, item = _small_item(tmp_path, (6, 6))
    ic = ee.ImageCollection.fromStac([item])  # built from metadata: the file is not opened
    with pytest.raises(InputFileError, match=r"s\.tif' is 3 x 3 pixels .* but 6 x 6 was expected"):
        ic.first().reduceRegion(ee.Reducer.mean(), scale=1).getInfo()


def test_file_that_changed_after_the_collection_was_built(tmp_path: Path) -> None:
    from reducer.errors import InputFileError
    from tests.common import VALUES_3x3

    path = write_tif(tmp_path / "c.tif", VALUES_3x3)
    img = ee.Image(str(path))
    write_tif(path, np.ones((2, 5), "float32"))  # replaced by a file of another size
    with pytest.raises(InputFileError, match=r"c\.tif' is 2 x 5 pixels .* but 3 x 3 was expected"):
        img.reduceRegion(ee.Reducer.mean(), scale=1).getInfo()


def test_bad_stac_metadata_is_named(tmp_path: Path) -> None:
    from reducer.errors import InputFileError

    _, item = _small_item(tmp_path, (-3, 3))
    with pytest.raises(InputFileError, match=r"proj:shape \[-3, 3\] is not two positive whole numbers"):
        ee.ImageCollection.fromStac([item])
    (tmp_path / "b").mkdir()
    _, item = _small_item(tmp_path / "b", (3, 3))
    item.assets["red"].extra_fields["raster:bands"][0]["nodata"] = "abc"
    with pytest.raises(InputFileError, match=r"'abc' is not a number"):
        ee.ImageCollection.fromStac([item])


# -- 14. a path that does not exist is not taken for an Earth Engine id -----------------------------


def test_typo_in_a_local_folder_says_the_path_is_missing(tmp_path: Path, monkeypatch) -> None:
    from reducer.errors import CatalogError, InputFileError
    from tests.common import VALUES_3x3

    (tmp_path / "data" / "rasters").mkdir(parents=True)
    write_tif(tmp_path / "data" / "rasters" / "a_2024-05-01.tif", VALUES_3x3)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(InputFileError, match=r"'data/rastres' does not exist: 'data' has no 'rastres'.*'rasters'\?"):
        ee.ImageCollection("data/rastres")
    with pytest.raises(InputFileError, match=r"has no 'a_2024-05-01\.tf'.*'a_2024-05-01\.tif'\?"):
        ee.Image("data/rasters/a_2024-05-01.tf")
    with pytest.raises(InputFileError, match=r"'data/rastres' does not exist.*'rasters'\?"):
        ee.ImageCollection("data/rastres/*.tif")
    with pytest.raises(InputFileError, match=r"the folder 'nodir' does not exist"):
        ee.ImageCollection("nodir/*.tif")
    # an Earth Engine id (its first part is no folder here) still gets the catalog's answer
    with pytest.raises(CatalogError):
        ee.ImageCollection("COPERNICUS/S2_SR_HARMONIZED")
    assert ee.ImageCollection("data/rasters").size().getInfo() == 1


# -- 15. an image whose every pixel is nodata warns once, naming the file -----------------------------


def test_all_nodata_image_warns_once_naming_the_file(tmp_path: Path) -> None:
    from reducer.errors import AllMaskedWarning

    empty = write_tif(tmp_path / "empty.tif", np.full((3, 3), -9999, "float32"), nodata=-9999)
    fc = _square_fc()
    with pytest.warns(AllMaskedWarning, match=r"image '.*empty\.tif' has no valid pixel under any of the 2") as rec:
        out = ee.Image(str(empty)).reduceRegions(fc, MEAN_COUNT).getInfo()["features"]
    assert len([w for w in rec if issubclass(w.category, AllMaskedWarning)]) == 1
    assert [f["properties"]["count"] for f in out] == [0, 0]
    assert [f["properties"]["mean"] for f in out] == [None, None]
    with pytest.warns(AllMaskedWarning, match="empty.tif"):
        assert ee.Image(str(empty)).reduceRegion(MEAN_COUNT, scale=1).getInfo()["B1_count"] == 0
    # an image with data under the features does not warn
    from tests.common import VALUES_3x3

    full = write_tif(tmp_path / "full.tif", VALUES_3x3)
    with warnings.catch_warnings():
        warnings.simplefilter("error", AllMaskedWarning)
        ee.Image(str(full)).reduceRegions(fc, MEAN_COUNT).getInfo()


# -- 18. Parquet without pyarrow names what to install ------------------------------------------------


def test_parquet_without_pyarrow_names_the_extra(tmp_path: Path, monkeypatch) -> None:
    import sys

    import geopandas as gpd
    import pandas as pd
    import shapely

    from reducer.errors import MissingDependencyError

    path = tmp_path / "f.parquet"
    gpd.GeoDataFrame({"v": [1]}, geometry=[shapely.Point(0, 0)], crs=4326).to_parquet(path)
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # as if not installed: importing it raises ImportError
    with pytest.raises(MissingDependencyError, match=r"needs the optional package 'pyarrow'.*ee-reducer\[parquet\]"):
        ee.FeatureCollection(str(path)).getInfo()
    with pytest.raises(MissingDependencyError, match="writing a Parquet file needs the optional package 'pyarrow'"):
        ee.export_table(pd.DataFrame({"a": [1]}), tmp_path / "out.parquet")
    assert not (tmp_path / "out.parquet").exists()


# -- 12. expression nesting is measured as nesting, not length ---------------------------------------


def test_long_flat_expression_is_not_nesting(tmp_path: Path) -> None:
    from reducer.errors import ExpressionError
    from tests.common import VALUES_3x3

    img = ee.Image(str(write_tif(tmp_path / "v.tif", VALUES_3x3)))
    terms = 2000
    flat = " + ".join(["x"] * terms) + " - 1 * 2"  # 8,000 characters, 2,002 terms, no nesting
    out = img.expression(flat, {"x": img}).reduceRegion(ee.Reducer.minMax(), scale=1).getInfo()
    assert out == {"B1_max": 9.0 * terms - 2, "B1_min": 1.0 * terms - 2}
    nested = "(" * 101 + "b(0)" + ")" * 101
    with pytest.raises(ExpressionError, match="nested more than 100 levels"):
        img.expression(nested)
    assert img.expression("(" * 90 + "b(0)" + ")" * 90).reduceRegion(ee.Reducer.max(), scale=1).getInfo() == {"B1": 9.0}


# -- 17. catalogs confined to their folder ------------------------------------------------------------


def test_confine_catalogs_refuses_paths_outside_the_catalogs_folder(tmp_path: Path) -> None:
    import json

    from reducer.errors import InputFileError
    from tests.common import VALUES_3x3

    outside = write_tif(tmp_path / "outside.tif", VALUES_3x3)
    (tmp_path / "cat").mkdir()
    inside = write_tif(tmp_path / "cat" / "inside.tif", VALUES_3x3)
    toml = tmp_path / "cat" / "catalog.toml"
    toml.write_text('["X/OUT"]\npath = "../outside.tif"\n\n["X/IN"]\npath = "inside.tif"\n')
    stac = _stac_tree(tmp_path / "stac", [])
    item = json.loads((stac.parent / "sub" / "a.json").read_text())
    item["assets"]["data"]["href"] = str(outside)  # an absolute path out of the catalog's folder
    (stac.parent / "sub" / "a.json").write_text(json.dumps(item))
    ee.set_catalog(str(toml))
    try:
        assert ee.Image("X/OUT").reduceRegion(ee.Reducer.max(), scale=1).getInfo() == {"B1": 9.0}  # default: allowed
        assert ee.ImageCollection.fromStac(str(stac)).size().getInfo() == 1
        old = ee.set_options(confine_catalogs=True)
        try:
            with pytest.raises(InputFileError, match=r"points at '\.\./outside\.tif', outside the catalog's folder"):
                ee.Image("X/OUT")
            assert ee.Image("X/IN").reduceRegion(ee.Reducer.max(), scale=1).getInfo() == {"B1": 9.0}
            with pytest.raises(InputFileError, match=r"asset 'data' points at .*outside\.tif', outside"):
                ee.ImageCollection.fromStac(str(stac))
        finally:
            ee.set_options(**old)
    finally:
        ee.set_catalog(None)
    assert inside.exists()


def test_polygon_with_a_nan_vertex_is_named(tmp_path: Path) -> None:
    import geopandas as gpd
    import shapely

    from reducer.errors import GeometryError
    from tests.common import CRS, SQUARE, VALUES_3x3

    img = ee.Image(str(write_tif(tmp_path / "v.tif", VALUES_3x3)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # shapely warns about the NaN itself
        bad = shapely.Polygon([(500000, 4000000), (500001, float("nan")), (500002, 4000002)])
    with pytest.raises(GeometryError, match=r"not finite \(NaN or infinity\)"):
        img.reduceRegion(ee.Reducer.mean(), bad, scale=1).getInfo()
    fc = ee.FeatureCollection(gpd.GeoDataFrame(geometry=[SQUARE, bad], crs=CRS))
    with pytest.raises(GeometryError, match=r"not finite \(NaN or infinity\): feature\(s\) .*1"):
        img.reduceRegions(fc, ee.Reducer.mean()).getInfo()
