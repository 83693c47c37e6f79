"""Remote COGs: read by windows over HTTP range requests from a local server that counts the bytes it serves."""

from __future__ import annotations

import re
import secrets
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote

import geopandas as gpd
import pytest
import shapely

import reducer as ee
from reducer.sources import HEADER_COUNTER, READ_COUNTER
from tests.integration.test_sources import (
    CRS_A,
    DATES_A,
    SIZE_A,
    T_A,
    assert_same,
    fields_a,
    make_item,
    scene_a,
    script,
    write_cog,
)


class RangeServer:
    """A static file server on 127.0.0.1 (ephemeral port) that honours ``Range: bytes=a-b`` and counts bytes.

    Files are served under a random prefix, so that GDAL's cache of remote data never spans two servers.
    ``faults`` is a list of faults to play, one per request, before serving normally again: ``"stall"``
    (answer nothing for ``stall_seconds``), ``"drop"`` (close the connection without a reply),
    ``"trickle"`` (send the body at about 200 bytes a second) or an HTTP status such as ``"500"``.
    """

    def __init__(self, root: Path):
        self.root = root
        self.prefix = secrets.token_hex(4)
        self.bytes_served = 0
        self.requests: list[tuple[str, str, str | None]] = []
        self.faults: list[str] = []
        self.stall_seconds = 8.0
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_HEAD(self):
                self._serve(head=True)

            def do_GET(self):
                self._serve(head=False)

            def _serve(self, head: bool) -> None:
                rng = self.headers.get("Range")
                with server._lock:
                    server.requests.append((self.command, self.path, rng))
                    fault = server.faults.pop(0) if server.faults else None
                if fault == "stall":
                    time.sleep(server.stall_seconds)  # bounded: the server thread always ends
                    return
                if fault == "drop":
                    self.connection.shutdown(socket.SHUT_RDWR)
                    self.close_connection = True
                    return
                if fault is not None and fault.isdigit():
                    self.send_error(int(fault))
                    return
                parts = unquote(self.path.split("?")[0]).lstrip("/").split("/", 1)
                path = server.root / parts[1] if len(parts) == 2 and parts[0] == server.prefix else None
                if path is None or not path.is_file():
                    self.send_error(404)
                    return
                size = path.stat().st_size
                start, end, status = 0, size - 1, 200
                if rng:
                    m = re.fullmatch(r"bytes=(\d+)-(\d*)", rng.strip())
                    if m is None:  # multi-range requests are not needed by GDAL here
                        self.send_error(416)
                        return
                    start = int(m[1])
                    end = min(int(m[2]) if m[2] else size - 1, size - 1)
                    status = 206
                self.send_response(status)
                self.send_header("Accept-Ranges", "bytes")
                self.send_header("Content-Type", "image/tiff")
                self.send_header("Content-Length", str(end - start + 1))
                if status == 206:
                    self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
                self.end_headers()
                if head:
                    return
                with open(path, "rb") as f:
                    f.seek(start)
                    data = f.read(end - start + 1)
                if fault == "trickle":
                    try:
                        for i in range(0, min(len(data), 4000), 20):  # bounded: 20 s at most
                            self.wfile.write(data[i : i + 20])
                            self.wfile.flush()
                            time.sleep(0.1)
                    except OSError:  # the client gave up
                        pass
                    return
                self.wfile.write(data)
                with server._lock:
                    server.bytes_served += len(data)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/{self.prefix}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def start(self) -> RangeServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)

    def reset(self) -> None:
        with self._lock:
            self.bytes_served = 0
            self.requests.clear()


@pytest.fixture(scope="module")
def cogs(tmp_path_factory) -> list[Path]:
    root = tmp_path_factory.mktemp("http")
    return [write_cog(root / f"T33_{d}.tif", scene_a(k), CRS_A, T_A) for k, d in enumerate(DATES_A)]


@pytest.fixture
def server(cogs, monkeypatch):
    monkeypatch.setenv("GDAL_DISABLE_READDIR_ON_OPEN", "EMPTY_DIR")
    monkeypatch.setenv("CPL_VSIL_CURL_ALLOWED_EXTENSIONS", ".tif")
    for var in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    srv = RangeServer(cogs[0].parent).start()
    yield srv
    srv.stop()


def test_same_numbers_over_http(cogs, server):
    fields = fields_a()
    local = script(ee.ImageCollection([str(p) for p in cogs]), fields)
    urls = [f"{server.url}/{p.name}" for p in cogs]
    remote = ee.ImageCollection(urls)  # headers are read over HTTP; dates come from the names
    assert remote.aggregate_array("system:index").getInfo() == [p.stem for p in cogs]
    assert_same(local, script(remote, fields))
    vsi = ee.ImageCollection([f"/vsicurl/{u}" for u in urls])
    assert_same(local, script(vsi, fields))
    assert server.bytes_served > 0


