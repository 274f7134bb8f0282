"""Evaluation runs: reads for the pages and the API."""
from __future__ import annotations

from django.db.models import QuerySet

from curation.models import Problem

from . import core
from .models import EvalProblem, EvalRun, EvalSample, SampleStatus
from .services import problem_results


def eval_run_list() -> QuerySet[EvalRun]:
    return EvalRun.objects.select_related("created_by").order_by("-created_at")


def benchmark_names() -> list[str]:
    return list(Problem.objects.filter(is_benchmark=True).exclude(benchmark_name="")
                .values_list("benchmark_name", flat=True).distinct().order_by("benchmark_name"))


def eval_problems(run: EvalRun) -> QuerySet[EvalProblem]:
    return run.problems.order_by("label", "question_id")


def eval_samples(eval_problem: EvalProblem) -> QuerySet[EvalSample]:
    return eval_problem.samples.order_by("index")


def lcb_custom_input(run: EvalRun) -> list[dict]:
    """This run's extracted code as lcb_runner's custom-evaluator input ([{question_id, code_list}]).
    Samples the endpoint never answered are left out, as they are left out of our n."""
    rows = (EvalSample.objects.filter(run=run, status=SampleStatus.JUDGED).order_by("eval_problem_id", "index")
            .values_list("eval_problem__question_id", "code"))
    return core.lcb_custom_input(rows)


def chart_data(run: EvalRun) -> dict:
    """What the results page plots: pass@k per difficulty (label, bucket) and pass@1 by month."""
    summary = run.summary or {}
    ks = summary.get("ks") or []
    by = summary.get("by") or {}

    def series(dim: str) -> dict:
        groups = by.get(dim) or {}
        return {"groups": list(groups), "ks": ks,
                "values": {f"pass@{k}": [groups[g].get(f"pass@{k}", {}).get("value") for g in groups] for k in ks},
                "low": {f"pass@{k}": [groups[g].get(f"pass@{k}", {}).get("low") for g in groups] for k in ks},
                "high": {f"pass@{k}": [groups[g].get(f"pass@{k}", {}).get("high") for g in groups] for k in ks}}

    months = by.get("month") or {}
    month_keys = sorted(m for m in months if m != "unknown")
    return {
        "label": series("label"), "bucket": series("bucket"), "platform": series("platform"),
        "month": {"months": month_keys, "pass@1": [months[m].get("pass@1", {}).get("value") for m in month_keys],
                  "problems": [months[m]["problems"] for m in month_keys]},
    }


def eval_compare(runs: list[EvalRun]) -> dict:
    """Each run against the first (the base): deltas with paired intervals, flipped problems."""
    if len(runs) < 2:
        return {"base": runs[0].pk if runs else None, "others": []}
    base = problem_results(runs[0])
    out = []
    for other in runs[1:]:
        cmp = core.compare(base, problem_results(other))
        cmp["run"] = other.pk
        out.append(cmp)
    return {"base": runs[0].pk, "others": out}


def compare_chart(runs: list[EvalRun], comparison: dict) -> dict:
    """pass@1 by benchmark label per run, and each run's delta against the base with its interval
    (drawn as a floating bar from low to high)."""
    labels = ["overall"] + sorted({g for r in runs for g in ((r.summary or {}).get("by", {}).get("label") or {})},
                                  key=core.group_order)

    def value(run: EvalRun, group: str):
        summary = run.summary or {}
        block = summary.get("overall", {}) if group == "overall" else summary.get("by", {}).get("label", {}).get(group, {})
        return block.get("pass@1", {}).get("value")

    deltas = []
    for cmp in comparison["others"]:
        rows = [cmp["overall"].get("pass@1")] + [cmp["by"].get("label", {}).get(g, {}).get("pass@1") for g in labels[1:]]
        deltas.append({"run": cmp["run"], "delta": [r["delta"] if r else None for r in rows],
                       "interval": [[r["low"], r["high"]] if r else None for r in rows]})
    return {"groups": labels, "runs": [{"id": r.pk, "label": r.label, "pass1": [value(r, g) for g in labels]} for r in runs],
            "deltas": deltas}


def summary_table(run: EvalRun, ks_shown: int = 5) -> dict:
    """Rows for the results table: overall, then every group of every dimension, each with
    pass@k (value, low, high) for the first few k (all of them are in the API)."""
    summary = run.summary or {}
    all_ks = summary.get("ks") or []
    ks = all_ks[:ks_shown] + ([all_ks[-1]] if len(all_ks) > ks_shown else [])

    def cells(block: dict) -> list:
        return [block.get(f"pass@{k}") for k in ks]

    rows = []
    if summary.get("overall"):
        rows.append({"dimension": "all", "group": "all problems", "problems": summary["overall"]["problems"],
                     "cells": cells(summary["overall"])})
    for dim, groups in (summary.get("by") or {}).items():
        for group, block in groups.items():
            rows.append({"dimension": dim, "group": group, "problems": block["problems"], "cells": cells(block)})
    return {"ks": ks, "rows": rows}


def checkpoint_curve(training_run_id: int) -> dict:
    """pass@1 by benchmark difficulty against step, from the finished evaluations of a training
    run's checkpoints (the latest evaluation per step): what the training run's page plots."""
    runs = (EvalRun.objects.filter(checkpoint__run_id=training_run_id, status__in=("succeeded", "partial"))
            .select_related("checkpoint").order_by("checkpoint__step", "-finished_at"))
    if not 0 < training_run_id < 2**63:
        runs = runs.none()  # no such run (and a database integer cannot hold the id: no query)
    latest: dict[int, EvalRun] = {}
    for run in runs:
        latest.setdefault(run.checkpoint.step, run)
    steps = sorted(latest)
    groups = sorted({g for r in latest.values() for g in (r.summary or {}).get("by", {}).get("label", {})}, key=core.group_order)

    def value(run: EvalRun, group: str | None):
        summary = run.summary or {}
        block = summary.get("overall", {}) if group is None else summary.get("by", {}).get("label", {}).get(group, {})
        return (block.get("pass@1") or {}).get("value")

    series = {"all": [value(latest[s], None) for s in steps], **{g: [value(latest[s], g) for s in steps] for g in groups}}
    rows = [{"step": s, "evaluation": latest[s].pk, "values": [series[g][i] for g in series]} for i, s in enumerate(steps)]
    return {"steps": steps, "evaluations": [latest[s].pk for s in steps], "series": series, "rows": rows}


def checkpoint_evaluations(training_run_id: int) -> list[EvalRun]:
    """Every evaluation of a training run's checkpoints (scheduled or started by hand, running or
    finished), by step: the links under the training run's chart."""
    return list(EvalRun.objects.filter(checkpoint__run_id=training_run_id).select_related("checkpoint")
                .order_by("checkpoint__step", "-created_at"))
