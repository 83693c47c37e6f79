"""Band math, masks, casts, generated images and projections, checked against numpy on real GeoTIFFs."""

from __future__ import annotations

import dask
import numpy as np
import pytest
import rasterio.features
import shapely
from affine import Affine
from pyproj import Geod, Transformer

import reducer as ee
from reducer import algebra
from reducer.errors import ArgumentError, BandError, CRSError, GeometryError
from reducer.grid import Grid
from reducer.sources import READ_COUNTER
from tests.common import CRS, ORIGIN, TRANSFORM_3x3, write_tif

NODATA = -1
A = np.array([[1, 2, 3], [4, NODATA, 6], [7, 8, 0]], dtype="int16")
B = np.array([[2, 2, 0], [1, 1, 1], [-3, 4, NODATA]], dtype="int16")
C = np.array([[5, 5, 5], [5, 5, 5], [5, 5, 5]], dtype="int16")


def nan(x):
    return np.where(x == NODATA, np.nan, x).astype("f8")


AF, BF, CF = nan(A), nan(B), nan(C)


@pytest.fixture(scope="module")
def img(tmp_path_factory):
    path = write_tif(
        tmp_path_factory.mktemp("alg") / "ab_2024-05-01.tif",
        np.stack([A, B, C]),
        nodata=NODATA,
        descriptions=["a", "b", "c"],
    )
    return ee.Image(str(path))


def px(image, grid=None):
    """All bands of ``image`` on ``grid`` (its default grid by default), as a numpy array."""
    g = grid if grid is not None else image.raster.grid
    return np.asarray(image.raster.stack(g).compute())


def same(actual, expected):
    np.testing.assert_allclose(actual, expected, rtol=1e-6, equal_nan=True)


def _ref_div(a, b):
    with np.errstate(all="ignore"):
        return np.where((b == 0) & ~np.isnan(a), 0.0, a / np.where(b == 0, 1, b))


def _ref_mod(a, b):
    with np.errstate(all="ignore"):
        return np.where((b == 0) & ~np.isnan(a), 0.0, np.fmod(a, np.where(b == 0, 1, b)))


def _ref_cmp(f):
    def ref(a, b):
        with np.errstate(all="ignore"):
            return np.where(np.isnan(a) | np.isnan(b), np.nan, f(a, b).astype(float))

    return ref


def _ref_bits(f):
    def ref(a, b):
        bad = np.isnan(a) | np.isnan(b)
        out = f(np.nan_to_num(a).astype(np.int64), np.nan_to_num(b).astype(np.int64)).astype(float)
        return np.where(bad, np.nan, out)

    return ref


BINARY = [
    ("add", lambda a, b: a + b),
    ("subtract", lambda a, b: a - b),
    ("multiply", lambda a, b: a * b),
    ("divide", _ref_div),
    ("mod", _ref_mod),
    ("pow", lambda a, b: np.power(a, b)),
    ("min", np.minimum),
    ("max", np.maximum),
    ("atan2", np.arctan2),
    ("hypot", np.hypot),
    ("gt", _ref_cmp(np.greater)),
    ("gte", _ref_cmp(np.greater_equal)),
    ("lt", _ref_cmp(np.less)),
    ("lte", _ref_cmp(np.less_equal)),
    ("eq", _ref_cmp(np.equal)),
    ("neq", _ref_cmp(np.not_equal)),
    ("And", _ref_cmp(lambda a, b: (a != 0) & (b != 0))),
    ("Or", _ref_cmp(lambda a, b: (a != 0) | (b != 0))),
    ("bitwiseAnd", _ref_bits(np.bitwise_and)),
    ("bitwiseOr", _ref_bits(np.bitwise_or)),
    ("bitwiseXor", _ref_bits(np.bitwise_xor)),
]


