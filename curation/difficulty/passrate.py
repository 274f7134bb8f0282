"""Pass-rate measurement helpers (pure Python): code extraction, unbiased pass@k, and a parser for
externally graded results (LiveCodeBench-style). Judging itself lives in ``curation.judge``."""
from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from math import comb
from typing import Any, Iterable

PYTHON_LANGS = ("python", "python3", "py")
CPP_LANGS = ("cpp", "c++", "cc", "cxx")
_FENCE_RE = re.compile(r"```[ \t]*([A-Za-z0-9_+#.-]*)[^\n]*\n(.*?)```", re.S)


@dataclass(frozen=True)
class ExtractedCode:
    code: str
    language: str  # "python" | "cpp" | "" (unknown: the whole text, or an untagged fence)
    fenced: bool


def extract_code_block(text: str, languages: Iterable[str] = PYTHON_LANGS + CPP_LANGS) -> ExtractedCode:
    """The last fenced block tagged with one of ``languages``; else the last untagged fenced block;
    else the whole text (stripped)."""
    text = text or ""
    wanted = {lang.lower() for lang in languages}
    tagged: list[tuple[str, str]] = []
    untagged: list[str] = []
    for m in _FENCE_RE.finditer(text):
        lang = m.group(1).lower()
        if lang in wanted:
            tagged.append((lang, m.group(2)))
        elif not lang:
            untagged.append(m.group(2))
    if tagged:
        lang, code = tagged[-1]
        return ExtractedCode(code.strip("\n"), "python" if lang in PYTHON_LANGS else "cpp", True)
    if untagged:
        return ExtractedCode(untagged[-1].strip("\n"), "", True)
    return ExtractedCode(text.strip(), "", False)


def extract_code(text: str, languages: Iterable[str] = PYTHON_LANGS + CPP_LANGS) -> str:
    return extract_code_block(text, languages).code


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased pass@k (Chen et al. 2021): 1 - C(n-c, k) / C(n, k) for c passes out of n samples."""
    if n < 0 or c < 0 or k < 1 or c > n:
        raise ValueError(f"invalid n={n}, c={c}, k={k}")
    if k > n:
        raise ValueError(f"k={k} exceeds the number of samples n={n}")
    if n - c < k:
        return 1.0
    return 1.0 - comb(n - c, k) / comb(n, k)


@dataclass(frozen=True)
class GradedResult:
    question_id: str
    model: str
    n: int
    passes: int

    @property
    def pass_rate(self) -> float:
        return self.passes / self.n if self.n else 0.0


class GradedResultsError(ValueError):
    pass


def _entries_from(obj: Any, model: str | None) -> Iterable[tuple[dict[str, Any], str | None]]:
    if isinstance(obj, list):
        for item in obj:
            yield from _entries_from(item, model)
    elif isinstance(obj, dict):
        if "graded_list" in obj or "question_id" in obj:
            yield obj, obj.get("model") or obj.get("model_name") or model
        elif isinstance(obj.get("results"), list) or isinstance(obj.get("eval"), list):
            inner_model = obj.get("model") or obj.get("model_name") or model
            yield from _entries_from(obj.get("results") or obj.get("eval"), inner_model)
        else:  # {"model-a": [entries], "model-b": [entries]}
            for key, value in obj.items():
                if isinstance(value, (list, dict)):
                    yield from _entries_from(value, str(key))
    else:
        raise GradedResultsError(f"unexpected JSON value of type {type(obj).__name__}")


def _load(source: Any) -> Any:
    if isinstance(source, (list, dict)):
        return source
    if isinstance(source, bytes):
        source = source.decode("utf-8")
    if isinstance(source, os.PathLike) or (isinstance(source, str) and "\n" not in source
                                           and not source.lstrip().startswith(("{", "["))
                                           and os.path.exists(source)):
        with open(source, encoding="utf-8") as fh:
            source = fh.read()
    if not isinstance(source, str):
        raise GradedResultsError(f"cannot read graded results from {type(source).__name__}")
    return _load_text(source)


def _load_text(source: str) -> Any:
    """JSON, or JSON lines; nothing else (no eval, no pickle)."""
    text = source.strip()
    if not text:
        return []
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        pass
    out = []
    for i, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line:
            continue
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError as e:
            raise GradedResultsError(f"line {i}: not JSON ({e.msg})") from e
    return out


def _count(qid, field: str, value) -> int:
    """A non-negative whole number (a bool or a float with a fraction is refused, not truncated)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise GradedResultsError(f"entry {qid}: field {field} must be a whole number, got {str(value)[:40]!r}")
    try:
        number = float(value)
    except ValueError:
        raise GradedResultsError(f"entry {qid}: field {field} must be a whole number, got {str(value)[:40]!r}") from None
    if number != number or abs(number) == float("inf") or number != int(number):
        raise GradedResultsError(f"entry {qid}: field {field} must be a whole number, got {str(value)[:40]!r}")
    if number < 0 or number > 10**9:
        raise GradedResultsError(f"entry {qid}: field {field} must be between 0 and 1e9, got {int(number)}")
    return int(number)


