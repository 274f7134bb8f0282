"""Workspace forms: they check shapes; the service decides what is allowed."""
from __future__ import annotations

from django import forms

from training_jobs.models import Checkpoint


class CheckpointChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return f"training run #{obj.run_id} {obj.run.name} · step {obj.step}"


class EvalStartForm(forms.Form):
    name = forms.CharField(max_length=200, required=False)
    checkpoint = CheckpointChoiceField(
        queryset=Checkpoint.objects.select_related("run").order_by("-run_id", "-step"), required=False,
        label="Model: a training checkpoint", empty_label="— none: evaluate an endpoint —",
        help_text="served by a job on the training run's compute target while the evaluation runs")
    base_url = forms.CharField(max_length=500, required=False, label="or an endpoint (OpenAI-compatible, …/v1)")
    model_name = forms.CharField(max_length=200, required=False, label="Model name at the endpoint")
    benchmark_name = forms.ChoiceField(required=False, label="Benchmark")
    date_from = forms.DateField(required=False, label="Contest date from", widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(required=False, label="to", widget=forms.DateInput(attrs={"type": "date"}))
    n_samples = forms.IntegerField(min_value=1, max_value=200, initial=1, label="Samples per problem (n)")
    temperature = forms.FloatField(min_value=0, max_value=2, initial=0.2)
    top_p = forms.FloatField(min_value=0.01, max_value=1, initial=0.95)
    max_tokens = forms.IntegerField(min_value=1, initial=2048)
    concurrency = forms.IntegerField(min_value=1, max_value=256, initial=16)

    def __init__(self, *args, benchmarks: list[str] = (), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["benchmark_name"].choices = [("", "every benchmark problem")] + [(b, b) for b in benchmarks]


    def clean(self):
        data = super().clean()
        if not data.get("checkpoint") and not self.errors:
            # An endpoint needs both; a checkpoint needs neither (the service serves it).
            for name in ("base_url", "model_name"):
                if not data.get(name):
                    self.add_error(name, "required unless a training checkpoint is chosen")
        return data


class EvalImportForm(forms.Form):
    file = forms.FileField(label="lcb_runner eval_all JSON")
    model_name = forms.CharField(max_length=200, label="Model")
    name = forms.CharField(max_length=200, required=False)
    benchmark_name = forms.CharField(max_length=100, required=False, label="Match problems of benchmark")
