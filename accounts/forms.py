from django import forms
from django.conf import settings

from accounts.models import ApiToken

EXPIRY_CHOICES = [(7, "7 days"), (30, "30 days"), (90, "90 days"), (365, "1 year")]


class TokenCreateForm(forms.Form):
    name = forms.CharField(max_length=ApiToken._meta.get_field("name").max_length,
                           help_text="What or who uses it, e.g. “verl trainer on cluster A”")
    expires_in_days = forms.TypedChoiceField(choices=EXPIRY_CHOICES, coerce=int, initial=30, label="Expires in")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        limit = settings.API_TOKEN_MAX_DAYS
        self.fields["expires_in_days"].choices = [c for c in EXPIRY_CHOICES if c[0] <= limit] or [(limit, f"{limit} days")]
