"""The admin: analyses (the reviewers' queue), the review log and installed detector models.

Importing the modules registers their ModelAdmins with the admin site.
"""

from detector.admin import analyses, models, reviews

__all__ = ["analyses", "models", "reviews"]
