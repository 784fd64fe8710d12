"""The provenance filter in the API (`?provenance=`) and the admin's review queue: the same
values as the history, read from the stored Report's provenance block. Real files from
shared/provenance (attributed in its LICENSES.md) read by the real c2pa reader."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission

from tests.support import provenance as files
from tests.support.api import LIST_URL

pytestmark = pytest.mark.django_db

DALLE = "ai-generated__openai-dalle-cloud_surfing_puppy.webp"
BROKEN = "invalid-signature__adobe-20220124-E-sig-CA.jpg"
EDITED = "valid-edited__adobe-20220124-CAI.jpg"
CHANGELIST = "/admin/detector/analysis/"


@pytest.fixture
def history(alice, bob):
    files.finished_with_provenance(bob, [DALLE, BROKEN])  # never in alice's list
    return files.finished_with_provenance(alice, files.HISTORY_FILES)


def listed(response) -> set[str]:
    assert response.status_code == 200, response.content
    return {item["original_filename"] for item in response.json()["results"]}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("credentials", {DALLE, BROKEN, EDITED}),
        ("ai-declared", {DALLE}),
        ("invalid", {BROKEN}),
    ],
)
def test_api_list_filters_on_provenance(api, history, value, expected):
    assert listed(api.get(LIST_URL, {"provenance": value})) == expected


def test_api_filter_combines_and_refuses_unknown_values(api, history):
    assert listed(api.get(LIST_URL, {"provenance": "credentials", "q": "adobe"})) == {
        BROKEN,
        EDITED,
    }
    assert len(listed(api.get(LIST_URL))) == len(files.HISTORY_FILES)
    refused = api.get(LIST_URL, {"provenance": "maybe"})
    assert refused.status_code == 400
    assert "provenance" in refused.content.decode()


@pytest.fixture
def reviewer_client(client, staff_user):
    staff_user.user_permissions.add(Permission.objects.get(codename="review_analysis"))
    client.force_login(staff_user)
    return client


def test_admin_queue_filters_on_provenance_across_owners(reviewer_client, history):
    page = reviewer_client.get(CHANGELIST)
    assert "By provenance" in page.content.decode()
    assert "?provenance=ai-declared" in page.content.decode()

    def shown(value: str) -> list[str]:
        result = reviewer_client.get(CHANGELIST, {"provenance": value}).context["cl"].result_list
        return sorted(a.original_filename for a in result)

    assert shown("ai-declared") == [DALLE, DALLE]  # alice's and bob's
    assert shown("invalid") == [BROKEN, BROKEN]
    assert shown("credentials") == sorted([DALLE, DALLE, BROKEN, BROKEN, EDITED])
