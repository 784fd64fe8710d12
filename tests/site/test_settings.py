"""Safe defaults: no DEBUG and no known key unless asked for; production settings pass `check --deploy`."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# What docs/deploy.md tells an operator to set behind a TLS-terminating proxy.
PRODUCTION = {
    "SECRET_KEY": secrets.token_urlsafe(50),
    "ALLOWED_HOSTS": "detector.example.org",
    "SECURE_SSL_REDIRECT": "true",
    "SECURE_HSTS_SECONDS": "31536000",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS": "true",
    "SECURE_HSTS_PRELOAD": "true",
    "SESSION_COOKIE_SECURE": "true",
    "CSRF_COOKIE_SECURE": "true",
    "USE_X_FORWARDED_PROTO": "true",
    "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
}
CONFIG_VARIABLES = {*PRODUCTION, "DEBUG", "DJANGO_SETTINGS_MODULE"}


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    """manage.py with the real settings module and only the given configuration."""
    clean = {k: v for k, v in os.environ.items() if k not in CONFIG_VARIABLES}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": "deepfake_site.settings", **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_production_settings_pass_the_deploy_check_without_a_warning():
    result = manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "System check identified no issues (0 silenced)."
    assert "WARNING" not in result.stderr


def test_without_the_https_variables_the_deploy_check_warns():
    plain = {"SECRET_KEY": PRODUCTION["SECRET_KEY"], "ALLOWED_HOSTS": "example.org"}
    result = manage("check", "--deploy", **plain)
    for warning in ("W004", "W008", "W012", "W016"):
        assert f"security.{warning}" in result.stderr


def test_debug_is_off_unless_set():
    show = "from django.conf import settings; print(settings.DEBUG)"
    assert manage("shell", "-c", show, **PRODUCTION).stdout.splitlines()[-1] == "False"
    assert manage("shell", "-c", show, DEBUG="true").stdout.splitlines()[-1] == "True"


def test_without_debug_a_secret_key_is_required_in_one_clear_line():
    result = manage("check")
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "ImproperlyConfigured: Set SECRET_KEY to a long random value "
        "(or DEBUG=true for local development)."
    )


def test_password_reset_links_never_reach_the_log_without_debug():
    """Without DEBUG, an unset EMAIL_BACKEND no longer means the console: the deploy check
    says why, and an explicit console backend is warned about too."""
    production = {k: v for k, v in PRODUCTION.items() if k != "EMAIL_BACKEND"}
    show = "from django.conf import settings; print(settings.EMAIL_BACKEND)"
    backend = manage("shell", "-c", show, **production).stdout.splitlines()[-1]
    assert backend == "accounts.mail.UnconfiguredEmailBackend"
    unset = manage("check", "--deploy", **production)
    assert "accounts.W001" in unset.stderr and "password-reset links" in unset.stderr
    console = {**production, "EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend"}
    assert "accounts.W002" in manage("check", "--deploy", **console).stderr
    debug = manage("shell", "-c", show, DEBUG="true").stdout.splitlines()[-1]
    assert debug == "django.core.mail.backends.console.EmailBackend"
