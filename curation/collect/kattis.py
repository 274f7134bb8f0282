"""`kattis`: Kattis / ICPC problem package folders (problem package format, legacy + 2023-07 bits).

    problem.yaml                     name, source, limits, validation, validator_flags, type
    problem_statement/problem.en.md  statement: problem.<lang>.{md,tex,html} or problem.{md,tex,html}
                                     (or statement/…); a PDF's text as the last resort (flagged)
    data/sample/*.in + *.ans         sample tests
    data/secret/**/*.in + *.ans      hidden tests; a sub-folder is a test group (`type: scoring`)
    submissions/accepted/*.py|*.cpp  reference solutions
    .timelimit                       (optional) time limit in seconds, as Kattis tools write it

Archives come nested (contest / year / round / problem): PATH may be one package or any tree of
folders holding packages; each package's external id is its path relative to PATH.

Default output validator (spec): tokens compared case-INsensitively and any run of whitespace
is equivalent, unless `validator_flags` say `case_sensitive` / `space_change_sensitive`;
`float_tolerance e` = `float_absolute_tolerance e` + `float_relative_tolerance e`.

Interactive problems import (statement, tests, solutions) but are flagged `not_judgeable`: our
judge has no interactor. Limits that are infinite (`.inf`) or absurd are clamped and flagged.
"""
from __future__ import annotations

import io
import math
import os
import re
import shlex
from pathlib import Path
from typing import Any, Iterator

import yaml

from .folders import (
    FolderHasher,
    check_inside,
    iter_folder_records,
    natural_key,
    read_bytes_file,
    read_text_file,
    walk_files,
)
from .importer import FieldError, Importer, Result
from .records import (
    FLAG_LIMIT_CLAMPED,
    FLAG_NOT_JUDGEABLE,
    FLAG_STATEMENT_FROM_PDF,
    TEST_HIDDEN,
    TEST_SAMPLE,
    CanonicalProblem,
    CanonicalSolution,
    CanonicalTest,
)
from .registry import register

