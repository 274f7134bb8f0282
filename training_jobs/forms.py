"""The launch form: snapshot, target and a recipe whose fields come from the parameter table."""
from __future__ import annotations

from django import forms

from curation.models import DatasetSnapshot
from training_jobs.models import Algorithm, ComputeTarget, Framework
from training_jobs.specs.params import DEFAULT_BASE_MODEL, PARAMS


class LaunchForm(forms.Form):
    name = forms.CharField(max_length=200, required=False)
    train_snapshot = forms.ModelChoiceField(queryset=DatasetSnapshot.objects.order_by("-created_at"))
    val_snapshot = forms.ModelChoiceField(queryset=DatasetSnapshot.objects.order_by("-created_at"), required=False,
                                          help_text="validation set (e.g. a benchmark); verl reports it per difficulty")
    target = forms.ModelChoiceField(queryset=ComputeTarget.objects.filter(is_enabled=True).order_by("name"))
    framework = forms.ChoiceField(choices=Framework.choices, initial=Framework.VERL)
    algorithm = forms.ChoiceField(choices=Algorithm.choices, initial=Algorithm.DAPO)
    base_model = forms.CharField(max_length=500, initial=DEFAULT_BASE_MODEL)

    # Scheduled evaluations of the run's checkpoints (checked by the evaluation service's rules).
    eval_every = forms.IntegerField(min_value=0, required=False, initial=0, label="Evaluate every N steps",
                                    help_text="0: never; each checkpoint whose step N divides is served and evaluated")
    eval_benchmark = forms.ChoiceField(required=False, label="on benchmark")
    eval_date_from = forms.DateField(required=False, label="contest date from", widget=forms.DateInput(attrs={"type": "date"}))
    eval_date_to = forms.DateField(required=False, label="to", widget=forms.DateInput(attrs={"type": "date"}))
    eval_n_samples = forms.IntegerField(min_value=1, max_value=200, required=False, initial=1, label="samples per problem")
    eval_temperature = forms.FloatField(min_value=0, max_value=2, required=False, initial=0.2, label="temperature")
    eval_top_p = forms.FloatField(min_value=0.01, max_value=1, required=False, initial=0.95, label="top_p")
    eval_max_tokens = forms.IntegerField(min_value=1, required=False, initial=2048, label="max tokens")

    EVAL_OPTION_FIELDS = ("n_samples", "temperature", "top_p", "max_tokens", "date_from", "date_to")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from curation.models import Problem

        names = (Problem.objects.filter(is_benchmark=True).exclude(benchmark_name="")
                 .values_list("benchmark_name", flat=True).distinct().order_by("benchmark_name"))
        self.fields["eval_benchmark"].choices = [("", "every benchmark problem")] + [(b, b) for b in names]
        # One field per recipe parameter; validation stays in params_normalize (one place).
        for param in PARAMS:
            if param.kind is bool:
                field = forms.BooleanField(required=False, initial=param.default)
            else:
                field = forms.CharField(required=False, initial=param.default,
                                        widget=forms.TextInput(attrs={"inputmode": "decimal", "size": 10}))
            field.help_text = param.help
            self.fields[f"p_{param.name}"] = field

    def eval_fields(self):
        return [self[name] for name in self.fields if name.startswith("eval_")]

    def eval_schedule(self) -> dict:
        """Keyword arguments of training_run_create for the schedule."""
        data = self.cleaned_data
        return {"eval_every": data.get("eval_every") or 0, "eval_benchmark": data.get("eval_benchmark") or "",
                "eval_options": {k: data.get(f"eval_{k}") for k in self.EVAL_OPTION_FIELDS
                                 if data.get(f"eval_{k}") not in (None, "")}}

    def param_fields(self):
        return [self[f"p_{p.name}"] for p in PARAMS]

    def params(self) -> dict:
        out = {}
        for param in PARAMS:
            value = self.cleaned_data.get(f"p_{param.name}")
            if param.kind is bool:
                out[param.name] = bool(value)
            elif value not in (None, ""):
                out[param.name] = value
        return out
