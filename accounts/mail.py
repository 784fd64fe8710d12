"""E-mail without a configured backend, outside DEBUG: nothing is sent, nothing is printed.

Django's console backend writes every message, password-reset links with valid tokens
included, to the server log. In production that hands accounts to whoever reads the log, so
without DEBUG and without an explicit EMAIL_BACKEND this backend is used instead: it drops each
message with an error in the log, and `check --deploy` warns (accounts/checks.py).
"""

from __future__ import annotations

import logging

from django.core.mail.backends.base import BaseEmailBackend

logger = logging.getLogger(__name__)

CONSOLE = "django.core.mail.backends.console.EmailBackend"
UNCONFIGURED = "accounts.mail.UnconfiguredEmailBackend"


class UnconfiguredEmailBackend(BaseEmailBackend):
    def send_messages(self, email_messages) -> int:
        for message in email_messages:
            logger.error(
                "E-mail to %d recipient(s) not sent: set EMAIL_BACKEND (docs/deploy.md).",
                len(message.recipients()),
            )
        return 0
