"""A small local 'Earth Engine catalog' for the ported scripts: real GeoTIFFs and vector files behind EE ids.

Everything lies on one UTM zone (EPSG:32633), 10 m pixels, so every oracle is a numpy computation on
the arrays written here. Regions are pixel-aligned, so coverage weights are 1 and a region's mean is
the plain mean of the pixels inside it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pytest
import shapely
from affine import Affine

import reducer as ee
from tests.common import write_tif

CRS = "EPSG:32633"
X0, Y0 = 500000.0, 4000200.0  # top-left corner of the 20 x 20 pixel area
RES = 10.0
N = 20

S2_NAMES = [
    "20240105T100031_20240105T100035_T33UUP",
    "20240115T100031_20240115T100035_T33UUP",
    "20240125T100031_20240125T100035_T33UUP",
    "20240204T100031_20240204T100035_T33UUP",
]
LANDSAT_NAMES = [
    "LC08_L2SP_190027_20240110_20240120_02_T1",
    "LC08_L2SP_190027_20240126_20240205_02_T1",
    "LC08_L2SP_190027_20240211_20240221_02_T1",
]
MODIS_DAYS = ["2024001", "2024017"]
MODIS_TILES = ["h25v08", "h26v08"]


def pixel_box(r0: int, c0: int, r1: int, c1: int) -> shapely.Polygon:
    """The box over rows r0..r1-1 and columns c0..c1-1 of the 20 x 20 grid (in EPSG:32633)."""
    return shapely.box(X0 + c0 * RES, Y0 - r1 * RES, X0 + c1 * RES, Y0 - r0 * RES)


def pixel_centre(r: int, c: int) -> tuple[float, float]:
    return (X0 + (c + 0.5) * RES, Y0 - (r + 0.5) * RES)


# fields: (row0, col0, row1, col1) in pixels
FIELDS = {"north": (1, 2, 6, 9), "south": (12, 4, 18, 15), "east": (3, 12, 9, 19)}
# power plants: pixel (row, col), fuel, capacity
PLANTS = [
    ((2, 3), "Solar", 12.0),
    ((10, 10), "Gas", 350.0),
    ((15, 6), "Solar", 40.0),
    ((5, 17), "Wind", 80.0),
    ((19, 0), "Coal", 700.0),
    ((0, 19), "Hydro", None),
]


@dataclass
class World:
    root: object
    catalog: str
    s2: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)
    prob: dict[str, np.ndarray] = field(default_factory=dict)
    landsat: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)
    modis: dict[tuple[str, str], np.ndarray] = field(default_factory=dict)
    dem: np.ndarray | None = None

    def field_geometry(self, name: str) -> ee.Geometry:
        return ee.Geometry(pixel_box(*FIELDS[name]), CRS)

    def point(self, r: int, c: int) -> ee.Geometry:
        return ee.Geometry.Point(list(pixel_centre(r, c)), CRS)


@pytest.fixture(scope="session")
def world(tmp_path_factory) -> World:
    root = tmp_path_factory.mktemp("ported")
    rng = np.random.default_rng(2024)
    t = Affine(RES, 0, X0, 0, -RES, Y0)
    w = World(root=root, catalog=str(root / "catalog.toml"))
    for sub in ("s2", "s2cloud", "landsat", "modis"):
        (root / sub).mkdir()
    for name in S2_NAMES:
        bands = {b: rng.integers(200, 4000, (N, N)).astype("uint16") for b in ("B2", "B3", "B4", "B8")}
        w.s2[name] = bands
        write_tif(
            root / "s2" / f"{name}.tif", np.stack(list(bands.values())), transform=t, crs=CRS, descriptions=list(bands)
        )
        w.prob[name] = rng.integers(0, 100, (N, N)).astype("uint8")
        write_tif(root / "s2cloud" / f"{name}.tif", w.prob[name], transform=t, crs=CRS, descriptions=["probability"])
    for name in LANDSAT_NAMES:
        sr4 = rng.integers(7300, 20000, (N, N)).astype("uint16")
        sr5 = rng.integers(7300, 30000, (N, N)).astype("uint16")
        qa = np.where(rng.random((N, N)) < 0.3, 1 << 3, 0).astype("uint16") | np.where(
            rng.random((N, N)) < 0.1, 1 << 4, 0
        ).astype("uint16")
        w.landsat[name] = {"SR_B4": sr4, "SR_B5": sr5, "QA_PIXEL": qa}
        write_tif(
            root / "landsat" / f"{name}.tif",
            np.stack([sr4, sr5, qa]),
            transform=t,
            crs=CRS,
            descriptions=["SR_B4", "SR_B5", "QA_PIXEL"],
        )
    for day in MODIS_DAYS:
        for k, tile in enumerate(MODIS_TILES):  # two tiles side by side: the left and right halves, own grids
            ndvi = rng.integers(-2000, 10000, (N, N // 2)).astype("int16")
            w.modis[(day, tile)] = ndvi
            tt = Affine(RES, 0, X0 + k * (N // 2) * RES, 0, -RES, Y0)
            write_tif(
                root / "modis" / f"MOD13Q1.A{day}.{tile}.061.tif", ndvi, transform=tt, crs=CRS, descriptions=["NDVI"]
            )
    w.dem = (rng.random((N, N)) * 500 + 100).astype("float32")
    write_tif(root / "dem.tif", w.dem, transform=t, crs=CRS)
    fields = gpd.GeoDataFrame({"name": list(FIELDS)}, geometry=[pixel_box(*b) for b in FIELDS.values()], crs=CRS)
    fields.to_file(root / "fields.gpkg")
    plants = gpd.GeoDataFrame(
        {
            "name": [f"plant{i}" for i in range(len(PLANTS))],
            "fuel1": [p[1] for p in PLANTS],
            "capacitymw": [p[2] for p in PLANTS],
        },
        geometry=[shapely.Point(*pixel_centre(*p[0])) for p in PLANTS],
        crs=CRS,
    ).to_crs("EPSG:4326")
    plants.to_file(root / "plants.geojson")
    (root / "catalog.toml").write_text(
        '["COPERNICUS/S2_SR_HARMONIZED"]\nglob = "s2/*.tif"\n\n'
        '["COPERNICUS/S2_CLOUD_PROBABILITY"]\nglob = "s2cloud/*.tif"\n\n'
        '["LANDSAT/LC08/C02/T1_L2"]\nglob = "landsat/*.tif"\n\n'
        '["MODIS/061/MOD13Q1"]\nglob = "modis/*.tif"\n\n'
        '["USGS/SRTMGL1_003"]\npath = "dem.tif"\nbands = ["elevation"]\n\n'
        '["users/me/fields"]\ntable = "fields.gpkg"\n\n'
        '["WRI/GPPD/power_plants"]\ntable = "plants.geojson"\n'
    )
    return w


@pytest.fixture
def catalog(world):
    ee.set_catalog(world.catalog)
    yield world
    ee.set_catalog(None)
