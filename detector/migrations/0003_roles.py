"""Staff roles as groups: add a staff account to one and it has that role's permissions.

- Reviewer: the review queue (detector.review_analysis): flagged analyses, their media,
  decisions and the review metrics; nothing else in the admin.
- Operator: the job queue dashboard (django_rq.admin, detector/admin/queue.py).

docs/deploy.md says who sees what.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

ROLES = {
    "Reviewer": [("detector", "review_analysis")],
    "Operator": [("django_rq", "admin")],
}


def _ensure_permissions(apps) -> None:
    """Permissions are made after migrations; on a fresh database make them now."""
    for label in ("detector", "django_rq"):
        config = apps.get_app_config(label)
        config.models_module = True
        create_permissions(config, apps=apps, verbosity=0)
        config.models_module = None


def create_roles(apps, schema_editor) -> None:
    _ensure_permissions(apps)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, grants in ROLES.items():
        group, _ = Group.objects.get_or_create(name=name)
        for app_label, codename in grants:
            group.permissions.add(
                Permission.objects.get(content_type__app_label=app_label, codename=codename)
            )


def remove_roles(apps, schema_editor) -> None:
    apps.get_model("auth", "Group").objects.filter(name__in=ROLES).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("detector", "0002_analysis_outbox_retries_media_removed"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("django_rq", "0003_alter_dashboard_permission_names"),
    ]

    operations = [migrations.RunPython(create_roles, remove_roles)]
