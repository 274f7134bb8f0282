"""`kattis`: Kattis / ICPC problem package folders (problem package format, legacy + 2023-07 bits).

    problem.yaml                     name, source, limits, validation, validator_flags
    problem_statement/problem.en.tex (or problem.tex / problem.en.md / statement/problem.en.md)
    data/sample/*.in + *.ans         sample tests
    data/secret/**/*.in + *.ans      hidden tests
    submissions/accepted/*.py|*.cpp  reference solutions
    .timelimit                       (optional) time limit in seconds, as Kattis tools write it

Default output validator (spec): tokens compared case-INsensitively and any run of whitespace
is equivalent, unless `validator_flags` say `case_sensitive` / `space_change_sensitive`;
`float_tolerance e` = `float_absolute_tolerance e` + `float_relative_tolerance e`.
"""
from __future__ import annotations

import os
import re
import shlex
from pathlib import Path
from typing import Any, Iterator

import yaml

from .base import (
    FieldError,
    FolderHasher,
    Importer,
    Result,
    natural_key,
    read_text_file,
)
from .records import (
    TEST_HIDDEN,
    TEST_SAMPLE,
    CanonicalProblem,
    CanonicalSolution,
    CanonicalTest,
)
from .registry import register

STATEMENT_CANDIDATES = (
    ("problem_statement/problem.en.md", "markdown"),
    ("problem_statement/problem.md", "markdown"),
    ("statement/problem.en.md", "markdown"),
    ("problem_statement/problem.en.tex", "latex"),
    ("problem_statement/problem.tex", "latex"),
    ("statement/problem.en.tex", "latex"),
)
SOLUTION_LANGUAGES = {".py": "python3", ".cpp": "cpp", ".cc": "cpp", ".cxx": "cpp"}
MAX_SOLUTIONS = 10
_PROBLEMNAME = re.compile(r"\\problemname\{(.+?)\}")


def parse_validator_flags(flags: Any) -> dict[str, Any]:
    """Default-validator flags → our comparison dict."""
    if flags is None:
        tokens: list[str] = []
    elif isinstance(flags, (list, tuple)):
        tokens = [str(t) for t in flags]
    else:
        try:
            tokens = shlex.split(str(flags))
        except ValueError as exc:
            raise FieldError("validator_flags", f"cannot parse: {exc}") from None
    case_sensitive = False
    space_sensitive = False
    abs_tol: float | None = None
    rel_tol: float | None = None
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        if tok == "case_sensitive":
            case_sensitive = True
        elif tok == "space_change_sensitive":
            space_sensitive = True
        elif tok in ("float_tolerance", "float_absolute_tolerance", "float_relative_tolerance"):
            if i + 1 >= len(tokens):
                raise FieldError("validator_flags", f"{tok} needs a value")
            try:
                value = float(tokens[i + 1])
            except ValueError:
                raise FieldError("validator_flags", f"{tok}: not a number: {tokens[i + 1]!r}") from None
            if tok in ("float_tolerance", "float_absolute_tolerance"):
                abs_tol = value
            if tok in ("float_tolerance", "float_relative_tolerance"):
                rel_tol = value
            i += 1
        i += 1
    if abs_tol is not None or rel_tol is not None:
        comparison: dict[str, Any] = {"mode": "float", "abs_tol": abs_tol or 0.0, "rel_tol": rel_tol or 0.0}
        comparison["case_sensitive"] = case_sensitive
    elif case_sensitive and space_sensitive:
        comparison = {"mode": "exact"}
    elif case_sensitive:
        comparison = {"mode": "tokens"}
    else:
        comparison = {"mode": "case_insensitive"}
    if space_sensitive and comparison["mode"] != "exact":
        comparison["space_change_sensitive"] = True
    return comparison