def parse_graded_results(source: Any, model: str | None = None) -> list[GradedResult]:
    """Parse LiveCodeBench-style graded results into (question_id, model, n, passes).

    Accepts a path, JSON/JSONL text or bytes, or parsed data, in these layouts: a list (or JSONL)
    of ``{"question_id", "graded_list": [bool...], "model"?}``; ``{"model": M, "results": [...]}``
    (or a list of those); ``{"model-a": [...], "model-b": [...]}``. ``model`` names entries that
    carry none. Entries for the same (question, model) are summed. Output is sorted.
    """
    data = _load(source)
    totals: dict[tuple[str, str], list[int]] = {}
    for entry, entry_model in _entries_from(data, model):
        qid = entry.get("question_id", entry.get("task_id"))
        if qid is None:
            raise GradedResultsError(f"entry without question_id: {str(entry)[:120]}")
        graded = entry.get("graded_list")
        if graded is None:
            if "n" in entry and "passes" in entry:
                n, passes = _count(qid, "n", entry["n"]), _count(qid, "passes", entry["passes"])
                if passes > n:
                    raise GradedResultsError(f"entry {qid}: field passes ({passes}) exceeds n ({n})")
            else:
                raise GradedResultsError(f"entry {qid} has no graded_list")
        else:
            if not isinstance(graded, list):
                raise GradedResultsError(f"entry {qid}: graded_list must be a list")
            n = len(graded)
            passes = sum(1 for g in graded if g is True or g == 1 or (isinstance(g, str) and g.lower() == "true"))
        if isinstance(qid, (dict, list)) or len(str(qid)) > 200:
            raise GradedResultsError(f"entry {str(qid)[:60]}: field question_id must be a short string or number")
        if len(str(entry_model or "")) > 200:
            raise GradedResultsError(f"entry {qid}: field model is longer than 200 characters")
        key = (str(qid), str(entry_model or ""))
        acc = totals.setdefault(key, [0, 0])
        acc[0] += n
        acc[1] += passes
    return [GradedResult(q, m, n, p) for (q, m), (n, p) in sorted(totals.items())]


def parse_graded_text(text: str | bytes, model: str | None = None) -> list[GradedResult]:
    """`parse_graded_results` for uploaded content: the text is only ever parsed as JSON or JSON
    lines — never taken for a path on this machine, whatever it says."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError:
            raise GradedResultsError("the file is not UTF-8 text") from None
    return parse_graded_results(_load_text(text), model=model)


def pooled_pass_rates(results: Iterable[GradedResult]) -> dict[str, tuple[int, int]]:
    """question_id -> (n, passes) summed over models."""
    out: dict[str, list[int]] = {}
    for r in results:
        acc = out.setdefault(r.question_id, [0, 0])
        acc[0] += r.n
        acc[1] += r.passes
    return {q: (n, p) for q, (n, p) in out.items()}