def test_small_field_reads_a_small_fraction_of_a_remote_cog(cogs, server):
    items = [
        make_item(p.stem, d, 0.0, "sentinel-2a", {"red": (f"{server.url}/{p.name}", CRS_A, T_A, (SIZE_A, SIZE_A))})
        for p, d in zip(cogs, DATES_A, strict=True)
    ]
    HEADER_COUNTER.reset()
    ic = ee.ImageCollection.fromStac(items).filterDate("2024-05-01", "2024-05-02")
    assert ic.size().getInfo() == 1
    assert server.requests == [] and HEADER_COUNTER.reads == 0  # built from metadata: nothing fetched
    x0, y0 = T_A.c, T_A.f
    field = shapely.box(x0 + 3000, y0 - 3000, x0 + 3500, y0 - 2600)  # 50 x 40 pixels of 2048 x 2048
    fc = ee.FeatureCollection(gpd.GeoDataFrame(geometry=[field], crs=CRS_A))
    READ_COUNTER.reset()
    [f] = ic.reduceRegions(fc, ee.Reducer.mean()).getInfo()["features"]
    window = scene_a(0)[260:300, 300:350]
    assert f["properties"]["mean"] == pytest.approx(window.mean(), rel=1e-12)
    size = cogs[0].stat().st_size
    assert READ_COUNTER.reads == 1 and READ_COUNTER.pixels == 512 * 512  # one 512 x 512 window of 16
    assert 0 < server.bytes_served < 0.15 * size, (server.bytes_served, size, server.requests)


# -- faults: a server that stalls, trickles, drops and fails on purpose (issue 16) ------------------


def _finishes(fn, seconds: float = 60.0):
    """Run ``fn`` in a thread and return what it returned or raised; fail if it is still running."""
    box: dict = {}

    def run():
        try:
            box["value"] = fn()
        except BaseException as exc:  # noqa: BLE001 - handed back to the test
            box["error"] = exc

    t = threading.Thread(target=run, daemon=True)
    t.start()
    t.join(seconds)
    assert not t.is_alive(), f"still running after {seconds} s: a hang"
    return box


@pytest.fixture
def quick_http(monkeypatch):
    """Small timeouts and backoff, so that the faults resolve in seconds."""
    monkeypatch.setenv("GDAL_HTTP_TIMEOUT", "2")
    monkeypatch.setenv("GDAL_HTTP_CONNECTTIMEOUT", "2")
    monkeypatch.setenv("GDAL_HTTP_LOW_SPEED_TIME", "1")
    monkeypatch.setenv("GDAL_HTTP_LOW_SPEED_LIMIT", "1000")
    monkeypatch.setenv("GDAL_HTTP_MAX_RETRY", "1")
    monkeypatch.setenv("GDAL_HTTP_RETRY_DELAY", "0.1")
    monkeypatch.setenv("REDUCER_HTTP_BACKOFF", "0.05")


@pytest.mark.parametrize("fault", ["stall", "trickle"])
def test_stalling_server_fails_with_url_and_reason(cogs, server, quick_http, fault):
    from reducer.errors import InputFileError

    server.faults = [fault] * 20
    url = f"{server.url}/{cogs[0].name}"
    box = _finishes(lambda: ee.Image(url))
    assert isinstance(box.get("error"), InputFileError), box
    msg = str(box["error"])
    assert url in msg
    assert re.search(r"(?i)too slow|timed out|timeout|io error|failed to read", msg), msg  # GDAL's (curl's) own reason


def test_dropped_connections_are_retried(cogs, server, quick_http):
    server.faults = ["drop", "drop"]  # GDAL does not retry these itself; reducer does (2 retries)
    url = f"{server.url}/{cogs[0].name}"
    box = _finishes(lambda: ee.Image(url).reduceRegion(ee.Reducer.mean(), scale=640).getInfo())
    assert "error" not in box, box
    local = ee.Image(str(cogs[0])).reduceRegion(ee.Reducer.mean(), scale=640).getInfo()
    assert box["value"] == pytest.approx(local)


def test_server_errors_are_retried_then_named(cogs, server, quick_http):
    from reducer.errors import InputFileError

    url = f"{server.url}/{cogs[0].name}"
    server.faults = ["503"]  # transient: GDAL's retry gets the file
    assert isinstance(_finishes(lambda: ee.Image(url)).get("value"), ee.Image)
    server.faults = ["500"] * 50  # persistent: a bounded number of tries, then the URL and the status
    n = len(server.requests)
    box = _finishes(lambda: ee.Image(f"{server.url}/{cogs[1].name}"))
    assert isinstance(box.get("error"), InputFileError), box
    assert cogs[1].name in str(box["error"]) and "500" in str(box["error"])
    assert len(server.requests) - n <= 12  # (1 + GDAL's 1 retry) x (1 + reducer's 2 retries), HEAD and GET


def test_pixel_read_failure_names_url_and_reason(cogs, server, quick_http):
    from reducer.errors import InputFileError

    url = f"{server.url}/{cogs[2].name}"
    img = ee.Image(url)  # header read: fine
    server.faults = ["500"] * 50
    box = _finishes(lambda: img.reduceRegion(ee.Reducer.mean(), scale=10).getInfo())
    err = box.get("error")
    assert isinstance(err, InputFileError), box
    assert url in str(err) and "500" in str(err)
    assert "See previous exception" not in str(err)
