from django import forms

from detector.models import Analysis
from detector.selectors import GENERATED_FILTERS, PROVENANCE_FILTERS, SORTS
from detector.uploads import SUPPORTED_TYPES_TEXT
from ml.options import DEFAULT_FRAMES, UPLOAD_FRAMES, AnalysisOptions

ACCEPT = "image/jpeg,image/png,image/webp,video/mp4,video/quicktime,video/x-msvideo,video/x-matroska,video/webm,.mkv,.avi,.mov"


class AnalysisUploadForm(forms.Form):
    file = forms.FileField(
        label="Image or video",
        help_text=f"Supported: {SUPPORTED_TYPES_TEXT}.",
        widget=forms.ClearableFileInput(attrs={"accept": ACCEPT}),
    )
    frames = forms.IntegerField(
        label="Frames to score (videos)",
        min_value=UPLOAD_FRAMES.low,
        max_value=UPLOAD_FRAMES.high,
        initial=DEFAULT_FRAMES,
        required=False,
        help_text="Evenly spaced frames scored by the classifier. More is slower and steadier.",
    )

    def __init__(self, *args, upload_error: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.upload_error = upload_error

    def clean(self):
        cleaned = super().clean()
        if self.upload_error:
            # The upload handler stopped the file (e.g. too large): say why, not "required".
            self.errors.pop("file", None)
            self.add_error("file", self.upload_error)
        return cleaned

    def options(self) -> AnalysisOptions:
        return AnalysisOptions.from_dict(self.cleaned_data)


class AnalysisFilterForm(forms.Form):
    q = forms.CharField(label="Search file names", required=False, max_length=100)
    status = forms.ChoiceField(
        choices=[("", "Any status"), *Analysis.Status.choices], required=False
    )
    verdict = forms.ChoiceField(
        choices=[("", "Any verdict"), *Analysis.Verdict.choices], required=False
    )
    media_type = forms.ChoiceField(
        label="Type",
        choices=[("", "Images and videos"), *Analysis.MediaType.choices],
        required=False,
    )
    date_from = forms.DateField(
        label="From", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label="To", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    provenance = forms.ChoiceField(
        label="Provenance",
        choices=[("", "Any provenance")]
        + [(key, label) for key, (label, _) in PROVENANCE_FILTERS.items()],
        required=False,
    )
    generated = forms.ChoiceField(
        label="AI generation",
        choices=[("", "Any")] + [(key, label) for key, (label, _) in GENERATED_FILTERS.items()],
        required=False,
    )
    generated_min = forms.FloatField(
        label="P(generated) at least",
        required=False,
        min_value=0.0,
        max_value=1.0,
        widget=forms.NumberInput(attrs={"step": "0.05", "placeholder": "0-1"}),
    )
    sort = forms.ChoiceField(choices=[(key, key.capitalize()) for key in SORTS], required=False)

    def filters(self) -> dict:
        """The valid filters; an invalid field is ignored rather than failing the page."""
        if not self.is_bound:
            return {}
        self.is_valid()
        # 0 is a real lower bound (every scored analysis), not an empty field.
        return {
            name: value
            for name, value in self.cleaned_data.items()
            if value or (name == "generated_min" and value is not None)
        }


class ReanalyzeForm(forms.Form):
    """Analyse the stored file again: with every active model or one of them, and a frame count."""

    model = forms.ChoiceField(label="Model", required=False)
    frames = forms.IntegerField(
        label="Frames to score",
        min_value=UPLOAD_FRAMES.low,
        max_value=UPLOAD_FRAMES.high,
        required=False,
    )

    def __init__(self, *args, models=(), frames: int = DEFAULT_FRAMES, **kwargs):
        super().__init__(*args, **kwargs)
        self.models = {str(m.pk): m for m in models}
        self.fields["model"].choices = [("", "All active models")] + [
            (pk, f"{m.name} {m.version}") for pk, m in self.models.items()
        ]
        self.fields["frames"].initial = frames

    def chosen_models(self) -> list:
        chosen = self.models.get(self.cleaned_data.get("model") or "")
        return [chosen] if chosen else []

    def options(self, earlier: dict) -> AnalysisOptions:
        frames = self.cleaned_data.get("frames")
        return AnalysisOptions.from_dict({**earlier, **({"frames": frames} if frames else {})})
