"""Staff roles: a reviewer (any staff account without the queue permission) once had the
whole job queue dashboard, every user's job arguments, and buttons that delete jobs."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.test import Client

pytestmark = pytest.mark.django_db

QUEUE_PAGES = (
    "/admin/rq/",
    "/admin/rq/queues/0/",
    "/admin/rq/queues/0/failed/",
    "/admin/rq/queues/0/empty/",
    "/admin/rq/stats.json",
    "/admin/django_rq/dashboard/",
    "/admin/django_rq/dashboard/queues/0/",
)
OTHER_ADMIN_PAGES = (
    "/admin/auth/user/",
    "/admin/auth/group/",
    "/admin/detector/detectormodel/",
    "/admin/detector/review/",
)


def staff_in(django_user_model, name: str, *groups: str):
    user = django_user_model.objects.create_user(name, f"{name}@example.org", "x", is_staff=True)
    user.groups.set(Group.objects.filter(name__in=groups))
    client = Client()
    client.force_login(user)
    return client


def test_the_roles_migration_made_the_groups():
    assert set(
        Group.objects.get(name="Reviewer").permissions.values_list("codename", flat=True)
    ) == {"review_analysis"}
    operator = Group.objects.get(name="Operator").permissions.get()
    assert (operator.content_type.app_label, operator.codename) == ("django_rq", "admin")


def test_a_reviewer_cannot_see_or_change_the_job_queue(django_user_model):
    reviewer = staff_in(django_user_model, "rita", "Reviewer")
    for page in QUEUE_PAGES:
        assert reviewer.get(page).status_code == 403, page
    for action in ("/admin/rq/queues/0/empty/", "/admin/rq/queues/0/requeue-all/"):
        assert reviewer.post(action).status_code == 403, action
    assert "django_rq" not in reviewer.get("/admin/").content.decode()


def test_staff_without_any_role_cannot_see_the_job_queue(staff_user):
    client = Client()
    client.force_login(staff_user)
    assert all(client.get(page).status_code == 403 for page in QUEUE_PAGES)


def test_a_reviewer_sees_the_review_queue_and_nothing_else(django_user_model):
    reviewer = staff_in(django_user_model, "rita", "Reviewer")
    assert reviewer.get("/admin/detector/analysis/").status_code == 200
    assert reviewer.get("/admin/detector/analysis/metrics/").status_code == 200
    for page in OTHER_ADMIN_PAGES:
        assert reviewer.get(page).status_code == 403, page
    index = reviewer.get("/admin/").content.decode()
    assert "/admin/detector/analysis/" in index
    for page in (*OTHER_ADMIN_PAGES, "/admin/django_rq/dashboard/"):
        assert f'href="{page}"' not in index, page


def test_an_operator_runs_the_queue_and_sees_no_analyses(django_user_model):
    operator = staff_in(django_user_model, "otto", "Operator")
    for page in ("/admin/rq/", "/admin/rq/queues/0/", "/admin/django_rq/dashboard/"):
        assert operator.get(page).status_code == 200, page
    assert 'href="/admin/django_rq/dashboard/"' in operator.get("/admin/").content.decode()
    assert operator.get("/admin/detector/analysis/").status_code == 403


def test_superusers_keep_the_queue(django_user_model):
    root = django_user_model.objects.create_superuser("root", "root@example.org", "x")
    client = Client()
    client.force_login(root)
    assert client.get("/admin/rq/").status_code == 200


def test_visitors_are_sent_to_sign_in(client):
    response = client.get("/admin/rq/")
    assert response.status_code == 302 and "login" in response["Location"]
