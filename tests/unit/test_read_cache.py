"""Block reads keep each file open per thread: one open per file, fresh data when the file changes."""

from __future__ import annotations

import os
import threading

import numpy as np
import rasterio

from reducer.sources import files
from tests.common import write_tif


class _Opens:
    def __init__(self, monkeypatch):
        self.paths: list[str] = []
        real = rasterio.open

        def spy(path, *args, **kwargs):
            self.paths.append(str(path))
            return real(path, *args, **kwargs)

        monkeypatch.setattr(rasterio, "open", spy)


def test_blocks_of_one_file_open_it_once_per_thread(tmp_path, monkeypatch):
    data = np.arange(1, 17, dtype="int16").reshape(4, 4)
    path = str(write_tif(tmp_path / "a.tif", data, nodata=-1))
    files.clear_dataset_cache()
    opens = _Opens(monkeypatch)
    blocks = [files.read_window(path, 1, (r, c, 2, 2), "float32", -1, False) for r in (0, 2) for c in (0, 2)]
    assert opens.paths == [path]  # four windows, one open
    assert np.array_equal(np.block([blocks[:2], blocks[2:]]), data)
    # another thread has its own handle (GDAL handles are not thread-safe)
    out = []
    t = threading.Thread(target=lambda: out.append(files.read_window(path, 1, (0, 0, 4, 4), "float32", -1, False)))
    t.start()
    t.join()
    assert opens.paths == [path, path] and np.array_equal(out[0], data)
    assert files.clear_dataset_cache() == 1


def test_a_rewritten_file_is_read_afresh(tmp_path):
    path = tmp_path / "a.tif"
    write_tif(path, np.full((3, 3), 5, dtype="int16"), nodata=-1)
    files.clear_dataset_cache()
    assert files.read_window(str(path), 1, (0, 0, 3, 3), "float32", -1, False).tolist() == [[5.0] * 3] * 3
    st = os.stat(path)
    new = np.array([[1, -1, 3], [4, 5, 6], [7, 8, 9]], dtype="int16")
    write_tif(path, new, nodata=-1)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))  # a new mtime even on a coarse clock
    got = files.read_window(str(path), 1, (0, 0, 3, 3), "float32", -1, False)
    assert np.array_equal(np.isnan(got), new == -1) and np.array_equal(got[new != -1], new[new != -1])
    files.clear_dataset_cache()


def test_the_cache_closes_the_least_recently_used(tmp_path, monkeypatch):
    monkeypatch.setattr(files, "_DATASETS_PER_THREAD", 2)
    files.clear_dataset_cache()
    paths = [str(write_tif(tmp_path / f"{k}.tif", np.full((2, 2), k, dtype="int16"))) for k in range(3)]
    handles = [files._open_cached(p) for p in paths]
    assert handles[0].closed and not handles[1].closed and not handles[2].closed
    for k, p in enumerate(paths):
        assert files.read_window(p, 1, (0, 0, 2, 2), "float32", None, False).tolist() == [[k, k], [k, k]]
    assert files.clear_dataset_cache() == 2


def test_handles_are_closed_after_a_byte_budget(tmp_path, monkeypatch):
    """GDAL keeps an open dataset's decoded blocks: a thread closes its handles after so many bytes."""
    data = np.arange(64, dtype="float32").reshape(8, 8)
    path = str(write_tif(tmp_path / "a.tif", data))
    monkeypatch.setattr(files, "_DATASET_BYTES", 3 * 16 * 4)  # three 4 x 4 float32 windows
    files.clear_dataset_cache()
    opens = _Opens(monkeypatch)
    for k in range(4):
        r, c = divmod(k, 2)
        got = files.read_window(path, 1, (4 * r, 4 * c, 4, 4), "float32", None, False)
        assert np.array_equal(got, data[4 * r : 4 * r + 4, 4 * c : 4 * c + 4])
    assert opens.paths == [path, path]  # reopened after the third window
    files.clear_dataset_cache()
