"""Data sources on real fixtures: a folder of COGs, a static STAC catalog, a named collection, Zarr and NetCDF cubes.

The same reduceRegions script gives the same numbers on the same pixels whatever the source; building and
filtering opens no file; a reduction reads only the blocks its features touch; mixed grids work.
"""

from __future__ import annotations

import datetime as dt
import functools
import threading
from pathlib import Path

import geopandas as gpd
import numpy as np
import pystac
import pytest
import rasterio
import rasterio.shutil
import rioxarray  # noqa: F401  (registers .rio)
import shapely
import xarray as xr
from affine import Affine
from pyproj import Transformer
from pystac.extensions.eo import EOExtension
from pystac.extensions.projection import ProjectionExtension
from pystac.extensions.raster import DataType, RasterBand, RasterExtension

import reducer as ee
from reducer import sources
from reducer.engine import ReductionRequest, plan_reduction
from reducer.errors import BandError, CRSError
from reducer.sources import HEADER_COUNTER, READ_COUNTER

# Scenes "A": UTM 33N, 10 m, 2048 x 2048 pixels (chunks of 1024 are read per task), nodata 0.
CRS_A, RES_A, SIZE_A = "EPSG:32633", 10.0, 2048
T_A = Affine(RES_A, 0, 500000, 0, -RES_A, 5000000)
DATES_A = ["2024-05-01", "2024-06-01", "2024-07-01"]
CLOUDS_A = [5.0, 50.0, 15.0]
# Scenes "B": UTM 34N, 20 m, 256 x 256 pixels, far from A.
CRS_B, RES_B, SIZE_B = "EPSG:32634", 20.0, 256
T_B = Affine(RES_B, 0, 500000, 0, -RES_B, 5000000)
DATES_B = ["2024-05-03", "2024-06-03"]
CLOUDS_B = [10.0, 30.0]
SCALE = 0.0001


def scene_a(k: int) -> np.ndarray:
    r, c = np.mgrid[0:SIZE_A, 0:SIZE_A]
    v = (1000 + 3 * c + 7 * r + (c * r) % 97 + 500 * k).astype("uint16")
    v[100:140, 200:260] = 0  # a nodata patch under the "aligned" field
    return v


def scene_b(k: int) -> np.ndarray:
    r, c = np.mgrid[0:SIZE_B, 0:SIZE_B]
    return (2000 + 5 * c + 11 * r + 100 * k).astype("uint16")


def write_cog(path: Path, data: np.ndarray, crs: str, transform: Affine, name: str = "red") -> Path:
    h, w = data.shape
    profile = dict(driver="GTiff", width=w, height=h, count=1, dtype=data.dtype, crs=crs, transform=transform, nodata=0)
    with rasterio.MemoryFile() as mem, mem.open(**profile) as tmp:
        tmp.write(data, 1)
        tmp.set_band_description(1, name)
        rasterio.shutil.copy(tmp, path, driver="COG", blocksize=256, compress="DEFLATE", overview_resampling="nearest")
    return path


@functools.cache
def to_wgs84(crs: str) -> Transformer:
    return Transformer.from_crs(crs, "EPSG:4326", always_xy=True)


def footprint(crs: str, transform: Affine, shape: tuple[int, int]) -> tuple[dict, list[float]]:
    h, w = shape
    xmin, ymax = transform.c, transform.f
    xmax, ymin = xmin + transform.a * w, ymax + transform.e * h
    tr = to_wgs84(crs)
    bbox = list(tr.transform_bounds(xmin, ymin, xmax, ymax, densify_pts=21))
    return shapely.geometry.mapping(shapely.box(*bbox)), bbox


