"""Statement normalisation: HTML → Markdown (LaTeX kept), encoding clean-up, I/O format detection,
prompt format instructions and incompleteness checks.

Public API
----------
- ``looks_like_html(text) -> bool``
- ``clean_text(text) -> str``                       encoding artefacts, ``$$$x$$$``, stray ``$``
- ``html_to_markdown(html) -> str``                 LaTeX segments protected from markdownify
- ``normalize_statement(text, statement_format=None) -> str``   the one-call entry point
- ``statement_warnings(statement) -> dict``         e.g. suspected lost superscripts ("≤ 109")
- ``markdown_section(markdown, heading) -> str``    body of a ``## Heading`` section
- ``parse_starter_code(code, function_name_hint="") -> Signature | None``
- ``detect_io_format(statement, starter_code="", function_name_hint="") -> IOFormat``
  (a NamedTuple ``(io_format, function_name, signature)``)
- ``FORMAT_INSTRUCTIONS`` and ``format_instruction(io_format, function_name, starter_code, version="v1")``
- ``detect_incomplete(statement, io_format) -> list[str]``
"""
from __future__ import annotations

import ast
import html as html_lib
import re
import textwrap
from dataclasses import dataclass, field
from typing import NamedTuple

from curation.vocabulary import IO_FUNCTIONAL, IO_STDIN  # noqa: F401 — the project's io formats

from . import statement_layout as layout

# --------------------------------------------------------------------------------------------
# Encoding clean-up
# --------------------------------------------------------------------------------------------

_ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"), None)
# Literal escape sequences left by double JSON encoding: "\u2264" as six characters.
_LITERAL_U_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})")
_CF_TRIPLE_DOLLAR = re.compile(r"\$\$\$(.+?)\$\$\$", re.S)
_HTML_ENTITY = re.compile(r"&(?:[a-zA-Z]{2,8}|#\d{2,6}|#x[0-9a-fA-F]{2,5});")

# Characters that make a literal \uXXXX escape look like it is really LaTeX (``\u`` is not a
# LaTeX command, but be careful about e.g. ``\underline``: it has no 4 hex digits after ``\u``
# except in odd cases like ``\udef``; we only decode code points outside ASCII letters).


def _decode_literal_escape(match: re.Match[str]) -> str:
    code = int(match.group(1), 16)
    if code < 0x80 or 0xD800 <= code <= 0xDFFF:
        return match.group(0)  # ASCII or surrogate: not an artefact we can safely decode
    return chr(code)


def _fix_stray_dollars(text: str) -> str:
    """Escape ``$`` signs that open no math span, paragraph by paragraph.

    Pandoc's rules decide: an opening ``$`` has a non-space right after it, a closing ``$`` has a
    non-space right before it and no digit right after it; ``$$`` pairs with ``$$``. A ``$``
    that cannot open or close (``costs 5$ each``), or an opener left unclosed at the end of the
    paragraph, is escaped as ``\\$`` so renderers show a literal dollar instead of swallowing
    the rest of the paragraph as maths. Already escaped ``\\$`` is left alone.
    """
    out_paragraphs = []
    for para in re.split(r"(\n\s*\n)", text):
        if "$" not in para or para.strip() == "":
            out_paragraphs.append(para)
            continue
        stray: list[int] = []
        open_at: int | None = None
        open_kind = ""
        for m in re.finditer(r"(?<!\\)(\$\$|\$)", para):
            tok, pos, after = m.group(0), m.start(), m.end()
            nxt = para[after] if after < len(para) else ""
            prev = para[pos - 1] if pos > 0 else ""
            if open_at is None:
                if tok == "$$" or (nxt and not nxt.isspace()):
                    open_at, open_kind = pos, tok
                else:
                    stray.append(pos)
            elif open_kind == "$$":
                if tok == "$$":
                    open_at = None
                # a single $ inside display maths is left alone
            elif tok == "$" and prev and not prev.isspace() and not nxt.isdigit():
                open_at = None
            elif tok == "$$":  # "$$" while "$" is open: close inline and re-open? treat as literal pair
                stray.extend([pos, pos + 1])
            else:
                stray.append(pos)
        if open_at is not None:
            stray.extend([open_at] if open_kind == "$" else [open_at, open_at + 1])
        if not stray:
            out_paragraphs.append(para)
            continue
        chars = list(para)
        for pos in sorted(set(stray), reverse=True):
            chars[pos] = "\\$"
        out_paragraphs.append("".join(chars))
    return "".join(out_paragraphs)


