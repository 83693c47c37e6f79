"""Point values on real GeoTIFFs: point_query = rasterstats' point_query; samples = numpy indexing."""

from __future__ import annotations

import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from affine import Affine
from rasterio.features import rasterize

import reducer as ee
from tests.common import write_tif

rasterstats = pytest.importorskip("rasterstats")

CRS = "EPSG:32633"
T = Affine(10, 0, 600000, 0, -10, 5000000)
H, W = 90, 110
PEER = Path(__file__).resolve().parents[3] / "shared" / "peerdata" / "rasterstats"


def _rs_point_query(*args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "Setting nodata to -999" for rasters without nodata
        return rasterstats.point_query(*args, **kwargs)


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    rng = np.random.default_rng(11)
    tmp = tmp_path_factory.mktemp("points")
    vals = rng.normal(0.5, 0.2, (H, W)).astype("float32")
    vals[rng.random((H, W)) < 0.05] = -9999
    vals[30:40, 50:65] = -9999  # a cloud
    tif = write_tif(tmp / "v_2024-05-01.tif", vals, transform=T, nodata=-9999, tiled=True, blocksize=32)
    ints = rng.integers(-300, 300, (H, W)).astype("int16")
    ints[rng.random((H, W)) < 0.05] = -32768
    itif = write_tif(tmp / "i.tif", ints, transform=T, nodata=-32768, tiled=True, blocksize=32)
    two = np.stack([vals, vals * 2]).astype("float32")
    two[1][two[0] == -9999] = -9999
    mtif = write_tif(tmp / "m.tif", two, transform=T, nodata=-9999, descriptions=["a", "b"])
    return {"tif": tif, "vals": vals, "itif": itif, "ints": ints, "mtif": mtif, "tmp": tmp}


def _points(rng, n=150):
    """Random points over and around the raster, plus exact centres, corners and edges."""
    x0, y1 = T.c, T.f
    xs = rng.uniform(x0 - 25, x0 + W * 10 + 25, n)
    ys = rng.uniform(y1 - H * 10 - 25, y1 + 25, n)
    cols = rng.integers(0, W, 25)
    rows = rng.integers(0, H, 25)
    xs = np.r_[xs, x0 + (cols + 0.5) * 10, x0 + cols * 10, x0 + (cols + 0.5) * 10, x0, x0 + W * 10]
    ys = np.r_[ys, y1 - (rows + 0.5) * 10, y1 - rows * 10, y1 - rows * 10, y1, y1 - H * 10]
    return gpd.GeoDataFrame({"pid": range(len(xs))}, geometry=shapely.points(xs, ys), crs=CRS)


@pytest.mark.parametrize("interpolate", ["nearest", "bilinear"])
def test_point_query_equals_rasterstats_float(data, interpolate):
    pts = _points(np.random.default_rng(1))
    got = ee.point_query(pts, str(data["tif"]), interpolate=interpolate)
    ref = _rs_point_query(list(pts.geometry), str(data["tif"]), interpolate=interpolate)
    assert any(v is None for v in ref) and sum(v is not None for v in ref) > 150
    assert got == ref  # exactly: same pixels, same fallbacks, same float operations


@pytest.mark.parametrize("interpolate", ["nearest", "bilinear"])
def test_point_query_equals_rasterstats_int16(data, interpolate):
    pts = _points(np.random.default_rng(2))
    got = ee.point_query(pts, ee.Image(str(data["itif"])), interpolate=interpolate)
    ref = _rs_point_query(list(pts.geometry), str(data["itif"]), interpolate=interpolate)
    assert got == ref
    if interpolate == "nearest":
        assert {type(v) for v in got} == {int, type(None)}


def test_point_query_band_by_number_and_name(data):
    pts = _points(np.random.default_rng(3), 100)
    ref = _rs_point_query(list(pts.geometry), str(data["mtif"]), band=2)
    assert ee.point_query(pts, str(data["mtif"]), band=2) == ref
    assert ee.point_query(pts, str(data["mtif"]), band="b") == ref


def test_point_query_other_crs(data):
    # points given in EPSG:4326 are moved to the raster's CRS first; keep them off pixel edges
    rng = np.random.default_rng(4)
    cols, rows = rng.integers(0, W, 80), rng.integers(0, H, 80)
    off = rng.uniform(0.2, 0.8, (2, 80))
    pts = gpd.GeoDataFrame(geometry=shapely.points(T.c + (cols + off[0]) * 10, T.f - (rows + off[1]) * 10), crs=CRS)
    ref_nearest = _rs_point_query(list(pts.geometry), str(data["tif"]), interpolate="nearest")
    assert ee.point_query(pts.to_crs(4326), str(data["tif"]), interpolate="nearest") == ref_nearest
    ref = _rs_point_query(list(pts.geometry), str(data["tif"]))
    got = ee.point_query(pts.to_crs(4326), str(data["tif"]))
    assert [v is None for v in got] == [v is None for v in ref]
    np.testing.assert_allclose(
        [v for v in got if v is not None], [v for v in ref if v is not None], rtol=1e-9, atol=1e-12
    )


def test_point_query_lines_give_a_value_per_vertex(data):
    rng = np.random.default_rng(5)
    lines = [
        shapely.LineString(np.c_[T.c + rng.uniform(-20, 1120, 4), T.f - rng.uniform(-20, 920, 4)]) for _ in range(10)
    ]
    for interpolate in ("nearest", "bilinear"):
        got = ee.point_query(lines, str(data["tif"]), interpolate=interpolate, crs=CRS)
        assert got == _rs_point_query(lines, str(data["tif"]), interpolate=interpolate)


def test_point_query_peer_fixtures():
    if not PEER.exists():
        pytest.skip("shared peer data not present")
    import rasterio

    raster = str(PEER / "slope.tif")
    with rasterio.open(raster) as src:
        crs = src.crs
    for name in ("points.shp", "multipoints.shp", "lines.shp"):
        # rasterstats ignores CRSs, and some of its fixtures' .prj files are wrong (multipoints.shp says
        # EPSG:4326 for Albers coordinates): give every fixture the raster's CRS
        gdf = gpd.read_file(PEER / name).set_crs(crs, allow_override=True)
        for interpolate in ("nearest", "bilinear"):
            got = ee.point_query(gdf, raster, interpolate=interpolate)
            ref = _rs_point_query(str(PEER / name), raster, interpolate=interpolate)
            assert got == ref, (name, interpolate)


def test_point_query_demo_points(tmp_path):
    from reducer.demo import make_demo_data

    out = make_demo_data(tmp_path)
    pts = gpd.read_file(out["points"])
    tif = str(out["images"][4])  # May: clouds
    in_raster_crs = pts.to_crs(CRS)  # the same transform point_query applies
    for interpolate in ("nearest", "bilinear"):
        got = ee.point_query(pts, tif, interpolate=interpolate)
        assert got == _rs_point_query(list(in_raster_crs.geometry), tif, interpolate=interpolate)


# -- samples against numpy indexing ----------------------------------------------------------------


def test_sample_regions_points_equal_numpy(data):
    pts = _points(np.random.default_rng(6))
    got = ee.Image(str(data["tif"])).sampleRegions(ee.FeatureCollection(pts)).to_pandas()
    rows, cols = np.floor((T.f - pts.geometry.y) / 10).astype(int), np.floor((pts.geometry.x - T.c) / 10).astype(int)
    inside = (rows >= 0) & (rows < H) & (cols >= 0) & (cols < W)
    vals = np.full(len(pts), np.nan)
    vals[inside] = data["vals"][rows[inside], cols[inside]]
    vals[vals == -9999] = np.nan
    keep = ~np.isnan(vals)
    assert got["pid"].tolist() == pts["pid"][keep].tolist()
    np.testing.assert_array_equal(got["B1"].to_numpy(), vals[keep])
    # and the same values as rasterstats' nearest point_query
    ref = _rs_point_query(list(pts.geometry[keep]), str(data["tif"]), interpolate="nearest")
    assert got["B1"].tolist() == ref


def test_sample_regions_polygons_equal_gdal_centre_rule(data):
    rng = np.random.default_rng(7)
    polys = []
    for _ in range(15):
        cx, cy = T.c + rng.uniform(0, 1100), T.f - rng.uniform(0, 900)
        ang = np.sort(rng.uniform(0, 2 * np.pi, 8))
        rad = rng.uniform(20, 120) * rng.uniform(0.6, 1.0, 8)
        polys.append(shapely.Polygon(np.c_[cx + rad * np.cos(ang), cy + rad * np.sin(ang)]).buffer(0))
    fc = ee.FeatureCollection(gpd.GeoDataFrame({"k": range(15)}, geometry=polys, crs=CRS))
    got = ee.Image(str(data["tif"])).sampleRegions(fc).to_pandas()
    vals = data["vals"]
    for k, poly in enumerate(polys):
        mask = rasterize([poly], out_shape=(H, W), transform=T, all_touched=False).astype(bool)
        expected = vals[mask & (vals != -9999)]  # row-major, as sampleRegions orders a region's pixels
        np.testing.assert_array_equal(got.loc[got["k"] == k, "B1"].to_numpy(), expected.astype("f8"))


def test_get_region_equals_numpy_per_image(data, tmp_path):
    rng = np.random.default_rng(8)
    stack = []
    paths = []
    for m in range(1, 4):
        v = rng.normal(size=(H, W)).astype("float32")
        v[rng.random((H, W)) < 0.2] = -9999
        stack.append(v)
        paths.append(str(write_tif(tmp_path / f"s_2024-0{m}-01.tif", v, transform=T, nodata=-9999)))
    ic = ee.ImageCollection(paths)
    for _ in range(5):
        r, c = int(rng.integers(0, H)), int(rng.integers(0, W))
        point = ee.Geometry.Point([T.c + (c + 0.3) * 10, T.f - (r + 0.6) * 10], CRS)
        df = ee.region_to_dataframe(ic.getRegion(point))
        expected = [np.nan if s[r, c] == -9999 else float(s[r, c]) for s in stack]
        np.testing.assert_array_equal(df["B1"].to_numpy(), expected)
        assert df["datetime"].dt.month.tolist() == [1, 2, 3]
    box = ee.Geometry.Rectangle([T.c + 100, T.f - 300, T.c + 200, T.f - 200], CRS, False)
    df = ee.region_to_dataframe(ic.getRegion(box))
    assert len(df) == 3 * 100  # 10 x 10 pixel centres per image, masked ones kept with NaN
    np.testing.assert_array_equal(
        df["B1"].to_numpy(), np.concatenate([np.where(s == -9999, np.nan, s)[20:30, 10:20].ravel() for s in stack])
    )
