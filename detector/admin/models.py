"""Admin for installed detector models.

The list shows each model's card summary and validation metrics; the detail page shows the card,
the ROC curve and score histogram (embedded from the files beside the model, since MODELS_ROOT is
not served) and every stored evaluation. Activation goes through detector.services.models.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

from django.contrib import admin, messages
from django.utils.html import format_html, format_html_join

from detector.models import DetectorModel
from detector.selectors import model_dir
from detector.services import model_activate, model_deactivate
from ml.models.cards import METRICS


def _metric(model: DetectorModel, level: str, key: str):
    value = ((model.card.get("metrics") or {}).get("validation") or {}).get(level, {}).get(key)
    return "-" if value is None else f"{value:.3f}"


def _plot_tag(model: DetectorModel, filename: str, alt: str):
    path = model_dir(model) / Path(filename).name  # only files inside the model's own folder
    if not path.is_file():
        return format_html("<em>{} missing</em>", alt)
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return format_html(
        '<img src="data:image/png;base64,{}" alt="{}" style="max-width:420px">',
        data,
        alt,
    )


@admin.register(DetectorModel)
class DetectorModelAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "version",
        "arch",
        "kind",
        "input_size",
        "active",
        "ensemble_weight",
        "validation_auc",
        "video_auc",
        "threshold",
        "created",
    )
    list_filter = ("active", "kind", "arch")
    search_fields = ("name", "version", "arch", "sha256")
    actions = ("activate", "activate_in_ensemble", "deactivate")
    fields = (
        "name",
        "version",
        "arch",
        "kind",
        "active",
        "ensemble_weight",
        "sha256",
        "file_path",
        "created",
        "summary",
        "plots",
        "evaluations",
        "card_json",
    )
    # Only the ensemble weight is edited here; everything else comes from the checked card.
    readonly_fields = tuple(name for name in fields if name != "ensemble_weight")

    def has_add_permission(self, request):
        return False  # models arrive through install_model, which checks them first

    @admin.display(description="input")
    def input_size(self, obj):
        return obj.card.get("input_size")

    @admin.display(description="val. AUC (frame)")
    def validation_auc(self, obj):
        return _metric(obj, "frame", "auc")

    @admin.display(description="val. AUC (video)")
    def video_auc(self, obj):
        return _metric(obj, "video", "auc")

    @admin.display(description="threshold")
    def threshold(self, obj):
        return obj.card.get("threshold")

    @admin.display(description="card summary")
    def summary(self, obj):
        card, dataset, training = (
            obj.card,
            obj.card.get("dataset") or {},
            obj.card.get("training") or {},
        )
        rows = [
            ("Input", f"{card.get('input_size')} px, {card.get('preprocessing')}"),
            ("Dataset", f"{dataset.get('layout', '-')} at {dataset.get('path', '-')}"),
            ("Counts", json.dumps(dataset.get("counts", {}))),
            ("Pseudo-fakes", dataset.get("pseudo_fakes") or "none"),
            (
                "Training",
                f"{training.get('epochs_run', '-')} epochs, {training.get('seconds', '-')} s",
            ),
            ("Hardware", json.dumps(training.get("hardware", {}))),
            ("Code version", card.get("code_version", "-")),
        ]
        # Published detectors (ml/models/catalog.py): where they come from and whether measured here.
        source = card.get("source") or {}
        for label, value in (
            ("Family", card.get("family")),
            ("Source", source.get("url")),
            ("Licence", card.get("licence")),
            ("Citation", card.get("citation")),
            ("Platform evaluation", card.get("platform_evaluation")),
        ):
            if value:
                rows.append((label, value))
        for level in ("frame", "video"):
            for key in METRICS:
                rows.append((f"{level} {key}", _metric(obj, level, key)))
        return format_html(
            "<table>{}</table>",
            format_html_join("", "<tr><th>{}</th><td>{}</td></tr>", rows),
        )

    @admin.display(description="validation plots")
    def plots(self, obj):
        plots = obj.card.get("plots") or {}
        if not plots:
            return "-"
        return format_html_join(
            " ", "{}", ((_plot_tag(obj, name, key),) for key, name in plots.items())
        )

    @admin.display(description="evaluations")
    def evaluations(self, obj):
        records = obj.card.get("evaluations") or []
        if not records:
            return "None yet (manage.py evaluate_model)."
        parts = []
        for record in reversed(records):
            frame, video = record.get("frame") or {}, record.get("video") or {}
            images = format_html_join(
                " ",
                "{}",
                ((_plot_tag(obj, n, k),) for k, n in (record.get("plots") or {}).items()),
            )
            parts.append(
                format_html(
                    "<p><strong>{}</strong> ({}): frame AUC {}, video AUC {}</p>{}",
                    record.get("dataset"),
                    record.get("at"),
                    frame.get("auc"),
                    video.get("auc"),
                    images,
                )
            )
        return format_html_join("", "{}", ((p,) for p in parts))

    @admin.display(description="card")
    def card_json(self, obj):
        return format_html("<pre>{}</pre>", json.dumps(obj.card, indent=2))

    @admin.action(description="Activate (the only active model of its kind)")
    def activate(self, request, queryset):
        for model in queryset:
            model_activate(model=model)
        messages.success(request, f"Activated {queryset.count()} model(s).")

    @admin.action(description="Activate in the ensemble (keep others active)")
    def activate_in_ensemble(self, request, queryset):
        for model in queryset:
            model_activate(model=model, ensemble=True)
        messages.success(request, f"Activated {queryset.count()} model(s) in the ensemble.")

    @admin.action(description="Deactivate")
    def deactivate(self, request, queryset):
        for model in queryset:
            model_deactivate(model=model)
        messages.success(request, f"Deactivated {queryset.count()} model(s).")