def make_item(
    item_id: str,
    date: str,
    cloud: float,
    platform: str,
    assets: dict[str, tuple[str, str, Affine, tuple[int, int]]],
    proj: bool = True,
) -> pystac.Item:
    """An item with one single-band uint16 asset per entry ``key: (href, crs, transform, shape)``."""
    first = next(iter(assets.values()))
    geometry, bbox = footprint(first[1], first[2], first[3])
    when = dt.datetime.fromisoformat(date).replace(tzinfo=dt.UTC)  # midnight, as dates in file names
    item = pystac.Item(item_id, geometry, bbox, when, {"platform": platform})
    EOExtension.ext(item, add_if_missing=True).cloud_cover = cloud
    RasterExtension.add_to(item)
    if proj:
        ProjectionExtension.ext(item, add_if_missing=True).code = first[1]
    for key, (href, crs, transform, shape) in assets.items():
        asset = pystac.Asset(href, media_type=pystac.MediaType.COG, roles=["data"])
        item.add_asset(key, asset)
        if proj:
            ext = ProjectionExtension.ext(asset)
            ext.code = crs
            ext.transform = list(transform)[:6]
            ext.shape = list(shape)
        band = RasterBand.create(nodata=0, data_type=DataType.UINT16, scale=SCALE, offset=0)
        RasterExtension.ext(asset).bands = [band]
    item.add_asset("thumbnail", pystac.Asset(f"{item_id}.png", media_type=pystac.MediaType.PNG, roles=["thumbnail"]))
    return item


class Scenes:
    """Paths of the fixtures written once per module."""

    def __init__(self, root: Path):
        self.root = root
        self.cogs = root / "cogs"
        self.cogs.mkdir()
        self.a_paths = [write_cog(self.cogs / f"T33_{d}.tif", scene_a(k), CRS_A, T_A) for k, d in enumerate(DATES_A)]
        other = root / "cogs_b"
        other.mkdir()
        self.b_paths = [write_cog(other / f"T34_{d}.tif", scene_b(k), CRS_B, T_B) for k, d in enumerate(DATES_B)]
        # a multi-resolution scene: red at 10 m, swir at 20 m, same extent (as Sentinel-2's assets)
        t_mr10 = Affine(10, 0, 520000, 0, -10, 4990000)
        t_mr20 = Affine(20, 0, 520000, 0, -20, 4990000)
        r, c = np.mgrid[0:200, 0:200]
        self.mr_red = (100 + c + 3 * r).astype("uint16")
        r, c = np.mgrid[0:100, 0:100]
        self.mr_swir = (5000 + 7 * c + 13 * r).astype("uint16")
        mr = root / "mr"
        mr.mkdir()
        write_cog(mr / "red.tif", self.mr_red, CRS_A, t_mr10, "red")
        write_cog(mr / "swir.tif", self.mr_swir, CRS_A, t_mr20, "swir")
        self.mr_item = make_item(
            "MR_2024-05-01",
            "2024-05-01",
            1.0,
            "sentinel-2b",
            {
                "red": (str(mr / "red.tif"), CRS_A, t_mr10, (200, 200)),
                "swir": (str(mr / "swir.tif"), CRS_A, t_mr20, (100, 100)),
            },
        )
        # a static STAC catalog holding a collection of A and B items, with relative asset hrefs
        items = [
            make_item(p.stem, d, cl, "sentinel-2a", {"red": (str(p), CRS_A, T_A, (SIZE_A, SIZE_A))})
            for p, d, cl in zip(self.a_paths, DATES_A, CLOUDS_A, strict=True)
        ] + [
            make_item(p.stem, d, cl, "sentinel-2b", {"red": (str(p), CRS_B, T_B, (SIZE_B, SIZE_B))})
            for p, d, cl in zip(self.b_paths, DATES_B, CLOUDS_B, strict=True)
        ]
        collection = pystac.Collection("s2-test", "test scenes", pystac.Extent.from_items(items))
        collection.add_items(items)
        catalog = pystac.Catalog("root", "test catalog")
        catalog.add_child(collection)
        catalog.normalize_hrefs(str(root / "stac"))
        catalog.make_all_asset_hrefs_relative()
        catalog.save(pystac.CatalogType.SELF_CONTAINED)
        self.catalog = root / "stac" / "catalog.json"
        # the same pixels as cubes: Zarr (rioxarray CRS) and NetCDF (a CF 'crs' grid-mapping variable)
        data = np.stack([scene_a(k) for k in range(len(DATES_A))]).astype("float32")
        data[data == 0] = np.nan
        x = T_A.c + RES_A * (np.arange(SIZE_A) + 0.5)
        y = T_A.f - RES_A * (np.arange(SIZE_A) + 0.5)
        times = np.array(DATES_A, dtype="datetime64[ns]")
        cube = xr.Dataset({"red": (("time", "y", "x"), data)}, coords={"time": times, "y": y, "x": x})
        enc = {"red": {"dtype": "uint16", "_FillValue": 0, "chunks": (1, 256, 256)}}
        self.zarr = root / "cube.zarr"
        cube.rio.write_crs(CRS_A).to_zarr(self.zarr, encoding=enc, consolidated=False)
        cf = cube.copy()
        cf["crs"] = xr.DataArray(np.int32(0), attrs={"crs_wkt": rasterio.crs.CRS.from_string(CRS_A).to_wkt()})
        cf["red"].attrs["grid_mapping"] = "crs"
        self.netcdf = root / "cube.nc"
        # NetCDF-3 through scipy (a dependency): no storage chunks, so images are chunked lazily per time step
        cf.to_netcdf(self.netcdf, engine="scipy", encoding={"red": {"dtype": "int16", "_FillValue": 0}})


