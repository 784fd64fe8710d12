"""The raw manifest kept in the provenance block: the store as the real reader gives it, bounded
in size, cleaned of what PostgreSQL's JSONB refuses, and refused when nested beyond reason.
Real files from shared/provenance (attributed in its LICENSES.md)."""

from __future__ import annotations

import json

from ml.signals import provenance
from ml.verdict.report import ProvenanceResult
from tests.support import provenance as files

DALLE = "ai-generated__openai-dalle-cloud_surfing_puppy.webp"


def test_the_real_store_is_kept_with_its_size():
    result = files.provenance_block(DALLE)
    manifest = result.c2pa.manifest
    assert manifest["active_manifest"] in manifest["manifests"]
    assert manifest["validation_state"] == "Valid"
    assert result.c2pa.manifest_bytes == len(json.dumps(manifest).encode())
    # The block's round trip through the stored JSON keeps it.
    again = ProvenanceResult.from_dict(json.loads(json.dumps(result.__dict__, default=vars)))
    assert again.c2pa.manifest == manifest


def test_no_credentials_no_manifest():
    result = files.provenance_block("none__adobe-20220124-A.jpg")
    assert result.c2pa.manifest is None and result.c2pa.manifest_bytes == 0


def real_store() -> dict:
    return json.loads(json.dumps(files.provenance_block(DALLE).c2pa.manifest))


def test_a_store_over_the_bound_is_measured_not_kept():
    store = real_store()
    label = store["active_manifest"]
    store["manifests"][label]["title"] = "x" * provenance.MAX_MANIFEST_BYTES
    result = provenance.build({"store": store})
    assert result.c2pa.manifest is None
    assert result.c2pa.manifest_bytes > provenance.MAX_MANIFEST_BYTES
    assert result.c2pa.state == "valid" and result.ai_generation == "declared"


def test_nul_characters_are_removed_everywhere():
    store = real_store()
    label = store["active_manifest"]
    store["manifests"][label]["title"] = "pup\x00py.webp"
    store["manifests"][label]["claim_generator"] = "Open\x00AI"
    result = provenance.build({"store": store})
    assert "\x00" not in json.dumps(result.c2pa.__dict__)
    assert result.c2pa.manifest["manifests"][label]["title"] == "puppy.webp"


def test_a_store_nested_beyond_reason_is_unverifiable_not_an_error():
    store = real_store()
    deep: list = []
    for _ in range(provenance.MAX_STORE_DEPTH + 5):
        deep = [deep]
    store["manifests"][store["active_manifest"]]["assertions"].append(
        {"label": "x.deep", "data": deep}
    )
    result = provenance.build({"store": store})
    assert result.c2pa.state == "unverifiable" and "nested deeper" in result.c2pa.reason
    assert result.c2pa.manifest is None
