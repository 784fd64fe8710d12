"""Downloading a model file: streamed to disk with progress, resumable, checked by sha256.

A partial download is kept as `<dest>.part`; the next attempt asks the server for the rest
(HTTP Range) and starts over only when the server does not support ranges.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import requests

from ml.checksum import file_sha256

CHUNK = 1 << 20
TIMEOUT_S = (
    30  # per connection attempt and per read: a dead server fails instead of hanging
)


class DownloadError(Exception):
    """The file could not be fetched, or it is not the file that was asked for."""


def download(
    url: str,
    dest: Path | str,
    *,
    sha256: str | None = None,
    progress: Callable[[int, int | None], None] | None = None,
    timeout: float = TIMEOUT_S,
) -> Path:
    """Fetch `url` into `dest`. `progress(bytes_done, bytes_total_or_None)` is called per chunk."""
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    have = part.stat().st_size if part.exists() else 0
    headers = {"Range": f"bytes={have}-"} if have else {}
    try:
        with requests.get(
            url, headers=headers, stream=True, timeout=timeout
        ) as response:
            if response.status_code == 416:  # the part file already holds everything
                response.close()
            else:
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
    except requests.RequestException as exc:
        raise DownloadError(f"Could not download {url}: {exc}") from exc
    if sha256 and file_sha256(part) != sha256.lower():
        part.unlink(missing_ok=True)
        raise DownloadError(
            f"The file downloaded from {url} does not match the expected sha256."
        )
    os.replace(part, dest)
    return dest
