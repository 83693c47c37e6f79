"""export_table (atomic writes, formats) and ee.batch.Export.table.toDrive."""

from __future__ import annotations

import json
import os
import select
import signal
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

import reducer as ee
from reducer import export
from reducer.errors import ArgumentError, InputFileError, OutputExistsError

CRS = "EPSG:32633"


@pytest.fixture
def gdf() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"field": ["a", "b"], "mean": [0.25, np.nan], "count": [4, 0]},
        geometry=[shapely.box(500000, 4000000, 500010, 4000010), shapely.Point(500020, 4000020)],
        crs=CRS,
    )


def _listing(folder: Path) -> list[str]:
    return sorted(os.listdir(folder))


# -- formats -----------------------------------------------------------------------------------------
def test_csv_writes_geometry_as_wkt(tmp_path: Path, gdf: gpd.GeoDataFrame) -> None:
    out = ee.export_table(gdf, tmp_path / "t.csv")
    back = pd.read_csv(out)
    assert list(back.columns) == ["field", "mean", "count", "geometry"]
    assert back["field"].tolist() == ["a", "b"] and back["count"].tolist() == [4, 0]
    assert back["mean"].iloc[0] == 0.25 and np.isnan(back["mean"].iloc[1])
    assert shapely.from_wkt(back["geometry"]).tolist() == gdf.geometry.tolist()
    assert _listing(tmp_path) == ["t.csv"]


@pytest.mark.parametrize("suffix", [".gpkg", ".parquet", ".geoparquet"])
def test_geo_formats_keep_geometry_and_crs(tmp_path: Path, gdf: gpd.GeoDataFrame, suffix: str) -> None:
    out = ee.export_table(gdf, tmp_path / f"t{suffix}")
    back = gpd.read_file(out) if suffix == ".gpkg" else gpd.read_parquet(out)
    assert back.crs.equals(CRS)
    assert back["field"].tolist() == ["a", "b"] and back["count"].tolist() == [4, 0]
    assert back.geometry.geom_equals(gdf.geometry).all()


def test_geojson_is_wgs84(tmp_path: Path, gdf: gpd.GeoDataFrame) -> None:
    out = ee.export_table(gdf, tmp_path / "t.geojson")
    doc = json.loads(out.read_text())
    assert [f["properties"]["field"] for f in doc["features"]] == ["a", "b"]
    back = gpd.read_file(out)
    assert back.crs.equals("EPSG:4326")
    assert back.to_crs(CRS).geometry.iloc[1].distance(gdf.geometry.iloc[1]) < 1e-6


@pytest.mark.parametrize("suffix", [".geojson", ".gpkg"])
def test_list_and_dict_columns_are_json_text(tmp_path: Path, gdf: gpd.GeoDataFrame, suffix: str) -> None:
    # e.g. a histogram or a toList output: NumPy numbers as numbers, NaN as null
    table = gdf.assign(hist=[{"1": np.int64(3)}, {}], values=[[np.float32(0.5), np.nan], (np.int64(2),)])
    out = ee.export_table(table, tmp_path / f"t{suffix}")
    if suffix == ".geojson":  # GDAL writes JSON text as JSON in GeoJSON
        rows = [f["properties"] for f in json.loads(out.read_text())["features"]]
    else:
        back = gpd.read_file(out)[["hist", "values"]]
        rows = [{k: json.loads(v) for k, v in r.items()} for r in back.to_dict("records")]
    assert [r["hist"] for r in rows] == [{"1": 3}, {}]
    assert [r["values"] for r in rows] == [[0.5, None], [2]]


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".gpkg", ".geojson"])
def test_plain_dataframe(tmp_path: Path, suffix: str) -> None:
    df = pd.DataFrame({"id": ["x", "y"], "value": [1.5, None]})
    out = ee.export_table(df, tmp_path / f"t{suffix}")
    if suffix == ".csv":
        back = pd.read_csv(out)
    elif suffix == ".parquet":
        back = pd.read_parquet(out)
    else:
        back = pd.DataFrame(gpd.read_file(out)).drop(columns="geometry", errors="ignore")
    assert back["id"].tolist() == ["x", "y"] and back["value"].iloc[0] == 1.5 and pd.isna(back["value"].iloc[1])


def test_feature_collection_ids_become_a_column(tmp_path: Path, gdf: gpd.GeoDataFrame) -> None:
    out = ee.export_table(ee.FeatureCollection(gdf), tmp_path / "fc.csv")
    back = pd.read_csv(out, dtype={"system:index": str})
    assert back["system:index"].tolist() == ["0", "1"] and back["field"].tolist() == ["a", "b"]


def test_file_mode_follows_umask(tmp_path: Path) -> None:
    out = ee.export_table(pd.DataFrame({"a": [1]}), tmp_path / "t.csv")
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(out.stat().st_mode) == 0o666 & ~umask


