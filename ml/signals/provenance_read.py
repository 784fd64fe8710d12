"""Read a file's Content Credentials and generation metadata, in a bounded child process.

Run as `python -m ml.signals.provenance_read PATH MIME TRUST_DIR`; prints one JSON object:
`{"library": ..., "store": <c2pa manifest store> | null, "error": str | null,
"thumbnails": {identifier: base64}, "hints": [{source, key, value}, ...]}`.

Everything here parses bytes an uploader chose, so it runs in its own process with its own
memory and CPU limits (ml/signals/provenance.py starts it with a wall-clock timeout): a hostile
manifest can kill this process, never the worker. It reads offline: remote manifests and OCSP
are never fetched, and no URL found in a file is ever opened.
"""

from __future__ import annotations

import base64
import io
import json
import re
import resource
import sys
from importlib.metadata import version
from pathlib import Path
from typing import Any

MEMORY_LIMIT_BYTES = 2 * 1024**3  # address space; the native library alone maps ~300 MB
CPU_LIMIT_S = 10
MAX_THUMBNAILS = 8
MAX_THUMBNAIL_BYTES = 96 * 1024
MAX_HINT_CHARS = 400
OFFLINE = {"remote_manifest_fetch": False, "ocsp_fetch": False}

# PNG text keys written by local generators (docs/verdict.md section 8 lists the tools).
GENERATOR_TEXT_KEYS = (
    "parameters",  # AUTOMATIC1111 / Forge infotext, Fooocus JSON
    "fooocus_scheme",
    "prompt",  # ComfyUI
    "workflow",
    "invokeai_metadata",  # InvokeAI
    "sd-metadata",
    "Dream",
    "Software",  # NovelAI
    "Source",
    "Comment",
)
XMP_FIELDS = ("DigitalSourceType", "AISystemUsed", "AISystemVersionUsed", "Credit")
EXIF_TAGS = {0x0131: "Software", 0x010F: "Make", 0x0110: "Model"}
EXIF_IFD, USER_COMMENT = 0x8769, 0x9286


def settings(trust_dir: Path) -> dict[str, Any]:
    """Offline verification against every *.pem anchor list and the EKU config in trust_dir."""
    anchors = "\n".join(p.read_text() for p in sorted(trust_dir.glob("*.pem")))
    trust: dict[str, str] = {"trust_anchors": anchors} if anchors.strip() else {}
    eku = trust_dir / "valid_eku_oids.cfg"
    if eku.is_file():
        trust["trust_config"] = eku.read_text()
    return {"verify": OFFLINE, "trust": trust}


def read_c2pa(path: Path, mime: str, trust_dir: Path) -> dict[str, Any]:
    import c2pa  # imported here, after the limits are set

    out: dict[str, Any] = {"store": None, "error": None, "thumbnails": {}}
    context = c2pa.Context.from_dict(settings(trust_dir))
    with path.open("rb") as stream:
        try:
            reader = c2pa.Reader.try_create(mime, stream, context=context)
        except c2pa.C2paError as exc:
            out["error"] = f"{type(exc).__name__}: {exc}"
            return out
        if reader is None:
            return out
        with reader:
            out["store"] = json.loads(reader.json())
            out["thumbnails"] = _thumbnails(reader, out["store"])
    return out


def _thumbnails(reader: Any, store: dict[str, Any]) -> dict[str, str]:
    """Ingredient thumbnails the manifests hold (small JPEG/PNG), base64, by identifier."""
    from c2pa import C2paError

    found: dict[str, str] = {}
    for manifest in (store.get("manifests") or {}).values():
        for ingredient in manifest.get("ingredients") or []:
            ident = (ingredient.get("thumbnail") or {}).get("identifier")
            if not ident or ident in found or len(found) >= MAX_THUMBNAILS:
                continue
            buffer = io.BytesIO()
            try:
                reader.resource_to_stream(ident, buffer)
            except C2paError:  # a missing resource only costs the picture
                buffer = io.BytesIO()
            if 0 < buffer.tell() <= MAX_THUMBNAIL_BYTES:
                found[ident] = base64.b64encode(buffer.getvalue()).decode("ascii")
    return found


def read_hints(path: Path) -> list[dict[str, str]]:
    """Unsigned metadata: PNG text chunks, EXIF, XMP and IPTC, as {source, key, value}."""
    from PIL import Image, IptcImagePlugin

    hints: list[dict[str, str]] = []
    with Image.open(path) as image:
        text = getattr(image, "text", None) or {}
        for key in GENERATOR_TEXT_KEYS:
            if isinstance(text.get(key), str):
                hints.append(_hint("png-text", key, text[key]))
        exif = image.getexif()
        for tag, key in EXIF_TAGS.items():
            if exif.get(tag):
                hints.append(_hint("exif", key, exif[tag]))
        comment = exif.get_ifd(EXIF_IFD).get(USER_COMMENT)
        if comment:
            hints.append(_hint("exif", "UserComment", _user_comment(comment)))
        xmp = image.info.get("xmp") or text.get("XML:com.adobe.xmp") or b""
        hints += _xmp_hints(xmp.decode("utf-8", "replace") if isinstance(xmp, bytes) else xmp)
        iptc = IptcImagePlugin.getiptcinfo(image) if image.format == "JPEG" else None
        credit = (iptc or {}).get((2, 110))
        if credit:
            hints.append(_hint("iptc", "Credit", credit))
    return [h for h in hints if h["value"]]


def _hint(source: str, key: str, value: Any) -> dict[str, str]:
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    value = str(value).replace("\x00", "").strip()
    return {"source": source, "key": key, "value": value[:MAX_HINT_CHARS]}


def _user_comment(raw: Any) -> str:
    """EXIF UserComment: an 8-byte charset prefix, then (for UNICODE) UTF-16 text."""
    if not isinstance(raw, bytes):
        return str(raw)
    prefix, body = raw[:8], raw[8:]
    if prefix.startswith(b"UNICODE"):
        little = body[:2] in (b"\xff\xfe",) or (len(body) > 1 and body[1:2] == b"\x00")
        return body.decode("utf-16-le" if little else "utf-16-be", "replace")
    return body.decode("utf-8", "replace")


def _xmp_hints(xmp: str) -> list[dict[str, str]]:
    """The XMP fields that speak of AI, in attribute or element form (regex: no XML parser
    runs on untrusted markup, so no entity expansion)."""
    hints = []
    for name in XMP_FIELDS:
        pattern = rf"(?:\w+:)?{name}\s*=\s*\"([^\"]*)\"|<(?:\w+:)?{name}>\s*([^<]*)<"
        for match in re.finditer(pattern, xmp[:1_000_000]):
            hints.append(_hint("xmp", name, match.group(1) or match.group(2)))
    return hints


def _limit() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT_BYTES, MEMORY_LIMIT_BYTES))
    resource.setrlimit(resource.RLIMIT_CPU, (CPU_LIMIT_S, CPU_LIMIT_S))


def main(argv: list[str]) -> int:
    _limit()
    path, mime, trust_dir = Path(argv[0]), argv[1], Path(argv[2])
    result = read_c2pa(path, mime, trust_dir)
    import c2pa

    result["library"] = f"c2pa-python {version('c2pa-python')} (c2pa-rs {c2pa.sdk_version()})"
    try:
        result["hints"] = read_hints(path) if mime.startswith("image/") else []
    # Pillow raises many kinds of error on hostile metadata; in this child, any of them only
    # costs the hints, never the credentials already read.
    except Exception as exc:  # noqa: BLE001
        result["hints"], result["hints_error"] = [], f"{type(exc).__name__}: {exc}"
    sys.stdout.write(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