@pytest.mark.parametrize("method, ref", BINARY, ids=[m for m, _ in BINARY])
def test_binary_ops_match_numpy_and_propagate_masks(img, method, ref):
    a, b = img.select("a"), img.select("b")
    out = getattr(a, method)(b)
    assert out.bandNames().getInfo() == ["a"]
    with np.errstate(all="ignore"):
        expected = ref(AF, BF)
    same(px(out)[0], expected)
    # a pixel masked in either operand is masked in the result, never 0 or 1
    assert np.isnan(px(out)[0][1, 1]) and np.isnan(px(out)[0][2, 2])


UNARY = [
    ("abs", np.abs),
    ("sqrt", np.sqrt),
    ("exp", np.exp),
    ("log", np.log),
    ("log10", np.log10),
    ("floor", np.floor),
    ("ceil", np.ceil),
    ("sin", np.sin),
    ("cos", np.cos),
    ("atan", np.arctan),
    ("Not", lambda x: np.where(np.isnan(x), np.nan, (x == 0).astype(float))),
]


@pytest.mark.parametrize("method, ref", UNARY, ids=[m for m, _ in UNARY])
def test_unary_ops_match_numpy(img, method, ref):
    out = getattr(img.select("b"), method)()
    assert out.bandNames().getInfo() == ["b"]
    with np.errstate(all="ignore"):
        expected = ref(BF)
    expected = np.where(np.isnan(expected) | np.isnan(BF), np.nan, expected)  # NaN results are masked
    same(px(out)[0], expected)


def test_round_is_half_up_as_java():
    vals = ee.Image.constant([2.5, -2.5, 0.49, -0.5]).round()
    grid = Grid(CRS, TRANSFORM_3x3, 3, 3)
    assert px(vals, grid)[:, 0, 0].tolist() == [3.0, -2.0, 0.0, 0.0]


def test_division_by_zero_gives_zero_and_nan_results_are_masked():
    grid = Grid(CRS, TRANSFORM_3x3, 3, 3)
    assert px(ee.Image(5).divide(0), grid)[0, 0, 0] == 0
    assert px(ee.Image(5).mod(0), grid)[0, 0, 0] == 0
    assert np.isnan(px(ee.Image(-1).sqrt(), grid)[0, 0, 0])
    assert px(ee.Image(0).log(), grid)[0, 0, 0] == -np.inf
    assert px(ee.Image(7).mod(-3), grid)[0, 0, 0] == 1  # the sign of the dividend, as Java
    assert px(ee.Image(-7).mod(3), grid)[0, 0, 0] == -1


# -- band matching and naming -----------------------------------------------------------------------


def test_one_band_is_used_against_every_band(img):
    out = img.select("c").subtract(img.select(["a", "b"]))
    assert out.bandNames().getInfo() == ["a", "b"]  # the longer input's names
    same(px(out), np.stack([CF - AF, CF - BF]))
    out = img.select(["a", "b"]).multiply(img.select("c"))
    assert out.bandNames().getInfo() == ["a", "b"]
    same(px(out), np.stack([AF * CF, BF * CF]))


def test_equal_counts_pair_in_order_and_take_the_first_names(img):
    out = img.select(["a", "b"]).add(img.select(["c", "a"]))
    assert out.bandNames().getInfo() == ["a", "b"]
    same(px(out), np.stack([AF + CF, BF + AF]))
    out = img.select(["c", "a"]).add(img.select(["a", "b"]))
    assert out.bandNames().getInfo() == ["c", "a"]


def test_numbers_are_constant_images(img):
    out = img.select(["a", "b"]).multiply(0.5)
    assert out.bandNames().getInfo() == ["a", "b"]
    same(px(out), np.stack([AF * 0.5, BF * 0.5]))
    # a number first: the constant's name when both have one band, as Earth Engine
    assert ee.Image(2.5).multiply(img.select("a")).bandNames().getInfo() == ["constant"]
    assert img.select("a").add(ee.Number(2)).bandNames().getInfo() == ["a"]
    assert img.add([1, 2, 3]).bandNames().getInfo() == ["a", "b", "c"]
    same(px(img.add([1, 2, 3])), np.stack([AF + 1, BF + 2, CF + 3]))