STATEMENT_DIRS = ("problem_statement", "statement")
# Preferred first: the source formats we render best. HTML goes through the same normaliser as
# scraped statements (statement_format "html"); LaTeX is kept as text with its maths.
STATEMENT_KINDS = (("md", "markdown"), ("tex", "latex"), ("html", "html"))
STATEMENT_FORMAT = {"markdown": "markdown", "latex": "latex", "html": "html", "pdf": "text"}
SOLUTION_LANGUAGES = {".py": "python3", ".cpp": "cpp", ".cc": "cpp", ".cxx": "cpp"}
MAX_SOLUTIONS = 10
# Clamp bounds: the judge refuses more than 60 s or 8 GiB (curation.judge.spec), and a source's
# "infinite" limit means "no limit of ours", not "run forever".
MAX_TIME_LIMIT_S = 60.0
MAX_MEMORY_MB = 8192
MIN_MEMORY_MB = 16
MAX_PDF_BYTES = 32 * 1024 * 1024
_PROBLEMNAME = re.compile(r"\\problemname\{(.+?)\}")
_HTML_TITLE = re.compile(r"<(?:h1|title)[^>]*>(.*?)</(?:h1|title)>", re.I | re.S)


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
    description = "Kattis / ICPC problem packages, one or a nested archive of them (problem.yaml, data/, submissions/)"

    def iter_records(self, path: str | os.PathLike) -> Iterator[Result]:
        root = Path(path)
        # A single package keeps its folder name as id; inside an archive the id is the path
        # relative to PATH, so `2019/a` and `2020/a` stay two problems.
        yield from iter_folder_records(self, root, _is_package, self._parse_checked_package,
                                       recursive=True, id_from_path=not _is_package(root))

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
        flags: list[str] = []

        statement, statement_kind, statement_path = self._statement(folder, hasher)
        if statement_kind == "pdf":
            flags.append(FLAG_STATEMENT_FROM_PDF)

        name = config.get("name")
        if isinstance(name, dict):
            name = name.get("en") or next(iter(name.values()), "")
        title = str(name).strip() if name else ""
        if not title and statement_kind == "latex":
            m = _PROBLEMNAME.search(statement)
            title = m.group(1).strip() if m else ""
        if not title and statement_kind == "html":
            m = _HTML_TITLE.search(statement)
            title = re.sub(r"<[^>]+>", "", m.group(1)).strip() if m else ""
        title = title or folder.name

        types = _problem_types(config)
        validation = str(config.get("validation") or "default").strip()
        interactive = "interactive" in types or "interactive" in validation
        validator_flags = config.get("validator_flags")
        if validation.startswith("custom") or interactive:
            comparison: dict[str, Any] = {"mode": "checker"}
            if interactive:
                comparison["interactive"] = True
                flags.append(FLAG_NOT_JUDGEABLE)
            if validator_flags:
                comparison["validator_flags"] = (validator_flags if isinstance(validator_flags, str)
                                                 else " ".join(map(str, validator_flags)))
        else:
            comparison = parse_validator_flags(validator_flags)

        limits = config.get("limits") or {}
        if not isinstance(limits, dict):
            raise FieldError("limits", "expected a mapping")
        clamped: list[str] = []
        time_limit = limits.get("time_limit")
        if time_limit is None:
            tl_text = read_text_file(folder / ".timelimit", "time_limit", hasher, 1024, required=False)
            time_limit = tl_text.strip() if tl_text else None
        time_limit_ms = _clamped_limit(time_limit, "limits.time_limit", 1000, MAX_TIME_LIMIT_S * 1000, 1, clamped)
        memory_limit_mb = _clamped_limit(limits.get("memory"), "limits.memory", 1, MAX_MEMORY_MB, MIN_MEMORY_MB, clamped)
        if clamped:
            flags.append(FLAG_LIMIT_CLAMPED)

        groups: dict[str, dict[str, Any]] = {}
        tests = self._tests(folder, "sample", TEST_SAMPLE, hasher, 0, interactive, groups)
        tests += self._tests(folder, "secret", TEST_HIDDEN, hasher, len(tests), interactive, groups)

        solutions: list[CanonicalSolution] = []
        accepted = folder / "submissions" / "accepted"
        check_inside(folder, accepted, "submissions")
        if accepted.is_dir():
            for p in sorted(accepted.iterdir(), key=lambda p: natural_key(p.name)):
                lang = SOLUTION_LANGUAGES.get(p.suffix.lower())
                if lang is None or len(solutions) >= MAX_SOLUTIONS or not (p.is_file() or p.is_symlink()):
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

        extra: dict[str, Any] = {
            "statement_file": statement_path,
            "statement_source_format": statement_kind,
            "source": config.get("source"),
            "license": config.get("license"),
            "rights_owner": config.get("rights_owner"),
            "validation": validation,
            "validator_flags": validator_flags,
            "time_multiplier": limits.get("time_multiplier"),
        }
        # Only where present, so packages without them keep the content hash they had.
        if types != ["pass-fail"]:
            extra["problem_type"] = types
        if groups:
            extra["test_groups"] = groups
        if interactive:
            extra["not_judgeable_reason"] = "interactive problem: judging needs the package's interactor"
        if clamped:
            extra["limits_clamped"] = clamped
        return CanonicalProblem(
            external_id=folder.name,
            title=title,
            statement=statement,
            platform="kattis",
            statement_format=STATEMENT_FORMAT[statement_kind],
            url=str(config.get("source_url") or ""),
            time_limit_ms=time_limit_ms,
            memory_limit_mb=memory_limit_mb,
            tags=tags,
            comparison=comparison,
            tests=tests,
            solutions=solutions,
            flags=flags,
            extra=extra,
            raw_hash=hasher.hexdigest(),
        )

    def _statement(self, folder: Path, hasher: FolderHasher) -> tuple[str, str, str]:
        """(text, kind, relative path): English first, then no language, then any language;
        Markdown, LaTeX, HTML; a PDF's text last."""
        lim = self.limits.max_record_bytes
        candidates: list[tuple[Path, str]] = []
        pdfs: list[Path] = []
        for dirname in STATEMENT_DIRS:
            d = folder / dirname
            check_inside(folder, d, "statement")
            if not d.is_dir():
                continue
            names = sorted(p.name for p in d.iterdir())
            for lang in ("en.", ""):
                candidates += [(d / f"problem.{lang}{ext}", kind) for ext, kind in STATEMENT_KINDS]
            for ext, kind in STATEMENT_KINDS:
                candidates += [(d / n, kind) for n in names if re.fullmatch(rf"problem\.[a-z]{{2,3}}(-[A-Za-z]+)?\.{ext}", n)]
            pdfs += [d / n for n in names if n.lower().endswith(".pdf")]
        pdfs += [folder / n for n in ("problem.pdf", "problem.en.pdf")]
        for path, kind in candidates:
            text = read_text_file(path, "statement", hasher, lim, required=False)
            if text is not None and text.strip():
                return text, kind, path.relative_to(folder).as_posix()
        pdfs.sort(key=lambda p: (".en." not in p.name, p.name))
        for path in pdfs:
            check_inside(folder, path, "statement")
            if path.is_file() or path.is_symlink():
                return pdf_text(read_bytes_file(path, "statement", hasher, MAX_PDF_BYTES)), "pdf", path.relative_to(folder).as_posix()
        raise FieldError("statement", "no problem statement found: problem[.<lang>].md|tex|html or a PDF under "
                                      "problem_statement/ or statement/")

    def _tests(self, folder: Path, group: str, kind: str, hasher: FolderHasher, start: int,
               interactive: bool, groups: dict[str, dict[str, Any]]) -> list[CanonicalTest]:
        base = folder / "data" / group
        check_inside(folder, base, f"data/{group}")
        if not base.is_dir():
            return []
        files = walk_files(base, folder, f"data/{group}")
        inputs = sorted((p for p in files if p.suffix == ".in"),
                        key=lambda p: [natural_key(part) for part in p.relative_to(base).parts])
        tests: list[CanonicalTest] = []
        for inp in inputs:
            i = start + len(tests)
            ans = inp.with_suffix(".ans")
            # A secret sub-folder is a test group (subtasks of a scored problem).
            rel_dir = inp.parent.relative_to(base).as_posix()
            test_group = "" if rel_dir == "." or kind == TEST_SAMPLE else rel_dir
            text_in = read_text_file(inp, f"tests[{i}].input", hasher, self.limits.max_test_bytes)
            text_out = read_text_file(ans, f"tests[{i}].output", hasher, self.limits.max_test_bytes,
                                      required=not interactive)
            if text_out is None:  # interactive: the answer file is optional, the interactor decides
                text_out = ""
            assert text_in is not None
            tests.append(CanonicalTest(input=text_in, output=text_out, kind=kind, group=test_group))
            if test_group:
                info = groups.setdefault(test_group, {"tests": 0})
                info["tests"] += 1
        for name, info in groups.items():
            testdata = base / name / "testdata.yaml"
            text = read_text_file(testdata, f"data/{group}/{name}/testdata.yaml", hasher, 64 * 1024, required=False)
            if text and "testdata" not in info:
                try:
                    parsed = yaml.safe_load(text)
                except yaml.YAMLError as exc:
                    raise FieldError(f"data/{group}/{name}/testdata.yaml", f"malformed YAML: {exc}") from None
                if isinstance(parsed, dict):
                    info["testdata"] = {str(k): v if isinstance(v, (str, int, float, bool)) or v is None else str(v)
                                        for k, v in parsed.items()}
        return tests