# -- refusing and replacing --------------------------------------------------------------------------
def test_existing_file_without_overwrite(tmp_path: Path) -> None:
    target = tmp_path / "t.csv"
    target.write_text("previous\n")
    with pytest.raises(OutputExistsError) as info:
        ee.export_table(pd.DataFrame({"a": [1]}), target)
    assert repr(str(target)) in str(info.value) and "overwrite=True" in str(info.value)
    assert isinstance(info.value, FileExistsError)
    assert target.read_text() == "previous\n" and _listing(tmp_path) == ["t.csv"]


def test_overwrite_replaces(tmp_path: Path) -> None:
    target = tmp_path / "t.csv"
    target.write_text("previous\n")
    ee.export_table(pd.DataFrame({"a": [1]}), target, overwrite=True)
    assert target.read_text() == "a\n1\n" and _listing(tmp_path) == ["t.csv"]


def test_unknown_extension_and_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(ArgumentError, match=r"extension '\.txt'.*'\.csv'"):
        ee.export_table(pd.DataFrame({"a": [1]}), tmp_path / "t.txt")
    with pytest.raises(InputFileError, match="does not exist. Create it first"):
        ee.export_table(pd.DataFrame({"a": [1]}), tmp_path / "missing" / "t.csv")
    assert _listing(tmp_path) == []


@pytest.mark.parametrize("anonymous", [True, False], ids=["O_TMPFILE", "named-temp"])
@pytest.mark.parametrize("error", [RuntimeError, KeyboardInterrupt])
def test_failed_write_leaves_previous_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, anonymous: bool, error: type[BaseException]
) -> None:
    if not anonymous:
        monkeypatch.setattr(export, "_anonymous", lambda folder: None)
    elif export._anonymous(str(tmp_path)) is None:
        pytest.skip("no O_TMPFILE here")
    target = tmp_path / "t.csv"
    target.write_text("previous\n")

    def failing(df: pd.DataFrame, f) -> None:
        f.write(b"half a table\n" * 1000)
        f.flush()
        assert len(_listing(tmp_path)) == (1 if anonymous else 2)  # a named temp file is visible meanwhile
        raise error("disk on fire")

    monkeypatch.setattr(export, "_write_csv", failing)
    with pytest.raises(error):
        ee.export_table(pd.DataFrame({"a": [1]}), target, overwrite=True)
    assert target.read_text() == "previous\n" and _listing(tmp_path) == ["t.csv"]