def test_band_count_mismatch_is_an_error(img):
    with pytest.raises(BandError, match=r"cannot match 2 bands \['a', 'b'\] with 3 bands"):
        img.select(["a", "b"]).add(img)
    with pytest.raises(BandError, match="no bands"):
        ee.Image().add(1)
    with pytest.raises(ArgumentError, match="expected an ee.Image or a number, got 'B4'"):
        img.add("B4")


def test_arithmetic_drops_properties_masks_keep_them(img):
    assert "system:time_start" in img.raster.properties
    for derived in (img.add(1), img.gt(1), img.toFloat(), img.normalizedDifference(["a", "b"])):
        assert derived.propertyNames().getInfo() == []
    for kept in (img.updateMask(1), img.unmask(0), img.where(1, 2), img.selfMask(), img.mask(), img.resample()):
        assert kept.date().millis().getInfo() == img.date().millis().getInfo()


def test_result_types():
    u16 = ee.Image(1).toUint16()
    assert u16.add(u16).bandTypes().getInfo() == {"constant": "uint16"}
    assert u16.divide(u16).bandTypes().getInfo() == {"constant": "float32"}
    assert u16.multiply(0.0001).bandTypes().getInfo() == {"constant": "float64"}
    assert u16.gt(1).bandTypes().getInfo() == {"constant": "uint8"}
    assert u16.bitwiseAnd(1024).bandTypes().getInfo() == {"constant": "int64"}
    assert ee.Image(1.5).round().bandTypes().getInfo() == {"constant": "int64"}


# -- QA bits -------------------------------------------------------------------------------------------


def test_sentinel2_qa60_and_landsat_qa_pixel_bits(tmp_path):
    qa60 = np.array([[0, 1024, 2048], [3072, 0, 1024 | 1], [0, 0, 2048 | 4]], dtype="uint16")
    qa_pixel = np.array([[21824, 22280, 23888], [21952, 21824, 54596], [1, 21824, 22280]], dtype="uint16")
    path = write_tif(tmp_path / "qa.tif", np.stack([qa60, qa_pixel]), descriptions=["QA60", "QA_PIXEL"])
    img = ee.Image(str(path))
    qa = img.select("QA60")
    clear = qa.bitwiseAnd(1 << 10).eq(0).And(qa.bitwiseAnd(1 << 11).eq(0))
    same(px(clear)[0], ((qa60 & (1 << 10)) == 0) & ((qa60 & (1 << 11)) == 0))
    # Landsat: cloud is bit 3, cloud shadow bit 4
    q = img.select("QA_PIXEL")
    cloud = q.rightShift(3).bitwiseAnd(1)
    shadow = q.bitwiseAnd(1 << 4).neq(0)
    same(px(cloud)[0], (qa_pixel >> 3) & 1)
    same(px(shadow)[0], (qa_pixel & 16) != 0)
    same(px(ee.Image(1).leftShift(10).add(q.multiply(0)))[0], np.full((3, 3), 1024.0))
    same(px(q.bitwiseNot())[0], ~qa_pixel.astype(np.int64))


# -- normalizedDifference --------------------------------------------------------------------------------


def test_normalized_difference(img):
    nd = img.normalizedDifference(["a", "b"])
    assert nd.bandNames().getInfo() == ["nd"]
    with np.errstate(all="ignore"):
        expected = (AF - BF) / (AF + BF)
    # masked where an input is negative (as Earth Engine documents) or the sum is 0
    expected[(AF < 0) | (BF < 0) | (AF + BF == 0)] = np.nan
    same(px(nd)[0], expected)
    assert np.isnan(px(nd)[0][2, 0])  # b = -3
    same(px(img.normalizedDifference())[0], expected)  # the first two bands by default
    with pytest.raises(BandError, match="exactly two bands"):
        img.normalizedDifference(["a"])
    with pytest.raises(BandError, match="'nope'"):
        img.normalizedDifference(["a", "nope"])
    with pytest.raises(BandError, match="needs two bands"):
        img.select("a").normalizedDifference()


def test_normalized_difference_zero_sum_masked():
    grid = Grid(CRS, TRANSFORM_3x3, 3, 3)
    assert np.isnan(px(ee.Image.constant([0, 0]).normalizedDifference(), grid)).all()


