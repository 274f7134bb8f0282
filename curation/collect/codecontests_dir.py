"""`codecontests-dir`: CodeContests re-packaged one folder per problem.

Layout of each problem folder::

    PROBLEM.md          # 1003_E. Tree Constructing / **ID:** / **Difficulty:** / ## Description ...
    main.py             accepted Python 3 reference solution
    tags.txt            Codeforces tags, one a line (optional)
    tests/input_N.txt   with tests/output_N.txt

PATH is a problem folder or the folder that holds them.
"""
from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Iterator

from .folders import FolderHasher, iter_folder_records, read_text_file
from .importer import FieldError, Importer, Result
from .records import (
    TEST_HIDDEN,
    TEST_SAMPLE,
    CanonicalProblem,
    CanonicalSolution,
    CanonicalTest,
)
from .registry import register

# CodeContests `Problem.Difficulty` enum.
CODECONTESTS_DIFFICULTY = {
    0: "",  # UNKNOWN_DIFFICULTY
    1: "easy",
    2: "medium",
    3: "hard",
    4: "harder",
    5: "hardest",
    6: "",  # EXTERNAL
    **{7 + i: chr(ord("A") + i) for i in range(22)},  # 7=A ... 28=V
}

_TITLE = re.compile(r"^#\s+(\d+)_([A-Za-z]\d*)\.\s+(.+?)\s*$")
_FIELD = re.compile(r"^\*\*(?P<key>[^*]+?):\*\*\s*(?P<value>.*?)\s*$")
_TEST_FILE = re.compile(r"^(input|output)_(\d+)\.txt$")


def difficulty_from_raw(raw: str) -> str:
    raw = raw.strip()
    if raw.isdigit():
        return CODECONTESTS_DIFFICULTY.get(int(raw), raw)
    return raw.lower()


def split_markdown(text: str) -> tuple[list[str], dict[str, str]]:
    """Split PROBLEM.md into the header lines and `## Section` bodies (fence-aware)."""
    header: list[str] = []
    sections: dict[str, list[str]] = {}
    current: list[str] = header
    in_fence = False
    for line in text.splitlines():
        if line.startswith("```"):
            in_fence = not in_fence
        if not in_fence and line.startswith("## "):
            name = line[3:].strip()
            current = sections.setdefault(name, [])
            continue
        current.append(line)
    return header, {k: "\n".join(v).strip("\n") for k, v in sections.items()}


def parse_examples(section: str) -> list[tuple[str, str]]:
    """The generated `## Examples` section: ### Example N / **Input**: ``` / **Output**: ```."""
    examples: list[tuple[str, str]] = []
    blocks: list[tuple[str, str]] = []  # (label, content)
    label = ""
    lines = section.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        if stripped.startswith("**") and stripped.rstrip(":").endswith("**"):
            label = stripped.strip("*: ").lower()
        elif stripped.startswith("```"):
            body: list[str] = []
            i += 1
            while i < len(lines) and not lines[i].strip().startswith("```"):
                body.append(lines[i])
                i += 1
            blocks.append((label, "\n".join(body)))
            label = ""
        i += 1
    pending_input: str | None = None
    for label, content in blocks:
        if label.startswith("input"):
            pending_input = content
        elif label.startswith("output") and pending_input is not None:
            examples.append((pending_input, content))
            pending_input = None
    return examples


