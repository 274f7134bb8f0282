"""Statement layout: give plain-text statements the structure their source pages had.

Scraped and re-packaged statements (CodeContests, LeetCode, LiveCodeBench, TACO) arrive as plain
text in which every line break and section title is meaningful, but Markdown renders them as one
run-on paragraph: example inputs collapse onto one line ("abba 2 1 4 1 2"), constraint lists merge,
"Input" / "Output" / "Examples" are ordinary words, `10^{5}` outside `$…$` shows raw. This module
rewrites such text as Markdown that keeps what the page showed:

- section titles standing alone on a line (Input, Output, Examples, Note, Constraints, Interaction,
  "Example 1:", "Sample Input 1") become headings;
- example data (Codeforces "Input"/"Output" blocks under Examples, LeetCode example bodies,
  AtCoder samples) become fenced blocks, line breaks intact;
- constraint lines and lines introduced by a colon become list items; other line breaks of
  plain text are kept (each line its own paragraph);
- TeX outside maths is made renderable: `10^{5}`, `a_{i}` wrapped in `$…$`, `\\le`, `\\cdot` … as
  Unicode;
- `lost_superscripts` finds "≤ 109" / "109 + 7", where a source dropped the superscript of 10^9,
  for the curator to check (never rewritten: 105 may really be 105).

Pure Python, idempotent (a second pass changes nothing), and the samples extractor
(`curation.process.samples`) finds the same examples before and after.
"""
from __future__ import annotations

import re

_FENCE = re.compile(r"^[ \t]*(```|~~~)")
_LIST_ITEM = re.compile(r"^[ \t]*(?:[-*+][ \t]|\d{1,3}[.)][ \t])")
_TABLE_ROW = re.compile(r"^[ \t]*\|")
_HEADING = re.compile(r"^#{1,6}[ \t]+\S")

# Titles, matched on a line standing alone (optionally already `#`/`**` marked, colon optional).
_TITLE = re.compile(
    r"^[ \t]*(?:#{1,6}[ \t]*)?(?:\*\*)?[ \t]*(?P<word>"
    r"input(?:[ \t]+(?:format|specification|data))?|output(?:[ \t]+(?:format|specification|data))?"
    r"|examples?|sample[ \t]+tests?|notes?|constraints|interaction|scoring|subtasks"
    r"|example[ \t]*(?P<n>\d+)|sample[ \t]+(?P<sio>input|output)[ \t]*(?P<sn>\d*)"
    r")[ \t]*:?[ \t]*(?:\*\*)?[ \t]*:?[ \t]*$",
    re.I,
)
_HEADINGS = {"input": "Input", "output": "Output", "note": "Note", "notes": "Note", "constraints": "Constraints",
             "interaction": "Interaction", "scoring": "Scoring", "subtasks": "Subtasks"}


def _title(line: str) -> tuple[str, str] | None:
    """(kind, heading text) for a section-title line, else None."""
    m = _TITLE.match(line)
    if not m:
        return None
    word = re.sub(r"[ \t]+", " ", m.group("word").lower())
    if m.group("n"):
        return "example_n", f"Example {m.group('n')}"
    if m.group("sio"):
        return "sample_io", f"Sample {m.group('sio').capitalize()} {m.group('sn')}".rstrip()
    if word in ("example", "examples", "sample test", "sample tests"):
        return "examples", "Examples" if word.endswith("s") else "Example"
    head = word.split(" ")[0]
    if head in ("input", "output"):
        return head, _HEADINGS[head]
    return word, _HEADINGS[word]


def _strip_blank(lines: list[str]) -> list[str]:
    while lines and not lines[0].strip():
        lines = lines[1:]
    while lines and not lines[-1].strip():
        lines = lines[:-1]
    return lines


def _fenced(lines: list[str]) -> list[str]:
    body = _strip_blank(lines)
    if body and _FENCE.match(body[0]):  # already fenced (an earlier pass, or the source)
        return body
    return ["```", *body, "```"]