# -- masks ----------------------------------------------------------------------------------------------


def test_update_mask(img):
    m = img.select("b")  # 0 at (0, 2), masked at (2, 2)
    out = img.select(["a", "c"]).updateMask(m)
    assert out.bandNames().getInfo() == ["a", "c"]
    keep = ~np.isnan(BF) & (BF != 0)
    same(px(out), np.stack([np.where(keep, AF, np.nan), np.where(keep, CF, np.nan)]))
    # one mask band per band
    out = img.select(["a", "c"]).updateMask(img.select(["b", "c"]).gt(2))
    same(px(out)[1], np.full((3, 3), 5.0))
    assert np.isnan(px(out)[0]).sum() == 8  # only b=4 > 2 at (2, 1)
    with pytest.raises(BandError, match="the mask has 2 bands"):
        img.updateMask(img.select(["a", "b"]))


def test_mask_self_mask_and_set_mask(img):
    m = px(img.mask())
    assert img.mask().bandNames().getInfo() == ["a", "b", "c"]
    same(m, np.stack([~np.isnan(AF), ~np.isnan(BF), np.ones((3, 3))]).astype(float))
    same(px(img.select("a").selfMask())[0], np.where(AF == 0, np.nan, AF))
    # mask(m) replaces the mask; newly valid pixels hold 0
    same(px(img.select("a").mask(1))[0], np.nan_to_num(AF))


def test_unmask_number_and_image(img):
    same(px(img.unmask())[0], np.nan_to_num(AF))
    same(px(img.select(["a", "b"]).unmask(-9))[1], np.where(np.isnan(BF), -9, BF))
    filled = img.select("b").unmask(img.select("c").multiply(10))
    same(px(filled)[0], np.where(np.isnan(BF), 50, BF))
    same(px(img.select("a").unmask(img.select("b")))[0], np.where(np.isnan(AF), BF, AF))
    # a masked value leaves the pixel masked
    assert np.isnan(px(img.select("a").unmask(img.select("a").add(1)))[0][1, 1])


def test_unmask_same_footprint_on_a_larger_grid(img):
    big = Grid(CRS, Affine(1, 0, ORIGIN[0] - 1, 0, -1, ORIGIN[1] + 1), 5, 5)
    inside = px(img.select("a").unmask(7), big)[0]
    assert np.isnan(inside[0]).all() and np.isnan(inside[:, 0]).all()  # outside the footprint: still masked
    same(inside[1:4, 1:4], np.where(np.isnan(AF), 7, AF))
    outside = px(img.select("a").unmask(7, sameFootprint=False), big)[0]
    assert (outside[0] == 7).all()


def test_where(img):
    test = img.select("b").gt(1)  # masked at (2, 2)
    out = img.select(["a", "c"]).where(test, img.select("b").multiply(100))
    assert out.bandNames().getInfo() == ["a", "c"]
    t = np.where(np.isnan(BF), np.nan, BF > 1)
    use = (t == 1) & ~np.isnan(BF)
    same(px(out)[0], np.where(use & ~np.isnan(AF), BF * 100, AF))
    same(px(out)[1], np.where(use, BF * 100, CF))
    # a masked input stays masked even where the test passes
    assert np.isnan(px(img.select("a").where(1, 3))[0][1, 1])
    same(px(img.select("a").where(img.select("a").eq(0), -5))[0], np.where(AF == 0, -5, AF))


