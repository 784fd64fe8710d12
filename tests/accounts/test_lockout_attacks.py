"""Attacks on the sign-in limits: a shared proxy address, a forged X-Forwarded-For, locks an
admin cannot release, and a cache outage turning every sign-in into a server error."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.test import Client, RequestFactory
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.client_address import client_address
from tests.support.servers import RedisServer

pytestmark = pytest.mark.django_db

LIMIT = 5
WRONG = "not-the-password-1"
NGINX = "127.0.0.1"


@pytest.fixture(autouse=True)
def small_limits(settings):
    settings.AXES_FAILURE_LIMIT = LIMIT
    settings.LOGIN_ADDRESS_FAILURE_LIMIT = 3 * LIMIT
    settings.AXES_COOLOFF_TIME = timedelta(minutes=15)


def login(username: str, password: str, *, remote: str, forwarded: str | None = None):
    extra = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded else {}
    client = Client(REMOTE_ADDR=remote, **extra)
    response = client.post(reverse("login"), {"username": username, "password": password})
    return response.status_code, "_auth_user_id" in client.session


def address_of(remote: str, forwarded: str | None = None) -> str:
    extra = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded else {}
    return client_address(RequestFactory().get("/", REMOTE_ADDR=remote, **extra))


def test_forged_forwarded_for_is_ignored_without_trusted_proxies(settings):
    settings.TRUSTED_PROXIES = []
    assert address_of("198.51.100.7", "203.0.113.1") == "198.51.100.7"


def test_forged_forwarded_for_in_front_of_the_proxys_entry_is_ignored(settings):
    settings.TRUSTED_PROXIES = ["127.0.0.1", "10.0.0.0/8"]
    assert address_of(NGINX, "203.0.113.5") == "203.0.113.5"
    assert address_of(NGINX, "1.2.3.4, 203.0.113.5") == "203.0.113.5"
    assert address_of(NGINX, "1.2.3.4, 203.0.113.5, 10.1.2.3") == "203.0.113.5"
    assert address_of(NGINX, "not-an-address") == NGINX
    # Not from a trusted proxy: whatever the header says, the peer is the client.
    assert address_of("198.51.100.7", "203.0.113.5") == "198.51.100.7"


def test_failed_sign_ins_behind_a_proxy_never_lock_out_other_users(
    settings, user, password, django_user_model
):
    settings.TRUSTED_PROXIES = [NGINX]
    django_user_model.objects.create_superuser("root", "root@example.org", password)
    for _ in range(LIMIT * 2):
        login("alice", WRONG, remote=NGINX, forwarded="203.0.113.5")
    assert login("alice", password, remote=NGINX, forwarded="203.0.113.5") == (429, False)
    assert login("root", password, remote=NGINX, forwarded="203.0.113.9") == (302, True)
    assert login("alice", password, remote=NGINX, forwarded="203.0.113.9") == (302, True)


def test_forging_forwarded_for_does_not_escape_the_address_limit(settings, user, password):
    settings.TRUSTED_PROXIES = []
    for attempt in range(3 * LIMIT):
        login(f"guess{attempt}", WRONG, remote="198.51.100.7", forwarded=f"10.9.9.{attempt}")
    assert login("alice", password, remote="198.51.100.7", forwarded="10.9.9.200")[0] == 429


@pytest.mark.parametrize(
    ("args", "kwargs"),
    [(["alice"], {}), ([], {"address": "10.0.5.5"}), ([], {"all": True})],
    ids=["username", "address", "all"],
)
def test_an_admin_can_release_a_lock_on_the_redis_cache(user, password, args, kwargs):
    for _ in range(LIMIT):
        login("alice", WRONG, remote="10.0.5.5")
    assert login("alice", password, remote="10.0.5.5") == (429, False)
    call_command("unlock", *args, **kwargs)
    assert login("alice", password, remote="10.0.5.5") == (302, True)


def test_unlocking_one_user_leaves_other_locks_in_place(user, other_user, password):
    for name in ("alice", "bob"):
        for _ in range(LIMIT):
            login(name, WRONG, remote="10.0.6.6")
    call_command("unlock", "alice")
    assert login("alice", password, remote="10.0.6.6") == (302, True)
    assert login("bob", password, remote="10.0.6.6") == (429, False)


@pytest.fixture
def stopped_cache(settings, tmp_path):
    """The cache is a redis-server of this test's own, stopped: never the shared one."""
    server = RedisServer(tmp_path)
    server.start()
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": server.url,
        }
    }
    server.stop()
    yield


def test_sign_in_with_the_cache_down_falls_back_to_password_checks(
    stopped_cache, user, password, caplog, django_user_model
):
    django_user_model.objects.create_superuser("root", "root@example.org", password)
    with caplog.at_level(logging.ERROR, logger="accounts.lockout_handler"):
        assert login("alice", password, remote="10.0.7.7") == (302, True)
        assert login("alice", WRONG, remote="10.0.7.7") == (200, False)
        token = APIClient().post("/api/v1/auth/token/", {"username": "alice", "password": password})
        assert token.status_code == 200
        bad = APIClient().post("/api/v1/auth/token/", {"username": "alice", "password": WRONG})
        assert bad.status_code == 400
        admin = Client().post(reverse("admin:login"), {"username": "root", "password": password})
        assert admin.status_code == 302
    assert "the cache is unreachable" in caplog.text
