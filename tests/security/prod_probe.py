"""Run as a separate process with production settings (DEBUG unset, so off): collect the static
files, then answer pages through Django's test client and print what was seen as JSON.
tests/security/test_production.py starts it; settings are read at import, hence the process."""
from __future__ import annotations

import io
import json
import os
import re
import sys

sys.path.insert(0, os.getcwd())
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "microcoder_site.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import override_settings, setup_test_environment  # noqa: E402

out: dict = {"debug": settings.DEBUG, "session_cookie_secure": settings.SESSION_COOKIE_SECURE,
             "csrf_cookie_secure": settings.CSRF_COOKIE_SECURE, "ssl_redirect": settings.SECURE_SSL_REDIRECT}

checks = io.StringIO()
try:
    call_command("check", deploy=True, fail_level="WARNING", stdout=checks, stderr=checks)
    out["check_deploy"] = "clean"
except BaseException as exc:  # SystemCheckError lists the warnings
    out["check_deploy"] = f"{exc}\n{checks.getvalue()}"

call_command("migrate", verbosity=0, interactive=False)
call_command("collectstatic", verbosity=0, interactive=False)
setup_test_environment(debug=False)

client = Client(raise_request_exception=False)


def page(path: str, **kwargs):
    r = client.get(path, secure=True, **kwargs)
    body = b"".join(r.streaming_content) if r.streaming else r.content
    return r, body.decode("utf-8", errors="replace")


r, html = page("/accounts/login/")
out["login"] = {"status": r.status_code, "csp": r.get("Content-Security-Policy", ""),
                "hsts": r.get("Strict-Transport-Security", "")}
htmx = re.search(r'src="(/static/vendor/htmx/htmx\.min\.[0-9a-f]{12}\.js)"', html)
css = re.search(r'href="(/static/microcoder\.[0-9a-f]{12}\.css)"', html)
out["hashed_htmx"] = htmx.group(1) if htmx else None
if htmx:
    s, body = page(htmx.group(1))
    out["htmx"] = {"status": s.status_code, "type": s.get("Content-Type", ""), "cache": s.get("Cache-Control", ""),
                   "looks_like_htmx": "htmx" in body[:5000]}
out["hashed_css"] = css.group(1) if css else None
if css:
    s, _ = page(css.group(1))
    out["css_status"] = s.status_code
s, _ = page("/static/vendor/katex/katex.min.css")
out["katex_unhashed_status"] = s.status_code

# The API's throttles use the cache; REDIS_URL here points nowhere (it only has to be leak-free).
LOCAL_CACHE = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
with override_settings(CACHES=LOCAL_CACHE):
    r, html = page("/api/v1/docs/")
out["docs"] = {"status": r.status_code, "cdn": "cdn." in html or "unpkg" in html or "jsdelivr" in html,
               "inline_script": bool(re.search(r"<script(?![^>]*\bsrc=)[^>]*>\s*\S", html))}
bundle = re.search(r'src="(/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle\.[0-9a-f]{12}\.js)"', html)
out["docs"]["bundle"] = bundle.group(1) if bundle else None
if bundle:
    s, _ = page(bundle.group(1))
    out["docs"]["bundle_status"] = s.status_code
init = re.search(r'<script src="([^"]*\?script=?)"', html)
out["docs"]["init_script"] = init.group(1) if init else None
if init:
    with override_settings(CACHES=LOCAL_CACHE):
        s, body = page(init.group(1).replace("&amp;", "&"))
    out["docs"]["init_status"] = s.status_code
    out["docs"]["init_type"] = s.get("Content-Type", "")

r, html = page("/no/such/page/")
out["404"] = {"status": r.status_code, "html": html}

with override_settings(ROOT_URLCONF="tests.security.boom_urls"):
    r, html = page("/boom/")
out["500"] = {"status": r.status_code, "html": html}

r = client.get("/healthz/", HTTP_HOST="127.0.0.1:8000")  # plain HTTP, a host not in ALLOWED_HOSTS
out["healthz"] = {"status": r.status_code, "body": r.json() if r.status_code in (200, 503) else None}
r = client.get("/accounts/login/")  # plain HTTP elsewhere: redirected to HTTPS
out["http_redirect"] = {"status": r.status_code, "location": r.get("Location", "")}

print("PROBE " + json.dumps(out))
