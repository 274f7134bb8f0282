"""Duplicates and benchmark contamination: the global processing steps (`dedup`, `decontam`).

Both look at the whole pool, not at a batch: a duplicate is a relation between problems, so the
step recomputes every cluster (and every pending match) from scratch each time it runs. Curators'
decisions on contamination matches (confirmed / dismissed) survive a rerun.
"""
from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.db.models import Count, Q, QuerySet

from curation.models import ContaminationMatch, DuplicateCluster, MatchStatus, Problem, StageRun
from curation.process import decontam as decontam_core
from curation.process import dedup as dedup_core
from curation.services.audit import audit_event_record
from curation.services.runs import ProblemFailures


def step_dedup(run: StageRun, qs: QuerySet[Problem]) -> dict:
    """Cluster exact and near duplicates across every source; pick each cluster's canonical member."""
    rows = list(
        Problem.objects.annotate(n_tests=Count("tests", distinct=True), n_solutions=Count("solutions", distinct=True))
        .values_list("id", "title", "statement", "verification_status", "n_tests", "n_solutions", "contest_date")
        .order_by("id")
    )
    # Samples for the guard come from the statements themselves (the examples a reader sees):
    # stored sample tests may be partial where a source kept only some examples as tests.
    counts: dict = {"failed": 0}
    failures = ProblemFailures(run, "dedup", counts=counts)
    items, hashes = [], []
    for pid, title, statement, status, n_tests, n_solutions, date in rows:
        # A statement the tokenizer or hash cannot take is left out of the clustering, recorded.
        ok, digest = failures.attempt(pid, _dedup_checked, statement)
        if not ok:
            continue
        hashes.append(Problem(pk=pid, normalized_hash=digest))
        items.append(dedup_core.DedupItem(
            id=str(pid), statement=statement, title=title, samples=None,
            has_verified_tests=status == "verified", num_tests=n_tests, has_solution=n_solutions > 0, date=date,
        ))
    result = dedup_core.dedup(items)
    with transaction.atomic():
        Problem.objects.filter(Q(is_duplicate=True) | Q(duplicate_cluster__isnull=False)).update(is_duplicate=False, duplicate_cluster=None)
        DuplicateCluster.objects.all().delete()
        for cluster in result.clusters:
            methods = {edge.method for edge in cluster.edges}
            row = DuplicateCluster.objects.create(
                method="exact" if methods == {"exact"} else "near", canonical_id=int(cluster.canonical), size=len(cluster.members)
            )
            Problem.objects.filter(pk__in=[int(m) for m in cluster.members]).update(duplicate_cluster=row)
            Problem.objects.filter(pk__in=[int(m) for m in cluster.members[1:]]).update(is_duplicate=True)
        Problem.objects.bulk_update(hashes, ["normalized_hash"], batch_size=2000)
    failures.clear([int(item.id) for item in items])
    counts.update({
        "clusters": len(result.clusters),
        "duplicates": len(result.duplicate_of),
        "pairs_rejected_by_guard": len(result.rejected),
    })
    return counts


def _dedup_checked(statement: str) -> str:
    dedup_core.tokenize(statement)
    return dedup_core.content_hash(statement)


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
    dedup_core.tokenize(item.statement)
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