def clean_text(text: str) -> str:
    """Fix encoding artefacts; safe to run on Markdown or plain text (idempotent).

    - literal ``\\u2264`` escapes → ``≤`` (non-ASCII code points only)
    - HTML entities (``&nbsp;``, ``&le;``, ``&#8804;``) → characters
    - ``\\xa0`` and other exotic spaces → plain space; zero-width characters and soft hyphens dropped
    - ``\\r\\n`` → ``\\n``; trailing spaces removed; 3+ blank lines collapsed to one blank line
    - Codeforces ``$$$x$$$`` → ``$x$`` (and ``$$$$$$x$$$$$$`` → ``$$x$$``)
    - stray unmatched ``$`` escaped as ``\\$``
    """
    if not text:
        return ""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _LITERAL_U_ESCAPE.sub(_decode_literal_escape, text)
    if _HTML_ENTITY.search(text):
        text = html_lib.unescape(text)
    text = text.translate(_ZERO_WIDTH)
    text = re.sub(r"[\u00a0\u2000-\u200a\u202f\u205f\u3000]", " ", text)
    text = text.replace("$$$$$$", "$$")
    text = _CF_TRIPLE_DOLLAR.sub(lambda m: "$" + m.group(1).strip() + "$", text)
    text = _fix_stray_dollars(text)
    text = "\n".join(line.rstrip() for line in text.split("\n"))
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip("\n")


# --------------------------------------------------------------------------------------------
# HTML detection and conversion
# --------------------------------------------------------------------------------------------

_HTML_TAG = re.compile(
    r"</?(p|div|span|br|pre|code|ul|ol|li|strong|em|b|i|sup|sub|img|table|tr|td|th|h[1-6]|a|blockquote)"
    r"(\s[^<>]*)?/?>",
    re.I,
)


_BLOCK_TAG = re.compile(r"</?(?:p|div|ul|ol|li|pre|br|h[1-6]|table|tr|td)(?:\s[^<>]*)?/?>")


def looks_like_html(text: str) -> bool:
    """True when the text carries real HTML markup (not just ``a < b`` comparisons)."""
    if not text:
        return False
    tags = _HTML_TAG.findall(text)
    if len(tags) >= 2:
        return True
    return bool(tags) and bool(re.search(r"</\w+>|<br\s*/?>|<img\s", text, re.I))


# Maths spans protected from markdownify (which would escape ``_`` and ``*`` in them).
_MATH_SPANS = re.compile(
    r"\$\$\$.+?\$\$\$|\$\$.+?\$\$|(?<!\\)\$[^$\n]+?(?<!\\)\$|\\\(.+?\\\)|\\\[.+?\\\]",
    re.S,
)


def _protect_math(text: str) -> tuple[str, list[str]]:
    saved: list[str] = []

    def repl(m: re.Match[str]) -> str:
        saved.append(m.group(0))
        return f"MCMATHPH{len(saved) - 1}X"

    return _MATH_SPANS.sub(repl, text), saved


def _restore_math(text: str, saved: list[str]) -> str:
    return re.sub(r"MCMATHPH(\d+)X", lambda m: saved[int(m.group(1))], text)


def html_to_markdown(html: str) -> str:
    """HTML statement → Markdown, keeping ``$...$``, ``$$...$$``, ``\\(...\\)`` untouched."""
    from markdownify import markdownify  # local: only this path needs it

    # Entities inside maths (``$a &lt; b$``) must be decoded before protecting the maths.
    protected, saved = _protect_math(html)
    saved = [html_lib.unescape(s) for s in saved]
    md = markdownify(
        protected,
        heading_style="ATX",
        bullets="-",
        code_language="",
        escape_underscores=False,
        escape_asterisks=False,
    )
    return _restore_math(md, saved)


def normalize_statement(text: str, statement_format: str | None = None) -> str:
    """Entry point: detect HTML (unless ``statement_format`` says so), convert, clean, then give
    the text its page structure (``statement_layout``: headings, fenced examples, lists, line
    breaks, TeX outside maths)."""
    if not text:
        return ""
    if statement_format == "text":
        # Plain text talks about markup as data ("wrap it with <b> and </b>", LeetCode's tag
        # validator's "<DIV>"): only scraped page structure (lowercase block tags outside quoted
        # strings) makes it HTML.
        probe = re.sub(r'"[^"\n]*"', '""', text)
        is_html = len(_BLOCK_TAG.findall(probe)) >= 2 and looks_like_html(probe)
    else:
        is_html = statement_format == "html" or (statement_format in (None, "", "markdown") and looks_like_html(text))
    if is_html:
        text = html_to_markdown(text)
    text = clean_text(text)
    if statement_format == "latex":
        return text  # LaTeX source: its line breaks are wrapping, its maths already delimited
    # Plain text (and "Markdown" that is really plain text, like CodeContests): every line break
    # was a paragraph or list item on the page. Real Markdown and converted HTML keep theirs.
    keep_breaks = not is_html and not (statement_format == "markdown" and layout.has_markdown_structure(text))
    text = layout.restructure(text, keep_line_breaks=keep_breaks)
    return layout.tex_outside_math(text)


