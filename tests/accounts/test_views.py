"""Accounts: sign up, log in and out, change and reset the password, the API token."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from rest_framework.authtoken.models import Token

from accounts.services import token_get_or_create, token_rotate
from tests.support.accounts import activation_path

pytestmark = pytest.mark.django_db


def logged_in_user(client):
    return client.get(reverse("profile")).wsgi_request.user


def test_sign_up_activates_by_the_emailed_link_and_logs_in(client, password, mailoutbox):
    response = client.post(
        reverse("signup"),
        {
            "username": "dana",
            "email": "dana@example.org",
            "password1": password,
            "password2": password,
        },
    )
    assert response.status_code == 200
    user = get_user_model().objects.get(username="dana")
    assert not user.is_active and not logged_in_user(client).is_authenticated
    (mail,) = mailoutbox
    assert mail.to == ["dana@example.org"]
    link = activation_path(mailoutbox)
    assert client.get(link).status_code == 200  # asks first: a mail scanner activates nothing
    assert not get_user_model().objects.get(username="dana").is_active
    response = client.post(link)
    assert response.status_code == 302
    assert response["Location"] == reverse("detector:analysis-create")
    user.refresh_from_db()
    assert user.is_active and user.check_password(password)
    assert logged_in_user(client) == user
    client.logout()
    assert client.post(link).status_code == 400  # a link works once


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"password1": "12345678", "password2": "12345678"}, "too common"),
        ({"password1": "short", "password2": "short"}, "too short"),
        ({"password2": "something-else-entirely-7"}, "didn’t match"),
        ({"email": ""}, "required"),
    ],
)
def test_sign_up_uses_the_password_validators(client, password, fields, message):
    data = {
        "username": "dana",
        "email": "dana@example.org",
        "password1": password,
        "password2": password,
    }
    response = client.post(reverse("signup"), {**data, **fields})
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not get_user_model().objects.filter(username="dana").exists()


def test_login_and_post_logout(client, user, password):
    response = client.post(reverse("login"), {"username": "alice", "password": password})
    assert response.status_code == 302
    assert response["Location"] == reverse("detector:analysis-list")
    assert logged_in_user(client) == user

    assert client.get(reverse("logout")).status_code == 405  # logging out needs a POST
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert not logged_in_user(client).is_authenticated


def test_login_with_a_wrong_password_fails(client, user):
    response = client.post(reverse("login"), {"username": "alice", "password": "wrong-one-99"})
    assert response.status_code == 200
    assert not logged_in_user(client).is_authenticated


def test_password_change(user_client, user, password):
    new = "an0ther-Secret-phrase"
    response = user_client.post(
        reverse("password_change"),
        {"old_password": password, "new_password1": new, "new_password2": new},
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password(new)
    assert logged_in_user(user_client) == user  # the session survives its own change


def test_password_reset_by_email(client, user, mailoutbox):
    response = client.post(reverse("password_reset"), {"email": "alice@example.org"})
    assert response.status_code == 302
    (mail,) = mailoutbox
    assert mail.to == ["alice@example.org"]
    link = re.search(r"https?://[^/]+(/accounts/reset/\S+)", mail.body).group(1)
    form_page = client.get(link, follow=True)
    new = "fresh-Passphrase-31"
    client.post(form_page.redirect_chain[-1][0], {"new_password1": new, "new_password2": new})
    user.refresh_from_db()
    assert user.check_password(new)


def test_profile_shows_the_token(user_client, user):
    page = user_client.get(reverse("profile")).content.decode()
    assert Token.objects.get(user=user).key in page


def test_token_rotate_replaces_the_key(user_client, user):
    old = token_get_or_create(user=user).key
    assert user_client.get(reverse("token-rotate")).status_code == 405
    response = user_client.post(reverse("token-rotate"))
    assert response.status_code == 302
    new = Token.objects.get(user=user).key
    assert new != old
    assert not Token.objects.filter(key=old).exists()
    assert new in user_client.get(reverse("profile")).content.decode()


def test_token_services(user, other_user):
    first = token_get_or_create(user=user)
    assert token_get_or_create(user=user) == first
    other = token_get_or_create(user=other_user)
    rotated = token_rotate(user=user)
    assert rotated.key != first.key
    assert Token.objects.get(user=other_user) == other


def test_profile_needs_a_login(client):
    assert client.get(reverse("profile")).status_code == 302
