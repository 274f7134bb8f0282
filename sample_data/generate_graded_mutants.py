"""Regenerate `sample_data/graded_mutants.jsonl`: the pass-rate evidence `make run` imports.

There is no model here and nothing can be downloaded, so this file is NOT a model's graded
output. It is what a graded file would look like, produced honestly from what we do have: for
each bundled problem whose reference solution passes its tests in our sandbox, the graded list
holds the reference's result followed by those of up to MUTANTS deterministic mutants of that
reference (one AST edit each: an arithmetic or comparison operator swapped, an integer constant
moved by one, `and`/`or` or `min`/`max` exchanged), each judged on the problem's training tests
with the problem's own judge spec. A problem's "pass rate" is therefore the share of
reference-plus-mutants that pass: high when the tests let broken variants through or the code has
slack, low when any edit breaks it. It is a stand-in so the calibration and selection charts have
real, reproducible data; a real model's graded file (`import_pass_rates`) replaces it.

Run from the repository root (about 5-15 minutes on two cores; bubblewrap needed):

    DEBUG=1 .venv/bin/python sample_data/generate_graded_mutants.py

It imports the sample into a scratch SQLite database under a temporary directory, so the
project's own database is left alone. The output is deterministic for a given sample and judge.
"""
from __future__ import annotations

import ast
import json
import os
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "sample_data" / "graded_mutants.jsonl"
MODEL = "reference+ast-mutants-v1"
MUTANTS = 9

_SWAPS = {
    ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.FloorDiv, ast.FloorDiv: ast.Mult,
    ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt, ast.Eq: ast.NotEq, ast.NotEq: ast.Eq,
    ast.And: ast.Or, ast.Or: ast.And,
}


def _sites(tree: ast.AST) -> list[tuple[int, str]]:
    """Every place one edit can be made, in source order: (node index in ast.walk, kind)."""
    sites = []
    for i, node in enumerate(ast.walk(tree)):
        if isinstance(node, (ast.BinOp, ast.AugAssign)) and type(node.op) in _SWAPS:
            sites.append((i, "op"))
        elif isinstance(node, ast.Compare) and type(node.ops[0]) in _SWAPS:
            sites.append((i, "cmp"))
        elif isinstance(node, ast.BoolOp):
            sites.append((i, "bool"))
        elif isinstance(node, ast.Constant) and type(node.value) is int:
            sites.append((i, "const"))
        elif isinstance(node, ast.Name) and node.id in ("min", "max"):
            sites.append((i, "minmax"))
    return sites


def mutants(code: str, limit: int = MUTANTS) -> list[str]:
    """Up to `limit` distinct one-edit mutants of `code`, chosen evenly over its edit sites
    (deterministic: same code, same mutants)."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return []
    sites = _sites(tree)
    if not sites:
        return []
    step = max(1, len(sites) / limit)
    chosen = sorted({sites[int(k * step)] for k in range(min(limit, len(sites)))})
    out: list[str] = []
    for index, kind in chosen:
        t = ast.parse(code)
        node = list(ast.walk(t))[index]
        if kind == "op":
            node.op = _SWAPS[type(node.op)]()
        elif kind == "cmp":
            node.ops[0] = _SWAPS[type(node.ops[0])]()
        elif kind == "bool":
            node.op = _SWAPS[type(node.op)]()
        elif kind == "const":
            node.value = node.value + 1
        elif kind == "minmax":
            node.id = "max" if node.id == "min" else "min"
        text = ast.unparse(t)
        if text not in out and text != ast.unparse(ast.parse(code)):
            out.append(text)
    return out


FIRST = 8


def passes_all(spec, code: str, language: str, config, limits) -> bool:
    """Accepted on every test: the first FIRST tests, then (only if those pass) the rest. The same
    yes/no as judging all tests at once, without running a mutant that loops forever through
    every remaining test."""
    from curation.judge import Verdict

    for part in (spec.tests[:FIRST], spec.tests[FIRST:]):
        if part and spec.with_tests(part).judge(code, language, config=config, limits=limits).verdict != Verdict.AC:
            return False
    return True


def main() -> int:
    scratch = tempfile.mkdtemp(prefix="microcoder-mutants-")
    os.environ["MICROCODER_VAR_DIR"] = scratch
    os.environ.pop("DATABASE_URL", None)
    os.environ.setdefault("DEBUG", "1")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "microcoder_site.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    from curation.judge import Verdict
    from curation.management.commands.seed_demo import SAMPLES
    from curation.models import Problem
    from curation.selectors import problem_judge_spec
    from curation.services import imports
    from curation.services.verification import sandbox_config

    call_command("migrate", verbosity=0)
    for path, format_name in SAMPLES:
        imports.import_run_execute(imports.import_run_create(path=str(path), format_name=format_name).pk)
    config = sandbox_config()
    lines = []
    for problem in Problem.objects.order_by("source__name", "external_id"):
        ref = problem.solutions.filter(is_correct=True, language__startswith="python").order_by("ordinal").first()
        spec = problem_judge_spec(problem)
        if ref is None or not spec.tests:
            print(f"skip {problem.external_id}: no Python reference or no tests", file=sys.stderr)
            continue
        report = spec.judge(ref.code, ref.language, config=config)
        if report.verdict != Verdict.AC:
            print(f"skip {problem.external_id}: reference gets {report.verdict}", file=sys.stderr)
            continue
        # Mutants get the verification stage's limit (3x the reference's slowest test, at least
        # 1 s), so a mutant that loops forever costs seconds, not the source's full limit per test.
        limits = replace(spec.limits, time_s=min(spec.limits.time_s, max(1.0, 3 * report.max_time_cpu)), wall_s=None)
        graded = [True]
        for code in mutants(ref.code):
            graded.append(passes_all(spec, code, ref.language, config, limits))
        lines.append({"question_id": problem.external_id, "model": MODEL, "graded_list": graded})
        print(f"{problem.external_id}: {sum(graded)}/{len(graded)}", file=sys.stderr)
    OUT.write_text("".join(json.dumps(line, sort_keys=True) + "\n" for line in lines), encoding="utf-8")
    print(f"wrote {len(lines)} graded lists to {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    finally:
        scratch_dir = os.environ.get("MICROCODER_VAR_DIR", "")
        if "microcoder-mutants-" in scratch_dir:  # ours, made by main(): the scratch database
            import shutil

            shutil.rmtree(scratch_dir, ignore_errors=True)
