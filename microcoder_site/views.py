"""Site-wide error pages: styled, with the navigation, saying why — and never a traceback,
setting or URL pattern (those belong to DEBUG, which production leaves off)."""
from __future__ import annotations

import logging

from django.http import HttpResponseServerError
from django.shortcuts import render
from django.views.decorators.csrf import requires_csrf_token

logger = logging.getLogger(__name__)


def _reason(exception) -> str:
    """The message our code gave (e.g. "this needs the curator role"); nothing for the
    resolver's own 404, whose argument is the list of URL patterns tried."""
    args = getattr(exception, "args", ())
    if args and isinstance(args[0], str):
        return args[0][:300]
    return ""


@requires_csrf_token
def permission_denied(request, exception=None):
    context = {"status": 403, "heading": "Not allowed", "reason": _reason(exception),
               "why": "Your account may not open this page or do this action."}
    return render(request, "403.html", context, status=403)


@requires_csrf_token
def page_not_found(request, exception=None):
    context = {"status": 404, "heading": "Not found", "reason": _reason(exception),
               "why": f"There is no page at {request.path[:200]}, or the item it names does not exist."}
    return render(request, "404.html", context, status=404)


@requires_csrf_token
def server_error(request):
    context = {"status": 500, "heading": "Server error", "reason": "",
               "why": "Something went wrong on our side while answering this request; nothing was changed by it."}
    try:
        return render(request, "500.html", context, status=500)
    except Exception:  # the error may come from templates or the database the page needs
        logger.exception("the 500 page itself failed; answering plain text")
        return HttpResponseServerError("Server error: something went wrong on our side.", content_type="text/plain")
