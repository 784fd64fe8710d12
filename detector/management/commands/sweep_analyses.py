"""Settle what the queue lost: `manage.py sweep_analyses`.

The worker runs the same sweep when it starts and every SWEEP_INTERVAL_S; run this by hand
(or from cron) when no worker runs, e.g. after an outage.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from redis.exceptions import RedisError

from detector.services import analysis_reconcile_orphans


class Command(BaseCommand):
    help = "Queue analyses that waited for Redis, and queue again or fail those whose worker died."

    def handle(self, *args, **opts):
        try:
            counts = analysis_reconcile_orphans()
        except RedisError as exc:
            raise CommandError(f"Redis does not answer, nothing was changed: {exc}") from exc
        self.stdout.write(
            f"{counts['queued']} analyses queued, {counts['recovered']} recovered "
            "from a dead worker."
        )
