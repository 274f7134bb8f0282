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

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # One field per recipe parameter; validation stays in params_normalize (one place).
        for param in PARAMS:
            if param.kind is bool:
                field = forms.BooleanField(required=False, initial=param.default)
            else:
                field = forms.CharField(required=False, initial=param.default,
                                        widget=forms.TextInput(attrs={"inputmode": "decimal", "size": 10}))
            field.help_text = param.help
            self.fields[f"p_{param.name}"] = field

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
