"""Optional dependencies: a missing one raises MissingDependencyError naming the extra that installs it."""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr

import reducer as ee
from reducer.errors import MissingDependencyError, ReducerError
from tests.common import VALUES_3x3, write_tif

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def without(monkeypatch):
    """Make ``import <name>`` fail, as when the package is not installed."""

    def block(*names: str) -> None:
        for name in names:
            for loaded in [m for m in sys.modules if m == name or m.startswith(name + ".")]:
                monkeypatch.delitem(sys.modules, loaded)
            monkeypatch.setitem(sys.modules, name, None)

    return block


def test_missing_pyarrow_names_the_parquet_extra(without, tmp_path):
    without("pyarrow")
    with pytest.raises(MissingDependencyError, match=r"ee-reducer\[parquet\]") as info:
        ee.export_table(pd.DataFrame({"a": [1]}), tmp_path / "t.parquet")
    assert isinstance(info.value, ImportError) and isinstance(info.value, ReducerError)
    assert not (tmp_path / "t.parquet").exists()


def test_missing_pyyaml_names_the_yaml_extra(without, tmp_path):
    write_tif(tmp_path / "dem.tif", VALUES_3x3)
    (tmp_path / "catalog.yaml").write_text('"USGS/SRTMGL1_003":\n  path: dem.tif\n')
    without("yaml")
    try:
        with pytest.raises(MissingDependencyError, match=r'ee-reducer\[yaml\]"` \(or `pip install pyyaml`\)'):
            ee.set_catalog(tmp_path / "catalog.yaml")
            ee.Image("USGS/SRTMGL1_003")
    finally:
        ee.set_catalog(None)


def test_missing_zarr_names_the_zarr_extra(without, tmp_path):
    store = tmp_path / "cube.zarr"
    store.mkdir()
    without("zarr")
    with pytest.raises(MissingDependencyError, match=r"ee-reducer\[zarr\]"):
        ee.ImageCollection(str(store))


def test_netcdf4_without_an_engine_names_the_netcdf_extra(without, tmp_path):
    path = tmp_path / "cube.nc"
    path.write_bytes(b"\x89HDF\r\n\x1a\n" + bytes(64))  # a NetCDF-4 (HDF5) signature
    without("netCDF4", "h5netcdf")
    with pytest.raises(MissingDependencyError, match=r"ee-reducer\[netcdf\]"):
        ee.ImageCollection(str(path))


def test_netcdf3_needs_no_extra(tmp_path):
    ds = xr.Dataset({"v": (("time", "y", "x"), np.ones((1, 2, 2)))}, coords={"time": [np.datetime64("2024-01-01")]})
    ds.to_netcdf(tmp_path / "c3.nc", engine="scipy")
    with open(tmp_path / "c3.nc", "rb") as f:
        assert f.read(3) == b"CDF"


def test_pyproject_declares_the_extras_and_the_license():
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = meta["optional-dependencies"]
    assert {"parquet", "zarr", "netcdf", "yaml"} <= set(extras)
    assert meta["name"] == "ee-reducer" and meta["license"] == "Apache-2.0"
    assert "Apache License" in (ROOT / "LICENSE").read_text() and "Version 2.0" in (ROOT / "LICENSE").read_text()
    test = " ".join(extras["test"])
    for needed in ("xvec", "pyarrow", "zarr", "pyyaml", "rasterstats"):
        assert needed in test
