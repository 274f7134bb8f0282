"""Duplicates: the global `dedup` processing step. A duplicate is a relation between problems,
so the step looks at the whole pool and recomputes every cluster from scratch each run (exact
and near duplicates from `curation.process.dedup`); a cluster's canonical member stays in."""
from __future__ import annotations


from django.db import transaction
from django.db.models import Count, Q, QuerySet

from curation.models import DuplicateCluster, Problem, StageRun
from curation.process import dedup as dedup_core
from curation.process import minhash
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
    minhash.tokenize(statement)
    return minhash.content_hash(statement)