@pytest.fixture(scope="module")
def scenes(tmp_path_factory) -> Scenes:
    return Scenes(tmp_path_factory.mktemp("sources"))


def fields_a() -> ee.FeatureCollection:
    x0, y0 = T_A.c, T_A.f
    aligned = shapely.box(x0 + 150 * 10, y0 - 160 * 10, x0 + 300 * 10, y0 - 80 * 10)
    irregular = shapely.Polygon([(501234.5, 4998765.4), (502345.6, 4998000.1), (501800.2, 4997100.7)])
    straddle = shapely.box(x0 + 1000 * 10 + 3.3, y0 - 1100 * 10 - 1.7, x0 + 1050 * 10 - 2.2, y0 - 990 * 10 + 4.1)
    gdf = gpd.GeoDataFrame(
        {"field": ["aligned", "irregular", "straddle"]}, geometry=[aligned, irregular, straddle], crs=CRS_A
    )
    return ee.FeatureCollection(gdf)


REDUCER = (
    ee.Reducer.mean()
    .combine(ee.Reducer.minMax(), sharedInputs=True)
    .combine(ee.Reducer.count(), sharedInputs=True)
    .combine(ee.Reducer.stdDev(), sharedInputs=True)
)


def script(ic: ee.ImageCollection, fields: ee.FeatureCollection) -> dict:
    """One Earth Engine script; returns {(time, field): {output: value}}."""
    out = (
        ic.filterDate("2024-05-01", "2024-08-01")
        .filterBounds(fields)
        .select("red")
        .reduceRegions(fields, REDUCER, scale=10)
        .getInfo()
    )
    res = {}
    for f in out["features"]:
        p = f["properties"]
        res[(p["system:time_start"], p["field"])] = {k: p[k] for k in ("mean", "min", "max", "count", "stdDev")}
    return res


def assert_same(a: dict, b: dict) -> None:
    assert sorted(a) == sorted(b)
    for key in a:
        for out, v in a[key].items():
            w = b[key][out]
            assert (v is None) == (w is None), (key, out, v, w)
            if v is not None:
                np.testing.assert_allclose(w, v, rtol=1e-9, atol=0, err_msg=f"{key} {out}")


@pytest.fixture
def catalog_file(scenes, tmp_path):
    path = tmp_path / "catalog.toml"
    path.write_text(
        f'["COPERNICUS/S2_SR_HARMONIZED"]\nstac = "{scenes.catalog}"\n\n'
        f'["TEST/ZARR"]\ncube = "{scenes.zarr}"\n\n'
        f'["TEST/FOLDER"]\nglob = "{scenes.cogs}/T33_*.tif"\n\n'
        f'["USGS/SRTMGL1_003"]\npath = "{scenes.a_paths[0]}"\nbands = ["elevation"]\n'
    )
    ee.set_catalog(path)
    yield path
    ee.set_catalog(None)


