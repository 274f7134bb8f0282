"""A small loader of the real problem data in ../shared/data for the difficulty tests.

Deliberately independent of curation.collect (the real importers): it reads just what the
feature model needs. Missing data -> empty lists (tests skip).
"""
from __future__ import annotations

import ast
import gzip
import json
import os
import re
from pathlib import Path

from curation.difficulty.predictors.base import ProblemInput
from curation.difficulty.predictors.features import (
    label_from_codecontests_difficulty,
    label_from_index,
    normalise_label,
)

ROOT = Path(__file__).resolve().parents[2]
DATA = Path(os.environ.get("MICROCODER_SHARED_DATA", ROOT.parent / "shared" / "data"))
_TITLE_RE = re.compile(r"^#\s*\d+_([A-Za-z]\d*)\.\s*(.*)$")


def load_codecontests(data: Path = DATA) -> list[tuple[ProblemInput, str]]:
    out: list[tuple[ProblemInput, str]] = []
    base = data / "codecontests"
    if not base.is_dir():
        return out
    for d in sorted(base.iterdir()):
        md = d / "PROBLEM.md"
        if not md.is_file():
            continue
        text = md.read_text(encoding="utf-8", errors="replace")
        first = text.splitlines()[0] if text else ""
        m = _TITLE_RE.match(first.strip())
        label = label_from_index(m.group(1)) if m else None
        if label is None:
            dm = re.search(r"\*\*Difficulty:\*\*\s*(\S+)", text)
            label = label_from_codecontests_difficulty(dm.group(1) if dm else None)
        if label is None:
            continue
        desc = re.search(r"## Description\s*\n(.*?)(?=\n## (?!#)|\Z)", text, re.S)
        statement = desc.group(1).strip() if desc else text
        tags_file = d / "tags.txt"
        tags = [t.strip() for t in tags_file.read_text().splitlines() if t.strip()] if tags_file.is_file() else []
        sol = d / "main.py"
        code = sol.read_text(encoding="utf-8", errors="replace") if sol.is_file() else ""
        tests = sorted((d / "tests").glob("input_*.txt")) if (d / "tests").is_dir() else []
        out.append((ProblemInput(
            id=d.name, title=(m.group(2) if m else first.lstrip("# ")), statement=statement,
            io_format="stdin", tags=tags, test_count=len(tests),
            test_input_bytes=[t.stat().st_size for t in tests],
            sample_count=len(re.findall(r"^### Example", text, re.M)),
            solution_length=len(code), solution_lines=len(code.splitlines()),
            source="codecontests", platform="codeforces",
        ), label))
    return out


def _literal(value):
    if isinstance(value, str):
        try:
            return ast.literal_eval(value)
        except (ValueError, SyntaxError):
            return value
    return value


def load_leetcode(data: Path = DATA) -> list[tuple[ProblemInput, str]]:
    out: list[tuple[ProblemInput, str]] = []
    base = data / "leetcode"
    if not base.is_dir():
        return out
    for f in sorted(base.glob("*.jsonl.gz")):
        version = "v0.3.1" if "v0.3.1" in f.name else ("v0.2.0" if "v0.2.0" in f.name else f.stem)
        with gzip.open(f, "rt", encoding="utf-8") as fh:
            for line in fh:
                row = json.loads(line)
                meta = _literal(row.get("meta")) or {}
                if isinstance(meta, dict):
                    meta = {k: _literal(v) for k, v in meta.items()}
                else:
                    meta = {}
                label = normalise_label(row.get("difficulty") or meta.get("difficulty"))
                if label is None:
                    continue
                statement = row.get("problem_description") or row.get("query") or ""
                statement = statement.split("Please complete the following python code precisely")[0]
                tags = _literal(row.get("tags")) or []
                io = _literal(row.get("input_output")) or []
                io = io if isinstance(io, list) else []
                code = row.get("completion") or ""
                out.append((ProblemInput(
                    id=f"{version}:{row.get('task_id')}", title=str(row.get("task_id")), statement=statement,
                    io_format="functional", tags=list(tags) if isinstance(tags, list) else [],
                    test_count=len(io),
                    test_input_bytes=[len(str(t.get("input", ""))) for t in io if isinstance(t, dict)],
                    sample_count=len(re.findall(r"Example \d+:", statement)),
                    solution_length=len(code), solution_lines=len(code.splitlines()),
                    source=f"leetcode-{version}", platform="leetcode",
                ), label))
    return out
