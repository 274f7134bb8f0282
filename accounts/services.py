"""Writes for accounts: API token creation and revocation (one transaction + one audit row each)."""
from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.models import ApiToken
from curation.services.audit import audit_event_record

TOKEN_PREFIX = "mc_"
PREFIX_SHOWN = 10  # "mc_" + 7 characters: enough to tell tokens apart, useless to an attacker
MAX_ACTIVE_TOKENS = 25
NAME_MAX = ApiToken._meta.get_field("name").max_length


class TokenInputError(ValueError):
    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def token_digest(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def api_token_create(*, user, name: str, expires_in_days: int) -> tuple[ApiToken, str]:
    """A new token for `user`; returns the row and the clear token, which is never stored."""
    name = (name or "").strip()
    if not name:
        raise TokenInputError("name", "give the token a name (what or who uses it)")
    if len(name) > NAME_MAX:
        raise TokenInputError("name", f"at most {NAME_MAX} characters")
    max_days = settings.API_TOKEN_MAX_DAYS
    if not isinstance(expires_in_days, int) or isinstance(expires_in_days, bool) or not 1 <= expires_in_days <= max_days:
        raise TokenInputError("expires_in_days", f"a whole number of days from 1 to {max_days}")
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = timezone.now()
    with transaction.atomic():
        active = ApiToken.objects.select_for_update().filter(user=user, revoked_at__isnull=True, expires_at__gt=now)
        if len(active) >= MAX_ACTIVE_TOKENS:
            raise TokenInputError("name", f"you already have {MAX_ACTIVE_TOKENS} active tokens; revoke one first")
        token = ApiToken.objects.create(
            user=user, name=name, prefix=raw[:PREFIX_SHOWN], digest=token_digest(raw),
            created_at=now, expires_at=now + dt.timedelta(days=expires_in_days),
        )
        audit_event_record(actor=user, action="api_token_create", target=token,
                           after={"name": name, "prefix": token.prefix, "expires_at": token.expires_at.isoformat()})
    return token, raw


def api_token_revoke(*, token: ApiToken, user) -> ApiToken:
    """Revoke `token` (idempotent). Only its owner or an admin may; the caller checks which."""
    with transaction.atomic():
        token = ApiToken.objects.select_for_update().get(pk=token.pk)
        if token.revoked_at is None:
            token.revoked_at = timezone.now()
            token.save(update_fields=["revoked_at"])
            audit_event_record(actor=user, action="api_token_revoke", target=token,
                               after={"name": token.name, "prefix": token.prefix})
    return token


def api_token_authenticate(raw: str) -> ApiToken | None:
    """The active token whose digest matches `raw`, with its user; None otherwise."""
    if not raw.startswith(TOKEN_PREFIX) or len(raw) > 200:
        return None
    token = ApiToken.objects.select_related("user").filter(digest=token_digest(raw)).first()
    if token is None or not token.is_active or not token.user.is_active:
        return None
    now = timezone.now()
    # Write "last used" at most once a minute: a busy client must not cost one UPDATE per call.
    if token.last_used_at is None or now - token.last_used_at > dt.timedelta(minutes=1):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token
