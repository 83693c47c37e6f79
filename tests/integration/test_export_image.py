"""Export.image.toDrive/toAsset and ee.data.computePixels/computeFeatures, against rasterio reads."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import rasterio
from affine import Affine
from rasterio.io import MemoryFile

import reducer as ee
from tests.common import CRS, write_tif

NODATA = -9999.0
T0 = Affine(10, 0, 500000, 0, -10, 4000300)


def _data(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 100, size=(30, 40)).astype("float32")
    a[rng.random(a.shape) < 0.1] = NODATA
    return a


def _nan(a: np.ndarray) -> np.ndarray:
    return np.where(a == NODATA, np.nan, a.astype("f8"))


@pytest.fixture
def root(tmp_path):
    old = ee.set_options(export_root=tmp_path / "exports")
    yield tmp_path / "exports"
    ee.set_options(**old)


@pytest.fixture
def ic(tmp_path):
    paths = [write_tif(tmp_path / f"b_2024-0{k + 1}-01.tif", _data(k), transform=T0, nodata=NODATA) for k in range(3)]
    return ee.ImageCollection([str(p) for p in paths])


def test_to_drive_writes_a_cog_of_the_composite(ic, root):
    region = ee.Geometry.Rectangle([500050, 4000100, 500120, 4000200], CRS, False)
    composite = ic.map(lambda i: i.updateMask(i.gt(20))).median().multiply(2)
    task = ee.batch.Export.image.toDrive(composite, "median", folder="out", region=region, scale=10)
    task.start()
    assert task.status()["state"] == "COMPLETED"
    raws = np.stack([_nan(_data(k)) for k in range(3)])
    with np.errstate(all="ignore"), pytest.warns(RuntimeWarning):
        expected = 2 * np.nanmedian(np.where(raws > 20, raws, np.nan), axis=0)[10:20, 5:12]
    with rasterio.open(root / "out" / "median.tif") as src:
        np.testing.assert_array_equal(src.read(1), expected)
        assert src.transform == Affine(10, 0, 500050, 0, -10, 4000200) and src.crs.to_epsg() == 32633
        assert src.profile["tiled"] and src.compression.name.upper() == "DEFLATE"
        assert src.tags(ns="IMAGE_STRUCTURE").get("LAYOUT") == "COG"
        assert src.descriptions == ("B1",)


def test_to_asset_is_a_local_file_that_opens_again(ic, root):
    img = ic.first().select("B1").rename("ndvi")
    ee.batch.Export.image.toAsset(img, "first", assetId="users/me/first").start()
    path = root / "users" / "me" / "first.tif"
    again = ee.Image(str(path))
    assert again.bandNames().getInfo() == ["ndvi"]
    np.testing.assert_array_equal(again.to_xarray()["ndvi"].values, _nan(_data(0)))


def test_a_refused_export_keeps_the_previous_file(ic, root):
    img = ic.first()
    ee.batch.Export.image.toDrive(img, "keep").start()
    before = (root / "keep.tif").read_bytes()
    task = ee.batch.Export.image.toDrive(img.multiply(3), "keep", maxPixels=100)
    with pytest.raises(ee.errors.MaxPixelsError, match="1,200 pixels"):
        task.start()
    assert task.status()["state"] == "FAILED" and (root / "keep.tif").read_bytes() == before
    with pytest.raises(NotImplementedError, match="dimensions"):
        ee.batch.Export.image.toDrive(img, "x", dimensions="10x10")
    with pytest.raises(NotImplementedError, match="fileFormat"):
        ee.batch.Export.image.toDrive(img, "x", fileFormat="TFRecord")


GRID = {
    "dimensions": {"width": 5, "height": 4},
    "affineTransform": {
        "scaleX": 20,
        "shearX": 0,
        "translateX": 500100,
        "shearY": 0,
        "scaleY": -20,
        "translateY": 4000200,
    },
    "crsCode": "EPSG:32633",
}


def test_compute_pixels_numpy_on_a_grid(ic):
    img = ic.first().addBands(ic.first().multiply(2).rename("twice"))
    px = ee.data.computePixels({"expression": img, "fileFormat": "NUMPY_NDARRAY", "grid": GRID})
    assert px.dtype.names == ("B1", "twice") and px.shape == (4, 5)
    raw = _nan(_data(0))
    # 20 m pixels from x=500100, y=4000200: centres fall on 10 m pixels (row 11 + 2i, column 11 + 2j)
    expected = raw[11:19:2, 11:21:2]
    np.testing.assert_array_equal(px["B1"], expected)
    np.testing.assert_array_equal(px["twice"], 2 * expected)
    only = ee.data.computePixels({"expression": img, "fileFormat": "NUMPY_NDARRAY", "grid": GRID, "bandIds": ["twice"]})
    assert only.dtype.names == ("twice",)


def test_compute_pixels_geotiff_bytes(ic):
    data = ee.data.computePixels({"expression": ic.first(), "fileFormat": "GEO_TIFF", "grid": GRID})
    with MemoryFile(data) as mem, mem.open() as src:
        assert src.shape == (4, 5) and src.transform == Affine(20, 0, 500100, 0, -20, 4000200)
        np.testing.assert_array_equal(src.read(1), _nan(_data(0))[11:19:2, 11:21:2])
    with pytest.raises(NotImplementedError, match="PNG"):
        ee.data.computePixels({"expression": ic.first(), "fileFormat": "PNG"})


def test_compute_features_formats(tmp_path):
    gdf = gpd.GeoDataFrame(
        {"name": ["a", "b"], "n": [1, 2]},
        geometry=gpd.points_from_xy([500010, 500020], [4000010, 4000020]),
        crs=CRS,
    )
    fc = ee.FeatureCollection(gdf)
    info = fc.getInfo()["features"]
    feats = ee.data.computeFeatures({"expression": fc})
    assert [f["properties"] for f in feats] == [f["properties"] for f in info]
    assert [f["geometry"] for f in feats] == [f["geometry"] for f in info]
    df = ee.data.computeFeatures({"expression": fc, "fileFormat": "PANDAS_DATAFRAME"})
    assert list(df.columns) == ["n", "name", "geo"] and df["geo"][0] == info[0]["geometry"]
    out = ee.data.computeFeatures({"expression": fc, "fileFormat": "GEOPANDAS_GEODATAFRAME"})
    assert out.crs.to_epsg() == 4326
    back = out.to_crs(CRS)
    np.testing.assert_allclose(back.geometry.x, gdf.geometry.x, atol=1e-6)
    assert out["name"].tolist() == ["a", "b"]
