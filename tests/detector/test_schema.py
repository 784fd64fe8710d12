"""The OpenAPI 3 schema: it generates without warnings, validates, and lists every endpoint."""

from __future__ import annotations

import pytest
import yaml
from django.core.management import call_command

pytestmark = pytest.mark.django_db

ENDPOINTS = {
    "/api/v1/auth/token/": {"post"},
    "/api/v1/analyses/": {"get", "post"},
    "/api/v1/analyses/{id}/": {"get", "delete"},
    "/api/v1/analyses/{id}/reanalyze/": {"post"},
    "/api/v1/analyses/{id}/report/": {"post"},
    "/api/v1/models/": {"get"},
    "/api/v1/webhook-secret/": {"get"},
}


@pytest.fixture(scope="module")
def schema(django_db_blocker, tmp_path_factory) -> dict:
    out = tmp_path_factory.mktemp("schema") / "schema.yaml"
    with django_db_blocker.unblock():
        # --validate checks the result against the OpenAPI 3 JSON schema; --fail-on-warn makes
        # any endpoint drf-spectacular cannot describe an error.
        call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    return yaml.safe_load(out.read_text())


def test_schema_is_openapi_3(schema):
    assert schema["openapi"].startswith("3.")
    assert schema["info"]["title"] == "Deepfake detection API"


def test_every_endpoint_is_described(schema):
    paths = schema["paths"]
    for path, methods in ENDPOINTS.items():
        assert path in paths, path
        assert methods <= set(paths[path]), (path, set(paths[path]))


def test_upload_is_multipart_with_its_fields(schema):
    upload = schema["paths"]["/api/v1/analyses/"]["post"]
    body = upload["requestBody"]["content"]["multipart/form-data"]["schema"]["$ref"]
    fields = schema["components"]["schemas"][body.rsplit("/", 1)[1]]["properties"]
    assert {"file", "callback_url", "frames"} <= set(fields)
    assert fields["file"]["format"] == "binary"
    assert "202" in upload["responses"]


def test_list_documents_the_history_filters(schema):
    names = {p["name"] for p in schema["paths"]["/api/v1/analyses/"]["get"]["parameters"]}
    assert {
        "status",
        "verdict",
        "media_type",
        "date_from",
        "date_to",
        "q",
        "provenance",
        "page",
    } <= names
    provenance = next(
        p
        for p in schema["paths"]["/api/v1/analyses/"]["get"]["parameters"]
        if p["name"] == "provenance"
    )
    assert provenance["schema"]["enum"] == ["ai-declared", "credentials", "invalid"]


def test_token_auth_is_declared(schema):
    assert "tokenAuth" in schema["components"]["securitySchemes"]


def test_swagger_ui_is_served_without_a_cdn(client):
    html = client.get("/api/v1/docs/").content.decode()
    assert "swagger-ui" in html
    assert "/static/drf_spectacular_sidecar/" in html
    assert "cdn." not in html and "unpkg" not in html
    assert client.get("/api/v1/schema/").status_code == 200


def _component(schema: dict, ref: str) -> dict:
    return schema["components"]["schemas"][ref.rsplit("/", 1)[1]]


def _operations(schema: dict):
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            yield path, method, operation


def test_the_token_endpoint_is_anonymous(schema):
    token = schema["paths"]["/api/v1/auth/token/"]["post"]
    assert token["security"] == [{}]
    assert {"200", "400", "429"} <= set(token["responses"])


def test_every_error_is_documented_with_one_shape(schema):
    for path, method, operation in _operations(schema):
        responses = operation["responses"]
        if path != "/api/v1/auth/token/":
            assert {"401", "403"} <= set(responses), (path, method)
        if "{id}" in path:
            assert "404" in responses, (path, method)
        if "requestBody" in operation and path != "/api/v1/analyses/{id}/reanalyze/":
            assert "400" in responses, (path, method)
        for status, response in responses.items():
            if int(status) >= 400:
                body = response["content"]["application/json"]["schema"]["$ref"]
                assert body == "#/components/schemas/Error", (path, method, status)
    error = schema["components"]["schemas"]["Error"]
    assert set(error["required"]) == {"detail", "code"}
    assert "fields" in error["properties"]


def test_uploads_document_their_headers_and_throttling(schema):
    for path in ("/api/v1/analyses/", "/api/v1/analyses/{id}/reanalyze/"):
        responses = schema["paths"][path]["post"]["responses"]
        assert "Location" in responses["202"]["headers"], path
        assert "Retry-After" in responses["429"]["headers"], path
    report = schema["paths"]["/api/v1/analyses/{id}/report/"]["post"]["responses"]
    assert "409" in report


def test_blank_and_null_fields_are_allowed_by_the_schema(schema):
    fields = _component(schema, "#/components/schemas/AnalysisDetail")["properties"]
    blank = {"$ref": "#/components/schemas/BlankEnum"}
    assert blank in fields["verdict"]["oneOf"]
    assert blank in fields["review_label"]["oneOf"]
    assert fields["previous"]["nullable"] is True
    assert "format" not in fields["callback_url"]
