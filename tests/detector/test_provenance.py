"""Provenance on the platform: the stored upload is the sent bytes, the API detail and the
result callback carry the `provenance` block, and review flags read its codes. Real files from
shared/provenance (attributed in its LICENSES.md), the real worker and the real c2pa reader."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile

from detector.flags import AI_DECLARED, AI_HINTED, C2PA_INVALID, FAKE, review_reasons
from detector.models import Analysis
from detector.services.webhooks import callback_payload
from ml.signals import provenance
from ml.verdict.fusion import Scores, fuse
from tests.support import provenance as files
from tests.support.api import LIST_URL, detail_url

pytestmark = pytest.mark.django_db

DALLE = "ai-generated__openai-dalle-cloud_surfing_puppy.webp"


def upload(api, name: str) -> tuple[Analysis, bytes]:
    sent = (files.provenance_folder() / name).read_bytes()
    response = api.post(
        LIST_URL,
        {"file": SimpleUploadedFile(name, sent, content_type="application/octet-stream")},
        format="multipart",
    )
    assert response.status_code == 202, response.content
    return Analysis.objects.get(pk=response.json()["id"]), sent


def test_openai_image_through_the_api_is_fake_flagged_and_carried(
    api, rq_worker, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        analysis, sent = upload(api, DALLE)
    stored = (Path(settings.MEDIA_ROOT) / analysis.media_file).read_bytes()
    # Byte-identical: nothing re-encodes the upload before the credentials are read.
    assert hashlib.sha256(stored).hexdigest() == hashlib.sha256(sent).hexdigest()
    rq_worker()
    analysis.refresh_from_db()
    assert analysis.status == "done" and analysis.verdict == "fake" and analysis.flagged
    body = api.get(detail_url(analysis)).json()
    block = body["result"]["provenance"]
    assert block["c2pa"]["state"] == "valid" and block["ai_generation"] == "declared"
    assert block["c2pa"]["issuer"] == "OpenAI"
    assert body["result"]["reasons"][0].startswith("Content Credentials signed by OpenAI")
    assert callback_payload(analysis=analysis)["result"]["provenance"] == block
    assert (Path(settings.MEDIA_ROOT) / analysis.media_file).read_bytes() == sent


def test_result_page_shows_the_provenance_panel(
    api, user_client, rq_worker, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        analysis, _ = upload(api, "ai-edited__firefly-photoshop-generative-fill.jpg")
    rq_worker()
    html = user_client.get(f"/analyses/{analysis.pk}/").content.decode()
    panel = html.split('id="provenance-heading"')[1].split("</section>")[0]
    assert "Content Credentials: valid" in panel and "Adobe Inc." in panel
    assert "Edited with Adobe Firefly" in panel and "compositeWithTrainedAlgorithmicMedia" in panel
    assert "Ingredients" in panel and "signed by Adobe Inc." in panel
    assert 'data-ai-generation="declared-composite"' in html


def flags_for(name: str) -> list[str]:
    """The review reasons of a face-less file, from its real provenance evidence and `fuse`."""
    path = files.provenance_folder() / name
    mime = {".jpg": "image/jpeg", ".png": "image/png", ".webp": "image/webp"}[path.suffix]
    result = provenance.read(path, mime)
    fusion = fuse(faces_found=0, scores=Scores(), evidence=provenance.evidence(result))
    report = {"verdict": fusion.verdict, "evidence": [e.to_dict() for e in fusion.evidence]}
    return review_reasons(report)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (DALLE, [FAKE, AI_DECLARED]),
        ("invalid-signature__adobe-20220124-E-sig-CA.jpg", [C2PA_INVALID]),
        ("metadata-ai__a1111-parameters-1x1.png", [AI_HINTED]),
        ("none__adobe-20220124-A.jpg", []),
        ("valid-edited__adobe-20220124-CAI.jpg", []),
    ],
)
def test_review_flags_read_provenance_codes(name, expected):
    assert flags_for(name) == expected
