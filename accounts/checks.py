"""`check --deploy`: e-mail that would leak sign-in secrets, or go nowhere."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Tags, Warning, register

from accounts.mail import CONSOLE, UNCONFIGURED


@register(Tags.security, deploy=True)
def email_backend_check(app_configs, **kwargs) -> list[Warning]:
    if settings.DEBUG:
        return []
    if settings.EMAIL_BACKEND == UNCONFIGURED:
        return [
            Warning(
                "EMAIL_BACKEND is not set, so no e-mail is sent (password resets included).",
                hint="Set EMAIL_BACKEND (and EMAIL_HOST etc.). Without DEBUG the console "
                "backend is refused: it would print password-reset links to the log.",
                id="accounts.W001",
            )
        ]
    if settings.EMAIL_BACKEND == CONSOLE:
        return [
            Warning(
                "EMAIL_BACKEND is the console backend: e-mails, password-reset links with "
                "valid tokens included, are printed to the server log instead of being sent.",
                hint="Use an SMTP or API backend in production.",
                id="accounts.W002",
            )
        ]
    return []