def test_killed_export_leaves_previous_file_and_no_partial_file(tmp_path: Path) -> None:
    """SIGKILL while the table is half written: the old file is intact and nothing else is left."""
    if export._anonymous(str(tmp_path)) is None:
        pytest.skip("no O_TMPFILE here: a hard kill may leave a hidden .tmp file (documented)")
    target = tmp_path / "table.csv"
    target.write_text("previous,table\n1,2\n")
    script = textwrap.dedent(
        """
        import sys, time
        import pandas as pd
        from reducer import export

        def slow(df, f):
            chunk = df.iloc[:1000].to_csv(index=False).encode()
            for _ in range(50):  # about 1 MB, then stall
                f.write(chunk)
            f.flush()
            print("writing", flush=True)
            time.sleep(120)

        export._write_csv = slow
        big = pd.DataFrame({"feature": range(200_000), "value": 0.5})
        export.export_table(big, sys.argv[1], overwrite=True)
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", script, str(target)], stdout=subprocess.PIPE, text=True)
    try:
        ready, _, _ = select.select([proc.stdout], [], [], 120)
        assert ready and proc.stdout.readline().strip() == "writing", "the export did not start"
        # the temporary file exists, in the target folder, and holds the partial table
        fds = Path(f"/proc/{proc.pid}/fd")
        temps = [fd for fd in fds.iterdir() if os.readlink(fd).startswith(f"{tmp_path}/")]
        assert temps and max(fd.stat().st_size for fd in temps) > 100_000
        assert _listing(tmp_path) == ["table.csv"]
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(30)
        proc.stdout.close()
    assert proc.returncode == -signal.SIGKILL
    time.sleep(0.05)
    assert _listing(tmp_path) == ["table.csv"]
    assert target.read_text() == "previous,table\n1,2\n"


# -- atomic_write: the same guarantees for writers that want a path ------------------------------------
def test_atomic_write_gives_a_fresh_hidden_temp_path_next_to_the_target(tmp_path: Path) -> None:
    target = tmp_path / "chart.png"
    seen: list[Path] = []

    def write(tmp: Path) -> None:
        seen.append(tmp)
        assert not tmp.exists()  # GDAL and GeoPackage refuse an existing empty file
        tmp.write_bytes(b"png")

    assert export.atomic_write(target, write) == target
    [tmp] = seen
    assert tmp.parent == tmp_path and tmp.name.startswith(".chart.") and tmp.name.endswith(".tmp.png")
    assert target.read_bytes() == b"png" and _listing(tmp_path) == ["chart.png"]
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~umask


@pytest.mark.parametrize("error", [RuntimeError, KeyboardInterrupt])
def test_atomic_write_failure_keeps_the_old_file_and_leaves_no_temp(tmp_path: Path, error: type) -> None:
    target = tmp_path / "t.gpkg"
    target.write_text("previous\n")

    def failing(tmp: Path) -> None:
        tmp.write_bytes(b"half a file" * 1000)
        assert len(_listing(tmp_path)) == 2
        raise error("disk on fire")

    with pytest.raises(error, match="disk on fire"):
        export.atomic_write(target, failing)
    assert target.read_text() == "previous\n" and _listing(tmp_path) == ["t.gpkg"]


def test_atomic_write_writer_that_writes_nothing_leaves_nothing(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        export.atomic_write(tmp_path / "t.csv", lambda tmp: None)
    assert _listing(tmp_path) == []


def test_atomic_write_without_overwrite(tmp_path: Path) -> None:
    target = tmp_path / "t.csv"
    target.write_text("previous\n")
    calls: list[Path] = []
    with pytest.raises(OutputExistsError, match="exists already. Pass overwrite=True"):
        export.atomic_write(target, calls.append, overwrite=False)
    assert calls == [] and target.read_text() == "previous\n"

    # the target appears while the file is being written: it is left alone, the temp file removed
    late = tmp_path / "late.csv"

    def racing(tmp: Path) -> None:
        tmp.write_text("mine\n")
        late.write_text("theirs\n")

    with pytest.raises(OutputExistsError):
        export.atomic_write(late, racing, overwrite=False)
    assert late.read_text() == "theirs\n" and _listing(tmp_path) == ["late.csv", "t.csv"]
    assert export.atomic_write(tmp_path / "new.csv", lambda tmp: tmp.write_text("x\n"), overwrite=False).exists()


# -- ee.batch ----------------------------------------------------------------------------------------
@pytest.fixture
def root(tmp_path: Path):
    old = ee.set_options(export_root=tmp_path)
    yield tmp_path
    ee.set_options(**old)


def test_to_drive_csv_like_earth_engine(root: Path, gdf: gpd.GeoDataFrame) -> None:
    task = ee.batch.Export.table.toDrive(ee.FeatureCollection(gdf), description="stats", folder="out")
    assert task.status()["state"] == "UNSUBMITTED" and not task.active()
    task.start()
    status = task.status()
    assert status["state"] == "COMPLETED" and status["description"] == "stats" and not task.active()
    path = root / "out" / "stats.csv"
    assert status["destination_uris"] == [path.resolve().as_uri()]
    back = pd.read_csv(path, dtype={"system:index": str})
    assert list(back.columns) == ["system:index", "field", "mean", "count", ".geo"]
    geo = json.loads(back[".geo"].iloc[1])
    assert geo["type"] == "Point"
    assert shapely.Point(geo["coordinates"]).equals_exact(gdf.to_crs(4326).geometry.iloc[1], 1e-9)


def test_to_drive_selectors_prefix_and_formats(root: Path, gdf: gpd.GeoDataFrame) -> None:
    fc = ee.FeatureCollection(gdf)
    ee.batch.Export.table.toDrive(fc, "t", fileNamePrefix="only_mean", selectors="field, mean").start()
    assert pd.read_csv(root / "only_mean.csv").columns.tolist() == ["field", "mean"]
    ee.batch.Export.table.toDrive(fc, "g", fileFormat="GeoJSON", selectors=["field"]).start()
    back = gpd.read_file(root / "g.geojson")
    assert back.columns.tolist() == ["field", "geometry"] and back.crs.equals("EPSG:4326")
    ee.batch.Export.table.toDrive(fc, "p", fileFormat="GeoParquet").start()
    assert gpd.read_parquet(root / "p.parquet").crs.equals(CRS)


def test_to_drive_errors(root: Path, gdf: gpd.GeoDataFrame) -> None:
    fc = ee.FeatureCollection(gdf)
    with pytest.raises(NotImplementedError, match="toCloudStorage is not supported yet"):
        ee.batch.Export.table.toCloudStorage(fc, bucket="b")
    task = ee.batch.Export.table.toAsset(fc, "to_asset", assetId="a")  # built as in Earth Engine
    assert task.status()["state"] == "UNSUBMITTED"
    with pytest.raises(NotImplementedError, match=r"toAsset\('a'\) is not supported"):
        task.start()  # the error comes when the task is started
    assert task.status()["state"] == "FAILED"
    with pytest.raises(NotImplementedError, match="'KML' is not supported yet"):
        ee.batch.Export.table.toDrive(fc, fileFormat="KML")
    with pytest.raises(ArgumentError, match="unknown fileFormat 'XLS'"):
        ee.batch.Export.table.toDrive(fc, fileFormat="XLS")
    with pytest.raises(ArgumentError, match=r"Unrecognized arguments \['fileNamePrefx'\]"):
        ee.batch.Export.table.toDrive(fc, fileNamePrefx="x")
    task = ee.batch.Export.table.toDrive(fc, "bad", selectors=["nope"])
    with pytest.raises(ArgumentError, match=r"selectors \['nope'\] are not properties"):
        task.start()
    assert task.status()["state"] == "FAILED" and "nope" in task.status()["error_message"]
    done = ee.batch.Export.table.toDrive(fc, "once")
    done.start()
    with pytest.raises(ArgumentError, match="was started already"):
        done.start()
    assert sorted(os.listdir(root)) == ["once.csv"]
