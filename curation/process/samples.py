"""Extract the worked examples (sample tests) from a problem statement.

Public API
----------
- ``extract_samples(statement, platform="") -> list[tuple[str, str]]``
- ``extract_codeforces_samples(text)``, ``extract_atcoder_samples(text)``,
  ``extract_leetcode_samples(text)``, ``extract_fenced_samples(text)``: one layout each.

Each example comes back as ``(input, output)`` with surrounding blank lines and trailing spaces
removed and inner lines kept as they are. ``extract_samples`` tries the layout named by
``platform`` first, then every layout, and returns the first non-empty result.

Layouts handled
---------------
- Codeforces / CodeContests plain text: a line ``Examples`` (or ``Example``), then alternating
  ``Input`` / ``Output`` lines each followed by the data, until ``Note`` or the end.
- AtCoder: ``Sample Input 1`` / ``Sample Output 1`` headings (optionally ``###``), data plain or
  in code fences, until the next heading.
- LeetCode: ``Example 1:`` blocks with ``Input: ...`` / ``Output: ...`` / ``Explanation: ...``
  (``Input``/``Output`` may stand alone on a line with the data below, as in design problems).
- Markdown with fenced blocks: ``**Input**:`` followed by a fenced block, then ``**Output**:``.
"""
from __future__ import annotations

import re

Sample = tuple[str, str]


def _strip_block(text: str) -> str:
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").split("\n")]
    while lines and not lines[0].strip():
        lines.pop(0)
    while lines and not lines[-1].strip():
        lines.pop()
    return "\n".join(lines)


def _unfence(text: str) -> str:
    """Data written inside a code fence: return the fence's content only."""
    m = re.search(r"```[^\n]*\n(.*?)\n?```", text, re.S)
    return m.group(1) if m else text


# ---------------------------------------------------------------- Codeforces / CodeContests
_CF_EXAMPLES = re.compile(r"^[ \t]*(?:#+[ \t]*)?(?:\*\*)?(?:Examples?|Sample tests?)(?:\*\*)?[ \t]*:?[ \t]*$", re.M | re.I)
_CF_MARK = re.compile(r"^[ \t]*(?:#+[ \t]*)?(?:\*\*)?(Input|Output)(?:\*\*)?[ \t]*:?[ \t]*$", re.M)
_CF_END = re.compile(r"^[ \t]*(?:#+[ \t]*)?(?:\*\*)?(?:Note|Notes|Explanation|Hint)(?:\*\*)?[ \t]*:?[ \t]*$", re.M)
_MD_HEADING = re.compile(r"^#{1,6}[ \t]+\S", re.M)


def extract_codeforces_samples(text: str) -> list[Sample]:
    for m in _CF_EXAMPLES.finditer(text):  # the word may also occur earlier; first block that parses wins
        found = _codeforces_block(text[m.end():])
        if found:
            return found
    return []


def _codeforces_block(body: str) -> list[Sample]:
    heading = _MD_HEADING.search(body)
    if heading:
        body = body[: heading.start()]
    # "Note" ends the examples, but only after the last Output mark: a data line may read "Note".
    outputs = [m for m in _CF_MARK.finditer(body) if m.group(1) == "Output"]
    end = _CF_END.search(body, outputs[-1].end() if outputs else 0)
    if end:
        body = body[: end.start()]
    marks = list(_CF_MARK.finditer(body))
    samples: list[Sample] = []
    i = 0
    while i + 1 < len(marks):
        a, b = marks[i], marks[i + 1]
        if a.group(1) != "Input" or b.group(1) != "Output":
            i += 1
            continue
        c = marks[i + 2] if i + 2 < len(marks) else None
        inp = body[a.end(): b.start()]
        out = body[b.end(): c.start() if c else len(body)]
        samples.append((_strip_block(_unfence(inp)), _strip_block(_unfence(out))))
        i += 2
    return samples


# ---------------------------------------------------------------- AtCoder
_AT_MARK = re.compile(
    r"^[ \t]*(?:#+[ \t]*)?(?:\*\*)?(Sample|入力例|出力例)[ \t]*(Input|Output)?[ \t]*(\d+)?(?:\*\*)?[ \t]*:?[ \t]*$", re.M | re.I
)
_AT_HEADING = re.compile(r"^[ \t]*#{1,6}[ \t]+\S|^[ \t]*(?:Note|Notes|Explanation|Constraints)[ \t]*:?[ \t]*$", re.M | re.I)


