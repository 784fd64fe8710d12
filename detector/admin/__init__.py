"""The admin: analyses (the reviewers' queue), the review log, installed detector models and
the review metrics (how the verdicts held up against reviews), and the job queue dashboard for
queue operators (`queue`).

Importing the modules registers their ModelAdmins with the admin site.
"""

from detector.admin import analyses, metrics, models, queue, reviews

__all__ = ["analyses", "metrics", "models", "queue", "reviews"]
