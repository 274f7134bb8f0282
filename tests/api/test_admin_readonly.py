"""Django admin shows snapshots, snapshot items, exports, audit events and verification rows but
offers no way to add, change or delete them (saving a snapshot used to end in ImmutableError)."""
from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from curation.models import AuditEvent, DatasetSnapshot, Export, SnapshotItem, Verdict, VerificationRun

from .objects import seed_everything

READ_ONLY = [DatasetSnapshot, SnapshotItem, Export, AuditEvent, VerificationRun, Verdict]


@pytest.fixture
def superuser_client(client, db):
    admin = get_user_model().objects.create_superuser("root", "root@example.org", "pw-root")
    client.force_login(admin)
    return client


@pytest.mark.parametrize("model", READ_ONLY, ids=lambda m: m.__name__)
def test_admin_is_read_only_for_history(model, superuser_client, users, problems):
    seed_everything(users, problems)
    obj = model.objects.order_by("pk").first()
    assert obj is not None, f"seed made no {model.__name__}"
    base = f"/admin/curation/{model._meta.model_name}/"
    listing = superuser_client.get(base)
    assert listing.status_code == 200 and f"{base}add/".encode() not in listing.content
    assert b" to view | Django site admin" in listing.content  # "Select … to view", not "to change"
    page = superuser_client.get(f"{base}{obj.pk}/change/")
    assert page.status_code == 200
    assert b'name="_save"' not in page.content and b'class="deletelink"' not in page.content
    before = model.objects.filter(pk=obj.pk).values().get()
    assert superuser_client.post(f"{base}{obj.pk}/change/", {"name": "tampered"}).status_code == 403
    assert superuser_client.get(f"{base}add/").status_code == 403
    assert superuser_client.post(f"{base}{obj.pk}/delete/", {"post": "yes"}).status_code == 403
    assert model.objects.filter(pk=obj.pk).values().get() == before
    if model is AuditEvent:
        assert superuser_client.post(f"{base}add/", {"action": "forged"}).status_code == 403
        assert not AuditEvent.objects.filter(action="forged").exists()
