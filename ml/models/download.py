"""Downloading a model file: streamed to disk with progress, resumable, checked by sha256.

A partial download is kept as `<dest>.part`; the next attempt asks the server for the rest
(HTTP Range) and starts over only when the server does not support ranges. A transfer cut short
is resumed at once (up to `attempts` times) as long as each attempt brings more bytes.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlparse

import requests

from ml.models.checksum import file_sha256

# Small enough that a transfer cut short keeps nearly all it received (a chunk being read
# when the connection drops is lost).
CHUNK = 1 << 16
# Per connection attempt and per read: a dead server fails instead of hanging. A pair is
# (connect, read) seconds.
TIMEOUT_S = 30
ATTEMPTS = 3

Timeout = float | tuple[float, float]


class DownloadError(Exception):
    """The file could not be fetched, or it is not the file that was asked for."""


def _reason(exc: requests.RequestException) -> str:
    """A short, readable cause (requests' own messages run to several hundred characters)."""
    if isinstance(exc, requests.HTTPError) and exc.response is not None:
        return f"the server answered HTTP {exc.response.status_code}"
    if isinstance(exc, requests.ConnectTimeout):
        return "the server did not answer in time (is this machine offline?)"
    if isinstance(exc, requests.ConnectionError):
        return "the server could not be reached (is this machine offline?)"
    return "the transfer failed"


def _fetch_once(
    url: str,
    part: Path,
    progress: Callable[[int, int | None], None] | None,
    timeout: Timeout,
) -> None:
    """One request, appending to `part` from where it ends."""
    have = part.stat().st_size if part.exists() else 0
    headers = {"Range": f"bytes={have}-"} if have else {}
    with requests.get(url, headers=headers, stream=True, timeout=timeout) as response:
        if response.status_code == 416:  # the part file already holds everything
            return
        response.raise_for_status()
        resumed = response.status_code == 206
        if not resumed:
            have = 0  # the server ignored the range: start over
        length = response.headers.get("Content-Length")
        total = have + int(length) if length is not None else None
        with open(part, "ab" if resumed else "wb") as fh:
            for chunk in response.iter_content(CHUNK):
                fh.write(chunk)
                have += len(chunk)
                if progress:
                    progress(have, total)


def download(
    url: str,
    dest: Path | str,
    *,
    sha256: str | None = None,
    progress: Callable[[int, int | None], None] | None = None,
    timeout: Timeout = TIMEOUT_S,
    attempts: int = ATTEMPTS,
) -> Path:
    """Fetch `url` into `dest`. `progress(bytes_done, bytes_total_or_None)` is called per chunk."""
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    for attempt in range(1, attempts + 1):
        before = part.stat().st_size if part.exists() else 0
        try:
            _fetch_once(url, part, progress, timeout)
            break
        except requests.RequestException as exc:
            after = part.stat().st_size if part.exists() else 0
            if attempt < attempts and after > before:
                continue  # cut short after some progress: ask for the rest
            host = urlparse(url).netloc
            reason = (
                f"the transfer stopped after {after} bytes, which are kept: try again to resume"
                if after
                else _reason(exc)
            )
            raise DownloadError(
                f"Could not download {Path(urlparse(url).path).name} from {host}: {reason}."
            ) from exc
    if sha256 and file_sha256(part) != sha256.lower():
        part.unlink(missing_ok=True)
        raise DownloadError(f"The file downloaded from {url} does not match the expected sha256.")
    os.replace(part, dest)
    return dest
