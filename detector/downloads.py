"""Every file the platform hands out: one way to name it, one way to serve uploaded media.

`content_disposition` writes the header as RFC 6266 asks: an ASCII `filename="..."` that every
client understands (quotes and backslashes escaped, other characters replaced) and, for the
exact name, `filename*=UTF-8''<percent-encoded>` (RFC 5987), which modern clients prefer.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO
from urllib.parse import quote

from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    StreamingHttpResponse,
)

from detector.models import Analysis
from detector.services import analysis_media_path

MEDIA_CACHE_CONTROL = "private, max-age=3600"
# Uploaded content must never run as a page of this site.
MEDIA_CSP = "sandbox; default-src 'none'"
# One range of bytes, as browsers ask for them when they seek in a video.
BYTE_RANGE = re.compile(r"bytes=(\d*)-(\d*)$")
CHUNK = 1 << 16


def content_disposition(filename: str, *, attachment: bool) -> str:
    """`attachment` (save) or `inline` (show), with an ASCII and a UTF-8 file name."""
    disposition = "attachment" if attachment else "inline"
    name = _one_line(filename) or "download"
    fallback = _ascii_fallback(name).replace("\\", "\\\\").replace('"', '\\"')
    return f"{disposition}; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


def media_response(
    *, request: HttpRequest, analysis: Analysis, as_attachment: bool = False
) -> HttpResponse:
    """The uploaded file of an analysis, private to the browser and sandboxed."""
    path = analysis_media_path(analysis)
    if not path.is_file():
        raise Http404("The file is no longer available.")
    response = private_file_response(
        request, path, content_type=analysis.mime_type or "application/octet-stream"
    )
    response["Content-Disposition"] = content_disposition(
        analysis.original_filename, attachment=as_attachment
    )
    return response


def private_file_response(request: HttpRequest, path: Path, *, content_type: str) -> HttpResponse:
    """A file for its owner's browser, sandboxed, honouring one HTTP Range: without ranges a
    browser cannot seek in a video it has not downloaded whole."""
    size = path.stat().st_size
    span = _requested_range(request.headers.get("Range", ""), size)
    if span is None:
        response = FileResponse(path.open("rb"), content_type=content_type)
    elif span == (size, size):  # unsatisfiable: starts past the end
        response = HttpResponse(status=416)
        response["Content-Range"] = f"bytes */{size}"
    else:
        start, end = span
        handle = path.open("rb")
        handle.seek(start)
        response = StreamingHttpResponse(
            _chunks(handle, end - start + 1), status=206, content_type=content_type
        )
        response["Content-Range"] = f"bytes {start}-{end}/{size}"
        response["Content-Length"] = str(end - start + 1)
    response["Accept-Ranges"] = "bytes"
    response["Content-Security-Policy"] = MEDIA_CSP
    response["Cache-Control"] = MEDIA_CACHE_CONTROL
    return response


def _requested_range(header: str, size: int) -> tuple[int, int] | None:
    """(first, last) byte of a single `bytes=` range; None for no or an unusable header
    (the whole file is sent); (size, size) when it starts past the end."""
    match = BYTE_RANGE.match(header.strip())
    if not match or match.groups() == ("", ""):
        return None
    first, last = match.groups()
    if first == "":  # the last N bytes
        return max(0, size - int(last)), size - 1
    start = int(first)
    if start >= size:
        return size, size
    end = min(int(last), size - 1) if last else size - 1
    return (start, end) if end >= start else None


def _chunks(handle: BinaryIO, length: int) -> Iterator[bytes]:
    with handle:
        while length > 0:
            data = handle.read(min(CHUNK, length))
            if not data:
                return
            length -= len(data)
            yield data


def _one_line(name: str) -> str:
    # Control characters (a newline above all) have no place in a header.
    return "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip()


def _ascii_fallback(name: str) -> str:
    # "é" becomes "e"; what has no ASCII form (CJK, emoji) becomes "_".
    decomposed = unicodedata.normalize("NFKD", name)
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return "".join(ch if ch.isascii() else "_" for ch in plain)