def _problem_types(config: dict) -> list[str]:
    """`type:` of problem.yaml — a word or a list (2023-07: `[scoring, interactive]`)."""
    value = config.get("type")
    if value is None:
        return ["pass-fail"]
    if isinstance(value, str):
        return [w for w in re.split(r"[\s,]+", value.strip()) if w] or ["pass-fail"]
    if isinstance(value, list):
        return [str(v).strip() for v in value if str(v).strip()] or ["pass-fail"]
    raise FieldError("type", f"expected a word or a list, got {type(value).__name__}")


def _clamped_limit(value: Any, field: str, scale: float, maximum: float, minimum: float,
                   clamped: list[str]) -> int | None:
    """A limit in the source's unit times `scale`, as an int; `.inf`, huge or non-positive values
    are clamped into [minimum, maximum] and noted in `clamped` (never an OverflowError)."""
    if value in (None, ""):
        return None
    if isinstance(value, bool):
        raise FieldError(field, f"not a number: {value!r}")
    try:
        number = float(value) * scale
    except (TypeError, ValueError, OverflowError):
        raise FieldError(field, f"not a number: {value!r}") from None
    if math.isnan(number):
        raise FieldError(field, f"not a number: {value!r}")
    if number > maximum:
        clamped.append(f"{field}: {value!r} clamped to {maximum:g}")
        return int(maximum)
    if number < minimum:
        clamped.append(f"{field}: {value!r} clamped to {minimum:g}")
        return int(minimum)
    return int(round(number))


def pdf_text(data: bytes) -> str:
    """The text of a PDF statement (pypdf, pure Python); the layout is lost, hence the flag."""
    try:
        from pypdf import PdfReader
        from pypdf.errors import PyPdfError

        reader = PdfReader(io.BytesIO(data))
        pages = [page.extract_text() or "" for page in reader.pages]
    except (PyPdfError, ValueError, KeyError, TypeError, OSError) as exc:
        raise FieldError("statement", f"cannot read the PDF statement: {type(exc).__name__}: {exc}") from None
    text = "\n\n".join(p.strip() for p in pages if p.strip())
    if not text.strip():
        raise FieldError("statement", "the PDF statement has no extractable text (scanned images?)")
    return text


def _is_package(p: Path) -> bool:
    return (p / "problem.yaml").is_file() or (p / "data" / "sample").is_dir() or (p / "data" / "secret").is_dir()
