"""Notebook reprs (content, and no pixel read) and the progress bar's choice (terminal, pipe, Jupyter)."""

from __future__ import annotations

import io
import sys

import geopandas as gpd
import numpy as np
import pytest

import reducer as ee
from reducer import compute
from reducer.sources import READ_COUNTER
from tests.common import CRS, SQUARE, TOP_LEFT, VALUES_3x3, write_tif


@pytest.fixture
def job(tmp_path):
    paths = [write_tif(tmp_path / f"ndvi_2024-0{m}-01.tif", VALUES_3x3 * m) for m in (1, 2, 3)]
    gdf = gpd.GeoDataFrame({"name": ["square", "top"]}, geometry=[SQUARE, TOP_LEFT], crs=CRS)
    gdf.to_file(tmp_path / "fields.gpkg")
    return ee.ImageCollection([str(p) for p in paths]), str(tmp_path / "fields.gpkg")


def test_image_repr_shows_bands_grid_date_and_reads_nothing(job):
    ic, _ = job
    READ_COUNTER.reset()
    out = ic.map(lambda i: i.addBands(i.multiply(2).rename("twice"))).first()._repr_html_()
    assert READ_COUNTER.reads == 0
    assert "ee.Image ndvi_2024-01-01 (2024-01-01)" in out
    assert "<td>twice</td>" in out and "EPSG:32633, 1 m, 3 x 3 px" in out
    assert (
        "<details open><summary>Bands (2)</summary>" in out and "<td>B1</td>" in out and "<summary>Properties (" in out
    )


def test_collection_repr_shows_size_dates_bands_and_images(job):
    ic, _ = job
    READ_COUNTER.reset()
    out = ic._repr_html_()
    assert READ_COUNTER.reads == 0
    assert "ee.ImageCollection: 3 images, 2024-01-01 to 2024-03-01" in out
    assert "Grids (1)" in out and "<td>ndvi_2024-02-01</td>" in out and "B1" in out
    assert out.count("<details") == 4  # collapsible sections, the first open
    assert out.count("<details open>") == 1


def test_feature_collection_repr_reads_the_file_not_pixels(job):
    _, fields = job
    out = ee.FeatureCollection(fields)._repr_html_()
    assert "ee.FeatureCollection: 2 features, EPSG:32633" in out and "<td>name</td>" in out
    assert "Polygon" in out
    lazy = ee.FeatureCollection(fields).filter(ee.Filter.eq("name", "top"))
    assert "not evaluated" in lazy._repr_html_()


def test_pending_reduction_repr_shows_the_plan_and_reads_nothing(job):
    ic, fields = job
    res = ic.reduceRegions(ee.FeatureCollection(fields), ee.Reducer.mean().combine(ee.Reducer.max(), sharedInputs=True))
    READ_COUNTER.reset()
    out = res._repr_html_()
    assert READ_COUNTER.reads == 0
    assert "a pending reduceRegions over 3 images" in out
    assert "reduceRegions plan (nothing read yet)" in out and "mean, max" in out
    assert str(res.explain()) in out.replace("&#x27;", "'").replace("&quot;", '"')


def test_reducer_repr_lists_outputs_and_pixel_rules():
    out = ee.Reducer.mean().combine(ee.Reducer.percentile([90]).unweighted(), sharedInputs=True)._repr_html_()
    assert "ee.Reducer: 2 outputs, 1 inputs" in out
    assert "<td>mean</td><td>mean</td><td>0</td><td>weighted</td>" in out
    assert "<td>p90</td><td>percentile</td><td>0</td><td>centre-in</td>" in out


def test_chart_repr_has_the_figure_and_its_data_table(job):
    ic, fields = job
    chart = ee.ui.Chart.image.series(ic, ee.FeatureCollection(fields).geometry(), ee.Reducer.mean(), 1)
    out = chart._repr_html_()
    assert "data:image/png;base64," in out and "Data table (3 rows)" in out
    table = chart.to_pandas()
    for v in np.ravel(table.to_numpy()):
        assert f"{v:.6f}"[:5] in out


# -- progress --------------------------------------------------------------------------------------


class _Stream(io.StringIO):
    def __init__(self, tty: bool):
        super().__init__()
        self._tty = tty

    def isatty(self) -> bool:
        return self._tty


@pytest.fixture
def default_progress():
    old = ee.set_options(progress=None)
    yield
    ee.set_options(**old)


@pytest.mark.parametrize(
    ("tty", "jupyter", "option", "expected"),
    [
        (True, False, None, "text"),  # a terminal
        (False, False, None, None),  # piped
        (False, True, None, "widget"),  # Jupyter: stderr is no terminal there
        (False, False, True, "text"),  # forced on in a pipe
        (False, True, False, None),  # forced off in Jupyter
        (True, False, False, None),
    ],
)
def test_progress_choice(monkeypatch, default_progress, tty, jupyter, option, expected):
    monkeypatch.setattr(sys, "stderr", _Stream(tty))
    monkeypatch.setattr(compute, "in_jupyter", lambda: jupyter)
    ee.set_options(progress=option)
    assert compute.progress_mode() == expected
    assert compute.show_progress() is (expected is not None)


def test_jupyter_without_ipywidgets_falls_back_to_text(monkeypatch, default_progress):
    monkeypatch.setattr(compute, "in_jupyter", lambda: True)
    monkeypatch.setattr(compute, "_has_widgets", lambda: False)
    assert compute.progress_mode() == "text"


def test_in_jupyter_detects_a_kernel_shell(monkeypatch):
    import types

    class ZMQInteractiveShell:
        pass

    fake = types.ModuleType("IPython")
    fake.get_ipython = lambda: ZMQInteractiveShell()
    monkeypatch.setitem(sys.modules, "IPython", fake)
    assert compute.in_jupyter()
    fake.get_ipython = lambda: None  # IPython imported, but no shell (a plain script)
    assert not compute.in_jupyter()


def test_widget_mode_drives_a_tqdm_bar_over_every_task(monkeypatch, default_progress, job):
    made = []

    class Bar:
        def __init__(self, total):
            self.total, self.n, self.closed = total, 0, False
            made.append(self)

        def update(self, k=1):
            self.n += k

        def close(self):
            self.closed = True

    monkeypatch.setattr(compute, "progress_mode", lambda: "widget")
    monkeypatch.setattr(compute, "_bar_factory", lambda mode: Bar)
    ic, fields = job
    out = ic.reduceRegions(ee.FeatureCollection(fields), ee.Reducer.mean()).to_pandas()
    assert len(out) == 6
    assert len(made) == 1 and made[0].total > 0 and made[0].n == made[0].total and made[0].closed
