"""Input forms of the workspace: they validate shapes; services decide what is allowed."""
from __future__ import annotations

from django import forms

from curation.models import DIMENSIONS
from curation.pipeline import pipeline_page_stages
from curation.services.bulk import BULK_ACTIONS

# Bounds on what people type: a message naming the field instead of a database error or an
# unbounded row.
COMMENT_MAX = 5000
QUERY_MAX = 4000
ID_MAX = 2**63 - 1


class ReviewForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=0, max_value=ID_MAX)
    decision = forms.ChoiceField(choices=[("accept", "Accept"), ("reject", "Reject")])
    reason = forms.CharField(required=False, max_length=COMMENT_MAX, widget=forms.Textarea(attrs={"rows": 2}))
    comment = forms.CharField(required=False, max_length=COMMENT_MAX, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for dim in DIMENSIONS:
            self.fields[f"score_{dim}"] = forms.IntegerField(required=False, min_value=1, max_value=10)

    def scores(self) -> dict:
        return {dim: self.cleaned_data.get(f"score_{dim}") for dim in DIMENSIONS}

    def error_text(self) -> str:
        return "; ".join(f"{name.replace('_', ' ')}: {' '.join(errs)}" for name, errs in self.errors.items())


class SavedViewForm(forms.Form):
    name = forms.CharField(max_length=100)
    query = forms.CharField(required=False, max_length=QUERY_MAX)


class BulkActionForm(forms.Form):
    action = forms.ChoiceField(choices=list(BULK_ACTIONS.items()))
    query = forms.CharField(required=False, max_length=QUERY_MAX)
    reason = forms.CharField(required=False, max_length=2000)
    selection = forms.IntegerField(required=False, min_value=1, max_value=ID_MAX)
    selection_name = forms.CharField(required=False, max_length=200)
    confirmed = forms.BooleanField(required=False)
    # "picked": only the checked rows (ids); "all": every problem the filter matches.
    scope = forms.ChoiceField(required=False, choices=[("all", "all matching"), ("picked", "picked rows")])
    include_conflicts = forms.BooleanField(required=False)


class UploadForm(forms.Form):
    file = forms.FileField()
    format = forms.ChoiceField(choices=[])
    source_name = forms.CharField(required=False, max_length=100)

    def __init__(self, *args, formats: list[str] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["format"].choices = [(f, f) for f in (formats or [])]


class StageStartForm(forms.Form):
    """Which stage; its options are the stage map's (`pipeline.stage_options_parse`), not fields here."""

    stage = forms.ChoiceField(choices=[(s.name, s.label) for s in pipeline_page_stages()])


class PassRateUploadForm(forms.Form):
    """A graded file (LiveCodeBench style) for the pass-rate import: JSON or JSON lines only, under
    a size cap, parsed with the JSON parser (never eval or unpickle) before any job starts, so a
    bad file is refused here with the entry and field it trips on."""

    file = forms.FileField(label="Graded file (.json or .jsonl)")
    model = forms.CharField(required=False, max_length=200, label="Model (when the file names none)")

    def clean_file(self):
        from django.conf import settings

        from curation.difficulty.passrate import GradedResultsError, parse_graded_text

        upload = self.cleaned_data["file"]
        cap = settings.PASS_RATE_UPLOAD_MAX_BYTES
        if upload.size > cap:
            raise forms.ValidationError(f"the file is {upload.size:,} bytes; the limit is {cap:,}")
        name = (upload.name or "").lower()
        if not name.endswith((".json", ".jsonl")):
            raise forms.ValidationError("only .json or .jsonl graded files are accepted")
        data = upload.read()
        upload.seek(0)
        try:
            results = parse_graded_text(data)
        except (GradedResultsError, RecursionError) as exc:
            raise forms.ValidationError(str(exc)[:300]) from None
        if not results:
            raise forms.ValidationError("the file holds no graded results")
        self.results_count = len(results)
        return upload
