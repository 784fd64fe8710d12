"""Tests share helpers through tests/support/, never by importing each other.

A test module or a conftest.py is imported by pytest in its own way (fixtures, module-level
marks, collection order); importing one from elsewhere runs its fixtures' module twice and
ties unrelated tests together. Imports are read with `ast`, those inside functions included.
"""

from __future__ import annotations

import ast
from pathlib import Path

from tests.support.imports import ROOT, imported_names, module_name

FOLDERS = ("tests", "benchmarks")


def is_test_module(path: Path) -> bool:
    return path.name == "conftest.py" or (path.name.startswith("test_") and path.suffix == ".py")


def known_test_modules() -> set[str]:
    return {module_name(path) for path in (ROOT / "tests").rglob("*.py") if is_test_module(path)}


def imports_of_test_modules(source: str, name: str, known: set[str]) -> set[str]:
    """The test modules and conftest files that `source` (the module `name`) imports."""
    tree = ast.parse(source)
    return imported_names(tree, name, is_package=False) & known


def test_no_module_imports_a_test_module_or_a_conftest():
    known = known_test_modules()
    offenders = {}
    for folder in FOLDERS:
        for path in sorted((ROOT / folder).rglob("*.py")):
            name = module_name(path)
            if found := imports_of_test_modules(path.read_text(), name, known):
                offenders[name] = sorted(found)
    assert offenders == {}, "move what these share into tests/support/"


def test_the_check_sees_every_form_of_import():
    known = known_test_modules()
    assert {"tests.conftest", "tests.ml.test_pipeline", "tests.detector.conftest"} <= known
    source = """
from tests.conftest import user
from tests.ml import test_pipeline
def helper():
    import tests.detector.conftest
from tests.support import mediagen
"""
    assert imports_of_test_modules(source, "tests.ml.test_x", known) == {
        "tests.conftest",
        "tests.ml.test_pipeline",
        "tests.detector.conftest",
    }