@register("kattis")
class KattisImporter(Importer):
    description = "Kattis / ICPC problem package folders (problem.yaml, data/, submissions/)"

    def iter_records(self, path: str | os.PathLike) -> Iterator[Result]:
        root = Path(path)
        yield from self.iter_folder_records(root, _is_package, self._parse_checked_package)

    def _parse_checked_package(self, folder: Path) -> CanonicalProblem:
        if not _is_package(folder):
            raise FieldError("problem.yaml", "not a problem package (no problem.yaml or data/ folder)")
        return self.parse_package(folder)

    def parse_package(self, folder: Path) -> CanonicalProblem:
        lim = self.limits.max_record_bytes
        hasher = FolderHasher(folder)
        yaml_text = read_text_file(folder / "problem.yaml", "problem.yaml", hasher, lim, required=False) or ""
        try:
            config = yaml.safe_load(yaml_text) if yaml_text.strip() else {}
        except yaml.YAMLError as exc:
            raise FieldError("problem.yaml", f"malformed YAML: {exc}") from None
        if config is None:
            config = {}
        if not isinstance(config, dict):
            raise FieldError("problem.yaml", "expected a mapping")

        statement = None
        statement_kind = ""
        statement_path = ""
        for rel, kind in STATEMENT_CANDIDATES:
            text = read_text_file(folder / rel, "statement", hasher, lim, required=False)
            if text is not None:
                statement, statement_kind, statement_path = text, kind, rel
                break
        if statement is None or not statement.strip():
            raise FieldError("statement", "no problem_statement/problem.en.tex|.md (or problem.tex|.md) found")

        name = config.get("name")
        if isinstance(name, dict):
            name = name.get("en") or next(iter(name.values()), "")
        title = str(name).strip() if name else ""
        if not title and statement_kind == "latex":
            m = _PROBLEMNAME.search(statement)
            title = m.group(1).strip() if m else ""
        title = title or folder.name

        validation = str(config.get("validation") or "default").strip()
        flags = config.get("validator_flags")
        if validation.startswith("custom"):
            comparison: dict[str, Any] = {"mode": "checker"}
            if "interactive" in validation:
                comparison["interactive"] = True
            if flags:
                comparison["validator_flags"] = flags if isinstance(flags, str) else " ".join(map(str, flags))
        else:
            comparison = parse_validator_flags(flags)

        limits = config.get("limits") or {}
        if not isinstance(limits, dict):
            raise FieldError("limits", "expected a mapping")
        time_limit_ms = None
        time_limit = limits.get("time_limit")
        if time_limit is None:
            tl_text = read_text_file(folder / ".timelimit", "time_limit", hasher, 1024, required=False)
            time_limit = tl_text.strip() if tl_text else None
        if time_limit not in (None, ""):
            try:
                time_limit_ms = int(round(float(time_limit) * 1000))
            except (TypeError, ValueError):
                raise FieldError("limits.time_limit", f"not a number: {time_limit!r}") from None
        memory = limits.get("memory")
        try:
            memory_limit_mb = int(memory) if memory not in (None, "") else None
        except (TypeError, ValueError):
            raise FieldError("limits.memory", f"not a number: {memory!r}") from None

        tests = self._tests(folder, "sample", TEST_SAMPLE, hasher, 0)
        tests += self._tests(folder, "secret", TEST_HIDDEN, hasher, len(tests))

        solutions: list[CanonicalSolution] = []
        accepted = folder / "submissions" / "accepted"
        if accepted.is_dir():
            for p in sorted(accepted.iterdir(), key=lambda p: natural_key(p.name)):
                lang = SOLUTION_LANGUAGES.get(p.suffix.lower())
                if lang is None or not p.is_file() or len(solutions) >= MAX_SOLUTIONS:
                    continue
                code = read_text_file(p, f"solutions[{len(solutions)}]", hasher, lim)
                if code and code.strip():
                    solutions.append(CanonicalSolution(code=code, language=lang))

        keywords = config.get("keywords")
        if isinstance(keywords, str):
            tags = [k.strip() for k in re.split(r"[,\s]+", keywords) if k.strip()]
        elif isinstance(keywords, list):
            tags = [str(k).strip() for k in keywords if str(k).strip()]
        else:
            tags = []

        return CanonicalProblem(
            external_id=folder.name,
            title=title,
            statement=statement,
            platform="kattis",
            statement_format="markdown" if statement_kind == "markdown" else "text",
            url=str(config.get("source_url") or ""),
            time_limit_ms=time_limit_ms,
            memory_limit_mb=memory_limit_mb,
            tags=tags,
            comparison=comparison,
            tests=tests,
            solutions=solutions,
            extra={
                "statement_file": statement_path,
                "statement_source_format": statement_kind,
                "source": config.get("source"),
                "license": config.get("license"),
                "rights_owner": config.get("rights_owner"),
                "validation": validation,
                "validator_flags": flags,
                "time_multiplier": limits.get("time_multiplier"),
            },
            raw_hash=hasher.hexdigest(),
        )

    def _tests(self, folder: Path, group: str, kind: str, hasher: FolderHasher, start: int) -> list[CanonicalTest]:
        base = folder / "data" / group
        if not base.is_dir():
            return []
        inputs = sorted(base.rglob("*.in"), key=lambda p: [natural_key(part) for part in p.relative_to(base).parts])
        tests: list[CanonicalTest] = []
        for inp in inputs:
            i = start + len(tests)
            ans = inp.with_suffix(".ans")
            if not ans.is_file():
                raise FieldError(f"tests[{i}].output", f"{ans.relative_to(folder)} is missing")
            text_in = read_text_file(inp, f"tests[{i}].input", hasher, self.limits.max_test_bytes)
            text_out = read_text_file(ans, f"tests[{i}].output", hasher, self.limits.max_test_bytes)
            assert text_in is not None and text_out is not None
            tests.append(CanonicalTest(input=text_in, output=text_out, kind=kind))
        return tests


def _is_package(p: Path) -> bool:
    return (p / "problem.yaml").is_file() or (p / "data" / "sample").is_dir() or (p / "data" / "secret").is_dir()
