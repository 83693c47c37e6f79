"""The built-in demo: its data, its results against independent oracles, and the command line.

Oracles: exactextract (coverage-weighted mean, and min/max over every cell a polygon touches) on the
same GeoTIFFs with the fields reprojected to the rasters' CRS; direct indexing of the raster
(``rasterio`` ``index``) for the points.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import re
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
from shapely.geometry import box

from reducer.demo import DEMO_DATES, make_demo_data, run_demo

# Cloudy dates: nodata clumps are in play. The oracle covers every field on these dates.
ORACLE_DATES = ("2024-05-15", "2024-07-15")
# Fields with something special: a hole (F04), two parts (F21), half outside the raster and a hole
# (F28), overlapping (F09 and F49). They must be among those checked and have valid pixels.
SPECIAL_FIELDS = ("F04", "F09", "F21", "F28", "F49")


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("demo")
    make_demo_data(folder)
    return folder


def _millis(date: str) -> int:
    return int(dt.datetime.fromisoformat(date).replace(tzinfo=dt.UTC).timestamp() * 1000)


def _close(got: float, expected: float, rel: float) -> bool:
    if math.isnan(expected):
        return math.isnan(got)
    return math.isclose(got, expected, rel_tol=rel, abs_tol=0.0)


# -- the data (no reduction) ----------------------------------------------------------------------
def test_demo_data_files(demo_dir: Path) -> None:
    tifs = sorted(demo_dir.glob("ndvi_*.tif"))
    assert len(tifs) >= 12
    assert [re.fullmatch(r"ndvi_(\d{4}-\d{2}-\d{2})\.tif", p.name)[1] for p in tifs] == list(DEMO_DATES)
    nodata_dates = 0
    for p in tifs:
        with rasterio.open(p) as src:
            assert src.crs.to_epsg() == 32633
            assert src.res == (10.0, 10.0)
            assert src.count == 1 and src.dtypes == ("float32",)
            assert 500 <= src.width <= 700 and 500 <= src.height <= 700
            assert src.descriptions == ("NDVI",)
            assert src.nodata == -9999
            assert src.block_shapes == [(256, 256)]
            assert src.compression.name.lower() == "deflate"
            a = src.read(1, masked=True)
        assert -0.2 <= a.min() and a.max() <= 1.0
        nodata_dates += bool(a.mask.any())
    assert 1 <= nodata_dates < len(tifs)

    fields = gpd.read_file(demo_dir / "fields.gpkg")
    assert fields.crs.to_epsg() == 4326
    assert 45 <= len(fields) <= 55
    assert fields["field_id"].is_unique and fields["field_id"].map(type).eq(str).all()
    assert fields["crop"].map(type).eq(str).all() and fields["crop"].nunique() > 2
    assert fields.is_valid.all()
    assert set(fields.geom_type) == {"Polygon", "MultiPolygon"}
    assert fields.geometry.map(lambda g: g.geom_type == "Polygon" and len(g.interiors) > 0).sum() >= 2
    utm = fields.to_crs(32633)
    with rasterio.open(tifs[0]) as src:
        extent = box(*src.bounds)
    outside = utm[~utm.within(extent)]
    assert list(outside["field_id"]) == ["F28"] and utm.set_index("field_id").loc["F28"].geometry.intersects(extent)
    pairs = utm.sindex.query(utm.geometry, predicate="overlaps")
    assert (pairs[0] != pairs[1]).sum() >= 2

    points = gpd.read_file(demo_dir / "points.gpkg")
    assert points.crs.to_epsg() == 4326
    assert 15 <= len(points) <= 25 and points["point_id"].is_unique
    assert (points.geom_type == "Point").all()
    assert points.to_crs(32633).within(extent).all()


def test_demo_data_is_deterministic(demo_dir: Path, tmp_path: Path) -> None:
    make_demo_data(tmp_path)
    for date in DEMO_DATES:
        with (
            rasterio.open(demo_dir / f"ndvi_{date}.tif") as a,
            rasterio.open(tmp_path / f"ndvi_{date}.tif") as b,
        ):
            np.testing.assert_array_equal(a.read(), b.read())
    for name in ("fields.gpkg", "points.gpkg"):
        a, b = gpd.read_file(demo_dir / name), gpd.read_file(tmp_path / name)
        pd.testing.assert_frame_equal(a.drop(columns="geometry"), b.drop(columns="geometry"))
        assert list(a.geometry.to_wkb()) == list(b.geometry.to_wkb())
    assert not list(tmp_path.glob(".*tmp*")), "no temporary file left behind"


# -- the demo run (needs the core: ee.ImageCollection.reduceRegions, FeatureCollection.to_pandas) ---
@pytest.fixture(scope="module")
def demo_run(demo_dir: Path) -> dict:
    return run_demo(demo_dir, verbose=False)


def test_run_demo_outputs(demo_dir: Path, demo_run: dict) -> None:
    fields = pd.read_csv(demo_run["fields_csv"], dtype={"field_id": str, "crop": str})
    points = pd.read_csv(demo_run["points_csv"], dtype={"point_id": str})
    n_fields, n_points, n_dates = 50, 20, len(DEMO_DATES)
    assert len(fields) == n_fields * n_dates
    assert len(points) == n_points * n_dates
    assert {"field_id", "crop", "date", "system:time_start", "image_id", "mean", "max", "min"} <= set(fields)
    assert {"point_id", "date", "system:time_start", "image_id", "NDVI"} <= set(points)
    assert sorted(fields["date"].unique()) == list(DEMO_DATES)
    assert (fields["system:time_start"] == fields["date"].map(_millis)).all()
    valid = fields.dropna(subset=["mean"])
    assert (valid["min"] <= valid["mean"] + 1e-12).all() and (valid["mean"] <= valid["max"] + 1e-12).all()
    # clouds hide some fields completely on some dates: None in Earth Engine, empty in the CSV
    assert fields["mean"].notna().mean() > 0.9
    assert demo_run["table"].shape == (n_fields, n_dates)
    assert (demo_run["n_images"], demo_run["n_fields"], demo_run["n_points"]) == (n_dates, n_fields, n_points)
    png = demo_run["chart"].read_bytes()
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 10_000
    assert not list(demo_dir.glob(".*tmp*")), "no temporary file left behind"


def test_run_demo_field_stats_match_exactextract(demo_dir: Path, demo_run: dict) -> None:
    from exactextract import exact_extract

    fields = gpd.read_file(demo_dir / "fields.gpkg")
    table = pd.read_csv(demo_run["fields_csv"], dtype={"field_id": str, "crop": str})
    for date in ORACLE_DATES:
        tif = demo_dir / f"ndvi_{date}.tif"
        with rasterio.open(tif) as src:
            crs = src.crs
        expected = exact_extract(
            str(tif), fields.to_crs(crs), ["mean", "max", "min"], include_cols=["field_id"], output="pandas"
        ).set_index("field_id")
        got = table[table["date"] == date].set_index("field_id")
        assert set(SPECIAL_FIELDS) <= set(expected.dropna().index)
        assert sorted(got.index) == sorted(expected.index)
        bad = []
        for fid, row in expected.iterrows():
            for stat in ("mean", "max", "min"):
                rel = 1e-9 if stat == "mean" else 0.0
                if not _close(float(got.at[fid, stat]), float(row[stat]), rel):
                    bad.append((date, fid, stat, got.at[fid, stat], row[stat]))
        assert not bad, f"{len(bad)} values differ from exactextract, e.g. {bad[:5]}"


def test_run_demo_point_values_match_raster(demo_dir: Path, demo_run: dict) -> None:
    points = gpd.read_file(demo_dir / "points.gpkg")
    table = pd.read_csv(demo_run["points_csv"], dtype={"point_id": str})
    for date in DEMO_DATES:
        got = table[table["date"] == date].set_index("point_id")["NDVI"]
        with rasterio.open(demo_dir / f"ndvi_{date}.tif") as src:
            band = src.read(1)
            for pid, geom in zip(points["point_id"], points.to_crs(src.crs).geometry, strict=True):
                row, col = src.index(geom.x, geom.y)
                value = float(band[row, col])
                expected = math.nan if value == src.nodata else value
                assert _close(float(got[pid]), expected, 1e-12), (date, pid, got[pid], expected)
    assert len(table) == len(points) * len(DEMO_DATES)


def test_run_demo_on_empty_folder_raises_reducer_error(tmp_path: Path) -> None:
    from reducer.errors import ReducerError

    with pytest.raises(ReducerError):
        run_demo(tmp_path, verbose=False)


# -- the command line ----------------------------------------------------------------------------
def test_cli_demo_subprocess(tmp_path: Path) -> None:
    import reducer

    out = tmp_path / "demo out"
    # run the same reducer as this process, from any working directory
    root = str(Path(reducer.__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))}
    proc = subprocess.run(
        [sys.executable, "-m", "reducer", "demo", str(out)], capture_output=True, text=True, timeout=300, env=env
    )
    assert proc.returncode == 0, proc.stderr
    for name in ("field_ndvi.csv", "point_ndvi.csv", "field_ndvi.png", "fields.gpkg", "points.gpkg"):
        assert (out / name).stat().st_size > 0, name
    assert "12 images, 50 fields, 20 points" in proc.stdout


def test_cli_usage_and_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from reducer.cli import main

    assert main(["no-such-command"]) == 2
    assert main([]) == 2
    assert main(["demo", "a", "b"]) == 2
    capsys.readouterr()
    # an unusable folder: one line on stderr, no traceback
    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("")
    assert main(["demo", str(not_a_dir)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("reducer: error: ") and "Traceback" not in err and err.count("\n") == 1
    assert main(["--debug", "demo", str(not_a_dir)]) == 1
    assert "Traceback" in capsys.readouterr().err