def statement_warnings(statement: str) -> dict[str, list[str]]:
    """Things in a normalised statement a curator should check: ``{"lost_superscript": [snippets]}``
    where "≤ 109" probably was 10^9 (flagged, never rewritten)."""
    found = layout.lost_superscripts(statement or "")
    return {"lost_superscript": found} if found else {}


def markdown_section(markdown: str, heading: str, level: int = 2) -> str:
    """The body of ``## heading`` up to the next heading of the same or a higher level."""
    hashes = "#" * level
    pattern = re.compile(
        rf"^{hashes}[ \t]+{re.escape(heading)}[ \t]*$\n(.*?)(?=^#{{1,{level}}}[ \t]+\S|\Z)", re.M | re.S | re.I
    )
    m = pattern.search(markdown)
    return m.group(1).strip("\n") if m else ""


# --------------------------------------------------------------------------------------------
# I/O format detection
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Param:
    name: str
    annotation: str = ""


@dataclass(frozen=True)
class Signature:
    """Method signature parsed from starter code (``self`` dropped)."""

    function_name: str
    params: tuple[Param, ...] = ()
    returns: str = ""
    class_name: str = "Solution"
    methods: tuple[str, ...] = field(default=())  # all public methods of the class

    def to_dict(self) -> dict:
        return {
            "class_name": self.class_name,
            "function_name": self.function_name,
            "params": [{"name": p.name, "annotation": p.annotation} for p in self.params],
            "returns": self.returns,
            "methods": list(self.methods),
        }

    def __str__(self) -> str:
        params = ", ".join(f"{p.name}: {p.annotation}" if p.annotation else p.name for p in self.params)
        ret = f" -> {self.returns}" if self.returns else ""
        return f"{self.function_name}({params}){ret}"


class IOFormat(NamedTuple):
    io_format: str
    function_name: str
    signature: Signature | None


def _complete_bodies(code: str) -> str:
    """Starter code ends in ``def f(...):`` with no body: add ``pass`` where a body is missing."""
    lines = textwrap.dedent(code.replace("\t", "    ")).rstrip().split("\n")
    out: list[str] = []
    for i, line in enumerate(lines):
        out.append(line)
        stripped = line.rstrip()
        if stripped.endswith(":") and not stripped.lstrip().startswith("#"):
            indent = len(line) - len(line.lstrip())
            nxt = next((l for l in lines[i + 1:] if l.strip()), None)
            if nxt is None or (len(nxt) - len(nxt.lstrip())) <= indent:
                out.append(" " * (indent + 4) + "pass")
    return "\n".join(out) + "\n"


