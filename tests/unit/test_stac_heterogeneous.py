"""A STAC collection whose items do not all carry the requested assets (Earth Engine collections may differ)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pystac
import pytest
import shapely

import reducer as ee
from reducer.errors import BandError
from tests.common import CRS, ORIGIN, VALUES_3x3, write_tif


def _item(item_id, day, assets):
    geom = shapely.geometry.mapping(shapely.box(0, 0, 1, 1))
    item = pystac.Item(item_id, geom, [0, 0, 1, 1], dt.datetime(2024, 1, day, tzinfo=dt.UTC), {})
    for key, href in assets.items():
        item.add_asset(key, pystac.Asset(href, media_type=pystac.MediaType.GEOTIFF, roles=["data"]))
    return item


def test_items_without_an_asset_give_images_without_the_band(tmp_path):
    red_a = write_tif(tmp_path / "a_red.tif", VALUES_3x3)
    nir_a = write_tif(tmp_path / "a_nir.tif", VALUES_3x3 * 10)
    red_b = write_tif(tmp_path / "b_red.tif", VALUES_3x3 + 100)
    items = [
        _item("S2A_full", 1, {"B04": str(red_a), "B08": str(nir_a)}),
        _item("S2B_no_nir", 2, {"B04": str(red_b)}),
    ]
    ic = ee.ImageCollection.fromStac(items, assets=["B04", "B08"])
    assert ic.size().getInfo() == 2
    assert [b["id"] for b in ic.first().getInfo()["bands"]] == ["B04", "B08"]
    assert ic.filter(ee.Filter.eq("system:index", "S2B_no_nir")).first().bandNames().getInfo() == ["B04"]
    # the band every item has works across the collection
    region = ee.Geometry(shapely.box(ORIGIN[0], ORIGIN[1] - 3, ORIGIN[0] + 3, ORIGIN[1]), CRS)
    fc = ee.FeatureCollection([ee.Feature(region, {})])
    means = ic.select("B04").reduceRegions(fc, ee.Reducer.mean(), 1).aggregate_array("mean").getInfo()
    assert means == pytest.approx([float(VALUES_3x3.mean()), float((VALUES_3x3 + 100).mean())])
    # the missing band raises when it is used, naming the item
    with pytest.raises(BandError, match="'B08' did not match any bands of image 'S2B_no_nir'"):
        ic.select("B08")
    with pytest.raises(BandError, match="S2B_no_nir"):
        ic.map(lambda img: img.normalizedDifference(["B08", "B04"]))
    # the items that have it: filter first, as an Earth Engine script would
    nir = ic.filter(ee.Filter.eq("system:index", "S2A_full")).select("B08")
    assert nir.first().reduceRegion(ee.Reducer.max(), region, 1).getInfo() == {"B08": float(np.max(VALUES_3x3 * 10))}
