"""The password of every test user (tests/conftest.py makes the users)."""

PASSWORD = "correct-Horse-battery-42"


def activation_path(outbox) -> str:
    """The activation link's path in the last sign-up e-mail (accounts/services.py)."""
    import re

    return re.search(r"https?://[^/\s]+(/accounts/signup/activate/\S+)", outbox[-1].body).group(1)


def browser_sign_up(page, base_url: str, username: str = "journalist") -> None:
    """Sign up in a browser and follow the e-mailed activation link: lands on the upload page."""
    from django.core import mail

    page.goto(f"{base_url}/accounts/signup/")
    page.fill("input[name=username]", username)
    page.fill("input[name=email]", f"{username}@example.org")
    page.fill("input[name=password1]", PASSWORD)
    page.fill("input[name=password2]", PASSWORD)
    page.click("button:has-text('Sign up')")
    page.wait_for_selector("[data-signup-sent]")
    page.goto(base_url + activation_path(mail.outbox))
    page.click("button:has-text('Activate and sign in')")
    page.wait_for_url("**/analyses/new/")
