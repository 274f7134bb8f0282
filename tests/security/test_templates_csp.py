"""Templates stay within the Content-Security-Policy (`script-src 'self'`): no inline script code,
no inline event handlers, no `hx-on`, no `javascript:` URLs, nothing loaded from another origin.
Data for scripts goes through json_script (type="application/json", never executed)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
SCRIPT_TAG = re.compile(r"<script\b([^>]*)>(.*?)</script>", re.S | re.I)
HANDLER = re.compile(r"""<[^>]*\s(on[a-z]+|hx-on[:\w-]*)\s*=""", re.I)
FOREIGN = re.compile(r"""(?:src|href)\s*=\s*["'](?:https?:)?//""", re.I)


def template_files() -> list[Path]:
    return sorted(TEMPLATES.rglob("*.html"))


def test_there_are_templates_to_check():
    assert len(template_files()) >= 10


@pytest.mark.parametrize("path", template_files(), ids=lambda p: str(p.relative_to(TEMPLATES)))
def test_template_has_no_inline_script_or_handler(path):
    text = path.read_text()
    for attrs, body in SCRIPT_TAG.findall(text):
        if 'type="application/json"' in attrs:
            continue
        assert "src=" in attrs and not body.strip(), f"inline <script> in {path.name}: move it to static/"
    handler = HANDLER.search(text)
    assert handler is None, f"inline handler {handler.group(1)}= in {path.name}: bind it from a static script"
    assert "javascript:" not in text.lower(), f"javascript: URL in {path.name}"
    assert FOREIGN.search(text) is None, f"a resource from another origin in {path.name}: vendor it under static/"
