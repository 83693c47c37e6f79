"""The ``reducer`` command line on real files, checked against independent oracles; and the progress bar.

Oracles: exactextract (coverage-weighted mean and sum; min and max over every cell a polygon
touches), rasterstats (centre-in count; bilinear point values) and direct indexing of the raster
(nearest point values), on the same GeoTIFFs with the features reprojected to the rasters' CRS.
The subprocess tests run the installed console script and ``python -m reducer``.
"""

from __future__ import annotations

import io
import json
import math
import os
import pty
import select
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
import shapely
from affine import Affine

import reducer as ee
from reducer.cli import main
from tests.common import write_tif

CRS = "EPSG:32633"
DATES = ("2024-03-01", "2024-04-01", "2024-05-01")
BANDS = ("red", "nir")
NODATA = -9999.0
TRANSFORM = Affine(10, 0, 500000, 0, -10, 5000300)  # 40 x 30 pixels of 10 m
ROOT = str(Path(ee.__file__).resolve().parents[1])
ENV = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [ROOT, os.environ.get("PYTHONPATH")]))}


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("cli")
    rasters = folder / "rasters"
    rasters.mkdir()
    rng = np.random.default_rng(8)
    for k, date in enumerate(DATES):
        cube = rng.uniform(0, 1, (2, 30, 40)).astype("float32") + k
        cube[:, 5:9, 10:16] = NODATA  # a cloud
        if k == 1:
            cube[1, 20:, :] = NODATA  # nir missing in the lower third
        write_tif(rasters / f"s_{date}.tif", cube, transform=TRANSFORM, nodata=NODATA, descriptions=list(BANDS))
    x0, y0 = 500000, 5000000
    fields = {
        "A": shapely.box(x0 + 33, y0 + 41, x0 + 187, y0 + 163),  # inside, through the cloud
        "B": shapely.Polygon([(x0 + 250, y0 + 20), (x0 + 460, y0 + 90), (x0 + 300, y0 + 280)]),  # over the edge
        "C": shapely.box(x0 + 600, y0 + 600, x0 + 700, y0 + 700),  # outside
        "D": shapely.box(x0 + 12, y0 + 12, x0 + 390, y0 + 288).difference(
            shapely.box(x0 + 100, y0 + 100, x0 + 200, y0 + 200)
        ),
    }
    gdf = gpd.GeoDataFrame(
        {"field_id": list(fields), "crop": ["a", "b", "c", "d"]}, geometry=list(fields.values()), crs=CRS
    )
    gdf.to_crs(4326).to_file(folder / "fields.gpkg", driver="GPKG")
    points = [shapely.Point(x0 + 55, y0 + 245), shapely.Point(x0 + 301, y0 + 12), shapely.Point(x0 + 999, y0 + 999)]
    pts = gpd.GeoDataFrame({"name": ["P1", "P2", "P3"]}, geometry=points, crs=CRS)
    pts.to_crs(4326).to_file(folder / "points.gpkg", driver="GPKG")
    return folder


def _run(args: list[str], cwd: Path, module: bool = False) -> subprocess.CompletedProcess:
    script = shutil.which("reducer", path=os.path.dirname(sys.executable))
    cmd = [sys.executable, "-m", "reducer", *args] if module or script is None else [script, *args]
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=300, env=ENV)


def _oracle(data: Path) -> pd.DataFrame:
    """Long form from exactextract and rasterstats: field_id, date, band, statistic, value."""
    import rasterstats
    from exactextract import exact_extract

    fields = gpd.read_file(data / "fields.gpkg").to_crs(CRS)  # as the engine reprojects them
    rows = []
    for date in DATES:
        path = str(data / "rasters" / f"s_{date}.tif")
        ex = exact_extract(
            path, fields, ["mean", "sum", "min", "max", "count"], include_cols=["field_id"], output="pandas"
        )
        for b, band in enumerate(BANDS, 1):
            counts = [z["count"] for z in rasterstats.zonal_stats(fields, path, stats=["count"], band=b)]
            for i, fid in enumerate(ex["field_id"]):
                covered = ex[f"band_{b}_count"].iloc[i] > 0
                for stat in ("mean", "sum", "min", "max"):
                    v = float(ex[f"band_{b}_{stat}"].iloc[i]) if covered else math.nan
                    rows.append((fid, date, band, stat, v))
                rows.append((fid, date, band, "count", float(counts[i])))
    return pd.DataFrame(rows, columns=["field_id", "date", "band", "statistic", "value"])