def test_same_numbers_from_every_source(scenes, catalog_file):
    fields = fields_a()
    folder = script(ee.ImageCollection(str(scenes.cogs)), fields)
    assert len(folder) == 9
    # independent check of one field on the native grid: mean of the valid pixels under a pixel-aligned box
    first = folder[(round(dt.datetime(2024, 5, 1, tzinfo=dt.UTC).timestamp() * 1000), "aligned")]
    window = scene_a(0)[80:160, 150:300].astype("f8")
    valid = window[window != 0]
    assert first["count"] == valid.size and first["min"] == valid.min() and first["max"] == valid.max()
    np.testing.assert_allclose(first["mean"], valid.mean(), rtol=1e-12)
    np.testing.assert_allclose(first["stdDev"], valid.std(ddof=0), rtol=1e-9)  # weighted: population

    by_catalog_file = ee.ImageCollection.fromStac(str(scenes.catalog))
    assert by_catalog_file.size().getInfo() == 5
    assert_same(folder, script(by_catalog_file, fields))
    assert_same(folder, script(ee.ImageCollection(str(scenes.catalog)), fields))  # a .json path
    assert_same(folder, script(ee.ImageCollection("COPERNICUS/S2_SR_HARMONIZED"), fields))  # a named collection
    assert_same(folder, script(ee.ImageCollection("TEST/FOLDER"), fields))
    assert_same(folder, script(ee.ImageCollection.fromXarray(xr.open_zarr(scenes.zarr, consolidated=False)), fields))
    assert_same(folder, script(ee.ImageCollection("TEST/ZARR"), fields))
    nc = xr.open_dataset(scenes.netcdf)  # not dask-backed; the CRS is a 'crs' data variable
    assert_same(folder, script(ee.ImageCollection.fromXarray(nc, time="time", bands=["red"]), fields))
    assert_same(folder, script(ee.ImageCollection(str(scenes.netcdf)), fields))
    # a named image
    srtm = ee.Image("USGS/SRTMGL1_003")
    assert srtm.bandNames().getInfo() == ["elevation"]
    assert srtm.get("system:id").getInfo() == "USGS/SRTMGL1_003"


def test_stac_properties_and_metadata_filters(scenes):
    ic = ee.ImageCollection.fromStac(str(scenes.catalog))
    first = ic.sort("system:time_start").first()
    info = first.getInfo()
    props = info["properties"]
    assert props["system:index"] == "T33_2024-05-01"
    assert props["system:id"] == "s2-test/T33_2024-05-01"
    assert props["eo:cloud_cover"] == 5.0 and props["platform"] == "sentinel-2a" and props["proj:epsg"] == 32633
    assert props["system:time_start"] == round(dt.datetime(2024, 5, 1, tzinfo=dt.UTC).timestamp() * 1000)
    assert props["system:footprint"]["type"] == "Polygon"
    assert info["bands"][0]["id"] == "red" and info["bands"][0]["crs"] == "EPSG:32633"
    assert info["bands"][0]["dimensions"] == [SIZE_A, SIZE_A]
    assert first.bandTypes().getInfo() == {"red": "uint16"}  # the thumbnail asset is not a band
    assert ic.filter(ee.Filter.lt("eo:cloud_cover", 20)).size().getInfo() == 3
    assert ic.filter(ee.Filter.eq("platform", "sentinel-2b")).aggregate_array("system:index").getInfo() == [
        "T34_2024-05-03",
        "T34_2024-06-03",
    ]
    assert ic.filter(ee.Filter.eq("proj:epsg", 32634)).size().getInfo() == 2
    assert ic.filterBounds(fields_a()).size().getInfo() == 3
    # bands renamed, scale applied
    scaled = ee.ImageCollection.fromStac(
        str(scenes.catalog), assets=["red"], bands={"red": "B4"}, apply_scale=True
    ).filterBounds(fields_a())
    raw = ee.ImageCollection.fromStac(str(scenes.catalog)).filterBounds(fields_a())
    field = fields_a().filter(ee.Filter.eq("field", "irregular"))
    a = raw.reduceRegions(field, ee.Reducer.mean(), scale=10).aggregate_array("mean").getInfo()
    b = scaled.select("B4").reduceRegions(field, ee.Reducer.mean(), scale=10).aggregate_array("mean").getInfo()
    np.testing.assert_allclose(b, np.array(a) * SCALE, rtol=1e-12)
    assert scaled.first().bandTypes().getInfo() == {"B4": "float64"}
    no_nir = ee.ImageCollection.fromStac(str(scenes.catalog), assets=["nir"])  # items without it: no band
    assert no_nir.first().bandNames().getInfo() == []
    with pytest.raises(BandError, match="'nir' did not match any bands of image 'T33_2024-05-01'"):
        no_nir.select("nir")  # the error comes when the band is used, naming the item


