"""Provenance in the history: a badge per analysis and a filter (has credentials, AI declared,
invalid), read from the stored Report's `provenance` block. Real files from shared/provenance
(attributed in its LICENSES.md) read by the real c2pa reader."""

from __future__ import annotations

import re

import pytest

from detector.selectors import analysis_list_for
from tests.support import provenance as files

pytestmark = pytest.mark.django_db

DALLE = "ai-generated__openai-dalle-cloud_surfing_puppy.webp"
BROKEN = "invalid-signature__adobe-20220124-E-sig-CA.jpg"
EDITED = "valid-edited__adobe-20220124-CAI.jpg"
A1111 = "metadata-ai__a1111-parameters-1x1.png"
PLAIN = "none__adobe-20220124-A.jpg"


@pytest.fixture
def history(user, other_user, make_analysis):
    made = files.finished_with_provenance(user, files.HISTORY_FILES)
    # Neither a queued analysis (no Report yet) nor someone else's declared file may match.
    made["queued.jpg"] = make_analysis(user, name="queued.jpg")
    files.finished_with_provenance(other_user, [DALLE])
    return made


def names(queryset) -> set[str]:
    return {a.original_filename for a in queryset}


def test_the_blocks_are_what_the_filters_expect():
    for name, (state, ai) in files.HISTORY_FILES.items():
        block = files.provenance_block(name)
        assert (block.c2pa.state, block.ai_generation) == (state, ai), name


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("credentials", {DALLE, BROKEN, EDITED}),
        ("ai-declared", {DALLE}),
        ("invalid", {BROKEN}),
        ("", {DALLE, BROKEN, EDITED, A1111, PLAIN, "queued.jpg"}),
        ("no-such-filter", {DALLE, BROKEN, EDITED, A1111, PLAIN, "queued.jpg"}),
    ],
)
def test_selector_filters_on_the_stored_block(user, history, value, expected):
    assert names(analysis_list_for(user=user, filters={"provenance": value})) == expected


def test_selector_annotates_each_analysis_for_its_badge(user, history):
    seen = {
        a.original_filename: (a.provenance_state, a.provenance_ai)
        for a in analysis_list_for(user=user)
    }
    assert seen[DALLE] == ("valid", "declared")
    assert seen[BROKEN] == ("invalid", "none")
    assert seen[A1111] == ("absent", "hinted")
    assert seen["queued.jpg"] == (None, None)


def rows(html: str) -> dict[str, str]:
    """File name → its history row's HTML."""
    body = html.split("<tbody>")[1].split("</tbody>")[0]
    found = {}
    for row in re.split(r"<tr[ >]", body)[1:]:
        for name in (*files.HISTORY_FILES, "queued.jpg"):
            if f">{name}</a>" in row:
                found[name] = row
    return found


def test_history_page_shows_a_badge_per_row(user_client, history):
    html = user_client.get("/analyses/").content.decode()
    found = rows(html)
    assert 'data-provenance="ai-declared"' in found[DALLE] and "AI declared" in found[DALLE]
    assert "Credentials invalid" in found[BROKEN]
    assert 'data-provenance="valid"' in found[EDITED]
    assert "AI hinted" in found[A1111]
    assert "data-provenance" not in found[PLAIN] + found["queued.jpg"]


def test_history_page_filter(user_client, history):
    page = user_client.get("/analyses/", {"provenance": "ai-declared"}).content.decode()
    assert set(rows(page)) == {DALLE}
    assert '<option value="ai-declared" selected>AI generation declared</option>' in page
    page = user_client.get("/analyses/", {"provenance": "invalid"}).content.decode()
    assert set(rows(page)) == {BROKEN}
    # The filter survives paging links.
    assert (
        "provenance=invalid"
        in user_client.get("/analyses/", {"provenance": "invalid", "page": 1}).context["query"]
    )