def test_clip_centre_in(img):
    poly = shapely.box(ORIGIN[0] + 0.2, ORIGIN[1] - 1.6, ORIGIN[0] + 2.4, ORIGIN[1] - 0.1)
    out = img.clip(ee.Geometry(poly, proj=CRS))
    inside = rasterio.features.geometry_mask([poly], (3, 3), TRANSFORM_3x3, invert=True)
    assert inside.sum() == 4
    same(px(out)[0], np.where(inside, AF, np.nan))
    assert out.bandNames().getInfo() == ["a", "b", "c"]
    # a geometry in another CRS is reprojected to the grid
    lonlat = shapely.transform(poly, lambda xy: np.c_[Transformer.from_crs(CRS, 4326, always_xy=True).transform(*xy.T)])
    same(px(img.clip(ee.Geometry(lonlat)))[0], np.where(inside, AF, np.nan))
    # outside and empty geometries mask everything
    far = ee.Geometry.Rectangle([0, 0, 1, 1])
    assert np.isnan(px(img.clip(far))).all()
    assert np.isnan(px(img.clip(ee.Geometry(shapely.Polygon(), proj=CRS)))).all()
    with pytest.raises(GeometryError):
        img.clip([1, 2])


def test_clip_on_many_blocks_matches_rasterio(tmp_path, monkeypatch):
    monkeypatch.setattr("reducer.sources.files.TARGET_BLOCK", 64)
    t = Affine(10, 0, 600000, 0, -10, 5000000)
    vals = np.arange(300 * 300, dtype="float32").reshape(300, 300)
    path = write_tif(tmp_path / "big.tif", vals, transform=t, tiled=True, blocksize=64)
    img = ee.Image(str(path))
    poly = shapely.Point(601500, 4998500).buffer(900)
    out = img.clip(ee.Geometry(poly, proj=CRS))
    arr = img.raster.stack(img.raster.grid)
    assert arr.numblocks[1:] != (1, 1)
    inside = rasterio.features.geometry_mask([poly], (300, 300), t, invert=True)
    same(px(out)[0], np.where(inside, vals, np.nan))


# -- generated images -------------------------------------------------------------------------------------


def test_constant_names():
    assert ee.Image.constant(1).bandNames().getInfo() == ["constant"]
    assert ee.Image.constant([1, 2, 3]).bandNames().getInfo() == ["constant_0", "constant_1", "constant_2"]
    with pytest.raises(ArgumentError):
        ee.Image.constant("x")


def test_metadata_image(img):
    t = img.metadata("system:time_start")
    assert t.bandNames().getInfo() == ["system:time_start"]
    assert t.bandTypes().getInfo() == {"system:time_start": "float64"}
    grid = img.raster.grid
    assert px(t, grid)[0, 0, 0] == img.date().millis().getInfo()
    assert img.metadata("system:time_start", "t").bandNames().getInfo() == ["t"]
    # the Earth Engine pattern: a time band for every image
    both = img.select("a").addBands(img.metadata("system:time_start"))
    assert both.bandNames().getInfo() == ["a", "system:time_start"]
    with pytest.raises(ArgumentError, match="no numeric property 'system:id'"):
        img.metadata("system:id")


def test_pixel_area_projected_and_geographic():
    utm = Grid(CRS, Affine(10, 0, 500000, 0, -10, 4000000), 4, 3)
    same(px(ee.Image.pixelArea(), utm)[0], np.full((3, 4), 100.0))
    assert ee.Image.pixelArea().bandNames().getInfo() == ["area"]
    step = 0.01
    geo = Grid("EPSG:4326", Affine(step, 0, 10, 0, -step, 60), 3, 5)
    area = px(ee.Image.pixelArea(), geo)[0]
    geod = Geod(ellps="WGS84")
    for r in range(5):
        top, bottom = 60 - r * step, 60 - (r + 1) * step
        lons = np.linspace(10, 10 + step, 50)
        ring_lon = np.r_[lons, lons[::-1]]
        ring_lat = np.r_[np.full(50, top), np.full(50, bottom)]
        expected = abs(geod.polygon_area_perimeter(ring_lon, ring_lat)[0])
        np.testing.assert_allclose(area[r], expected, rtol=1e-6)
    assert area[0, 0] < area[-1, 0]  # pixels grow toward the equator


