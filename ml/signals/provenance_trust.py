"""The trust lists Content Credentials are checked against: where they live, and refreshing them.

Three places, the first that holds a complete set wins (docs/deploy.md, "Trust lists"):
1. `PROVENANCE_TRUST_DIR`, a folder named in the environment (tests, a hand-kept list);
2. `MODELS_ROOT/trust`, written by `manage.py update_trust_list`: writable, and shared by the
   web and the workers like the models. A link to the folder of the newest refresh, switched in
   one step, so a reader sees the old set or the new one, never a mix;
3. the lists bundled in the package (`ml/signals/trust/`), dated in their SOURCES.json.

A refresh fetches every file into a private folder under MODELS_ROOT (same file system as the
link), checks each (size, certificates that parse, EKU lines that are OIDs), records where each
came from and when in SOURCES.json, and only then switches the link: a failed or partial
download leaves the current lists as they were.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlparse

from ml.models.checksum import file_sha256
from ml.models.download import DownloadError, download

BUNDLED = Path(__file__).parent / "trust"
TRUST_DIR_ENV = "PROVENANCE_TRUST_DIR"
ROOT = Path(__file__).resolve().parents[2]
LINK = "trust"  # under MODELS_ROOT
PREFIX = ".trust-"  # the refreshes' folders under MODELS_ROOT
# The files of a set, with the c2pa setting each feeds (provenance_read.settings).
FILES = {
    "C2PA-TRUST-LIST.pem": "trust_anchors",
    "C2PA-TSA-TRUST-LIST.pem": "trust_anchors",
    "valid_eku_oids.cfg": "trust_config",
}
# Where a refresh without a mirror fetches them: the official lists' current versions.
UPSTREAM = {
    "C2PA-TRUST-LIST.pem": "https://raw.githubusercontent.com/c2pa-org/conformance-public/"
    "main/trust-list/C2PA-TRUST-LIST.pem",
    "C2PA-TSA-TRUST-LIST.pem": "https://raw.githubusercontent.com/c2pa-org/conformance-public/"
    "main/trust-list/C2PA-TSA-TRUST-LIST.pem",
    "valid_eku_oids.cfg": "https://raw.githubusercontent.com/contentauth/c2pa-rs/main/"
    "sdk/src/crypto/cose/valid_eku_oids.cfg",
}
MAX_BYTES = 4 * 1024 * 1024  # today's lists are ~40 KB; anything this big is not a list
OID = re.compile(r"^[0-2](\.\d+)+$")

Progress = Callable[[str, int, int | None], None]


class TrustListError(Exception):
    """A refresh was refused; the current lists are unchanged. The message says why."""


def models_root() -> Path:
    """MODELS_ROOT as the platform's settings read it (same variable, same default)."""
    return Path(os.environ.get("MODELS_ROOT") or ROOT / "var" / "models")


def is_complete(folder: Path) -> bool:
    try:
        json.loads((folder / "SOURCES.json").read_text())
    except (OSError, ValueError):
        return False
    return all((folder / name).is_file() for name in FILES)


def active_dir() -> Path:
    """The folder the reader uses now, its links resolved (one consistent set per read)."""
    named = os.environ.get(TRUST_DIR_ENV)
    if named:
        return Path(named)
    refreshed = models_root() / LINK
    return refreshed.resolve() if is_complete(refreshed) else BUNDLED


# --- refreshing ----------------------------------------------------------------------------


def update(
    source: str | None,
    root: Path,
    *,
    progress: Progress | None = None,
    today: dt.date | None = None,
) -> dict:
    """Fetch, check and install a new set under `root` (MODELS_ROOT) from `source` (a folder or
    an http(s) address holding the FILES names; None: UPSTREAM). Returns its SOURCES dict."""
    root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=PREFIX, dir=root))
    try:
        found = {name: _fetch(name, source, staging, progress) for name in FILES}
        record = _record(staging, found, (today or dt.date.today()).isoformat())
        _switch(root, staging)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return record


def _is_url(text: str) -> bool:
    return urlparse(text).scheme in ("http", "https")


