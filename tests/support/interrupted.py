"""An upload whose web process dies mid-stream, as a SIGTERM to gunicorn leaves it.

A child process parses a multipart body through the platform's real upload handler
(FILE_UPLOAD_HANDLERS, FILE_UPLOAD_TEMP_DIR from its MEDIA_ROOT); the body stops half-way, as
a slow client's does, and the caller kills the process while the temp file is half written.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

_CHILD = r"""
import os, sys, time
import django
django.setup()
from django.core.handlers.wsgi import WSGIRequest
from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart
from django.core.files.uploadedfile import SimpleUploadedFile

payload = SimpleUploadedFile("interview.mp4", os.urandom(4 * 1024 * 1024), "video/mp4")
body = encode_multipart(BOUNDARY, {"file": payload})

class Stalling:
    # Half the body, then nothing more: the client is slow, or gone.
    def __init__(self, data):
        self.data, self.sent = data, 0
    def read(self, size=-1):
        if self.sent >= len(self.data) // 2:
            time.sleep(3600)
        size = len(self.data) if size < 0 else size
        chunk = self.data[self.sent : min(self.sent + size, len(self.data) // 2)]
        self.sent += len(chunk)
        return chunk
    readline = read

environ = {
    "REQUEST_METHOD": "POST", "PATH_INFO": "/analyses/new/", "SERVER_NAME": "localhost",
    "SERVER_PORT": "80", "wsgi.url_scheme": "http", "wsgi.input": Stalling(body),
    "CONTENT_TYPE": MULTIPART_CONTENT, "CONTENT_LENGTH": str(len(body)),
}
WSGIRequest(environ).FILES
"""


def start_interrupted_upload(media_root: Path) -> subprocess.Popen:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "deepfake_site.settings",
        "DEBUG": "true",
        "MEDIA_ROOT": str(media_root),
    }
    env.pop("FILE_UPLOAD_TEMP_DIR", None)
    return subprocess.Popen([sys.executable, "-c", _CHILD], cwd=REPO, env=env)


def wait_for_temp_file(folder: Path, *, timeout_s: float = 60) -> Path:
    """The temp file the child is writing, once it holds some of the body."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = [p for p in folder.glob("*") if p.is_file() and p.stat().st_size > 0]
        if found:
            return found[0]
        time.sleep(0.1)
    raise TimeoutError(f"no upload temp file appeared in {folder}")