def test_pixel_lon_lat():
    utm = Grid(CRS, Affine(10, 0, 500000, 0, -10, 4000000), 4, 3)
    out = px(ee.Image.pixelLonLat(), utm)
    assert ee.Image.pixelLonLat().bandNames().getInfo() == ["longitude", "latitude"]
    cols, rows = np.meshgrid(np.arange(4), np.arange(3))
    lon, lat = Transformer.from_crs(CRS, "EPSG:4326", always_xy=True).transform(
        500000 + 10 * (cols + 0.5), 4000000 - 10 * (rows + 0.5)
    )
    same(out[0], lon)
    same(out[1], lat)
    geo = Grid("EPSG:4326", Affine(0.5, 0, 10, 0, -0.5, 50), 2, 2)
    same(px(ee.Image.pixelLonLat(), geo)[0], [[10.25, 10.75], [10.25, 10.75]])


# -- casts -----------------------------------------------------------------------------------------------


def test_casts():
    grid = Grid(CRS, TRANSFORM_3x3, 3, 3)
    v = ee.Image.constant([2.7, -2.7, 300.2, 1 / 3])
    assert px(v.toInt(), grid)[:, 0, 0].tolist() == [2, -2, 300, 0]
    assert px(v.toUint8(), grid)[:, 0, 0].tolist() == [2, 0, 255, 0]  # saturating
    assert px(v.toByte(), grid)[:, 0, 0].tolist() == [2, 0, 255, 0]
    assert px(v.toInt16(), grid)[:, 0, 0].tolist() == [2, -2, 300, 0]
    assert px(v.toFloat(), grid)[3, 0, 0] == np.float32(1 / 3)
    assert px(v.toDouble(), grid)[3, 0, 0] == 1 / 3
    assert v.toInt16().bandTypes().getInfo()["constant_0"] == "int16"
    assert v.float().bandTypes().getInfo()["constant_0"] == "float32"
    out = v.cast({"constant_0": "int8"}, ["constant_0", "constant_3"])
    assert out.bandNames().getInfo() == ["constant_0", "constant_3"]
    assert out.bandTypes().getInfo() == {"constant_0": "int8", "constant_3": "float64"}
    with pytest.raises(ArgumentError, match="unknown pixel type 'int12'"):
        v.cast({"constant_0": "int12"})
    with pytest.raises(BandError):
        v.cast({"nope": "int8"})


def test_casts_keep_masks(img):
    assert np.isnan(px(img.select("a").toInt())[0][1, 1])


# -- projections ---------------------------------------------------------------------------------------------


def test_projection(img):
    p = img.projection()
    assert p.getInfo() == {
        "type": "Projection",
        "crs": "EPSG:32633",
        "transform": [1.0, 0.0, 500000.0, 0.0, -1.0, ORIGIN[1]],
    }
    assert p.crs().getInfo() == "EPSG:32633"
    assert p.nominalScale().getInfo() == 1.0
    assert p.transform().getInfo().startswith('PARAM_MT["Affine", PARAMETER["num_row", 3]')
    assert ee.Image(1).projection().crs().getInfo() == "EPSG:4326"
    assert algebra.Projection("EPSG:4326", [0.5, 0, 0, 0, -0.5, 0]).nominalScale().getInfo() == pytest.approx(
        55659.7, 1e-4
    )
    assert p.atScale(10).getInfo()["transform"] == [10.0, 0.0, 500000.0, 0.0, -10.0, ORIGIN[1]]


def test_projection_of_mixed_grids_is_an_error(img, tmp_path):
    other = write_tif(tmp_path / "o.tif", A, transform=Affine(2, 0, ORIGIN[0], 0, -2, ORIGIN[1]))
    mixed = img.addBands(ee.Image(str(other)).rename("o"))
    with pytest.raises(CRSError, match="different projections"):
        mixed.projection()
    assert mixed.select("o").projection().nominalScale().getInfo() == 2.0


