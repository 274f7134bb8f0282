"""Saved views: a named filter query string per user."""
from __future__ import annotations

from django.db import transaction
from django.http import QueryDict

from curation.errors import DomainError
from curation.models import SavedView
from curation.selectors import filter_query_string
from curation.services.audit import audit_event_record


class SavedViewError(DomainError):
    pass


def saved_view_save(*, user, name: str, query: str) -> SavedView:
    """Create the named view, or replace the query of the user's view with that name."""
    name = (name or "").strip()
    if not name:
        raise SavedViewError("give the view a name")
    if len(name) > 100:
        raise SavedViewError("names are at most 100 characters")
    query = filter_query_string(QueryDict(query.lstrip("?")))
    with transaction.atomic():
        view, created = SavedView.objects.update_or_create(user=user, name=name, defaults={"query": query})
        audit_event_record(actor=user, action="saved_view_create" if created else "saved_view_update", target=view, after={"name": name, "query": query})
    return view


def saved_view_delete(*, user, view_id: int) -> None:
    with transaction.atomic():
        view = SavedView.objects.select_for_update().filter(pk=view_id, user=user).first()
        if view is None:
            raise SavedViewError("no such saved view")
        audit_event_record(actor=user, action="saved_view_delete", target=view, before={"name": view.name, "query": view.query})
        view.delete()