def _fetch(
    name: str, source: str | None, staging: Path, progress: Progress | None
) -> tuple[str, str]:
    """One file into staging, checked; returns where it came from and what it holds."""
    dest = staging / name
    if source and not _is_url(source):
        origin = Path(source).resolve() / name
        if not origin.is_file():
            raise TrustListError(f"{name} is not in the folder {origin.parent}.")
        if origin.stat().st_size > MAX_BYTES:
            raise TrustListError(f"{origin} is larger than {MAX_BYTES >> 20} MB: not a list.")
        shutil.copyfile(origin, dest)
        where = str(origin)
    else:
        where = f"{source.rstrip('/')}/{name}" if source else UPSTREAM[name]
        _download(name, where, dest, progress)
    return where, check(name, dest)


def _download(name: str, url: str, dest: Path, progress: Progress | None) -> None:
    def capped(done: int, total: int | None) -> None:
        if done > MAX_BYTES or (total or 0) > MAX_BYTES:
            raise TrustListError(f"{url} is larger than {MAX_BYTES >> 20} MB: not a list.")
        if progress:
            progress(name, done, total)

    try:
        # One attempt per file: a list is small, and a cut transfer must not be kept to resume.
        download(url, dest, progress=capped, attempts=1)
    except DownloadError as exc:
        part = dest.with_name(dest.name + ".part")
        if part.exists():  # cut short: a list is fetched whole or not at all, never resumed
            raise TrustListError(
                f"Could not download {name} from {url}: the transfer was cut short."
            ) from exc
        raise TrustListError(str(exc)) from exc


def check(name: str, path: Path) -> str:
    """What the file holds ("30 certificates", "7 OIDs"); TrustListError if it is not a list."""
    data = path.read_bytes()
    if FILES[name] == "trust_anchors":
        from cryptography import x509

        try:
            count = len(x509.load_pem_x509_certificates(data))
        except ValueError as exc:
            raise TrustListError(f"{name} is not a list of PEM certificates ({exc}).") from exc
        return f"{count} certificates"
    try:
        lines = [s.strip() for s in data.decode("utf-8").splitlines()]
    except UnicodeDecodeError as exc:
        raise TrustListError(f"{name} is not text.") from exc
    oids = [s for s in lines if s and not s.startswith(("//", "#"))]
    bad = [s for s in oids if not OID.match(s)]
    if bad or not oids:
        raise TrustListError(f"{name} is not a list of OIDs (first bad line: {bad[:1]}).")
    return f"{len(oids)} OIDs"


def _record(staging: Path, found: dict[str, tuple[str, str]], date: str) -> dict:
    """SOURCES.json beside the files: each one's source, date, sha256 and what it holds."""
    bundled = json.loads((BUNDLED / "SOURCES.json").read_text()).get("files") or {}
    record = {
        "updated": date,
        "note": "Refreshed with `manage.py update_trust_list`; the bundled lists are in "
        "ml/signals/trust/. The C2PA test root is never part of these lists.",
        "files": {
            name: {
                "role": FILES[name],
                "source": where,
                "date": date,
                "licence": (bundled.get(name) or {}).get("licence", ""),
                "sha256": file_sha256(staging / name),
                "holds": holds,
            }
            for name, (where, holds) in found.items()
        },
    }
    (staging / "SOURCES.json").write_text(json.dumps(record, indent=2) + "\n")
    return record


def _switch(root: Path, staging: Path) -> None:
    """Point root/LINK at staging in one rename; keep the previous set (a reader may be using
    it), remove older ones. A folder put there by hand is kept aside, never removed."""
    link = root / LINK
    previous = link.resolve() if link.is_symlink() else None
    if link.exists() and not link.is_symlink():
        os.replace(link, root / f"{LINK}.by-hand-{dt.datetime.now():%Y%m%d%H%M%S}")
    fresh = root / f"{PREFIX}link-{staging.name}"
    fresh.symlink_to(staging.name)
    os.replace(fresh, link)
    keep = {staging.resolve(), previous}
    for old in root.glob(f"{PREFIX}*"):
        if old.is_dir() and not old.is_symlink() and old.resolve() not in keep:
            shutil.rmtree(old, ignore_errors=True)
