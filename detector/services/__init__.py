"""Every write goes through here, one module per entity; reads are in detector.selectors.

- `analyses`: create, queue, run, progress, finish, fail, delete an analysis;
- `recovery`: analyses whose worker died or whose job Redis lost;
- `files`: where uploads and derived files live; `thumbnails`; `retention` (media kept only
  as long as needed);
- `reviews`: owners report a result, reviewers label it;
- `models`: installing and activating detector models; `published_models`: the catalog's;
  `model_exports`: their CPU exports, made at install;
- `webhooks`: the signed result callbacks;
- `policy_cards`: the policy cards `calibrate --apply` writes.

Callers use `from detector import services` and `services.<function>`; the names are the same
as in the modules.
"""

from detector.services.analyses import (
    MediaRemoved,
    analysis_create,
    analysis_delete,
    analysis_delete_many,
    analysis_enqueue,
    analysis_fail,
    analysis_finish,
    analysis_mark_running,
    analysis_queue_name,
    analysis_reanalyze,
    analysis_set_progress,
)
from detector.services.files import (
    analysis_derived_dir,
    analysis_files_remove,
    analysis_media_path,
    file_replace_private,
    media_folder,
)
from detector.services.model_exports import model_exports_make, model_exports_missing
from detector.services.models import (
    model_activate,
    model_deactivate,
    model_install,
    model_store_evaluation,
)
from detector.services.policy_cards import policy_card_next_version, policy_card_write
from detector.services.published_models import published_model_install
from detector.services.recovery import analysis_reconcile_orphans, analysis_recover
from detector.services.retention import analysis_media_remove, media_retention_apply
from detector.services.reviews import (
    REVIEW_LABELS,
    NoResultToReport,
    analysis_report_wrong,
    review_record,
)
from detector.services.thumbnails import THUMBNAIL_SIDE, analysis_thumbnail
from detector.services.webhooks import (
    SIGNATURE_HEADER,
    callback_enqueue,
    validate_callback_url,
    webhook_secret_for,
)

__all__ = [
    "REVIEW_LABELS",
    "SIGNATURE_HEADER",
    "THUMBNAIL_SIDE",
    "MediaRemoved",
    "NoResultToReport",
    "analysis_create",
    "analysis_delete",
    "analysis_delete_many",
    "analysis_derived_dir",
    "analysis_enqueue",
    "analysis_fail",
    "analysis_files_remove",
    "analysis_finish",
    "analysis_mark_running",
    "analysis_media_path",
    "analysis_media_remove",
    "analysis_queue_name",
    "analysis_reanalyze",
    "analysis_reconcile_orphans",
    "analysis_recover",
    "analysis_report_wrong",
    "analysis_set_progress",
    "analysis_thumbnail",
    "callback_enqueue",
    "file_replace_private",
    "media_folder",
    "media_retention_apply",
    "model_activate",
    "model_deactivate",
    "model_exports_make",
    "model_exports_missing",
    "model_install",
    "model_store_evaluation",
    "policy_card_next_version",
    "policy_card_write",
    "published_model_install",
    "review_record",
    "validate_callback_url",
    "webhook_secret_for",
]