def _assert_matches(got: pd.DataFrame, expected: pd.DataFrame) -> None:
    key = ["field_id", "date", "band", "statistic"]
    merged = expected.merge(got, on=key, how="left", suffixes=("_expected", ""), indicator=True)
    assert (merged["_merge"] == "both").all() and len(got) == len(expected)
    for row in merged.itertuples():
        if math.isnan(row.value_expected):
            assert math.isnan(row.value), row
        else:
            assert math.isclose(row.value, row.value_expected, rel_tol=1e-6, abs_tol=1e-9), row


# -- zonal -------------------------------------------------------------------------------------------
def test_zonal_csv_matches_exactextract_and_rasterstats(data: Path, tmp_path: Path) -> None:
    out = tmp_path / "stats.csv"
    stats = "mean,sum,min,max,count"
    proc = _run(
        ["zonal", "fields.gpkg", "rasters/*.tif", "--stats", stats, "--id-field", "field_id", "-o", str(out)], data
    )
    assert proc.returncode == 0, proc.stderr
    got = pd.read_csv(out)
    # the features' own attributes (crop) follow the id
    assert list(got.columns) == ["field_id", "crop", "date", "image", "band", "statistic", "value"]
    assert got.groupby("field_id")["crop"].unique().map(list).to_dict() == {k: [k.lower()] for k in "ABCD"}
    # one row per feature x image x band x statistic, feature-major, then date
    assert len(got) == 4 * 3 * 2 * 5
    assert got["field_id"].tolist()[:30] == ["A"] * 30 and got["date"].tolist()[:10] == ["2024-03-01"] * 10
    assert set(got["image"]) == {f"s_{d}" for d in DATES}
    assert got.loc[got.field_id == "C", "value"].isna().sum() == 3 * 2 * 4  # outside: empty, count 0
    assert (got.loc[(got.field_id == "C") & (got.statistic == "count"), "value"] == 0).all()
    _assert_matches(got.drop(columns=["image", "crop"]), _oracle(data))
    assert "Traceback" not in proc.stderr and "wrote 120 rows" in proc.stderr


def test_zonal_wide_parquet_with_module_entry_point(data: Path, tmp_path: Path) -> None:
    out = tmp_path / "wide.parquet"
    args = ["zonal", "fields.gpkg", "rasters", "--stats", "mean", "--band", "nir", "--id-field", "field_id"]
    proc = _run([*args, "--start", "2024-03-15", "--wide", "-o", str(out)], data, module=True)
    assert proc.returncode == 0, proc.stderr
    got = gpd.read_parquet(out)
    assert list(got.columns) == ["field_id", "crop", "band", "statistic", "2024-04-01", "2024-05-01", "geometry"]
    assert got["field_id"].tolist() == ["A", "B", "C", "D"] and got.crs.equals("EPSG:4326")
    long = got.drop(columns=["geometry", "crop"]).melt(
        ["field_id", "band", "statistic"], var_name="date", value_name="value"
    )
    expected = _oracle(data)
    expected = expected[(expected.band == "nir") & (expected.statistic == "mean") & (expected.date != "2024-03-01")]
    _assert_matches(long, expected)


@pytest.mark.parametrize("flag", ["--unweighted", "--all-touched"])
def test_zonal_unweighted_and_all_touched_match_rasterstats(data: Path, tmp_path: Path, flag: str) -> None:
    import rasterstats

    out = tmp_path / "u.csv"
    raster = data / "rasters" / f"s_{DATES[0]}.tif"
    args = ["zonal", str(data / "fields.gpkg"), str(raster), flag, "--stats", "mean,max,count", "-o", str(out)]
    assert main(args) == 0
    got = pd.read_csv(out)
    # no --id-field: the features' attributes identify them (no 0-based position column)
    assert list(got.columns)[:3] == ["field_id", "crop", "date"] and "feature" not in got.columns
    fields = gpd.read_file(data / "fields.gpkg").to_crs(CRS)
    for b, band in enumerate(BANDS, 1):
        zs = rasterstats.zonal_stats(
            fields, str(raster), stats=["mean", "max", "count"], band=b, all_touched=flag == "--all-touched"
        )
        for i, z in enumerate(zs):
            for stat in ("mean", "max", "count"):
                fid = fields["field_id"].iloc[i]
                v = got.loc[(got.field_id == fid) & (got.band == band) & (got.statistic == stat), "value"].item()
                if z[stat] is None:
                    assert math.isnan(v)
                else:
                    assert v == pytest.approx(z[stat], rel=1e-6)


