"""The database rows are the truth about every analysis; the queue only carries ids.

State changes go through `detector.services`, reads through `detector.selectors`.
"""

import uuid

from django.conf import settings
from django.db import models


class Analysis(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    class MediaType(models.TextChoices):
        IMAGE = "image", "Image"
        VIDEO = "video", "Video"

    class Verdict(models.TextChoices):
        REAL = "real", "Real"
        FAKE = "fake", "Fake"
        INCONCLUSIVE = "inconclusive", "Inconclusive"

    class ReviewLabel(models.TextChoices):
        CONFIRMED_FAKE = "confirmed_fake", "Confirmed fake"
        CONFIRMED_REAL = "confirmed_real", "Confirmed real"
        NEEDS_MORE_REVIEW = "needs_more_review", "Needs more review"

    # A random public id keeps analysis URLs unguessable and hides how many exist.
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="analyses"
    )
    original_filename = models.CharField(max_length=255)
    media_file = models.CharField(max_length=255, help_text="Path relative to MEDIA_ROOT.")
    media_type = models.CharField(max_length=8, choices=MediaType.choices)
    mime_type = models.CharField(max_length=64, blank=True)
    sha256 = models.CharField(max_length=64, db_index=True)
    size_bytes = models.BigIntegerField()

    status = models.CharField(
        max_length=8, choices=Status.choices, default=Status.QUEUED, db_index=True
    )
    progress = models.PositiveSmallIntegerField(default=0)
    stage = models.CharField(max_length=200, blank=True)
    error_message = models.TextField(blank=True)
    # The one RQ job allowed to run this analysis; a stale duplicate job finds another id and stops.
    rq_job_id = models.CharField(max_length=64, blank=True)
    # When Redis accepted the job; empty while the analysis waits in the outbox for the queue.
    enqueued_at = models.DateTimeField(null=True, blank=True)
    # Times the analysis was queued again because its worker died under it.
    retries = models.PositiveSmallIntegerField(default=0)
    options = models.JSONField(default=dict, blank=True)

    created = models.DateTimeField(auto_now_add=True, db_index=True)
    started = models.DateTimeField(null=True, blank=True)
    finished = models.DateTimeField(null=True, blank=True)

    # Set when the uploaded file was deleted (retention period, or found missing); results stay.
    media_removed_at = models.DateTimeField(null=True, blank=True)

    result = models.JSONField(null=True, blank=True, help_text="The Report JSON from ml.analyze.")
    verdict = models.CharField(max_length=16, choices=Verdict.choices, blank=True, db_index=True)
    fake_probability = models.FloatField(null=True, blank=True)
    # The Report's generated.score, kept as a column so the history and the API filter on it.
    generated_score = models.FloatField(
        null=True, blank=True, help_text="P(generated) by the whole-image detectors."
    )
    detector_models = models.ManyToManyField(
        "DetectorModel",
        blank=True,
        related_name="analyses",
        help_text="The models that produced this result.",
    )
    code_version = models.CharField(max_length=64, blank=True)

    # Re-analysis keeps the earlier result: the new row points at the one it repeats.
    previous = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="reanalyses"
    )
    callback_url = models.URLField(blank=True, max_length=500)

    flagged = models.BooleanField(default=False, db_index=True)
    reported_by_owner = models.BooleanField(default=False)
    report_note = models.TextField(blank=True)
    review_label = models.CharField(max_length=24, choices=ReviewLabel.choices, blank=True)

    class Meta:
        ordering = ["-created"]
        verbose_name_plural = "analyses"
        permissions = [("review_analysis", "Can review flagged analyses")]
        indexes = [
            models.Index(fields=["owner", "-created"]),
            models.Index(fields=["owner", "generated_score"]),
        ]

    def __str__(self) -> str:
        return f"{self.original_filename} ({self.get_status_display()})"

    @property
    def is_finished(self) -> bool:
        return self.status in {self.Status.DONE, self.Status.FAILED}

    @property
    def has_media(self) -> bool:
        return self.media_removed_at is None


class Review(models.Model):
    """One reviewer decision on a flagged analysis; the history is never rewritten."""

    analysis = models.ForeignKey(Analysis, on_delete=models.CASCADE, related_name="reviews")
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="reviews"
    )
    label_before = models.CharField(max_length=24, choices=Analysis.ReviewLabel.choices, blank=True)
    label_after = models.CharField(max_length=24, choices=Analysis.ReviewLabel.choices)
    notes = models.TextField(blank=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created"]

    def __str__(self) -> str:
        return f"{self.analysis_id}: {self.label_before or '-'} -> {self.label_after}"


class DetectorModel(models.Model):
    """An installed, trained classifier: its file, checksum and model card."""

    class Kind(models.TextChoices):
        FRAME = "frame", "Frame classifier"
        TEMPORAL = "temporal", "Temporal (video) classifier"
        IMAGE = "image", "Whole-image (AI-generated) detector"

    name = models.CharField(max_length=100)
    version = models.CharField(max_length=50)
    arch = models.CharField(max_length=50)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.FRAME)
    file_path = models.CharField(max_length=500, help_text="Absolute path of the .keras file.")
    sha256 = models.CharField(max_length=64)
    card = models.JSONField(default=dict)
    active = models.BooleanField(default=False)
    ensemble_weight = models.FloatField(default=1.0)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created"]
        constraints = [
            models.UniqueConstraint(fields=["name", "version"], name="unique_model_version")
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.version}"
