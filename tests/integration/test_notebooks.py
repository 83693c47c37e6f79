"""The notebooks in notebooks/ run top to bottom on a fresh kernel, and are committed without outputs."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
NAMES = ["seed_workflow.ipynb", "port_ee_timeseries.ipynb"]
KERNEL = "python3"
SECONDS = 60  # each runs in well under 20 s; the margin is for loaded CI machines


def _kernel_or_skip() -> None:
    """Skip (with the reason) when no 'python3' kernel can be started from this environment.

    ipykernel provides the 'python3' spec for the running interpreter even when no kernel spec is
    installed (jupyter_client swaps ``python`` in the spec for ``sys.executable``).
    """
    try:
        from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel
    except ImportError:
        pytest.skip("jupyter_client is not installed: pip install -e .[test]")
    try:
        KernelSpecManager().get_kernel_spec(KERNEL)
    except NoSuchKernel:
        pytest.skip(
            f"no Jupyter kernel named {KERNEL!r}: install ipykernel (pip install -e .[test]) or run "
            "`python -m ipykernel install --sys-prefix`"
        )


@pytest.mark.parametrize("name", NAMES)
def test_notebook_is_committed_without_outputs(name):
    raw = (NOTEBOOKS / name).read_text()
    assert '"output_type"' not in raw
    nb = json.loads(raw)
    assert all(c.get("execution_count") is None for c in nb["cells"] if c["cell_type"] == "code")
    assert nb["metadata"]["kernelspec"]["name"] == KERNEL


@pytest.mark.parametrize("name", NAMES)
def test_notebook_runs(name, tmp_path):
    _kernel_or_skip()
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    client = nbclient.NotebookClient(
        nb, kernel_name=KERNEL, timeout=SECONDS, resources={"metadata": {"path": str(tmp_path)}}
    )
    t0 = time.perf_counter()
    client.execute()  # raises CellExecutionError with the cell and traceback on any error
    seconds = time.perf_counter() - t0
    assert seconds < SECONDS * 2, f"{name} took {seconds:.1f} s"
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    # the charts show themselves as PNG images
    assert any("image/png" in o.get("data", {}) for o in outputs)


def test_notebooks_show_pixels_and_a_cube_with_to_xarray():
    seed = (NOTEBOOKS / "seed_workflow.ipynb").read_text()
    assert ".median().to_xarray()" in seed  # a composite's pixels
    assert "to_xarray(compute=False)" in seed and ".xvec.to_geodataframe(" in seed  # the per-field cube
    assert ".median().to_xarray()" in (NOTEBOOKS / "port_ee_timeseries.ipynb").read_text()
