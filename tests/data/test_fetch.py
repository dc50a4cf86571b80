"""`fairsuite.data.download`: real Adult and COMPAS files served by a local mirror on 127.0.0.1.

The server (started and stopped by each test) serves a folder laid out like a data root, honours
HTTP Range with 206 unless told not to, and can be told to cut a response midway or to flip
bytes. No test reaches the internet.
"""

from __future__ import annotations

import http.server
import re
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from fairsuite.data import download, get_card, load_dataset
from fairsuite.data._fetch import CHECKSUM_MISMATCH, UNREACHABLE
from fairsuite.exceptions import (
    DatasetIntegrityError,
    DatasetNotFoundError,
    ExitCode,
    InvalidInputError,
)


class MirrorServer:
    """A data-root mirror on 127.0.0.1 for tests.

    ``cut``: URL path -> bytes after which the *first* response for that path stops (the full
    Content-Length is announced, so the client sees a broken transfer). ``corrupt``: URL paths
    whose bytes are flipped. ``ranges``: whether Range requests get 206 (else the full file,
    200). ``requests`` records (path, Range header, status) of every request.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self.cut: dict[str, int] = {}
        self.corrupt: set[str] = set()
        self.ranges = True
        self.requests: list[tuple[str, str | None, int]] = []
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                pass

            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                server.handle(self)

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def paths(self, path: str) -> list[tuple[str | None, int]]:
        """(Range header, status) of the requests for ``path``."""
        return [(r, s) for p, r, s in self.requests if p == path]

    def handle(self, h: http.server.BaseHTTPRequestHandler) -> None:
        path = h.path.split("?", 1)[0]
        file = (self.root / path.lstrip("/")).resolve()
        rng = h.headers.get("Range")
        if not file.is_relative_to(self.root.resolve()) or not file.is_file():
            self.requests.append((path, rng, 404))
            h.send_error(404, "Not Found")
            return
        data = file.read_bytes()
        if path in self.corrupt:
            data = bytes(b ^ 0xFF for b in data[:64]) + data[64:]
        start, status = 0, 200
        m = re.fullmatch(r"bytes=(\d+)-", rng or "")
        if m and self.ranges:
            start, status = int(m.group(1)), 206
            if start >= len(data):
                self.requests.append((path, rng, 416))
                h.send_error(416, "Range Not Satisfiable")
                return
        self.requests.append((path, rng, status))
        body = data[start:]
        h.send_response(status)
        h.send_header("Content-Type", "application/octet-stream")
        h.send_header("Content-Length", str(len(body)))
        h.send_header("Accept-Ranges", "bytes" if self.ranges else "none")
        if status == 206:
            h.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        cut = self.cut.pop(path, None)
        if cut is not None:
            h.send_header("Connection", "close")
            h.end_headers()
            h.wfile.write(body[:cut])
            h.wfile.flush()
            h.close_connection = True
            h.connection.shutdown(socket.SHUT_RDWR)
            return
        h.end_headers()
        h.wfile.write(body)

    def __enter__(self) -> MirrorServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)


def closed_port_url() -> str:
    """A URL on 127.0.0.1 where nothing listens (the port was just freed)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.fixture
def mirror(data_root: Path) -> Iterator[MirrorServer]:
    """The real shared data root, served read-only over HTTP on 127.0.0.1."""
    with MirrorServer(data_root) as server:
        yield server


def _no_part_files(folder: Path) -> bool:
    return not list(folder.glob(".*.part"))


def test_downloads_the_real_adult_files_through_the_mirror(
    mirror: MirrorServer, data_root: Path, tmp_path: Path
) -> None:
    result = download("adult", data_dir=tmp_path, mirror=mirror.url, progress=False)
    card = get_card("adult")
    assert [f.path.name for f in result.files] == ["adult.data", "adult.test", "adult.names"]
    for f in result.files:
        assert f.status == "downloaded"
        assert f.sha256 == card.file(f.path.name).sha256
        assert f.path.read_bytes() == (data_root / "adult" / f.path.name).read_bytes()
        assert f.url == f"{mirror.url}/adult/{f.path.name}"
    assert result.files[0].sha256 == (
        "5b00264637dbfec36bdeaab5676b0b309ff9eb788d63554ca0a249491c86603d"
    )
    assert _no_part_files(tmp_path / "adult")
    # the loader reads what was downloaded
    ds = load_dataset("adult", data_dir=tmp_path)
    assert len(ds) == 32_561 + 16_281
    # a second run fetches nothing: the files are there with the right checksum
    n = len(mirror.requests)
    again = download("adult", data_dir=tmp_path, mirror=mirror.url, progress=False)
    assert [f.status for f in again.files] == ["present"] * 3
    assert len(mirror.requests) == n
    assert result.to_dict()["files"][0]["status"] == "downloaded"


