"""The token page of the workspace, and the page shown to a locked-out login."""
from __future__ import annotations

import math

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from accounts import selectors
from accounts.forms import TokenCreateForm
from accounts.models import ApiToken
from accounts.services import TokenInputError, api_token_create, api_token_revoke
from accounts.throttles import token_create_allowed

TEMPLATE = "accounts/tokens.html"


@never_cache
@login_required
def tokens(request):
    """GET: the user's tokens. POST: create one; the clear token is in this response only
    (never stored, never in a redirect or the session), and the page is marked no-store."""
    form = TokenCreateForm(request.POST or None)
    context = {"form": form, "new_token": None, "new_row": None}
    status = 200
    if request.method == "POST":
        allowed, wait = token_create_allowed(request)
        if not allowed:
            form.add_error(None, f"Too many tokens created recently; try again in {math.ceil(wait or 60)} seconds.")
            status = 429
        elif form.is_valid():
            try:
                row, raw = api_token_create(user=request.user, **form.cleaned_data)
            except TokenInputError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
                status = 400
            else:
                context.update(new_token=raw, new_row=row, form=TokenCreateForm())
        else:
            status = 400
    context["tokens"] = selectors.api_tokens_of(request.user)
    return render(request, TEMPLATE, context, status=status)  # never_cache: no-store, private


@require_POST
@login_required
def token_revoke(request, token_id: int):
    try:
        token = ApiToken.objects.get(pk=token_id, user=request.user)
    except ApiToken.DoesNotExist:
        raise Http404("no such token of yours") from None
    api_token_revoke(token=token, user=request.user)
    return redirect("accounts:tokens")


def lockout_response(request, original_response, credentials):
    """django-axes calls this for a locked-out login: 429, JSON for the API, a page otherwise."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    message = f"Too many failed logins for this account from your address; try again in {minutes} minutes."
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": message, "message": message}, status=429,
                            headers={"Retry-After": str(minutes * 60)})
    response = render(request, "accounts/locked_out.html", {"message": message, "minutes": minutes}, status=429)
    response["Retry-After"] = str(minutes * 60)
    return response
