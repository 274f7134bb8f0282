"""Statements are Markdown with LaTeX maths; imported text is untrusted, so the HTML is sanitized.

Maths is cut out before Markdown runs (so `a_i * b_j` inside `$...$` is not turned into emphasis)
and put back, HTML-escaped, after: KaTeX's auto-render finds the delimiters in the browser.
Everything then goes through nh3 (ammonia): no script, no event handlers, no javascript: URLs.
"""
from __future__ import annotations

import html
import re

import markdown
import nh3
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import get_lexer_by_name
from pygments.util import ClassNotFound

# $$...$$, \[...\], \(...\), then $...$ (not across blank lines, not an escaped \$).
_MATH = re.compile(
    r"(\$\$.+?\$\$|\\\[.+?\\\]|\\\(.+?\\\)|(?<![\\$])\$(?!\s)[^$\n]+?(?<!\s)\$)",
    re.DOTALL,
)
_TOKEN = "\u0000MATH{}\u0000"
_TOKEN_RE = re.compile("\u0000MATH(\\d+)\u0000")

ALLOWED_TAGS = set(nh3.ALLOWED_TAGS) | {"span", "div", "pre", "code", "sup", "sub", "hr", "table", "thead", "tbody", "tr", "th", "td"}
ALLOWED_ATTRIBUTES = {
    **{tag: set(attrs) for tag, attrs in nh3.ALLOWED_ATTRIBUTES.items()},
    "span": {"class"},
    "div": {"class"},
    "code": {"class"},
    "pre": {"class"},
}


def markdown_to_safe_html(text: str) -> str:
    """Render Markdown (with maths left for KaTeX) to sanitized HTML."""
    text = text or ""
    maths: list[str] = []

    def stash(match: re.Match) -> str:
        maths.append(match.group(0))
        return _TOKEN.format(len(maths) - 1)

    protected = _MATH.sub(stash, text)
    rendered = markdown.markdown(protected, extensions=["fenced_code", "tables", "sane_lists"])
    rendered = _TOKEN_RE.sub(lambda m: html.escape(maths[int(m.group(1))], quote=False), rendered)
    return nh3.clean(
        rendered,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        link_rel="noopener noreferrer nofollow",
        url_schemes={"http", "https", "mailto"},
    )


_LANGUAGE_ALIASES = {"python3": "python", "py": "python", "cpp": "cpp", "c++": "cpp", "java": "java", "pypy3": "python"}
_FORMATTER = HtmlFormatter(nowrap=True)


def code_highlight(code: str, language: str) -> str:
    """Server-side highlighting with Pygments: token spans only, all text escaped by Pygments."""
    try:
        lexer = get_lexer_by_name(_LANGUAGE_ALIASES.get(language.lower(), language.lower()))
    except ClassNotFound:
        return html.escape(code)
    return highlight(code, lexer, _FORMATTER)


def highlight_css() -> str:
    return HtmlFormatter(style="default").get_style_defs(".hl")