def restructure(text: str, *, keep_line_breaks: bool = True) -> str:
    """Section headings, fenced examples, lists; `keep_line_breaks` turns the remaining single
    line breaks of prose into paragraph breaks (plain-text sources, where each line was a
    paragraph or list item of the page)."""
    lines = text.split("\n")
    out: list[str] = []
    section = ""
    i, n = 0, len(lines)

    def standalone(k: int) -> bool:
        return (k == 0 or not lines[k - 1].strip() or bool(_HEADING.match(lines[k - 1]))
                or k + 1 >= n or not lines[k + 1].strip() or bool(_HEADING.match(lines[k])))

    def block_end(k: int, stops: set[str]) -> int:
        """Index of the next standalone title whose kind is in `stops` (fences skipped)."""
        while k < n:
            if _FENCE.match(lines[k]):
                k += 1
                while k < n and not _FENCE.match(lines[k]):
                    k += 1
            else:
                t = _title(lines[k])
                if (t and t[0] in stops and standalone(k)) or (_HEADING.match(lines[k]) and not t):
                    return k
            k += 1
        return n

    while i < n:
        line = lines[i]
        if _FENCE.match(line):  # copy a fenced block untouched
            j = i + 1
            while j < n and not _FENCE.match(lines[j]):
                j += 1
            out.extend(lines[i:j + 1])
            i = j + 1
            continue
        t = _title(line) if standalone(i) else None
        if t is None:
            if section == "constraints" and line.strip() and not _LIST_ITEM.match(line) \
                    and not re.match(r"\s*(?:\*\*)?follow[- ]?up", line, re.I):
                out.append("- " + line.strip())
            else:
                if re.match(r"\s*(?:\*\*)?follow[- ]?up", line, re.I):
                    if section == "constraints" and out and out[-1].strip():
                        out.append("")  # or Markdown continues the last list item with it
                    section = ""
                out.append(line)
            i += 1
            continue
        kind, label = t
        if kind in ("input", "output") and section == "examples":
            # Codeforces layout: the data of one example, up to the next Input/Output/Note.
            # An input block ends only at its Output (a data line may read "Note", as in 633C).
            stops = {"output"} if kind == "input" else {"input", "output", "note", "notes", "examples", "example_n", "constraints"}
            j = block_end(i + 1, stops)
            out += [f"**{label}**", "", *_fenced(lines[i + 1:j]), ""]
            i = j
            continue
        if kind == "sample_io":
            j = block_end(i + 1, {"sample_io", "note", "notes", "examples", "example_n", "constraints", "input", "output"})
            out += [f"### {label}", "", *_fenced(lines[i + 1:j]), ""]
            section = "examples"
            i = j
            continue
        if kind == "example_n":
            # LeetCode layout: the whole example (Input/Output/Explanation) as the page's <pre>.
            j = block_end(i + 1, {"example_n", "examples", "constraints", "note", "notes", "interaction"})
            body = lines[i + 1:j]
            follow = next((k for k, b in enumerate(body) if re.match(r"\s*(?:\*\*)?follow[- ]?up", b, re.I)), None)
            tail = body[follow:] if follow is not None else []
            body = body[:follow] if follow is not None else body
            has_io = any(re.match(r"\s*(?:\*\*)?(?:input|output)\b", b, re.I) for b in body)
            out += [f"### {label}", "", *(_fenced(body) if has_io else _strip_blank(body)), ""]
            out += tail
            section = "example"
            i = j
            continue
        level = "###" if kind in ("input", "output") and section in ("example", "examples") else "##"
        out += [f"{level} {label}", ""]
        section = kind
        i += 1
        while i < n and not lines[i].strip():
            i += 1
    text = "\n".join(out)
    text = _colon_lists(text)
    if keep_line_breaks:
        text = _paragraph_per_line(text)
    return re.sub(r"\n{3,}", "\n\n", text).strip("\n")


def _blocks(text: str) -> list[tuple[bool, str]]:
    """Split into (is_code, chunk): fenced blocks and `$$` display maths are code (untouched)."""
    parts: list[tuple[bool, str]] = []
    pattern = re.compile(r"(^[ \t]*```[^\n]*\n.*?^[ \t]*```[ \t]*$|\$\$.+?\$\$)", re.M | re.S)
    pos = 0
    for m in pattern.finditer(text):
        parts.append((False, text[pos:m.start()]))
        parts.append((True, m.group(0)))
        pos = m.end()
    parts.append((False, text[pos:]))
    return parts


def _is_plain(line: str) -> bool:
    return bool(line.strip()) and not (_LIST_ITEM.match(line) or _TABLE_ROW.match(line) or _HEADING.match(line)
                                       or line.startswith(("    ", "\t", ">")))


def _colon_lists(text: str) -> str:
    """A paragraph of several short lines right after a line ending in ':' is a list."""
    out = []
    for is_code, chunk in _blocks(text):
        if is_code:
            out.append(chunk)
            continue
        paras = re.split(r"(\n[ \t]*\n)", chunk)
        prev = ""
        for k, para in enumerate(paras):
            if k % 2 == 1:
                continue
            lines = para.strip("\n").split("\n")
            if (prev.rstrip().endswith(":") and len(lines) >= 2 and all(_is_plain(x) for x in lines)
                    and all(len(x) <= 300 and not x.rstrip().endswith(":") for x in lines)):
                lead = para[: len(para) - len(para.lstrip("\n"))]
                paras[k] = lead + "\n".join("- " + x.strip() for x in lines)
            if para.strip():
                prev = para.strip("\n").split("\n")[-1]
        out.append("".join(paras))
    return "".join(out)