def test_reproject(tmp_path):
    t = Affine(10, 0, 600000, 0, -10, 5000040)
    vals = np.arange(16, dtype="float32").reshape(4, 4)
    img = ee.Image(str(write_tif(tmp_path / "r.tif", vals, transform=t)))
    out = img.reproject("EPSG:32633", scale=20)
    g = out.raster.grid
    assert g.res == (20.0, 20.0) and g.shape == (2, 2)
    assert out.projection().getInfo()["transform"] == [20.0, 0.0, 600000.0, 0.0, -20.0, 5000040.0]
    # nearest: each 20 m pixel takes the 10 m pixel under its centre
    same(px(out)[0], vals[1::2, 1::2])
    # asked on the native grid, the reprojected pixels are resampled back (nearest)
    same(px(out, img.raster.grid)[0], np.repeat(np.repeat(vals[1::2, 1::2], 2, 0), 2, 1))
    # a projection carries its transform
    again = img.reproject(out.projection())
    assert again.raster.grid == g
    with pytest.raises(ArgumentError, match="give scale="):
        img.reproject("EPSG:32633")
    # reduceRegion without scale uses the reprojected grid
    r = out.reduceRegion(ee.Reducer.count(), ee.Geometry(shapely.box(600000, 5000000, 600040, 5000040), proj=CRS))
    assert r.getInfo() == {"B1": 4}


def test_resample(tmp_path):
    t = Affine(10, 0, 600000, 0, -10, 5000040)
    vals = np.arange(16, dtype="float32").reshape(4, 4)
    img = ee.Image(str(write_tif(tmp_path / "r.tif", vals, transform=t)))
    shifted = Grid(CRS, Affine(10, 0, 600005, 0, -10, 5000035), 3, 3)
    near = px(img, shifted)[0]
    bil = px(img.resample("bilinear"), shifted)[0]
    assert img.resample().raster.bands[0].resampling == "bilinear"
    same(near, vals[1:, 1:])  # centres fall on pixel corners: nearest picks one
    same(bil, (vals[:-1, :-1] + vals[1:, :-1] + vals[:-1, 1:] + vals[1:, 1:]) / 4)
    with pytest.raises(ArgumentError, match="mode 'nearest'"):
        img.resample("nearest")


# -- laziness --------------------------------------------------------------------------------------------


class _Computes(dask.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.n = 0

    def _start(self, dsk):
        self.n += 1


def test_building_reads_no_pixel(img):
    READ_COUNTER.reset()
    with _Computes() as c:
        a, b = img.select("a"), img.select("b")
        built = [
            a.add(b).subtract(1).multiply(b).divide(a).pow(2).mod(3).abs().sqrt().exp().log().log10(),
            a.min(b).max(1).round().floor().ceil().gt(b).gte(a).lt(b).lte(a).eq(b).neq(a).And(b).Or(a).Not(),
            a.bitwiseAnd(1024).bitwiseOr(b).rightShift(2).leftShift(1),
            img.normalizedDifference(["a", "b"]),
            img.expression("2.5 * ((N - R) / (N + 6 * R - 7.5 * b('c') + 1))", {"N": a, "R": b}),
            img.updateMask(b).unmask(0).where(a.gt(1), 5).selfMask().mask().clip(ee.Geometry.Rectangle([0, 0, 1, 1])),
            img.toFloat().toInt16().toUint8().cast({"a": "double"}),
            img.reproject("EPSG:4326", scale=50).resample("bicubic"),
            ee.Image.pixelArea().addBands(ee.Image.pixelLonLat()).multiply(img.select("a")),
        ]
        for im in built:
            im.bandNames().getInfo()
            im.bandTypes().getInfo()
        img.projection().getInfo()
        for im in built:  # planning: building the dask graph reads nothing either
            im.raster.stack(img.raster.grid)
    assert READ_COUNTER.reads == 0
    assert c.n == 0


def test_reduce_region_of_band_math_matches_numpy(img):
    ndvi = img.normalizedDifference(["a", "b"]).rename("ndvi")
    r = ndvi.reduceRegion(ee.Reducer.mean().unweighted(), ee.Geometry(shapely.box(*img.raster.grid.bounds), proj=CRS))
    with np.errstate(all="ignore"):
        expected = (AF - BF) / (AF + BF)
    expected[(AF < 0) | (BF < 0) | (AF + BF == 0)] = np.nan
    assert r.getInfo()["ndvi"] == pytest.approx(np.nanmean(expected), rel=1e-6)
