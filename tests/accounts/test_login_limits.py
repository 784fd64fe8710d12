"""Repeated failed sign-ins lock out the guesser, per username at one address and per address,
on the web and in the API, and never a different user.

The counts live in the real Redis cache; small limits and a two-second cool-off keep the test
short (the defaults are 10 failures per username and address, 100 per address, 15 minutes).
"""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

LIMIT = 5
ADDRESS_LIMIT = 12
COOLOFF_S = 2
WRONG = "not-the-password-1"
TOKEN_URL = "/api/v1/auth/token/"


@pytest.fixture(autouse=True)
def small_limits(settings):
    settings.AXES_FAILURE_LIMIT = LIMIT
    settings.LOGIN_ADDRESS_FAILURE_LIMIT = ADDRESS_LIMIT
    settings.AXES_COOLOFF_TIME = timedelta(seconds=COOLOFF_S)


def web_login(username: str, password: str, ip: str) -> tuple[Client, object]:
    client = Client(REMOTE_ADDR=ip)
    response = client.post(reverse("login"), {"username": username, "password": password})
    return client, response


def api_token(username: str, password: str, ip: str):
    return APIClient(REMOTE_ADDR=ip).post(TOKEN_URL, {"username": username, "password": password})


def is_logged_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def wait_out_the_cooloff() -> None:
    time.sleep(COOLOFF_S + 0.5)


def test_web_login_locks_a_username_at_the_guessing_address(user, password):
    for _ in range(LIMIT):
        web_login("alice", WRONG, ip="10.0.0.1")
    client, response = web_login("alice", password, ip="10.0.0.1")
    assert response.status_code == 429
    page = response.content.decode()
    assert "Too many failed sign-in attempts" in page
    assert "Try again in 1 minute" in page
    assert not is_logged_in(client)

    wait_out_the_cooloff()
    client, response = web_login("alice", password, ip="10.0.0.1")
    assert response.status_code == 302
    assert is_logged_in(client)


def test_guessing_a_password_from_many_addresses_never_locks_its_owner_out(user, password):
    for attempt in range(30):
        web_login("alice", WRONG, ip=f"10.0.0.{attempt + 1}")
    client, response = web_login("alice", password, ip="10.0.9.9")
    assert response.status_code == 302
    assert is_logged_in(client)


def test_one_users_failures_never_lock_another_user_at_the_same_address(user, other_user, password):
    for _ in range(LIMIT * 2):
        web_login("alice", WRONG, ip="10.0.0.7")
    assert web_login("alice", password, ip="10.0.0.7")[1].status_code == 429
    client, response = web_login("bob", password, ip="10.0.0.7")
    assert response.status_code == 302
    assert is_logged_in(client)


def test_web_login_locks_an_address_guessing_across_usernames(user, password):
    for attempt in range(ADDRESS_LIMIT):
        web_login(f"guess{attempt}", WRONG, ip="10.0.0.66")
    client, response = web_login("alice", password, ip="10.0.0.66")
    assert response.status_code == 429
    assert not is_logged_in(client)
    # The account itself is not locked: from elsewhere it signs in.
    client, response = web_login("alice", password, ip="10.0.0.67")
    assert response.status_code == 302
    assert is_logged_in(client)


def test_a_successful_login_resets_the_count(user, password):
    for _ in range(LIMIT - 1):
        web_login("alice", WRONG, ip="10.0.0.5")
    assert web_login("alice", password, ip="10.0.0.5")[1].status_code == 302
    for _ in range(LIMIT - 1):
        web_login("alice", WRONG, ip="10.0.0.5")
    _client, response = web_login("alice", password, ip="10.0.0.5")
    assert response.status_code == 302


def test_api_token_locks_a_username_with_429_and_retry_after(user, password):
    for _ in range(LIMIT):
        api_token("alice", WRONG, ip="10.0.1.1")
    response = api_token("alice", password, ip="10.0.1.1")
    assert response.status_code == 429
    assert response.json() == {
        "detail": "Too many failed sign-in attempts for this account or from this "
        "address. Try again in 1 minute.",
        "code": "locked_out",
    }
    assert int(response["Retry-After"]) == COOLOFF_S
    assert "token" not in response.json()
    assert api_token("alice", password, ip="10.0.2.2").status_code == 200

    wait_out_the_cooloff()
    response = api_token("alice", password, ip="10.0.1.1")
    assert response.status_code == 200
    assert response.json()["token"] == Token.objects.get(user=user).key


def test_api_token_locks_an_address_and_counts_with_the_web(user, password):
    for attempt in range(ADDRESS_LIMIT // 2):
        web_login(f"guess{attempt}", WRONG, ip="10.0.3.3")
    for attempt in range(ADDRESS_LIMIT // 2):
        api_token(f"other{attempt}", WRONG, ip="10.0.3.3")
    assert api_token("alice", password, ip="10.0.3.3").status_code == 429
    assert api_token("alice", password, ip="10.0.3.4").status_code == 200


def test_api_token_success_resets_the_count(user, password):
    for _ in range(LIMIT - 1):
        api_token("alice", WRONG, ip="10.0.4.4")
    assert api_token("alice", password, ip="10.0.4.4").status_code == 200
    for _ in range(LIMIT - 1):
        assert api_token("alice", WRONG, ip="10.0.4.4").status_code == 400
    assert api_token("alice", password, ip="10.0.4.4").status_code == 200