def _paragraph_per_line(text: str) -> str:
    """Single line breaks between plain prose lines become paragraph breaks."""
    out = []
    for is_code, chunk in _blocks(text):
        if is_code:
            out.append(chunk)
            continue
        lines = chunk.split("\n")
        res: list[str] = []
        for k, line in enumerate(lines):
            res.append(line)
            if k + 1 < len(lines) and _is_plain(line) and _is_plain(lines[k + 1]) and not line.endswith("  "):
                res.append("")
        out.append("\n".join(res))
    return "".join(out)


def has_markdown_structure(text: str) -> bool:
    """True for text written as Markdown (headings, lists, fences, tables), not plain text."""
    return bool(re.search(r"^(?:#{1,6}[ \t]+\S|[ \t]*[-*+][ \t]+\S|[ \t]*```|[ \t]*\|.*\|[ \t]*$)", text, re.M))


# --------------------------------------------------------------------------------------------
# TeX outside maths
# --------------------------------------------------------------------------------------------

TEX_SYMBOLS = {
    "le": "≤", "leq": "≤", "ge": "≥", "geq": "≥", "ne": "≠", "neq": "≠", "lt": "<", "gt": ">",
    "cdot": "⋅", "times": "×", "ldots": "…", "dots": "…", "cdots": "⋯", "infty": "∞", "pm": "±",
    "to": "→", "rightarrow": "→", "leftarrow": "←", "oplus": "⊕", "mid": "∣", "in": "∈",
}
# Inline maths and code spans are left alone; so are link targets.
_PROTECTED = re.compile(r"(?<!\\)\$[^$\n]+?(?<!\\)\$|`[^`\n]+`|\\\(.+?\\\)|\]\([^)\n]*\)")
_TEX_CMD = re.compile(r"\\(" + "|".join(sorted(TEX_SYMBOLS, key=len, reverse=True)) + r")(?![A-Za-z])")
_SUPSUB = re.compile(
    r"(?<![\w$\\^_{}])((?:[A-Za-z0-9]+(?:\^(?:\{[^{}\n]{1,40}\}|[-+]?\d+|[A-Za-z](?![A-Za-z]))|_\{[^{}\n]{1,40}\})+)+)(?![\w^{])"
)


def tex_outside_math(text: str) -> str:
    """`10^{5}`, `2^k`, `a_{i}` → `$…$`; `\\le`, `\\cdot` … → Unicode; only outside maths/code."""
    out = []
    for is_code, chunk in _blocks(text):
        if is_code:
            out.append(chunk)
            continue
        pieces = []
        pos = 0
        for m in _PROTECTED.finditer(chunk):
            pieces.append(_fix_tex(chunk[pos:m.start()]))
            pieces.append(m.group(0))
            pos = m.end()
        pieces.append(_fix_tex(chunk[pos:]))
        out.append("".join(pieces))
    return "".join(out)


def _fix_tex(s: str) -> str:
    s = _TEX_CMD.sub(lambda m: TEX_SYMBOLS[m.group(1)], s)
    return _SUPSUB.sub(lambda m: f"${m.group(1)}$", s)


# --------------------------------------------------------------------------------------------
# Lost superscripts
# --------------------------------------------------------------------------------------------

# "≤ 109", "2 ⋅ 105", "109 + 7", "10 9": a 10 followed by an exponent digit where a bound or a
# modulus is expected. 10^2..10^18 only: "≤ 100" and "≤ 1000" are ordinary numbers.
_LOST_SUP = re.compile(
    r"(?:(?:≤|<=|<|≥|>=|⋅|·|\*|×|\bx)[ \t]*(?:-[ \t]*)?(?:\d[ \t]*(?:⋅|·|\*|×)[ \t]*)?)(10(?:[2-9]|1[0-8]))(?![\d^]|[.,]\d)"
    r"|\b(10(?:9|18))[ \t]*\+[ \t]*[79]\b"
)


def lost_superscripts(text: str) -> list[str]:
    """Snippets that look like 10^k with the caret lost (for the curator; nothing rewritten)."""
    found = []
    for is_code, chunk in _blocks(text):
        if is_code:
            continue
        for m in _LOST_SUP.finditer(chunk):
            line_start = chunk.rfind("\n", 0, m.start()) + 1
            line_end = chunk.find("\n", m.end())
            line_end = len(chunk) if line_end < 0 else line_end
            snippet = chunk[max(line_start, m.start() - 12): min(line_end, m.end() + 4)].strip()
            if snippet not in found:
                found.append(snippet)
    return found[:20]