def test_item_collection_file_with_relative_hrefs(scenes, tmp_path):
    items = [
        make_item(p.stem, d, 0.0, "x", {"red": (f"../cogs/{p.name}", CRS_A, T_A, (SIZE_A, SIZE_A))})
        for p, d in zip(scenes.a_paths, DATES_A, strict=True)
    ]
    path = scenes.root / "listing" / "items.json"
    path.parent.mkdir(exist_ok=True)
    pystac.ItemCollection(items).save_object(str(path))
    ic = ee.ImageCollection.fromStac(str(path))
    assert ic.size().getInfo() == 3
    fields = fields_a()
    assert_same(script(ee.ImageCollection(str(scenes.cogs)), fields), script(ic, fields))


class OpenSpy:
    """Counts rasterio.open calls (header reads at build time and window reads inside dask tasks)."""

    def __init__(self, monkeypatch):
        self.paths: list[str] = []
        self._lock = threading.Lock()
        real = rasterio.open

        def spy(path, *args, **kwargs):
            with self._lock:
                self.paths.append(str(path))
            return real(path, *args, **kwargs)

        monkeypatch.setattr(rasterio, "open", spy)


def thousand_items() -> list[pystac.Item]:
    items = []
    for k in range(1000):
        t = Affine(10, 0, 300000 + 10980 * (k % 30), 0, -10, 5000000 - 10980 * (k // 30 % 10))
        date = (dt.date(2020, 1, 1) + dt.timedelta(days=k)).isoformat()
        href = f"/no/such/folder/S2_{k:04d}.tif"  # never opened: opening would fail
        items.append(
            make_item(f"S2_{k:04d}", date, float(k % 100), "sentinel-2a", {"red": (href, CRS_A, t, (1098, 1098))})
        )
    return items


def test_building_and_filtering_1000_items_opens_no_file(monkeypatch):
    items = thousand_items()
    spy = OpenSpy(monkeypatch)
    HEADER_COUNTER.reset()
    READ_COUNTER.reset()
    ic = ee.ImageCollection.fromStac(items)
    region = ee.Geometry.Rectangle([300000, 4990000, 330000, 5000000], proj=CRS_A, geodesic=False)
    sub = (
        ic.filter(ee.Filter.lt("eo:cloud_cover", 20))
        .filterDate("2020-06-01", "2022-01-01")
        .filterBounds(region)
        .sort("eo:cloud_cover")
    )
    n = sub.size().getInfo()
    assert 0 < n < 100
    assert ic.size().getInfo() == 1000
    assert sub.first().bandNames().getInfo() == ["red"]
    assert sub.first().getInfo()["bands"][0]["dimensions"] == [1098, 1098]
    assert spy.paths == [] and HEADER_COUNTER.reads == 0 and READ_COUNTER.reads == 0


def test_reduction_reads_only_touched_blocks_and_intersecting_files(scenes, monkeypatch):
    x0, y0 = T_A.c, T_A.f
    small = ee.FeatureCollection(
        gpd.GeoDataFrame(geometry=[shapely.box(x0 + 10, y0 - 500, x0 + 300, y0 - 20)], crs=CRS_A)
    )
    spy = OpenSpy(monkeypatch)
    HEADER_COUNTER.reset()
    READ_COUNTER.reset()
    sources.files.clear_dataset_cache()  # files other tests left open in the reading threads
    ic = ee.ImageCollection.fromStac(str(scenes.catalog))  # A and B items; reads JSON, opens no raster
    assert spy.paths == [] and HEADER_COUNTER.reads == 0
    out = ic.filterBounds(small).reduceRegions(small, ee.Reducer.mean()).getInfo()
    assert len(out["features"]) == 3
    opened = {Path(p).name for p in spy.paths}
    assert opened == {p.name for p in scenes.a_paths}  # the zone-34 files are never opened
    # one tile of each image, not its 1024 x 1024 block: items give no tile shape, so STAC bands read
    # windows of 512 x 512 (the COG default)
    assert READ_COUNTER.reads == 3
    assert READ_COUNTER.pixels == 3 * 512 * 512
    # without filterBounds the engine still reads nothing of images the features miss
    spy.paths.clear()
    READ_COUNTER.reset()
    ic.reduceRegions(small, ee.Reducer.mean()).getInfo()
    # (files already open in a reading thread are not opened again)
    assert {Path(p).name for p in spy.paths} <= opened and READ_COUNTER.reads == 3
    # a cube: the plan touches one 256 x 256 chunk per image
    cube = ee.ImageCollection.fromXarray(xr.open_zarr(scenes.zarr, consolidated=False))
    fc = small._gdf()
    plan = plan_reduction(ReductionRequest(cube.rasters, ee.Reducer.mean()), np.asarray(fc.geometry.values), fc.crs)
    assert plan.explain()["blocks_to_read"] == 3
    assert [ip.stack.chunks[1:] for ip in plan.images][0] == ((256,) * 8, (256,) * 8)


def test_item_without_proj_reads_its_header(scenes):
    HEADER_COUNTER.reset()
    p = scenes.a_paths[0]
    item = make_item("noproj", DATES_A[0], 1.0, "x", {"red": (str(p), CRS_A, T_A, (SIZE_A, SIZE_A))}, proj=False)
    ic = ee.ImageCollection.fromStac([item])
    assert HEADER_COUNTER.reads == 1
    fields = fields_a()
    res = script(ic, fields)
    ref = script(ee.ImageCollection([str(p)]), fields)
    assert_same(ref, res)


def test_mixed_grids_two_zones_two_resolutions(scenes):
    xb, yb = T_B.c, T_B.f
    field_a = shapely.box(T_A.c + 1500, T_A.f - 1600, T_A.c + 3000, T_A.f - 800)
    field_b = shapely.box(xb + 200, yb - 2000, xb + 1800, yb - 400)
    field_b33 = gpd.GeoSeries([field_b], crs=CRS_B).to_crs(CRS_A).iloc[0]
    gdf = gpd.GeoDataFrame({"field": ["a", "b"]}, geometry=[field_a, field_b33], crs=CRS_A)
    fields = ee.FeatureCollection(gdf)
    images = ee.ImageCollection.fromStac(str(scenes.catalog)).rasters

    def run(imgs, **kw):
        out = ee.ImageCollection.fromImages(imgs).reduceRegions(fields, ee.Reducer.mean(), **kw).getInfo()
        return {
            (f["properties"]["image_id"], f["properties"]["field"]): f["properties"]["mean"] for f in out["features"]
        }

    native = run(images)
    assert native == run(images[::-1])
    # each image on its own grid: the B field on the 20 m zone-34 grid is the mean of its 80 x 80 pixels
    np.testing.assert_allclose(native[("T34_2024-05-03", "b")], scene_b(0)[20:100, 10:90].mean(), rtol=1e-6)
    assert native[("T34_2024-05-03", "a")] is None and native[("T33_2024-05-01", "b")] is None
    gdf_b = fields._gdf()
    plan = plan_reduction(ReductionRequest(images, ee.Reducer.mean()), np.asarray(gdf_b.geometry.values), gdf_b.crs)
    assert plan.explain()["grids"] == 2  # weights once per distinct grid
    common = run(images, scale=20, crs=CRS_A)
    assert common == run(images[::-1], scale=20, crs=CRS_A)
    request = ReductionRequest(images, ee.Reducer.mean(), scale=20, crs=CRS_A)
    plan = plan_reduction(request, np.asarray(gdf_b.geometry.values), gdf_b.crs)
    assert {(ip.grid.crs.to_epsg(), ip.grid.res) for ip in plan.images} == {(32633, (20.0, 20.0))}
    assert common[("T34_2024-05-03", "b")] == pytest.approx(native[("T34_2024-05-03", "b")], rel=0.02)


def test_multi_resolution_item_with_scale(scenes):
    ic = ee.ImageCollection.fromStac([scenes.mr_item])
    img = ic.first()
    assert img.bandNames().getInfo() == ["red", "swir"]
    grids = [b["crs_transform"][0] for b in img.getInfo()["bands"]]
    assert grids == [10.0, 20.0]
    t = Affine(10, 0, 520000, 0, -10, 4990000)
    box = shapely.box(t.c + 30, t.f - 570, t.c + 410, t.f - 130)  # 10 m aligned: rows 13..57, cols 3..41
    fc = ee.FeatureCollection(gpd.GeoDataFrame(geometry=[box], crs=CRS_A))
    out = img.reduceRegion(ee.Reducer.mean(), ee.Geometry(box, proj=CRS_A), scale=10).getInfo()
    swir10 = np.repeat(np.repeat(scenes.mr_swir, 2, axis=0), 2, axis=1)  # nearest resampling to 10 m
    np.testing.assert_allclose(out["red"], scenes.mr_red[13:57, 3:41].mean(), rtol=1e-12)
    np.testing.assert_allclose(out["swir"], swir10[13:57, 3:41].mean(), rtol=1e-12)
    [f] = ic.reduceRegions(fc, ee.Reducer.mean(), scale=10).getInfo()["features"]
    assert f["properties"]["red"] == pytest.approx(out["red"]) and f["properties"]["swir"] == pytest.approx(out["swir"])


def test_cube_errors_and_orientation(scenes):
    ds = xr.open_zarr(scenes.zarr, consolidated=False).drop_vars("spatial_ref")
    with pytest.raises(CRSError, match="write_crs"):
        ee.ImageCollection.fromXarray(ds)
    with pytest.raises(BandError, match="Available"):
        ee.ImageCollection.fromXarray(xr.open_zarr(scenes.zarr, consolidated=False), bands=["nir"])
    # south-up (y ascending) cubes are flipped lazily
    cube = xr.open_zarr(scenes.zarr, consolidated=False)
    flipped = cube.isel(y=slice(None, None, -1))
    fields = fields_a()
    assert_same(
        script(ee.ImageCollection.fromXarray(cube), fields), script(ee.ImageCollection.fromXarray(flipped), fields)
    )


def test_from_header_defers_every_open(tmp_path, monkeypatch):
    spy = OpenSpy(monkeypatch)
    data = scene_b(0)
    data[0, 0] = 0
    path = write_cog(tmp_path / "a.tif", data, CRS_B, T_B)
    spy.paths.clear()
    from reducer.grid import Grid

    src = sources.RasterioFileSource.from_header(path, Grid(CRS_B, T_B, SIZE_B, SIZE_B), [{"dtype": "uint16"}])
    arr = src.band_array(0)
    assert spy.paths == []
    values = arr.compute()
    assert np.isnan(values[0, 0]) and np.isnan(values).sum() == 1 and spy.paths  # the file's nodata (0) honoured