# -- points ------------------------------------------------------------------------------------------
def test_points_nearest_matches_raster_values(data: Path, tmp_path: Path) -> None:
    out = tmp_path / "points.csv"
    proc = _run(["points", "points.gpkg", "rasters", "--id-field", "name", "-o", str(out)], data)
    assert proc.returncode == 0, proc.stderr
    got = pd.read_csv(out)
    assert list(got.columns) == ["name", "date", "image", "band", "value"]
    pts = gpd.read_file(data / "points.gpkg").to_crs(CRS)
    for date in DATES:
        with rasterio.open(data / "rasters" / f"s_{date}.tif") as src:
            cube = src.read(masked=True)
            for name, p in zip(pts["name"], pts.geometry, strict=True):
                row, col = src.index(p.x, p.y)
                for b, band in enumerate(BANDS):
                    v = got.loc[(got.name == name) & (got.date == date) & (got.band == band), "value"].item()
                    inside = 0 <= row < src.height and 0 <= col < src.width
                    if not inside or cube.mask[b, row, col]:
                        assert math.isnan(v)
                    else:
                        assert v == pytest.approx(float(cube[b, row, col]), rel=1e-7)


def test_points_bilinear(data: Path, tmp_path: Path) -> None:
    out = tmp_path / "bilinear.csv"
    raster = str(data / "rasters" / f"s_{DATES[0]}.tif")
    argv = [
        "points",
        str(data / "points.gpkg"),
        raster,
        "--interpolate",
        "bilinear",
        "--id-field",
        "name",
        "-o",
        str(out),
    ]
    if not hasattr(ee, "point_query"):
        assert main(argv) == 2
        return
    import rasterstats

    assert main(argv) == 0
    got = pd.read_csv(out)
    pts = gpd.read_file(data / "points.gpkg").to_crs(CRS)
    for b, band in enumerate(BANDS, 1):
        expected = rasterstats.point_query(pts, raster, band=b, interpolate="bilinear")
        values = got.loc[got.band == band, "value"].tolist()
        for v, e in zip(values, expected, strict=True):
            assert math.isnan(v) if e is None else v == pytest.approx(e, rel=1e-6)


