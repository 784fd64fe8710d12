"""A real static HTTP server on 127.0.0.1 for download tests: honours `Range: bytes=N-`,
records what it was asked, and can cut responses short to simulate a dropped connection."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Mirror:
    url: str
    # (path, Range header or None) of every request, in order.
    requests_seen: list[tuple[str, str | None]] = field(default_factory=list)
    # path → byte counts: each request for that path sends only the next count of body
    # bytes (with the full Content-Length) and drops the connection.
    cuts: dict[str, list[int]] = field(default_factory=dict)


def _handler(folder: Path, mirror: Mirror):
    class RangeHandler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(folder), **kwargs)

        def log_message(self, *args):
            pass

        def do_GET(self):
            path = Path(self.translate_path(self.path))
            mirror.requests_seen.append((self.path, self.headers.get("Range")))
            if not path.is_file():
                self.send_error(404)
                return
            data = path.read_bytes()
            start = 0
            if self.headers.get("Range", "").startswith("bytes="):
                start = int(self.headers["Range"][6:].split("-")[0])
                if start >= len(data):
                    self.send_response(416)
                    self.end_headers()
                    return
                self.send_response(206)
                self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
            else:
                self.send_response(200)
            self.send_header("Content-Length", str(len(data) - start))
            self.end_headers()
            pending = mirror.cuts.get(self.path) or []
            end = start + pending.pop(0) if pending else len(data)
            self.wfile.write(data[start:end])  # HTTP/1.0: the connection closes after

    return RangeHandler


@contextmanager
def serve(folder: Path) -> Iterator[Mirror]:
    mirror = Mirror(url="")
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _handler(folder, mirror))
    mirror.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield mirror
    finally:
        httpd.shutdown()
        httpd.server_close()
