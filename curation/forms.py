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
    stage = forms.ChoiceField(choices=[(s.name, s.label) for s in pipeline_page_stages()])
