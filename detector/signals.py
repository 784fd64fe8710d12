"""Thin receivers: every way an analysis is deleted (the service, the admin, a user's
deletion cascading to their analyses) takes its files with it."""

from __future__ import annotations

from django.db.models.signals import post_delete
from django.dispatch import receiver

from detector.models import Analysis
from detector.services import analysis_files_remove


@receiver(post_delete, sender=Analysis, dispatch_uid="detector.analysis_files")
def remove_analysis_files(sender, instance: Analysis, **kwargs) -> None:
    analysis_files_remove(analysis_id=instance.pk, media_file=instance.media_file)
