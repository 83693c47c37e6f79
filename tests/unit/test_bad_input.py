"""Bad input: one test per case, checking the error class and that the message names the value and the fix.

Cases that are not errors (an empty geometry, a feature outside the raster, an all-nodata raster)
are checked to give None outputs and a count of 0.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely

import reducer as ee
from reducer.errors import (
    ArgumentError,
    BandError,
    CRSError,
    DateError,
    ExpressionError,
    GeometryError,
    GeometryWarning,
    InputFileError,
    MaxPixelsError,
    NodataError,
    NoOverlapWarning,
    ReducerError,
    ReducerInputError,
)
from tests.common import CRS, EMPTY, OUTSIDE, SQUARE, TRANSFORM_3x3, VALUES_3x3, local_box, write_tif

MEAN_COUNT = ee.Reducer.mean().combine(ee.Reducer.count(), sharedInputs=True)


@pytest.fixture
def tif(tmp_path: Path) -> Path:
    return write_tif(tmp_path / "img_2024-05-01.tif", VALUES_3x3)


def _fc(*geoms: shapely.Geometry, crs: str | None = CRS) -> ee.FeatureCollection:
    ids = [f"f{i}" for i in range(len(geoms))]
    return ee.FeatureCollection(gpd.GeoDataFrame({"name": ids}, geometry=list(geoms), crs=crs))


def _props(result: ee.FeatureCollection) -> list[dict]:
    return [f["properties"] for f in result.getInfo()["features"]]


# -- files ------------------------------------------------------------------------------------------
def test_missing_raster_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.tif"
    with pytest.raises(InputFileError, match=re.escape(repr(str(path)))) as info:
        ee.Image(str(path))
    assert "does not exist" in str(info.value) and "Check the path" in str(info.value)
    assert isinstance(info.value, OSError)


def test_unreadable_raster_file(tmp_path: Path) -> None:
    path = tmp_path / "notes.tif"
    path.write_text("not a raster")
    with pytest.raises(InputFileError, match=re.escape(repr(str(path)))) as info:
        ee.Image(str(path))
    assert "cannot open raster" in str(info.value) and "Re-download or re-export it" in str(info.value)


def test_truncated_geotiff_fails_on_block_read(tmp_path: Path) -> None:
    data = np.random.default_rng(0).random((64, 64)).astype("float32")
    full = write_tif(tmp_path / "full.tif", data, transform=TRANSFORM_3x3, tiled=True, blocksize=32)
    raw = full.read_bytes()
    path = tmp_path / "cut.tif"
    path.write_bytes(raw[: len(raw) - 3000])  # the header (at the start) is whole; the last tiles are gone
    img = ee.Image(str(path))  # the header reads fine
    region = shapely.box(*rasterio_bounds(path))
    with pytest.raises(InputFileError, match=re.escape(repr(str(path)))) as info:
        img.reduceRegions(_fc(region), ee.Reducer.mean()).getInfo()
    assert "cannot read pixels" in str(info.value)


def rasterio_bounds(path: Path) -> tuple[float, float, float, float]:
    import rasterio

    with rasterio.open(path) as src:
        return tuple(src.bounds)


def test_geotiff_with_broken_header(tmp_path: Path) -> None:
    full = write_tif(tmp_path / "full.tif", VALUES_3x3)
    path = tmp_path / "broken.tif"
    path.write_bytes(full.read_bytes()[:100])
    with pytest.raises(InputFileError, match=re.escape(repr(str(path)))) as info:
        ee.Image(str(path))
    assert "complete?" in str(info.value) and "Re-download" in str(info.value)


def test_glob_that_matches_nothing(tmp_path: Path) -> None:
    pattern = str(tmp_path / "ndvi_*.tif")
    with pytest.raises(InputFileError, match=re.escape(repr(pattern))) as info:
        ee.ImageCollection(pattern)
    assert "matched no file" in str(info.value) and "Check the folder and the pattern" in str(info.value)


# -- CRS --------------------------------------------------------------------------------------------
def test_raster_without_crs(tmp_path: Path) -> None:
    path = write_tif(tmp_path / "nocrs.tif", VALUES_3x3, crs=None)
    with pytest.raises(CRSError, match=re.escape(repr(str(path)))) as info:
        ee.Image(str(path))
    assert "has no CRS" in str(info.value) and "gdal_edit.py -a_srs" in str(info.value)


def test_features_without_crs() -> None:
    gdf = gpd.GeoDataFrame({"name": ["a"]}, geometry=[SQUARE])
    with pytest.raises(CRSError) as info:
        ee.FeatureCollection(gdf)
    assert "has no CRS" in str(info.value) and "set_crs('EPSG:4326')" in str(info.value)


# -- geometries -------------------------------------------------------------------------------------
BOWTIE = shapely.Polygon(
    [(500000.0, 4000000.0), (500002.0, 4000002.0), (500002.0, 4000000.0), (500000.0, 4000002.0)]
)  # self-intersecting at the centre of the 3x3 grid's lower 2x2 block


def test_invalid_geometry_is_repaired_with_a_warning(tif: Path) -> None:
    assert not BOWTIE.is_valid
    with pytest.warns(GeometryWarning) as record:
        got = _props(ee.Image(str(tif)).reduceRegions(_fc(SQUARE, BOWTIE), MEAN_COUNT))
    message = str(record[0].message)
    assert "[1]" in message and "Self-intersection" in message  # names the feature (position 1)
    assert "invalid_geometry='error'" in message  # and the way to refuse them
    fixed = _props(ee.Image(str(tif)).reduceRegions(_fc(SQUARE, shapely.make_valid(BOWTIE)), MEAN_COUNT))
    assert got == fixed
    # two triangles: the left one covers half of 4 and 7 (left column), the right one half of 5 and 8
    assert got[1]["mean"] == pytest.approx((4 + 7 + 5 + 8) / 4)


def test_invalid_geometry_error_policy(tif: Path) -> None:
    old = ee.set_options(invalid_geometry="error")
    try:
        with pytest.raises(GeometryError) as info:
            ee.Image(str(tif)).reduceRegions(_fc(BOWTIE), ee.Reducer.mean()).getInfo()
    finally:
        ee.set_options(**old)
    message = str(info.value)
    assert "1 invalid geometry" in message and "[0]" in message and "Self-intersection" in message
    assert "make_valid" in message and "invalid_geometry='repair'" in message


def test_invalid_geometry_option_value() -> None:
    with pytest.raises(ArgumentError, match=r"invalid_geometry='fix' is not one of \['repair', 'error'\]"):
        ee.set_options(invalid_geometry="fix")


def test_empty_geometry_gives_none(tif: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no warning either: an empty geometry is valid
        got = _props(ee.Image(str(tif)).reduceRegions(_fc(SQUARE, EMPTY), MEAN_COUNT))
    assert got[0] == {"name": "f0", "mean": 5.0, "count": 9 - 3}
    assert got[1] == {"name": "f1", "mean": None, "count": 0}


def test_feature_outside_raster_gives_none(tif: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # one feature overlaps: no overlap warning
        got = _props(ee.Image(str(tif)).reduceRegions(_fc(SQUARE, OUTSIDE), MEAN_COUNT))
    assert got[1] == {"name": "f1", "mean": None, "count": 0}


def test_features_and_raster_do_not_overlap(tif: Path) -> None:
    far = local_box(100, 100, 101, 101)
    with pytest.warns(NoOverlapWarning) as record:
        got = _props(ee.Image(str(tif)).reduceRegions(_fc(OUTSIDE, far), MEAN_COUNT))
    assert [p["count"] for p in got] == [0, 0] and [p["mean"] for p in got] == [None, None]
    message = str(record[0].message)
    assert str(tif) in message and "EPSG:32633" in message
    assert "(500010, 4000010, 500101, 4000101)" in message  # the features' extent
    assert "(500000, 4000000, 500003, 4000003)" in message  # the raster's
    assert "features' CRS" in message


# -- bands, reducers, arguments ---------------------------------------------------------------------
def test_unknown_band_name(tif: Path) -> None:
    with pytest.raises(BandError) as info:
        ee.Image(str(tif)).select("NDVI")
    assert "'NDVI'" in str(info.value) and "Available: ['B1']" in str(info.value)
    assert isinstance(info.value, KeyError)


def test_reducer_with_wrong_number_of_inputs(tif: Path) -> None:
    two_inputs = ee.Reducer.mean().combine(ee.Reducer.max())  # not shared: inputs 0 and 1
    with pytest.raises(ReducerInputError) as info:
        ee.Image(str(tif)).reduceRegions(_fc(SQUARE), two_inputs).getInfo()
    message = str(info.value)
    assert "2 inputs" in message and "1 band(s) ['B1']" in message and "sharedInputs=True" in message


def test_unknown_argument_name(tif: Path) -> None:
    img = ee.Image(str(tif))
    with pytest.raises(ArgumentError, match=r"Image\.select: unknown argument\(s\) \['bands'\]") as info:
        img.select(bands=["B1"])
    assert "bandSelectors, newNames" in str(info.value)
    assert isinstance(info.value, TypeError)


def test_unknown_argument_name_in_reduce_region(tif: Path) -> None:
    with pytest.raises(ArgumentError, match=r"Unrecognized arguments \['scael'\] to function: Image\.reduceRegion"):
        ee.Image(str(tif)).reduceRegion(ee.Reducer.mean(), scael=30)
    with pytest.raises(ArgumentError, match=r"to function: Image\.reduceRegions\."):
        ee.Image(str(tif)).reduceRegions(_fc(SQUARE), ee.Reducer.mean(), scael=30)
    with pytest.raises(ArgumentError, match=r"to function: ImageCollection\.reduceRegions\."):
        ee.ImageCollection([str(tif)]).reduceRegions(_fc(SQUARE), ee.Reducer.mean(), sharedInputs=True)


def test_known_arguments_wording(tif: Path) -> None:
    from reducer.validate import known_arguments

    wrapped = known_arguments("Image.reduceRegions")(ee.Image.reduceRegions)
    with pytest.raises(ArgumentError) as info:
        wrapped(ee.Image(str(tif)), _fc(SQUARE), ee.Reducer.mean(), scael=30)
    message = str(info.value)
    assert message.startswith("Unrecognized arguments ['scael'] to function: Image.reduceRegions.")
    assert "'scale'" in message and "camelCase" in message


# -- dates ------------------------------------------------------------------------------------------
def test_unparseable_date(tif: Path) -> None:
    with pytest.raises(DateError) as info:
        ee.ImageCollection([str(tif)]).filterDate("2024-13-45", "2025-01-01")
    assert "'2024-13-45'" in str(info.value) and "Give an ISO string such as '2024-06-01'" in str(info.value)


def test_date_filter_on_undated_images_passes_nothing() -> None:
    undated = ee.ImageCollection([ee.Image(1), ee.Image(2)])
    dated = undated.merge(ee.ImageCollection([ee.Image(3).set("system:time_start", 1_700_000_000_000)]))
    assert undated.filterDate("1970-01-01", "2100-01-01").size().getInfo() == 0
    assert dated.filterDate("1970-01-01", "2100-01-01").size().getInfo() == 1


def test_date_of_undated_image(tmp_path: Path) -> None:
    path = write_tif(tmp_path / "no_date_here.tif", VALUES_3x3)
    with pytest.raises(DateError) as info:
        ee.Image(str(path)).date()
    message = str(info.value)
    assert "'no_date_here'" in message and "has no date" in message and "time=" in message


# -- sizes and values -------------------------------------------------------------------------------
def test_max_pixels_exceeded(tif: Path) -> None:
    region = ee.Geometry(SQUARE, proj=CRS)
    with pytest.raises(MaxPixelsError) as info:
        ee.Image(str(tif)).reduceRegion(ee.Reducer.mean(), region, maxPixels=2).getInfo()
    message = str(info.value)
    assert re.match(r"Too many pixels in the region\. Found \d+, but maxPixels allows only 2\.", message)
    assert "set the 'maxPixels' argument" in message and "'bestEffort'" in message


def test_nodata_outside_the_dtype(tmp_path: Path) -> None:
    path = write_tif(tmp_path / "bytes.tif", np.ones((3, 3), "uint8"), nodata=255)
    raw = path.read_bytes()
    assert raw.count(b"255\x00") == 1
    path.write_bytes(raw.replace(b"255\x00", b"2.5\x00"))  # GDAL_NODATA tag: 2.5, which uint8 cannot hold
    with pytest.raises(NodataError) as info:
        ee.Image(str(path))
    message = str(info.value)
    assert repr(str(path)) in message and "nodata 2.5" in message and "uint8" in message
    assert "range 0..255" in message and "gdal_edit.py -a_nodata" in message


def test_all_nodata_raster_gives_none(tmp_path: Path) -> None:
    path = write_tif(tmp_path / "clouds.tif", np.full((3, 3), -9999, "float32"), nodata=-9999)
    r = MEAN_COUNT.combine(ee.Reducer.minMax(), sharedInputs=True)
    got = _props(ee.Image(str(path)).reduceRegions(_fc(SQUARE), r))
    assert got == [{"name": "f0", "mean": None, "count": 0, "min": None, "max": None}]


def test_malformed_expression(tif: Path) -> None:
    if not hasattr(ee.Image, "expression"):
        pytest.skip("ee.Image.expression is not there yet (reducer/expression.py)")
    with pytest.raises(ExpressionError) as info:
        ee.Image(str(tif)).expression("(B1 + ", {"B1": ee.Image(str(tif))})
    assert "(B1 + " in str(info.value)
    assert isinstance(info.value, ReducerError)
