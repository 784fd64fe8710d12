"""The raw manifest link: the owner gets the kept manifest JSON, anyone else a 404, staff who
may view the analysis get it from the admin. Real files from shared/provenance (attributed in
its LICENSES.md) read by the real c2pa reader; results stored in PostgreSQL."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth.models import Permission

from detector import services
from ml.signals import provenance
from tests.support import provenance as files
from tests.support.reports import report_dict
from tests.support.uploads import as_upload

pytestmark = pytest.mark.django_db

DALLE = "ai-generated__openai-dalle-cloud_surfing_puppy.webp"
PLAIN = "none__adobe-20220124-A.jpg"


@pytest.fixture
def made(user):
    return files.finished_with_provenance(user, [DALLE, PLAIN])


def url(analysis) -> str:
    return f"/analyses/{analysis.pk}/c2pa-manifest.json"


def test_owner_gets_the_kept_manifest(user_client, made):
    response = user_client.get(url(made[DALLE]))
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    manifest = json.loads(response.content)
    assert manifest == files.provenance_block(DALLE).c2pa.manifest
    issuers = [m["signature_info"]["issuer"] for m in manifest["manifests"].values()]
    assert "OpenAI" in issuers


def test_the_result_page_links_to_it_only_when_kept(user_client, made):
    page = user_client.get(f"/analyses/{made[DALLE].pk}/").content.decode()
    assert f'href="{url(made[DALLE])}" data-manifest-link' in page
    page = user_client.get(f"/analyses/{made[PLAIN].pk}/").content.decode()
    assert "data-manifest-link" not in page
    assert user_client.get(url(made[PLAIN])).status_code == 404


def test_nobody_else_gets_it(client, other_client, made):
    assert other_client.get(url(made[DALLE])).status_code == 404
    anonymous = client.get(url(made[DALLE]))
    assert anonymous.status_code == 302 and "/login" in anonymous["Location"]


def test_staff_reviewer_gets_it_from_the_admin(client, staff_user, made):
    admin_url = f"/admin/detector/analysis/{made[DALLE].pk}/c2pa-manifest.json"
    client.force_login(staff_user)
    assert client.get(admin_url).status_code == 404  # staff without the view permission
    staff_user.user_permissions.add(Permission.objects.get(codename="view_analysis"))
    response = client.get(admin_url)
    assert response.status_code == 200
    assert json.loads(response.content)["active_manifest"]
    change = client.get(f"/admin/detector/analysis/{made[DALLE].pk}/change/").content.decode()
    assert f'href="{admin_url}" data-manifest-link' in change


def test_a_manifest_with_nul_characters_is_stored(user, user_client):
    """PostgreSQL's JSONB refuses NUL: the kept manifest must not fail the analysis."""
    store = json.loads(json.dumps(files.provenance_block(DALLE).c2pa.manifest))
    store["manifests"][store["active_manifest"]]["title"] = "pup\x00py.webp"
    block = provenance.build({"store": store})
    content = (files.provenance_folder() / DALLE).read_bytes()
    analysis = services.analysis_create(owner=user, uploaded_file=as_upload(DALLE, content))
    services.analysis_finish(analysis=analysis, report=report_dict(provenance=block))
    analysis.refresh_from_db()
    assert analysis.status == "done"
    kept = json.loads(user_client.get(url(analysis)).content)
    assert kept["manifests"][kept["active_manifest"]]["title"] == "puppy.webp"