def test_downloads_compas_through_the_mirror_env(
    mirror: MirrorServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("FAIRSUITE_MIRROR", mirror.url + "/")
    result = download("compas", data_dir=tmp_path, progress=True)
    out, err = capsys.readouterr()
    assert out == "" and "compas-scores.csv" in err  # the progress bar is on stderr
    assert sorted(p.name for p in (tmp_path / "compas").iterdir()) == [
        "compas-scores-two-years-violent.csv",
        "compas-scores-two-years.csv",
        "compas-scores.csv",
    ]
    assert all(f.status == "downloaded" for f in result.files)
    assert len(load_dataset("compas", data_dir=tmp_path)) == 6_172


def test_an_interrupted_transfer_resumes_with_range(mirror: MirrorServer, tmp_path: Path) -> None:
    mirror.cut["/adult/adult.data"] = 1_000_000
    result = download("adult", data_dir=tmp_path, mirror=mirror.url, progress=False)
    data = result.files[0]
    assert data.status == "resumed" and data.attempts == 2
    assert mirror.paths("/adult/adult.data") == [(None, 200), ("bytes=1000000-", 206)]
    assert data.bytes_fetched == data.size  # nothing fetched twice
    assert data.sha256 == get_card("adult").file("adult.data").sha256
    assert _no_part_files(tmp_path / "adult")


def test_a_part_file_left_by_an_earlier_run_is_resumed(
    mirror: MirrorServer, data_root: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "adult"
    folder.mkdir()
    original = (data_root / "adult" / "adult.test").read_bytes()
    (folder / ".adult.test.part").write_bytes(original[:500_000])
    result = download("adult", data_dir=tmp_path, mirror=mirror.url, progress=False)
    test_file = result.files[1]
    assert test_file.status == "resumed"
    assert mirror.paths("/adult/adult.test") == [("bytes=500000-", 206)]
    assert test_file.bytes_fetched == len(original) - 500_000
    assert (folder / "adult.test").read_bytes() == original


def test_a_server_without_range_support_starts_over(mirror: MirrorServer, tmp_path: Path) -> None:
    mirror.ranges = False
    mirror.cut["/adult/adult.data"] = 300_000
    result = download("adult", data_dir=tmp_path, mirror=mirror.url, progress=False)
    assert mirror.paths("/adult/adult.data") == [(None, 200), ("bytes=300000-", 200)]
    assert result.files[0].sha256 == get_card("adult").file("adult.data").sha256


def test_corrupted_bytes_keep_nothing(mirror: MirrorServer, tmp_path: Path) -> None:
    mirror.corrupt.add("/adult/adult.data")
    with pytest.raises(DatasetIntegrityError) as exc:
        download("adult", data_dir=tmp_path, mirror=mirror.url, progress=False)
    assert exc.value.exit_code == ExitCode.DATA
    msg = str(exc.value)
    assert "\n" not in msg
    assert msg.startswith(f"{mirror.url}/adult/adult.data: downloaded 3,974,305 bytes")
    assert "expected 5b00264637dbfec3" in msg and "nothing was kept" in msg
    assert CHECKSUM_MISMATCH.startswith("{url}: downloaded {size:,} bytes with sha256")
    assert list((tmp_path / "adult").iterdir()) == []


def test_offline_is_one_line_naming_the_url_and_the_manual_route(tmp_path: Path) -> None:
    url = closed_port_url()
    with pytest.raises(DatasetNotFoundError) as exc:
        download("adult", data_dir=tmp_path, mirror=url, progress=False, timeout=5)
    msg = str(exc.value)
    assert exc.value.exit_code == ExitCode.DATA
    assert "\n" not in msg
    assert msg.startswith(f"cannot download {url}/adult/adult.data (")
    assert msg.endswith("get it by hand: " + get_card("adult").get_data)
    assert UNREACHABLE.startswith("cannot download {url} ({reason})")
    assert list((tmp_path / "adult").iterdir()) == []


def test_http_errors_name_the_status(tmp_path: Path) -> None:
    empty = tmp_path / "empty-mirror"
    empty.mkdir()
    with MirrorServer(empty) as server, pytest.raises(DatasetNotFoundError, match="HTTP 404"):
        download("compas", data_dir=tmp_path / "data", mirror=server.url, progress=False)


def test_datasets_without_urls_are_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="fairface cannot be downloaded by fairsuite"):
        download("fairface", data_dir=tmp_path)
    with pytest.raises(InvalidInputError, match="generated on first use"):
        download("synthfaces", data_dir=tmp_path)
    with pytest.raises(InvalidInputError, match="mirror 'ftp://x' is not a URL"):
        download("adult", data_dir=tmp_path, mirror="ftp://x")
    assert not (tmp_path / "fairface").exists()


def test_an_existing_file_with_another_checksum_needs_force(
    mirror: MirrorServer, tmp_path: Path
) -> None:
    folder = tmp_path / "adult"
    folder.mkdir()
    (folder / "adult.names").write_text("edited by hand\n")
    with pytest.raises(DatasetIntegrityError, match=r"adult.names exists but its sha256"):
        download("adult", data_dir=tmp_path, mirror=mirror.url, progress=False)
    assert (folder / "adult.names").read_text() == "edited by hand\n"
    result = download("adult", data_dir=tmp_path, mirror=mirror.url, force=True, progress=False)
    assert result.files[2].sha256 == get_card("adult").file("adult.names").sha256