def parse_starter_code(code: str, function_name_hint: str = "") -> Signature | None:
    """Parse LeetCode-style starter code with ``ast``; None when there is no usable class/def."""
    if not code or not code.strip():
        return None
    try:
        tree = ast.parse(_complete_bodies(code))
    except SyntaxError:
        return None
    hint = function_name_hint.split(".")[-1].strip() if function_name_hint else ""
    classes = [n for n in tree.body if isinstance(n, ast.ClassDef)]
    # Prefer class Solution; otherwise the last class (helper classes such as TreeNode come first).
    cls = next((c for c in classes if c.name == "Solution"), classes[-1] if classes else None)
    if cls is None:
        funcs = [n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
        if not funcs:
            return None
        fn = next((f for f in funcs if f.name == hint), funcs[0])
        return _signature_of(fn, class_name="", methods=tuple(f.name for f in funcs), drop_self=False)
    methods = [n for n in cls.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
    if not methods:
        return None
    public = [m for m in methods if not m.name.startswith("_")]
    if hint:
        fn = next((m for m in methods if m.name == hint), None)
    else:
        fn = None
    if fn is None:
        if cls.name == "Solution" and public:
            fn = public[0]
        else:  # design problem (class LRUCache: __init__, get, put): the constructor describes it
            fn = next((m for m in methods if m.name == "__init__"), public[0] if public else methods[0])
    return _signature_of(fn, class_name=cls.name, methods=tuple(m.name for m in public))


def _signature_of(fn, class_name: str, methods: tuple[str, ...], drop_self: bool = True) -> Signature:
    args = list(fn.args.posonlyargs) + list(fn.args.args)
    if drop_self and args and args[0].arg in ("self", "cls"):
        args = args[1:]
    args += list(fn.args.kwonlyargs)
    params = tuple(Param(a.arg, ast.unparse(a.annotation) if a.annotation is not None else "") for a in args)
    returns = ast.unparse(fn.returns) if fn.returns is not None else ""
    name = class_name if fn.name == "__init__" and class_name else fn.name
    return Signature(function_name=name, params=params, returns=returns, class_name=class_name, methods=methods)


_CODE_BLOCK = re.compile(r"```(?:python3?|py)?[ \t]*\n(.*?)```", re.S)
_STDIN_HINTS = re.compile(
    r"^\s*(?:#+\s*|\*\*|-+)?\s*(input|output)(\s+(format|specification|data))?\s*:?\s*(\*\*|-+)?\s*$"
    r"|standard input|standard output|stdin|stdout",
    re.I | re.M,
)


def detect_io_format(statement: str, starter_code: str = "", function_name_hint: str = "") -> IOFormat:
    """``(io_format, function_name, signature)`` for a problem.

    Functional when starter code (or a ``class Solution`` code block inside the statement, as in
    LeetCodeDataset v0.2.0 ``query``) parses to a method; ``function_name_hint`` (e.g. the
    ``entry_point`` ``Solution().twoSum``) chooses among several methods. Otherwise stdin.
    """
    sig = parse_starter_code(starter_code, function_name_hint)
    if sig is None and statement:
        for m in _CODE_BLOCK.finditer(statement):
            if re.search(r"^class\s+\w+", m.group(1), re.M):
                sig = parse_starter_code(m.group(1), function_name_hint)
                if sig is not None:
                    break
    if sig is not None:
        return IOFormat(IO_FUNCTIONAL, sig.function_name, sig)
    hint = function_name_hint.split(".")[-1].strip() if function_name_hint else ""
    if hint and not _STDIN_HINTS.search(statement or ""):
        return IOFormat(IO_FUNCTIONAL, hint, None)
    return IOFormat(IO_STDIN, "", None)


# --------------------------------------------------------------------------------------------
# Format instructions (versioned templates: change wording by adding a version, never in place)
# --------------------------------------------------------------------------------------------

# One source for every prompt's format instruction: the LLM prompts module (re-exported here,
# where the normaliser stores them on each problem).
from curation.llm.prompts import DEFAULT_FORMAT_VERSION, FORMAT_INSTRUCTIONS, format_instruction  # noqa: E402,F401


# --------------------------------------------------------------------------------------------
# Incompleteness
# --------------------------------------------------------------------------------------------

_INPUT_SECTION = re.compile(
    r"^\s*(?:#+\s*|\*\*|-{2,}\s*)?(input|input format|input specification|input data|входные данные)"
    r"\s*:?\s*(?:\*\*|\s*-{2,})?\s*:?\s*$|^\s*input\s*:?\s*\S|the (first|only) line (of (the )?input )?contains"
    r"|standard input",
    re.I | re.M,
)
_OUTPUT_SECTION = re.compile(
    r"^\s*(?:#+\s*|\*\*|-{2,}\s*)?(output|output format|output specification|output data|выходные данные)"
    r"\s*:?\s*(?:\*\*|\s*-{2,})?\s*:?\s*$|^\s*output\s*:?\s*\S|\b(print|output) (a single|one|the|an?|\w+ integers?)\b"
    r"|standard output",
    re.I | re.M,
)
_IMAGE = re.compile(r"<img\b[^>]*>|!\[[^\]]*\]\([^)]*\)", re.I)
MIN_STATEMENT_CHARS = 200


def statement_text_length(statement: str) -> int:
    """Characters of prose: markup, image references and whitespace runs removed."""
    text = _IMAGE.sub(" ", statement or "")
    text = re.sub(r"<[^>]+>", " ", text)
    text = re.sub(r"[#*_`>|]+", " ", text)
    return len(re.sub(r"\s+", " ", text).strip())


def detect_incomplete(statement: str, io_format: str = IO_STDIN, *,
                      min_chars: int = MIN_STATEMENT_CHARS) -> list[str]:
    """Reasons a statement looks incomplete (empty list = looks fine).

    ``no_input_section`` / ``no_output_section`` (stdin problems only), ``image_only`` (the
    statement's content is mostly pictures: at least one image and under ``min_chars`` of prose,
    or more images than paragraphs of prose), ``too_short`` (under ``min_chars`` of prose).
    """
    reasons: list[str] = []
    statement = statement or ""
    n_text = statement_text_length(statement)
    n_images = len(_IMAGE.findall(statement))
    if io_format == IO_STDIN:
        if not _INPUT_SECTION.search(statement):
            reasons.append("no_input_section")
        if not _OUTPUT_SECTION.search(statement):
            reasons.append("no_output_section")
    if n_images:
        paragraphs = [p for p in re.split(r"\n\s*\n", _IMAGE.sub("", statement)) if len(p.strip()) > 40]
        if n_text < min_chars or n_images > len(paragraphs):
            reasons.append("image_only")
    if n_text < min_chars:
        reasons.append("too_short")
    return reasons
