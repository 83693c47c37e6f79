"""Reading the headers of many files at once (a glob collection): same facts, same errors, sidecars still found.

The headers of a glob are read in one GDAL environment that tells GDAL not to list the folder on each
open (``sources.files.header_env``), and a file's CRS is parsed once per distinct WKT (``grid``).
The oracle is rasterio opening each file on its own, with GDAL's defaults.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import rasterio
from pyproj import CRS as ProjCRS

import reducer as ee
from reducer.errors import InputFileError
from reducer.grid import Grid
from reducer.sources.files import header_env, rasters_from_files
from tests.common import TRANSFORM_3x3, VALUES_3x3, write_tif


def _with_mask_sidecar(path: Path) -> Path:
    """A GeoTIFF whose mask lives in a ``.msk`` sidecar file next to it (the centre pixel masked)."""
    write_tif(path, VALUES_3x3)
    mask = np.full((3, 3), 255, dtype="uint8")
    mask[1, 1] = 0
    with rasterio.Env(GDAL_TIFF_INTERNAL_MASK=False), rasterio.open(path, "r+") as dst:
        dst.write_mask(mask)
    assert Path(f"{path}.msk").exists()
    return path


def _with_pam_nodata(path: Path) -> Path:
    """A GeoTIFF whose nodata is set in a ``.aux.xml`` sidecar (GDAL's PAM), not in the file."""
    write_tif(path, VALUES_3x3)
    Path(f"{path}.aux.xml").write_text(
        '<PAMDataset><PAMRasterBand band="1"><NoDataValue>5</NoDataValue></PAMRasterBand></PAMDataset>'
    )
    with rasterio.open(path) as src:
        assert src.nodata == 5.0
    return path


def test_sidecar_mask_and_nodata_are_found_in_a_glob(tmp_path: Path) -> None:
    for k in range(5):
        write_tif(tmp_path / f"plain_2024-05-0{k + 1}.tif", VALUES_3x3 + k)
    _with_mask_sidecar(tmp_path / "masked_2024-06-01.tif")
    _with_pam_nodata(tmp_path / "pam_2024-06-02.tif")
    ic = ee.ImageCollection(str(tmp_path / "*.tif"))
    got = {r.properties["system:index"]: r for r in ic.rasters}
    assert len(got) == 7
    for path in sorted(tmp_path.glob("*.tif")):
        with rasterio.open(path) as src:  # the oracle: GDAL's defaults, one file at a time
            expected = src.read(1, masked=True).astype("float64").filled(np.nan)
        raster = got[path.stem]
        np.testing.assert_array_equal(raster.stack(raster.bands[0].grid).compute()[0], expected)
    assert np.isnan(got["masked_2024-06-01"].stack(got["masked_2024-06-01"].bands[0].grid).compute()[0, 1, 1])
    assert np.isnan(got["pam_2024-06-02"].stack(got["pam_2024-06-02"].bands[0].grid).compute()[0, 1, 1])


def test_a_broken_file_among_many_is_named(tmp_path: Path) -> None:
    for k in range(20):
        write_tif(tmp_path / f"ok_{k:02d}.tif", VALUES_3x3)
    bad = tmp_path / "ok_10_broken.tif"
    bad.write_bytes((tmp_path / "ok_00.tif").read_bytes()[:100])
    with pytest.raises(InputFileError, match=re.escape(repr(str(bad)))) as info:
        ee.ImageCollection(str(tmp_path / "*.tif"))
    assert "complete?" in str(info.value)


def test_header_env_keeps_a_choice_made_by_the_user(tmp_path: Path, monkeypatch) -> None:
    key = "GDAL_DISABLE_READDIR_ON_OPEN"
    a = str(write_tif(tmp_path / "a.tif", VALUES_3x3))
    with header_env([a, ee.Image(1)]):
        assert rasterio.env.getenv()[key] == "TRUE"
    for others in (["https://example.com/b.tif"], ["COPERNICUS/S2_SR"]):  # URLs and catalog ids: GDAL's default
        with header_env([a, *others]):
            assert key not in rasterio.env.getenv()
    with rasterio.Env(**{key: "EMPTY_DIR"}), header_env([a]):
        assert rasterio.env.getenv()[key] == "EMPTY_DIR"
    monkeypatch.setenv(key, "FALSE")
    with header_env([a]):
        assert key not in rasterio.env.getenv()


def test_rasters_from_files_match_one_by_one(tmp_path: Path) -> None:
    paths = [write_tif(tmp_path / f"a{k}.tif", VALUES_3x3 * k, nodata=0.0) for k in range(3)]
    many = rasters_from_files(paths)
    one = [ee.Image(str(p)).raster for p in paths]
    assert [r.properties for r in many] == [r.properties for r in one]
    assert [r.bands[0].grid for r in many] == [r.bands[0].grid for r in one]


@pytest.mark.parametrize("crs", ["EPSG:32633", "EPSG:4326", "EPSG:3035"])
def test_grids_built_from_one_crs_share_its_parse_and_equal_pyproj(crs: str) -> None:
    from_str = [Grid(crs, TRANSFORM_3x3, 3, 3) for _ in range(3)]
    from_rio = Grid(rasterio.crs.CRS.from_user_input(crs), TRANSFORM_3x3, 3, 3)
    from_proj = Grid(ProjCRS.from_user_input(crs), TRANSFORM_3x3, 3, 3)
    oracle = ProjCRS.from_user_input(crs)
    for g in [*from_str, from_rio, from_proj]:
        assert ProjCRS.from_wkt(g.crs_wkt) == oracle
        assert g.crs == oracle and g.crs.to_epsg() == oracle.to_epsg()
    assert from_str[0] == from_str[1] == from_str[2]
    assert from_str[0].crs is from_str[1].crs  # parsed once
