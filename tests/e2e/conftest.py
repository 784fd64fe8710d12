"""Browser tests: real headless Chromium (Debian's package) driven by Playwright.

`bash scripts/browser` installs Chromium. Screenshots go to test-artifacts/ (not committed).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture(scope="package")
def browser():
    if not shutil.which(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is missing: run `bash scripts/browser` to install it")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an asyncio loop in the test thread; the ORM calls the tests
    # make between browser steps are ordinary synchronous code, so Django's async guard is
    # lifted while the browser runs, and restored for the tests (and processes) after these.
    with pytest.MonkeyPatch.context() as env, sync_playwright() as playwright:
        env.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def new_page(browser):
    """Open pages in fresh browser contexts (one per person), closed after the test."""
    contexts = []

    def open_page():
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        context.set_default_timeout(30_000)
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()


@pytest.fixture
def screenshot():
    ARTIFACTS.mkdir(exist_ok=True)

    def save(page, name: str) -> Path:
        path = ARTIFACTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return save


@pytest.fixture
def tiny_frame_model(tmp_path):
    """A tiny, untrained Keras classifier installed as the active model, for this test only.

    It lets the browser test exercise the whole scoring path (and the timeline chart) in
    seconds; its scores mean nothing, which is why it never leaves the test.
    """
    import keras

    from detector.models import DetectorModel
    from ml.models.checksum import file_sha256

    size = 64
    keras.utils.set_random_seed(7)
    inputs = keras.Input((size, size, 3))
    hidden = keras.layers.Conv2D(4, 3, activation="relu")(inputs)
    hidden = keras.layers.GlobalAveragePooling2D()(hidden)
    model = keras.Model(inputs, keras.layers.Dense(1, activation="sigmoid")(hidden))
    path = tmp_path / "tiny.keras"
    model.save(path)
    sha256 = file_sha256(path)
    card = {
        "name": "tiny-test",
        "version": "0",
        "arch": "tiny_cnn",
        "kind": "frame",
        "input_size": size,
        "preprocessing": "unit",
        "threshold": 0.5,
        "sha256": sha256,
    }
    return DetectorModel.objects.create(
        name="tiny-test",
        version="0",
        arch="tiny_cnn",
        kind="frame",
        file_path=str(path),
        sha256=sha256,
        card=card,
        active=True,
    )
