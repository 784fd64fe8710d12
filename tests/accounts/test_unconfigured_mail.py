"""Without a configured backend in production, a password-reset link is neither sent to the
wrong place nor printed to the log (before: the console backend printed it)."""

from __future__ import annotations

import logging

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_password_reset_link_is_not_printed_to_the_log(client, user, settings, capsys, caplog):
    settings.EMAIL_BACKEND = "accounts.mail.UnconfiguredEmailBackend"
    with caplog.at_level(logging.ERROR, logger="accounts.mail"):
        response = client.post(reverse("password_reset"), {"email": user.email})
    assert response.status_code == 302
    printed = capsys.readouterr()
    assert "/reset/" not in printed.out + printed.err + caplog.text
    assert "not sent: set EMAIL_BACKEND" in caplog.text
