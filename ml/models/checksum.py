"""The sha256 of a file: what identifies a model file, a dataset item or a download."""

from __future__ import annotations

import hashlib
import os
from functools import lru_cache
from pathlib import Path


def file_sha256(path: str | os.PathLike) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def known_file_sha256(path: str | os.PathLike) -> str:
    """file_sha256, remembered while the file keeps its size and modification time.

    A worker checks the installed model before every analysis; re-reading hundreds of MB of
    EfficientNet-B7 weights each time would be wasted work.
    """
    stat = Path(path).stat()
    return _remembered(str(Path(path).resolve()), stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=64)
def _remembered(path: str, mtime_ns: int, size: int) -> str:
    return file_sha256(path)
