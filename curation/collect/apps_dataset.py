"""`apps`: APPS rows (JSONL / JSON array / Parquet) or the original folder layout.

Rows: problem_id, question, solutions (JSON string list), input_output (JSON string
{inputs, outputs, fn_name?}, may be empty), difficulty (introductory / interview / competition),
url, starter_code.
Folders: NNNN/question.txt, input_output.json, solutions.json, metadata.json
({"difficulty", "url"}), starter_code.py (optional). PATH: one such folder or their parent.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Iterator

from .fields import opt_str, require
from .folders import FolderHasher, iter_folder_records, read_text_file
from .importer import FieldError, Result
from .readers import RowImporter
from .records import IO_FUNCTIONAL, IO_STDIN, CanonicalProblem
from .registry import register
from .taco import codeforces_ids, parse_io, parse_solutions, platform_from_url

APPS_DIFFICULTIES = ("introductory", "interview", "competition")


def _is_apps_folder(p: Path) -> bool:
    return (p / "question.txt").is_file()


@register("apps")
class AppsImporter(RowImporter):
    description = "APPS rows (JSONL / JSON array / Parquet) or NNNN/ problem folders"

    def iter_records(self, path: str | os.PathLike) -> Iterator[Result]:
        path = Path(path)
        if path.is_dir() and (
            _is_apps_folder(path) or any(_is_apps_folder(p) for p in path.iterdir() if p.is_dir())
        ):
            yield from self._iter_folders(path)
            return
        yield from super().iter_records(path)

    def parse_row(self, row: dict[str, Any]) -> CanonicalProblem:
        problem_id = require(row, "problem_id", types=(int, str))
        question = require(row, "question")
        return self._build(
            str(problem_id).strip(),
            question,
            row.get("input_output"),
            row.get("solutions"),
            opt_str(row, "difficulty"),
            opt_str(row, "url"),
            opt_str(row, "starter_code"),
        )

    def _build(self, problem_id, question, io, solutions_value, difficulty, url, starter) -> CanonicalProblem:
        if not problem_id:
            raise FieldError("problem_id", "required field is empty")
        tests, fn_name = parse_io(io, "input_output")
        solutions, n_solutions = parse_solutions(solutions_value, "solutions")
        url = url.strip()
        platform = platform_from_url(url)
        contest_id, index = codeforces_ids(url) if platform == "codeforces" else ("", "")
        difficulty = difficulty.strip().lower()
        return CanonicalProblem(
            external_id=problem_id,
            title=f"APPS {problem_id}",
            statement=question,
            platform=platform,
            statement_format="text",
            contest_id=contest_id,
            problem_index=index,
            url=url,
            io_format=IO_FUNCTIONAL if fn_name else IO_STDIN,
            starter_code=starter or "",
            function_name=fn_name,
            difficulty_label=difficulty,
            tests=tests,
            solutions=solutions,
            extra={"difficulty_raw": difficulty, "solutions_total": n_solutions, "problem_id": problem_id},
        )

    def _iter_folders(self, root: Path) -> Iterator[Result]:
        yield from iter_folder_records(self, root, _is_apps_folder, self._parse_folder)

    def _parse_folder(self, folder: Path) -> CanonicalProblem:
        lim = self.limits.max_record_bytes
        hasher = FolderHasher(folder)
        question = read_text_file(folder / "question.txt", "question", hasher, lim)
        assert question is not None
        if not question.strip():
            raise FieldError("question", "question.txt is empty")
        io = read_text_file(folder / "input_output.json", "input_output", hasher, lim, required=False)
        sols = read_text_file(folder / "solutions.json", "solutions", hasher, lim, required=False)
        meta_text = read_text_file(folder / "metadata.json", "metadata", hasher, lim, required=False)
        starter = read_text_file(folder / "starter_code.py", "starter_code", hasher, lim, required=False)
        meta: dict = {}
        if meta_text and meta_text.strip():
            try:
                meta = json.loads(meta_text)
            except json.JSONDecodeError as exc:
                raise FieldError("metadata", f"malformed JSON: {exc}") from None
            if not isinstance(meta, dict):
                raise FieldError("metadata", "expected an object")
        problem = self._build(
            folder.name,
            question,
            io,
            sols,
            str(meta.get("difficulty") or ""),
            str(meta.get("url") or ""),
            starter or "",
        )
        problem.raw_hash = hasher.hexdigest()
        return problem
