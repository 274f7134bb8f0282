"""Production settings, as a deployment gets them (DEBUG not set), checked in a separate process:
DEBUG is off by default, the development key is refused, `check --deploy` is clean, static
files are served by the app with hashed names, Swagger UI is local, the 404 and 500 pages keep
the navigation and leak nothing (no URL patterns, no broker or cache passwords)."""
from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
BROKER_PASSWORD = "broker-pw-" + secrets.token_hex(8)
CACHE_PASSWORD = "cache-pw-" + secrets.token_hex(8)


def production_env(tmp_path: Path, **extra) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "SECRET_KEY", "DATABASE_URL", "TLS", "STATIC_ROOT",
                                                         "DJANGO_ALLOW_ASYNC_UNSAFE"}}
    env.update(
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="testserver,microcoder.example.org",
        MICROCODER_VAR_DIR=str(tmp_path / "var"),
        STATIC_ROOT=str(tmp_path / "static"),
        # Never contacted by these pages; present so that a debug page would show them.
        CELERY_BROKER_URL=f"redis://:{BROKER_PASSWORD}@127.0.0.1:1/0",
        REDIS_URL=f"redis://:{CACHE_PASSWORD}@127.0.0.1:1/1",
        DJANGO_SETTINGS_MODULE="microcoder_site.settings",
    )
    env.update(extra)
    return env


def settings_import(env: dict[str, str]) -> subprocess.CompletedProcess:
    code = "import django; django.setup(); from django.conf import settings; print('DEBUG', settings.DEBUG)"
    return subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def probe(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("prod")
    result = subprocess.run([sys.executable, "tests/security/prod_probe.py"], cwd=REPO_ROOT, env=production_env(tmp),
                            capture_output=True, text=True, timeout=300)
    lines = [line for line in result.stdout.splitlines() if line.startswith("PROBE ")]
    assert result.returncode == 0 and lines, result.stderr[-3000:]
    return json.loads(lines[-1][len("PROBE "):])


def test_debug_is_off_unless_asked_for(tmp_path):
    env = production_env(tmp_path)
    r = settings_import(env)
    assert r.returncode == 0, r.stderr
    assert "DEBUG False" in r.stdout


def test_no_secret_key_or_the_dev_key_is_refused_with_debug_off(tmp_path):
    env = production_env(tmp_path)
    del env["SECRET_KEY"]
    r = settings_import(env)
    assert r.returncode != 0 and "SECRET_KEY must be set when DEBUG is off" in r.stderr
    r = settings_import(dict(env, SECRET_KEY="dev-only-insecure-key-change-me"))
    assert r.returncode != 0 and "development key" in r.stderr
    r = settings_import(dict(env, DEBUG="1"))  # development: the dev key is fine
    assert r.returncode == 0 and "DEBUG True" in r.stdout


def test_check_deploy_is_clean(probe):
    assert probe["check_deploy"] == "clean"
    assert probe["debug"] is False
    assert probe["session_cookie_secure"] and probe["csrf_cookie_secure"] and probe["ssl_redirect"]


def test_tls_headers_and_csp(probe):
    assert probe["login"]["status"] == 200
    assert "max-age=31536000" in probe["login"]["hsts"]
    csp = probe["login"]["csp"]
    assert "script-src 'self'" in csp and "'unsafe-inline'" not in csp.split("script-src")[1].split(";")[0]
    assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
    assert probe["http_redirect"]["status"] == 301 and probe["http_redirect"]["location"].startswith("https://")


def test_static_files_are_served_with_hashed_names(probe):
    assert probe["hashed_htmx"] and probe["hashed_css"], "pages must link content-hashed static names"
    assert probe["htmx"]["status"] == 200 and probe["htmx"]["looks_like_htmx"]
    assert "javascript" in probe["htmx"]["type"]
    assert "immutable" in probe["htmx"]["cache"] and "max-age=315360000" in probe["htmx"]["cache"]
    assert probe["css_status"] == 200
    assert probe["katex_unhashed_status"] == 200  # the plain names keep working (fonts, maps)


def test_swagger_ui_is_served_locally_without_inline_script(probe):
    docs = probe["docs"]
    assert docs["status"] == 200 and not docs["cdn"] and not docs["inline_script"]
    assert docs["bundle"] and docs["bundle_status"] == 200
    assert docs["init_script"] and docs["init_status"] == 200 and "javascript" in docs["init_type"]


def test_404_page_keeps_navigation_and_lists_no_url_patterns(probe):
    page = probe["404"]
    assert page["status"] == 404
    html = page["html"]
    assert "Not found" in html and 'class="topbar"' in html and "/no/such/page/" in html
    assert "URLconf" not in html and "api/v1/" not in html and "admin/" not in html


def test_500_page_says_why_and_leaks_nothing(probe):
    page = probe["500"]
    assert page["status"] == 500
    html = page["html"]
    assert "Server error" in html and 'class="topbar"' in html
    for secret in (BROKER_PASSWORD, CACHE_PASSWORD, "Traceback", "deliberate failure", "SECRET_KEY", "DATABASES"):
        assert secret not in html


def test_health_endpoint_answers_plain_http_probes(probe):
    assert probe["healthz"] == {"status": 200, "body": {"status": "ok", "checks": {"database": "ok"}}}