def extract_atcoder_samples(text: str) -> list[Sample]:
    marks = [m for m in _AT_MARK.finditer(text) if m.group(2) or m.group(1) in ("入力例", "出力例")]
    inputs: dict[str, str] = {}
    outputs: dict[str, str] = {}
    order: list[str] = []
    for k, m in enumerate(marks):
        end = marks[k + 1].start() if k + 1 < len(marks) else len(text)
        chunk = text[m.end(): end]
        if "```" not in chunk:
            stop = _AT_HEADING.search(chunk)
            if stop:
                chunk = chunk[: stop.start()]
        else:
            chunk = _unfence(chunk)
        kind = (m.group(2) or ("Input" if m.group(1) == "入力例" else "Output")).lower()
        key = m.group(3) or str(len(order) + 1 if kind == "input" else len(order))
        if kind == "input":
            if key not in inputs:
                order.append(key)
            inputs[key] = _strip_block(chunk)
        else:
            outputs[key] = _strip_block(chunk)
    return [(inputs[k], outputs[k]) for k in order if k in outputs]


# ---------------------------------------------------------------- LeetCode
_LC_EXAMPLE = re.compile(r"^[ \t]*(?:#+[ \t]*)?(?:\*\*)?Example[ \t]*(\d*)[ \t]*:?(?:\*\*)?[ \t]*:?[ \t]*$", re.M | re.I)
_LC_STOP = re.compile(
    r"^\s*(?:\*\*)?(Explanation|Constraints|Note|Follow[- ]up|Example\s*\d*)(?:\*\*)?\s*:?", re.M | re.I
)


def extract_leetcode_samples(text: str) -> list[Sample]:
    starts = list(_LC_EXAMPLE.finditer(text))
    samples: list[Sample] = []
    for k, m in enumerate(starts):
        end = starts[k + 1].start() if k + 1 < len(starts) else len(text)
        # The normaliser fences an example's body (as LeetCode's page shows it in <pre>).
        block = re.sub(r"^[ \t]*```[^\n]*$\n?", "", text[m.end(): end], flags=re.M)
        im = re.search(r"^\s*(?:\*\*)?Input(?:\*\*)?\s*:?(?:\*\*)?[ \t]*", block, re.M)
        om = re.search(r"^\s*(?:\*\*)?Output(?:\*\*)?\s*:?(?:\*\*)?[ \t]*", block, re.M)
        if not im or not om or om.start() < im.end():
            continue
        inp = block[im.end(): om.start()]
        rest = block[om.end():]
        stop = _LC_STOP.search(rest)
        out = rest[: stop.start()] if stop else rest
        # A blank line ends a one-line output; the following prose is not part of it.
        out = _strip_block(out)
        if "\n\n" in out:
            out = out.split("\n\n", 1)[0]
        samples.append((_strip_block(inp), _strip_block(out)))
    return samples


# ---------------------------------------------------------------- Markdown with fences
_FENCED = re.compile(
    r"(?:\*\*)?Input(?:\*\*)?\s*:?\s*(?:\*\*)?:?\s*\n```[^\n]*\n(.*?)\n?```\s*"
    r"(?:\*\*)?Output(?:\*\*)?\s*:?\s*(?:\*\*)?:?\s*\n```[^\n]*\n(.*?)\n?```",
    re.S | re.I,
)


def extract_fenced_samples(text: str) -> list[Sample]:
    return [(_strip_block(a), _strip_block(b)) for a, b in _FENCED.findall(text)]


_BY_PLATFORM = {
    "codeforces": extract_codeforces_samples,
    "codecontests": extract_codeforces_samples,
    "atcoder": extract_atcoder_samples,
    "leetcode": extract_leetcode_samples,
}
_ORDER = (extract_fenced_samples, extract_atcoder_samples, extract_leetcode_samples, extract_codeforces_samples)


def extract_samples(statement: str, platform: str = "") -> list[Sample]:
    """Examples found in the statement, as ``(input, output)`` pairs in statement order."""
    if not statement:
        return []
    text = statement.replace("\r\n", "\n").replace("\u00a0", " ")
    first = _BY_PLATFORM.get((platform or "").lower())
    tried = []
    if first is not None:
        tried.append(first)
        found = first(text)
        if found:
            return found
    for fn in _ORDER:
        if fn in tried:
            continue
        found = fn(text)
        if found:
            return found
    return []