def test_points_refuses_polygons(data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    raster = str(data / "rasters" / f"s_{DATES[0]}.tif")
    assert main(["points", str(data / "fields.gpkg"), raster, "-o", str(data / "never.csv")]) == 1
    err = capsys.readouterr().err
    assert "are not points" in err and "reducer zonal" in err and not (data / "never.csv").exists()


# -- info --------------------------------------------------------------------------------------------
def test_info_table_and_json(data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import json

    assert main(["info", str(data / "rasters")]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["file", "bands", "crs", "size", "resolution", "bounds", "date", "nodata"]
    assert len(lines) == 4
    assert lines[1].split()[1:] == [
        "red:float32,nir:float32",
        "EPSG:32633",
        "40x30",
        "10x10",
        "500000,5000000,500400,5000300",
        "2024-03-01",
        "(name)",
        "-9999,-9999",
    ]
    assert main(["info", str(data / "rasters" / "s_2024-05-01.tif"), "--json"]) == 0
    [record] = json.loads(capsys.readouterr().out)
    assert record["bands"] == ["red", "nir"] and record["crs"] == "EPSG:32633"
    assert (record["width"], record["height"], record["resolution"]) == (40, 30, [10.0, 10.0])
    assert record["bounds"] == [500000.0, 5000000.0, 500400.0, 5000300.0]
    assert (record["date"], record["date_from"], record["nodata"]) == ("2024-05-01", "name", [-9999, -9999])


# -- usage and errors --------------------------------------------------------------------------------
def test_help_for_every_option(capsys: pytest.CaptureFixture[str]) -> None:
    from reducer.cli import build_parser

    parser = build_parser()
    subparsers = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    for name, sub in subparsers.choices.items():
        for action in sub._actions:
            assert action.help, f"{name}: {action.option_strings or action.dest} has no help"
    assert main(["zonal", "--help"]) == 0
    assert "--all-touched" in capsys.readouterr().out


def test_usage_errors_exit_2(data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fields, rasters, out = str(data / "fields.gpkg"), str(data / "rasters"), str(data / "never.csv")
    assert main(["zonal", fields, rasters, "--stats", "mean,average", "-o", out]) == 2
    err = capsys.readouterr().err
    assert "unknown statistic 'average'; available: mean, max, min, count, sum, stdDev, variance, median" in err
    assert main(["zonal", fields, rasters, "-o", str(data / "out.txt")]) == 2
    assert "cannot tell the format of" in capsys.readouterr().err
    assert main(["zonal", fields, rasters, "--start", "soon", "-o", out]) == 2
    assert "cannot read 'soon' as a date" in capsys.readouterr().err
    assert main(["zonal", fields, rasters, "--weighted", "--unweighted", "-o", out]) == 2
    capsys.readouterr()
    assert not Path(out).exists()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--id-field", "nope"], "--id-field 'nope': "),
        (["--id-field", "crop", "--band", "swir"], "--band 'swir': raster "),
        (["--start", "2030-01-01"], "no raster is dated in the --start/--end range"),
    ],
)
def test_input_errors_exit_1_in_one_line(
    data: Path, capsys: pytest.CaptureFixture[str], extra: list[str], message: str
) -> None:
    out = data / "never.csv"
    assert main(["zonal", str(data / "fields.gpkg"), str(data / "rasters"), "-o", str(out), *extra]) == 1
    err = capsys.readouterr().err
    assert err.startswith("reducer: error: ") and message in err and err.count("\n") == 1 and "Traceback" not in err
    assert not out.exists()


def test_missing_input_and_existing_output(data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rasters = str(data / "rasters")
    assert main(["zonal", str(tmp_path / "nofields.gpkg"), rasters, "-o", str(tmp_path / "o.csv")]) == 1
    assert "does not exist" in capsys.readouterr().err
    assert main(["zonal", str(data / "fields.gpkg"), str(tmp_path / "none_*.tif"), "-o", str(tmp_path / "o.csv")]) == 1
    assert "matched no file" in capsys.readouterr().err
    existing = tmp_path / "old.csv"
    existing.write_text("keep me\n")
    assert main(["--debug", "zonal", str(data / "fields.gpkg"), rasters, "-o", str(existing)]) == 1
    err = capsys.readouterr().err
    assert "Traceback" in err and "exists already" in err and "--overwrite" in err
    assert existing.read_text() == "keep me\n"
    raster = str(data / "rasters" / f"s_{DATES[0]}.tif")
    assert main(["zonal", str(data / "fields.gpkg"), raster, "-o", str(existing), "--overwrite"]) == 0
    assert pd.read_csv(existing)["statistic"].unique().tolist() == ["mean"]


# -- progress ----------------------------------------------------------------------------------------
def _slow_image(seconds: float = 1.2) -> ee.Image:
    """A one-block in-memory image whose block takes ``seconds`` to compute."""
    import dask.array as da
    import rioxarray  # noqa: F401  (registers .rio)
    import xarray as xr

    def slow(block: np.ndarray) -> np.ndarray:
        time.sleep(seconds)
        return block

    values = da.from_array(np.arange(9, dtype="float32").reshape(3, 3), chunks=3).map_blocks(
        slow,
        dtype="float32",
        meta=np.empty((0, 0), "float32"),  # meta given: slow runs once, in the graph
    )
    arr = xr.DataArray(values, dims=("y", "x")).rio.write_crs(CRS).rio.write_transform(TRANSFORM)
    return ee.Image(arr)


def _region() -> ee.Geometry:
    return ee.Geometry(shapely.box(500000, 5000270, 500030, 5000300), proj=CRS)


def test_progress_bar_when_forced_on(capsys: pytest.CaptureFixture[str]) -> None:
    old = ee.set_options(progress=True)
    try:
        assert _slow_image().reduceRegion(ee.Reducer.mean(), _region()).getInfo() == {"B1": 4.0}
        err = capsys.readouterr().err
        assert "100% Completed" in err and "[" in err
        ee.Image(str(_fast_tif())).reduceRegion(ee.Reducer.mean(), _region()).getInfo()
        assert capsys.readouterr().err == ""  # under a second: no bar
    finally:
        ee.set_options(**old)


def _fast_tif() -> Path:
    import tempfile

    return write_tif(Path(tempfile.mkdtemp()) / "fast.tif", np.ones((30, 40), "float32"), transform=TRANSFORM)


@pytest.mark.parametrize("flag", [False, None])
def test_no_progress_bar_when_off_or_not_a_terminal(capsys: pytest.CaptureFixture[str], flag: bool | None) -> None:
    old = ee.set_options(progress=flag)
    try:
        assert not sys.stderr.isatty()
        assert _slow_image().reduceRegion(ee.Reducer.mean(), _region()).getInfo() == {"B1": 4.0}
        assert capsys.readouterr().err == ""
    finally:
        ee.set_options(**old)


@pytest.mark.parametrize("flag", ["--progress", "--no-progress"])
def test_cli_progress_flags(
    data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], flag: str
) -> None:
    from reducer import options
    from reducer.sources import files as sources

    real = sources.read_window

    def slow_read(*args, **kwargs):
        time.sleep(1.3)
        return real(*args, **kwargs)

    monkeypatch.setattr(sources, "read_window", slow_read)
    raster = str(data / "rasters" / f"s_{DATES[0]}.tif")
    assert main(["zonal", str(data / "fields.gpkg"), raster, "-o", str(tmp_path / "p.csv"), flag]) == 0
    err = capsys.readouterr().err
    assert ("100% Completed" in err) == (flag == "--progress")
    assert options.get("progress") is None  # restored


def test_progress_bar_by_default_on_a_terminal(data: Path, tmp_path: Path) -> None:
    """Without --progress, a terminal on stderr gets the bar (a pipe does not: the subprocess tests above)."""
    script = textwrap.dedent(
        """
        import sys, time
        from reducer import cli
        from reducer.sources import files as sources
        real = sources.read_window
        def slow_read(*args, **kwargs):
            time.sleep(1.3)
            return real(*args, **kwargs)
        sources.read_window = slow_read
        sys.exit(cli.main(sys.argv[1:]))
        """
    )
    raster = str(data / "rasters" / f"s_{DATES[0]}.tif")
    master, slave = pty.openpty()
    args = ["zonal", str(data / "fields.gpkg"), raster, "-o", str(tmp_path / "t.csv")]
    proc = subprocess.Popen([sys.executable, "-c", script, *args], stderr=slave, stdout=subprocess.DEVNULL, env=ENV)
    os.close(slave)
    chunks = []
    try:
        while True:
            ready, _, _ = select.select([master], [], [], 300)
            if not ready:
                break
            try:
                chunk = os.read(master, 4096)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(master)
        proc.wait(60)
    err = b"".join(chunks).decode(errors="replace")
    assert proc.returncode == 0, err
    assert "100% Completed" in err


# -- every reducer output, attributes, standard output --------------------------------------------------
def _pixels_in(field: Any, date: str, band: int) -> np.ndarray:
    """The valid pixel values whose centre is in ``field`` (rasterio, brute force)."""
    with rasterio.open(Path(field[1]) / "rasters" / f"s_{date}.tif") as src:
        cube = src.read(band, masked=True)
        rows, cols = np.indices(cube.shape)
        xs, ys = src.transform * (cols + 0.5, rows + 0.5)
    inside = shapely.contains_xy(field[0], xs, ys) & ~np.ma.getmaskarray(cube)
    return np.asarray(cube.data[inside], dtype="f8")


def test_zonal_stats_take_every_reducer_output_a_user_knows(data: Path, tmp_path: Path) -> None:
    import collections

    out = tmp_path / "more.csv"
    stats = "median,p10,percentile_90,stdDev,mode,unique,range"
    args = ["zonal", "fields.gpkg", "rasters", "--unweighted", "--stats", stats, "--id-field", "field_id"]
    proc = _run([*args, "-o", str(out)], data)
    assert proc.returncode == 0, proc.stderr
    got = pd.read_csv(out)
    assert list(dict.fromkeys(got["statistic"])) == stats.split(",")
    fields = gpd.read_file(data / "fields.gpkg").to_crs(CRS).set_index("field_id")
    for fid in ("A", "D"):
        for date in DATES:
            for b, band in enumerate(BANDS, 1):
                px = _pixels_in((fields.geometry[fid], data), date, b)
                mode = min(v for v, n in collections.Counter(px).items() if n == max(collections.Counter(px).values()))
                expected = {
                    "median": np.median(px),
                    "p10": np.percentile(px, 10),
                    "percentile_90": np.percentile(px, 90),
                    "stdDev": px.std(),
                    "mode": mode,
                    "unique": len(np.unique(px)),
                    "range": px.max() - px.min(),
                }
                sel = got[(got.field_id == fid) & (got.date == date) & (got.band == band)].set_index("statistic")
                for stat, want in expected.items():
                    assert sel.loc[stat, "value"] == pytest.approx(want, rel=1e-6), (fid, date, band, stat)


def test_zonal_frac_gives_class_shares(data: Path, tmp_path: Path) -> None:
    classes = tmp_path / "classes_2024-01-01.tif"
    grid = np.arange(30 * 40).reshape(30, 40) % 3 + 1
    write_tif(classes, grid.astype("uint8"), transform=TRANSFORM)
    out = tmp_path / "frac.csv"
    args = [
        "zonal",
        str(data / "fields.gpkg"),
        str(classes),
        "--stats",
        "frac",
        "--unweighted",
        "--id-field",
        "field_id",
    ]
    assert main([*args, "-o", str(out)]) == 0
    got = pd.read_csv(out).set_index("field_id")
    fields = gpd.read_file(data / "fields.gpkg").to_crs(CRS).set_index("field_id")
    rows, cols = np.indices(grid.shape)
    xs, ys = TRANSFORM * (cols + 0.5, rows + 0.5)
    inside = shapely.contains_xy(fields.geometry["A"], xs, ys)
    values, counts = np.unique(grid[inside], return_counts=True)
    shares = json.loads(got.loc["A", "value"])
    assert {float(k): v for k, v in shares.items()} == pytest.approx(
        {float(v): c / counts.sum() for v, c in zip(values, counts, strict=True)}
    )


def test_include_cols_and_standard_output(data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    raster = str(data / "rasters" / f"s_{DATES[0]}.tif")
    fields = str(data / "fields.gpkg")
    assert main(["zonal", fields, raster, "--stats", "count", "--include-cols", "crop", "-o", "-"]) == 0
    captured = capsys.readouterr()
    got = pd.read_csv(io.StringIO(captured.out))
    assert list(got.columns) == ["crop", "date", "image", "band", "statistic", "value"]
    assert got["crop"].tolist()[:2] == ["a", "a"] and "wrote" not in captured.err
    # no -o at all: standard output too, here as GeoJSON
    assert main(["points", str(data / "points.gpkg"), raster, "--format", "geojson"]) == 0
    doc = json.loads(capsys.readouterr().out)
    props = [f["properties"] for f in doc["features"]]
    assert [p["name"] for p in props] == ["P1", "P1", "P2", "P2", "P3", "P3"]  # the points' own attribute
    assert "feature" not in props[0] and doc["features"][0]["geometry"]["type"] == "Point"
    with rasterio.open(raster) as src:
        pts = gpd.read_file(data / "points.gpkg").to_crs(CRS)
        row, col = src.index(pts.geometry[0].x, pts.geometry[0].y)
        assert props[0]["value"] == pytest.approx(float(src.read(1)[row, col]), rel=1e-7)
    assert main(["zonal", fields, raster, "--include-cols", "nope", "-o", "-"]) == 1
    assert "--include-cols ['nope']" in capsys.readouterr().err
