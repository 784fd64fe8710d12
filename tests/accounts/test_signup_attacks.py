"""Attacks on sign-up: many accounts from one address (each with its own upload budget), and
asking sign-up whether an e-mail address is registered."""

from __future__ import annotations

import logging

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from tests.support.accounts import activation_path
from tests.support.servers import RedisServer

pytestmark = pytest.mark.django_db

NGINX = "127.0.0.1"


def sign_up(n: int | str, *, password: str, remote: str = "198.51.100.7", forwarded=None, **over):
    extra = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded else {}
    client = Client(REMOTE_ADDR=remote, **extra)
    data = {
        "username": f"user{n}",
        "email": f"user{n}@example.org",
        "password1": password,
        "password2": password,
        **over,
    }
    return client.post(reverse("signup"), data)


def test_fifteen_sign_ups_from_one_address_are_throttled(settings, password):
    settings.SIGNUP_RATE = "5/hour"
    codes = [sign_up(n, password=password).status_code for n in range(15)]
    assert codes == [200] * 5 + [429] * 10
    assert get_user_model().objects.count() == 5
    refused = sign_up("late", password=password)
    assert "Too many accounts" in refused.content.decode()
    assert 0 < int(refused["Retry-After"]) <= 3600
    # Another address is counted on its own.
    assert sign_up("elsewhere", password=password, remote="198.51.100.8").status_code == 200


def test_sign_ups_behind_the_proxy_count_per_client_and_a_forged_header_changes_nothing(
    settings, password
):
    settings.SIGNUP_RATE = "2/hour"
    settings.TRUSTED_PROXIES = [NGINX]
    # Behind nginx: each client its own count, though all share the proxy's address.
    for client in ("203.0.113.1", "203.0.113.2", "203.0.113.3"):
        codes = [
            sign_up(f"{client}-{n}", password=password, remote=NGINX, forwarded=client)
            for n in range(2)
        ]
        assert [c.status_code for c in codes] == [200, 200]
    # Directly connected, a client that writes its own X-Forwarded-For is still itself.
    forged = [
        sign_up(f"f{n}", password=password, forwarded=f"203.0.113.{100 + n}").status_code
        for n in range(4)
    ]
    assert forged == [200, 200, 429, 429]


def test_sign_up_does_not_reveal_a_registered_address(user, password, mailoutbox):
    taken = sign_up("x", password=password, email="ALICE@example.org")
    fresh = sign_up("y", password=password, email="nobody@example.org")
    assert taken.status_code == fresh.status_code == 200
    assert taken.content == fresh.content
    # The e-mail goes to the address's owner only, and says which case it was.
    already, activate = mailoutbox
    assert already.to == ["alice@example.org"]
    assert "already has an account" in already.body and '"alice"' in already.body
    assert "/accounts/password_reset/" in already.body
    assert activate.to == ["nobody@example.org"] and "/signup/activate/" in activate.body
    assert not get_user_model().objects.filter(username="userx").exists()
    user.refresh_from_db()
    assert user.check_password(password)  # the registered account is untouched


def test_an_unactivated_sign_up_cannot_hold_someone_elses_address(password, mailoutbox):
    sign_up("squatter", password=password, email="victim@example.org")
    squatter_link = activation_path(mailoutbox)
    sign_up("victim", password=password, email="victim@example.org")
    victim_link = activation_path(mailoutbox)
    users = get_user_model().objects
    assert not users.filter(username="usersquatter").exists()
    assert Client().post(squatter_link).status_code == 400
    assert Client().post(victim_link).status_code == 302
    assert users.get(email="victim@example.org").username == "uservictim"


def test_sign_up_with_the_cache_down_is_not_throttled_nor_lost(
    settings, tmp_path, password, caplog
):
    server = RedisServer(tmp_path)  # this test's own redis-server, stopped: never the shared one
    server.start()
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": server.url,
        }
    }
    server.stop()
    with caplog.at_level(logging.WARNING, logger="accounts.signup_limits"):
        assert sign_up("outage", password=password).status_code == 200
    assert get_user_model().objects.filter(username="useroutage").exists()
    assert "the shared cache is unreachable" in caplog.text
