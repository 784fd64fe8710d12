"""Real Content Credentials files for the provenance tests: the shared C2PA test set, and files
signed here with c2pa-python's Builder and the public C2PA *test* key (shared/provenance/trust/
test-signing; its private key is public, so only a validator given the test root trusts it).

The shared files come from public repositories under their own licences, attributed in
shared/provenance/LICENSES.md (c2pa-org/public-testfiles CC BY-SA 4.0; contentauth/c2pa-rs and
c2pa-python MIT; microsoft/c2pa-extension-validator MIT; Yogesh1290/huminify-c2pa-detector MIT;
comfyanonymous/ComfyUI_examples permissive; d3x-at/sd-parsers MIT).
"""

from __future__ import annotations

import functools
import json
import os
import shutil
from pathlib import Path

import pytest

IPTC = "http://cv.iptc.org/newscodes/digitalsourcetype/"


def provenance_folder() -> Path:
    folder = Path(
        os.environ.get("PROVENANCE_MIRROR")
        or Path(__file__).resolve().parents[2].parent / "shared" / "provenance"
    )
    if not (folder / "expected.json").is_file():
        pytest.fail(
            f"The provenance test files are not in {folder}: check out the shared/ folder "
            "beside the repository, or set PROVENANCE_MIRROR to a folder holding them."
        )
    return folder


def test_trust_dir(folder: Path) -> Path:
    """A trust folder holding only the C2PA test root and the EKU list: tests only."""
    trust = provenance_folder() / "trust"
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(trust / "c2pa-test-root-bundle.pem", folder / "test-root.pem")
    shutil.copyfile(trust / "valid_eku_oids.cfg", folder / "valid_eku_oids.cfg")
    return folder


def sign(
    src: Path, dst: Path, mime: str, source_type: str, *, agent: str = "Test Generator"
) -> Path:
    """Sign `src` into `dst` with one c2pa.created action of the given IPTC source type."""
    import c2pa

    signing = provenance_folder() / "trust" / "test-signing"
    info = c2pa.C2paSignerInfo(
        c2pa.C2paSigningAlg.ES256,
        (signing / "es256_certs.pem").read_bytes(),
        (signing / "es256_private.key").read_bytes(),
        None,
    )
    manifest = {
        "claim_generator_info": [{"name": "provenance-tests", "version": "1.0"}],
        "title": dst.name,
        "assertions": [
            {
                "label": "c2pa.actions",
                "data": {
                    "actions": [
                        {
                            "action": "c2pa.created",
                            "softwareAgent": agent,
                            "digitalSourceType": IPTC + source_type,
                        }
                    ]
                },
            }
        ],
    }
    signer = c2pa.Signer.from_info(info)
    with (
        c2pa.Builder(json.dumps(manifest)) as builder,
        src.open("rb") as inp,
        dst.open("w+b") as out,
    ):
        builder.sign(signer, mime, inp, out)
    return dst


def webp_manifest_store(path: Path) -> bytes:
    """The raw JUMBF manifest store of a WebP file (its RIFF "C2PA" chunk)."""
    data = path.read_bytes()
    at = 12
    while at + 8 <= len(data):
        kind, size = data[at : at + 4], int.from_bytes(data[at + 4 : at + 8], "little")
        if kind == b"C2PA":
            return data[at + 8 : at + 8 + size]
        at += 8 + size + (size & 1)
    raise ValueError(f"{path} holds no C2PA chunk")


def png_with_store(png: Path, dst: Path, store: bytes) -> Path:
    """`png` with `store` as its C2PA chunk ("caBX"), placed before IEND."""
    import zlib

    data = png.read_bytes()
    end = data.rindex(b"IEND") - 4
    chunk = b"caBX" + store
    packed = len(store).to_bytes(4, "big") + chunk + zlib.crc32(chunk).to_bytes(4, "big")
    dst.write_bytes(data[:end] + packed + data[end:])
    return dst


def bogus_store(size: int) -> bytes:
    """A JUMBF superbox that declares itself a C2PA manifest store and holds `size` zero bytes."""
    label = b"c2pa\x00"
    description = b"jumd" + bytes.fromhex("6332706100110010800000aa00389b71") + b"\x03" + label
    desc_box = (8 + len(description) - 4).to_bytes(4, "big") + description
    body = desc_box + (8 + size).to_bytes(4, "big") + b"json" + bytes(size)
    return (8 + len(body)).to_bytes(4, "big") + b"jumb" + body


# Shared files for the history, API and admin filters: name → (c2pa.state, ai_generation).
HISTORY_FILES = {
    "ai-generated__openai-dalle-cloud_surfing_puppy.webp": ("valid", "declared"),
    "invalid-signature__adobe-20220124-E-sig-CA.jpg": ("invalid", "none"),
    "valid-edited__adobe-20220124-CAI.jpg": ("valid", "none"),
    "metadata-ai__a1111-parameters-1x1.png": ("absent", "hinted"),
    "none__adobe-20220124-A.jpg": ("absent", "none"),
}
MIMES = {".jpg": "image/jpeg", ".png": "image/png", ".webp": "image/webp"}


@functools.cache
def provenance_block(name: str):
    """The real reader's ProvenanceResult for a shared file (read once per test run)."""
    from ml.signals import provenance

    path = provenance_folder() / name
    return provenance.read(path, MIMES[path.suffix])


def finished_with_provenance(owner, names) -> dict:
    """One finished analysis per shared file, its Report holding that file's real provenance
    block (the face classifiers are not run: the filters read only the block)."""
    from detector import services
    from tests.support.reports import report_dict
    from tests.support.uploads import as_upload

    made = {}
    for name in names:
        path = provenance_folder() / name
        analysis = services.analysis_create(
            owner=owner, uploaded_file=as_upload(name, path.read_bytes())
        )
        report = report_dict("inconclusive", None, provenance=provenance_block(name))
        services.analysis_finish(analysis=analysis, report=report)
        made[name] = analysis
    return made
