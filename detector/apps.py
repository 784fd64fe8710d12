from django.apps import AppConfig


class DetectorConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "detector"
    verbose_name = "Deepfake detector"

    def ready(self) -> None:
        from detector import signals  # noqa: F401  (connects the receivers)
