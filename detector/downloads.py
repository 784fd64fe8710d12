"""Every file the platform hands out: one way to name it, one way to serve uploaded media.

`content_disposition` writes the header as RFC 6266 asks: an ASCII `filename="..."` that every
client understands (quotes and backslashes escaped, other characters replaced) and, for the
exact name, `filename*=UTF-8''<percent-encoded>` (RFC 5987), which modern clients prefer.
"""

from __future__ import annotations

import unicodedata
from urllib.parse import quote

from django.http import FileResponse, Http404

from detector.models import Analysis
from detector.services import analysis_media_path

MEDIA_CACHE_CONTROL = "private, max-age=3600"
# Uploaded content must never run as a page of this site.
MEDIA_CSP = "sandbox; default-src 'none'"


def content_disposition(filename: str, *, attachment: bool) -> str:
    """`attachment` (save) or `inline` (show), with an ASCII and a UTF-8 file name."""
    disposition = "attachment" if attachment else "inline"
    name = _one_line(filename) or "download"
    fallback = _ascii_fallback(name).replace("\\", "\\\\").replace('"', '\\"')
    return (
        f'{disposition}; filename="{fallback}"; '
        f"filename*=UTF-8''{quote(name, safe='')}"
    )


def media_response(*, analysis: Analysis, as_attachment: bool = False) -> FileResponse:
    """The uploaded file of an analysis, private to the browser and sandboxed."""
    path = analysis_media_path(analysis)
    if not path.is_file():
        raise Http404("The file is no longer available.")
    response = FileResponse(
        path.open("rb"),
        content_type=analysis.mime_type or "application/octet-stream",
    )
    response["Content-Disposition"] = content_disposition(
        analysis.original_filename, attachment=as_attachment
    )
    response["Content-Security-Policy"] = MEDIA_CSP
    response["Cache-Control"] = MEDIA_CACHE_CONTROL
    return response


def _one_line(name: str) -> str:
    # Control characters (a newline above all) have no place in a header.
    return "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip()


def _ascii_fallback(name: str) -> str:
    # "é" becomes "e"; what has no ASCII form (CJK, emoji) becomes "_".
    decomposed = unicodedata.normalize("NFKD", name)
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return "".join(ch if ch.isascii() else "_" for ch in plain)
