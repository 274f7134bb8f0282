"""GET /healthz/: is this web process able to serve? (the compose healthcheck asks it).

A middleware, first in the chain, so that the probe needs no Host header from ALLOWED_HOSTS and is
not redirected to HTTPS: it runs inside the container on plain HTTP to 127.0.0.1.
"""
from __future__ import annotations

from django.db import connection
from django.http import JsonResponse

HEALTH_PATH = "/healthz/"


class HealthCheckMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path != HEALTH_PATH or request.method not in ("GET", "HEAD"):
            return self.get_response(request)
        checks = {}
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
                cursor.fetchone()
            checks["database"] = "ok"
        except Exception as exc:  # report, don't raise: the probe wants a status, not a 500 page
            checks["database"] = f"error: {type(exc).__name__}"
        ok = all(v == "ok" for v in checks.values())
        response = JsonResponse({"status": "ok" if ok else "unavailable", "checks": checks}, status=200 if ok else 503)
        response["Cache-Control"] = "no-store"
        return response
