"""`/healthz` for load balancers and monitors: can this process reach PostgreSQL and Redis?

200 `{"database": "ok", "redis": "ok"}` when both answer; 503 with the failing one marked
"unavailable" otherwise (the cause goes to the log, not to the unauthenticated caller).
"""

from __future__ import annotations

import logging

import redis
from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

logger = logging.getLogger(__name__)

TIMEOUT_S = 2


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    checks = {"database": _database_ok(), "redis": _redis_ok()}
    body = {name: "ok" if ok else "unavailable" for name, ok in checks.items()}
    return JsonResponse(body, status=200 if all(checks.values()) else 503)


def _database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except Exception:  # any failure means "not healthy"
        logger.exception("Health check: the database does not answer")
        return False


def _redis_ok() -> bool:
    client = redis.Redis.from_url(
        settings.REDIS_URL,
        socket_connect_timeout=TIMEOUT_S,
        socket_timeout=TIMEOUT_S,
    )
    try:
        return bool(client.ping())
    except redis.RedisError:
        logger.exception("Health check: Redis does not answer")
        return False
    finally:
        client.close()
