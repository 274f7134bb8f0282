"""Decontamination: marking benchmark problems (`benchmark_mark`) and the global `decontam`
processing step, which flags training problems matching a benchmark problem. Pending matches are
recomputed each run; curators' decisions on matches (confirmed / dismissed) survive a rerun."""
from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.db.models import QuerySet

from curation.models import ContaminationMatch, MatchStatus, Problem, StageRun
from curation.process import decontam as decontam_core
from curation.process import minhash
from curation.services.audit import audit_event_record
from curation.services.runs import ProblemFailures


def _decontam_item(problem: Problem) -> decontam_core.DecontamItem:
    slug = problem.external_id if problem.platform == "leetcode" else ""
    return decontam_core.DecontamItem(
        id=str(problem.pk), statement=problem.statement, title=problem.title, slug=slug, platform=problem.platform,
        contest_id=problem.contest_id, problem_index=problem.problem_index,
        question_id=str(problem.extra.get("question_id", "") or ""),
    )


def step_decontam(run: StageRun, qs: QuerySet[Problem]) -> dict:
    """Flag training problems that match a benchmark problem; keep curators' earlier decisions."""
    fields = ("id", "statement", "title", "external_id", "platform", "contest_id", "problem_index", "extra")
    counts: dict = {"failed": 0}
    failures = ProblemFailures(run, "decontam", counts=counts)

    def items(queryset) -> list[decontam_core.DecontamItem]:
        out = []
        for p in queryset.only(*fields):
            ok, item = failures.attempt(p.pk, _decontam_checked, p)
            if ok:
                out.append(item)
        return out

    benchmark = items(Problem.objects.filter(is_benchmark=True))
    training = items(qs.filter(is_benchmark=False))
    matches = decontam_core.find_contamination(benchmark, training) if benchmark and training else []
    training_ids = [int(t.id) for t in training]
    with transaction.atomic():
        found = set()
        for m in matches:
            key = (int(m.train_id), int(m.bench_id), m.method)
            found.add(key)
            ContaminationMatch.objects.update_or_create(
                problem_id=key[0], benchmark_problem_id=key[1], method=key[2], defaults={"score": m.score}
            )
        stale = ContaminationMatch.objects.filter(problem_id__in=training_ids, status=MatchStatus.PENDING)
        stale_ids = [pk for pk, p, b, meth in stale.values_list("pk", "problem_id", "benchmark_problem_id", "method") if (p, b, meth) not in found]
        ContaminationMatch.objects.filter(pk__in=stale_ids).delete()
        flagged = set(
            ContaminationMatch.objects.filter(problem_id__in=training_ids).exclude(status=MatchStatus.DISMISSED).values_list("problem_id", flat=True)
        )
        Problem.objects.filter(pk__in=training_ids).exclude(pk__in=flagged).update(is_contaminated=False)
        Problem.objects.filter(pk__in=flagged).update(is_contaminated=True)
    by_method: dict[str, int] = {}
    for m in matches:
        by_method[m.method] = by_method.get(m.method, 0) + 1
    failures.clear(training_ids + [int(b.id) for b in benchmark])
    counts.update({"benchmark_problems": len(benchmark), "matches": len(matches), "contaminated_problems": len(flagged), "by_method": by_method})
    return counts


def _decontam_checked(problem: Problem) -> decontam_core.DecontamItem:
    item = _decontam_item(problem)
    minhash.tokenize(item.statement)
    return item


def benchmark_mark(
    *, name: str, user=None, source_name: str | None = None, date_from: dt.date | None = None,
    date_to: dt.date | None = None, problem_ids: list[int] | None = None,
) -> int:
    """Mark a set of imported problems as benchmark `name` (e.g. LiveCodeBench by date window)."""
    qs = Problem.objects.all()
    if source_name:
        qs = qs.filter(source__name=source_name)
    if date_from:
        qs = qs.filter(contest_date__gte=date_from)
    if date_to:
        qs = qs.filter(contest_date__lte=date_to)
    if problem_ids is not None:
        qs = qs.filter(pk__in=problem_ids)
    with transaction.atomic():
        count = qs.update(is_benchmark=True, benchmark_name=name, is_contaminated=False)
        audit_event_record(
            actor=user, action="benchmark_mark", target=name,
            after={"source": source_name, "from": str(date_from or ""), "to": str(date_to or ""), "count": count},
        )
    return count