@register("codecontests-dir")
class CodeContestsDirImporter(Importer):
    description = "CodeContests problems, one folder each (PROBLEM.md, main.py, tags.txt, tests/)"

    def iter_records(self, path: str | os.PathLike) -> Iterator[Result]:
        root = Path(path)
        yield from iter_folder_records(self, root, lambda p: (p / "PROBLEM.md").is_file(), self.parse_folder)

    def parse_folder(self, folder: Path) -> CanonicalProblem:
        limits = self.limits
        hasher = FolderHasher(folder)
        md = read_text_file(folder / "PROBLEM.md", "PROBLEM.md", hasher, limits.max_record_bytes)
        assert md is not None
        header, sections = split_markdown(md)

        title_line = next((line for line in header if line.startswith("# ")), None)
        if title_line is None:
            raise FieldError("title", "PROBLEM.md has no '# ' title line")
        m = _TITLE.match(title_line)
        if m:
            contest_id, index, title = m.group(1), m.group(2).upper(), m.group(3)
        else:
            contest_id, index, title = "", "", title_line[2:].strip()
        if not title:
            raise FieldError("title", "empty title")

        fields: dict[str, str] = {}
        for line in header:
            fm = _FIELD.match(line.strip())
            if fm:
                fields[fm.group("key").strip().lower()] = fm.group("value")
        external_id = fields.get("id") or folder.name

        statement = sections.get("Description", "").strip()
        if not statement:
            raise FieldError("statement", "missing or empty '## Description' section")

        raw_difficulty = fields.get("difficulty", "").strip()
        categories = [
            line.strip()[2:].strip()
            for line in sections.get("Categories", "").splitlines()
            if line.strip().startswith("- ")
        ]
        tags_text = read_text_file(folder / "tags.txt", "tags", hasher, limits.max_record_bytes, required=False)
        if tags_text is not None:
            tags = [t.strip() for t in tags_text.splitlines() if t.strip()]
        else:
            tags = categories
        source = sections.get("Source", "").strip()
        examples = {(i.strip(), o.strip()) for i, o in parse_examples(sections.get("Examples", ""))}

        tests = self._read_tests(folder, hasher, examples)

        solutions = []
        code = read_text_file(folder / "main.py", "solutions[0]", hasher, limits.max_record_bytes, required=False)
        if code is not None and code.strip():
            solutions.append(CanonicalSolution(code=code, language="python3", is_correct=True))

        url = f"https://codeforces.com/problemset/problem/{contest_id}/{index}" if contest_id and index else ""
        extra = {"difficulty_raw": raw_difficulty or None, "source": source, "folder": folder.name}
        if categories and categories != tags:
            extra["categories"] = categories
        return CanonicalProblem(
            external_id=external_id,
            title=title,
            statement=statement,
            platform="codeforces",
            statement_format="markdown",
            contest_id=contest_id,
            problem_index=index,
            url=url,
            tags=tags,
            difficulty_label=difficulty_from_raw(raw_difficulty) if raw_difficulty else "",
            tests=tests,
            solutions=solutions,
            extra=extra,
            raw_hash=hasher.hexdigest(),
        )

    def _read_tests(self, folder: Path, hasher: FolderHasher, examples: set[tuple[str, str]]) -> list[CanonicalTest]:
        tests_dir = folder / "tests"
        if not tests_dir.is_dir():
            return []
        found: dict[int, dict[str, Path]] = {}
        for p in tests_dir.iterdir():
            m = _TEST_FILE.match(p.name)
            if m and p.is_file():
                found.setdefault(int(m.group(2)), {})[m.group(1)] = p
        tests: list[CanonicalTest] = []
        for n in sorted(found):
            pair = found[n]
            i = len(tests)
            for side in ("input", "output"):
                if side not in pair:
                    raise FieldError(f"tests[{i}].{side}", f"tests/{side}_{n}.txt is missing")
            inp = read_text_file(pair["input"], f"tests[{i}].input", hasher, self.limits.max_test_bytes)
            out = read_text_file(pair["output"], f"tests[{i}].output", hasher, self.limits.max_test_bytes)
            assert inp is not None and out is not None
            key = (inp.strip(), out.strip())
            kind = TEST_HIDDEN
            if key in examples:
                # Each example marks one test (the first that matches); repeats stay hidden.
                examples.discard(key)
                kind = TEST_SAMPLE
            tests.append(CanonicalTest(input=inp, output=out, kind=kind))
        return tests
