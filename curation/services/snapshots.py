"""Snapshots: immutable, versioned datasets of frozen problem versions (and manual selections).

`snapshot_create` copies — never references — everything a training run needs from each problem
into `SnapshotItem.data`, in batches, inside one transaction with one audit row; the
`snapshot.created` webhook goes out after commit. Nothing later changes a snapshot: the models
refuse save() and delete() on existing rows.
"""
from __future__ import annotations

import hashlib
import json
from collections import Counter
from typing import Any, Callable, Iterable

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.http import QueryDict

from curation.errors import FieldError
from curation.filters import ProblemFilter
from curation.judge.spec import JudgeSpecError
from curation.models import (
    DIMENSIONS,
    Calibration,
    DatasetSnapshot,
    Problem,
    ReferenceSolution,
    Selection,
    SnapshotItem,
    TestCase,
)
from curation.selectors import problem_judge_spec
from curation.services.audit import audit_event_record
from curation.services.bulk_insert import insert_values
from curation.services.rubrics import rubric_current
from curation.services.selection import selection_record
from curation.services.runs import ProblemFailures

FREEZE_BATCH_SIZE = 500


class SnapshotCriteriaError(FieldError):
    """The criteria are wrong; `field` names the offending one (e.g. `filters.bucket`)."""


# --- freezing --------------------------------------------------------------------------------


def problem_key(source_name: str, external_id: str) -> str:
    return f"{source_name}:{external_id}"


def problem_freeze(problem: Problem, tests: Iterable[dict], solutions: Iterable[dict]) -> dict[str, Any]:
    """The frozen version of one problem: the facts a training run and an export need, and the
    whole judge spec (`judge`), so the reward and evaluation judge it as verification did."""
    tests = list(tests)
    try:
        judge = problem_judge_spec(problem, [(t["input"], t["output"]) for t in tests]).to_dict()
    except JudgeSpecError:
        # Frozen all the same (as before the spec existed), saying it cannot be judged as it is
        # (e.g. a functional problem without an entry point): `judge` is null.
        judge = None
    return {
        "problem_key": problem_key(problem.source.name, problem.external_id),
        "source": problem.source.name,
        "source_license": problem.source.license,
        "external_id": problem.external_id,
        "platform": problem.platform,
        "contest_id": problem.contest_id,
        "problem_index": problem.problem_index,
        "contest_date": problem.contest_date.isoformat() if problem.contest_date else None,
        "url": problem.url,
        "title": problem.title,
        "statement": problem.statement,
        "format_instruction": problem.format_instruction,
        "io_format": problem.io_format,
        "function_name": problem.function_name,
        "signature": problem.signature,
        "starter_code": problem.starter_code,
        "comparison": problem.comparison or {"mode": "tokens"},
        "time_limit_ms": problem.time_limit_ms,
        "memory_limit_mb": problem.memory_limit_mb,
        "tags": list(problem.tags or []),
        "difficulty_label": problem.difficulty_label,
        "difficulty_rating": problem.difficulty_rating,
        "tests": [{"ordinal": t["ordinal"], "input": t["input"], "output": t["output"], "kind": t["kind"]} for t in tests],
        "solutions": [{"language": s["language"], "code": s["code"]} for s in solutions],
        "scores": {dim: getattr(problem, f"score_{dim}") for dim in DIMENSIONS},
        "weighted_score": problem.weighted_score,
        "calibrated_pass_rate": problem.calibrated_pass_rate,
        "bucket": problem.bucket,
        "review_status": problem.review_status,
        "verification_status": problem.verification_status,
        "content_hash": problem.content_hash,
        "problem_version": problem.version,
        "judge": judge,
    }


def item_hash(data: dict[str, Any]) -> str:
    blob = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def _filter_data(filters: dict[str, Any]) -> QueryDict:
    data = QueryDict(mutable=True)
    for key, value in filters.items():
        if isinstance(value, (list, tuple)):
            data.setlist(key, [str(v) for v in value])
        elif isinstance(value, bool):
            data[key] = "true" if value else "false"
        elif value is not None:
            data[key] = str(value)
    return data


def snapshot_problem_ids(*, selection: Selection | None = None, filters: dict | None = None) -> list[int]:
    """The ids of the problems the criteria pick, in the snapshot's order (by problem_key)."""
    queryset = Problem.objects.all()
    if selection is not None:
        queryset = queryset.filter(selections=selection)
    if filters:
        if not isinstance(filters, dict):
            raise SnapshotCriteriaError("filters", "expected an object of problem filters")
        unknown = sorted(set(filters) - set(ProblemFilter.base_filters))
        if unknown:
            raise SnapshotCriteriaError(f"filters.{unknown[0]}", "unknown problem filter")
        filterset = ProblemFilter(data=_filter_data(filters), queryset=queryset)
        if not filterset.is_valid():
            field, messages = next(iter(filterset.errors.items()))
            raise SnapshotCriteriaError(f"filters.{field}", "; ".join(str(m) for m in messages))
        queryset = filterset.qs
    ids = queryset.order_by("source__name", "external_id", "id").values_list("id", flat=True)
    return list(dict.fromkeys(ids))  # a join may repeat a row; keep the first


def _decontamination_normalize(decontamination: dict | None) -> dict | None:
    if not decontamination:
        return None
    if not isinstance(decontamination, dict):
        raise SnapshotCriteriaError("decontamination", "expected an object {benchmarks, cutoff_date}")
    unknown = sorted(set(decontamination) - {"benchmarks", "cutoff_date"})
    if unknown:
        raise SnapshotCriteriaError(f"decontamination.{unknown[0]}", "unknown key")
    benchmarks = decontamination.get("benchmarks") or []
    if not isinstance(benchmarks, list) or not all(isinstance(b, str) for b in benchmarks):
        raise SnapshotCriteriaError("decontamination.benchmarks", "expected a list of benchmark names")
    cutoff = decontamination.get("cutoff_date")
    if cutoff is not None:
        import datetime as dt

        try:
            cutoff = dt.date.fromisoformat(str(cutoff)).isoformat()
        except ValueError:
            raise SnapshotCriteriaError("decontamination.cutoff_date", "expected YYYY-MM-DD") from None
    return {"benchmarks": sorted(benchmarks), "cutoff_date": cutoff}


def _freeze_batch(ids: list[int], failures: ProblemFailures | None = None) -> list[tuple[Problem, dict]]:
    """(problem, frozen item) for each id; a problem that cannot be frozen (its judge spec cannot
    be built) is left out and recorded in `failures`, or raises when none is given."""
    problems = {p.pk: p for p in Problem.objects.filter(pk__in=ids).select_related("source")}
    tests: dict[int, list[dict]] = {}
    for t in (
        TestCase.objects.filter(problem_id__in=ids, is_training=True)
        .order_by("problem_id", "ordinal")
        .values("problem_id", "ordinal", "input", "output", "kind")
    ):
        tests.setdefault(t["problem_id"], []).append(t)
    solutions: dict[int, list[dict]] = {}
    for s in (
        ReferenceSolution.objects.filter(problem_id__in=ids, is_correct=True)
        .order_by("problem_id", "ordinal", "id")
        .values("problem_id", "language", "code")
    ):
        solutions.setdefault(s["problem_id"], []).append(s)
    frozen = []
    for pk in ids:
        if pk not in problems:
            continue
        try:
            frozen.append((problems[pk], problem_freeze(problems[pk], tests.get(pk, []), solutions.get(pk, []))))
        except (ValueError, TypeError, KeyError) as exc:  # JudgeSpecError is a ValueError
            if failures is None:
                raise
            failures.record(pk, exc)
    return frozen


def _items_insert(rows: list[SnapshotItem], batch_size: int) -> None:
    """Insert new items through the one COPY path (bulk_insert.insert_values: COPY on PostgreSQL,
    whose bulk_create parameter quoting of large JSON is several times slower; bulk_create
    elsewhere). Same transaction either way."""
    insert_values(
        SnapshotItem, ["snapshot", "problem", "ordinal", "problem_key", "content_hash", "data"],
        [(r.snapshot_id, r.problem_id, r.ordinal, r.problem_key, r.content_hash, r.data) for r in rows],
        batch_size=batch_size,
    )


# --- create / diff ---------------------------------------------------------------------------


def snapshot_create(
    *,
    name: str,
    user,
    selection: Selection | None = None,
    filters: dict | None = None,
    decontamination: dict | None = None,
    batch_size: int = FREEZE_BATCH_SIZE,
    progress: Callable[[int, int], None] | None = None,
) -> DatasetSnapshot:
    """Freeze the problems picked by `selection` and/or `filters` (ProblemFilter parameters, the
    same as the workspace's query string) as version N+1 of snapshot `name`.

    `decontamination` ({"benchmarks": [...], "cutoff_date": "YYYY-MM-DD"}) is recorded in the
    criteria and manifest. Raises SnapshotCriteriaError naming the bad field."""
    name = (name or "").strip()
    if not name:
        raise SnapshotCriteriaError("name", "required")
    if len(name) > 200:
        raise SnapshotCriteriaError("name", "at most 200 characters")
    decontamination = _decontamination_normalize(decontamination)
    criteria: dict[str, Any] = {"selection": selection.pk if selection else None, "filters": filters or {}}
    if decontamination:
        criteria["decontamination"] = decontamination
    for attempt in range(3):
        try:
            snapshot = _snapshot_create_once(
                name=name, user=user, selection=selection, filters=filters, criteria=criteria,
                decontamination=decontamination, batch_size=batch_size, progress=progress,
            )
            break
        except IntegrityError:
            # Another snapshot of the same name took this version number first: take the next.
            if attempt == 2:
                raise
    return snapshot


def _snapshot_create_once(*, name, user, selection, filters, criteria, decontamination, batch_size, progress=None) -> DatasetSnapshot:
    with transaction.atomic():
        ids = snapshot_problem_ids(selection=selection, filters=filters)
        version = (DatasetSnapshot.objects.filter(name=name).aggregate(v=Max("version"))["v"] or 0) + 1
        rubric = rubric_current()
        calibration = Calibration.objects.filter(is_active=True).order_by("-created_at").first()
        snapshot = DatasetSnapshot.objects.create(
            name=name,
            version=version,
            selection=selection,
            criteria=criteria,
            content_hash="",
            created_by=user if getattr(user, "is_authenticated", False) else None,
        )
        digest = hashlib.sha256()
        counts = {key: Counter() for key in ("bucket", "source", "platform", "month", "io_format", "review_status")}
        n_tests = 0
        ordinal = 0
        failures = ProblemFailures(None, "snapshot", stage="snapshot")
        for start in range(0, len(ids), batch_size):
            rows = []
            for problem, data in _freeze_batch(ids[start : start + batch_size], failures):
                h = item_hash(data)
                digest.update(f"{data['problem_key']}\t{h}\n".encode("utf-8"))
                rows.append(
                    SnapshotItem(
                        snapshot=snapshot, problem=problem, ordinal=ordinal,
                        problem_key=data["problem_key"], content_hash=h, data=data,
                    )
                )
                ordinal += 1
                counts["bucket"][data["bucket"] or "none"] += 1
                counts["source"][data["source"]] += 1
                counts["platform"][data["platform"] or "none"] += 1
                counts["month"][(data["contest_date"] or "unknown")[:7]] += 1
                counts["io_format"][data["io_format"]] += 1
                counts["review_status"][data["review_status"]] += 1
                n_tests += len(data["tests"])
            _items_insert(rows, batch_size)
            if progress is not None:
                # Called inside the transaction: the callback must report outside the database.
                progress(ordinal, len(ids))
        manifest = {
            "name": name,
            "version": version,
            "criteria": criteria,
            "problem_count": ordinal,
            "test_count": n_tests,
            "counts": {key: dict(sorted(counter.items())) for key, counter in counts.items()},
            "rubric_version": rubric.version if rubric else None,
            "calibration_version": calibration.version if calibration else None,
            "decontamination": decontamination,
            # Problems the criteria picked that could not be frozen, and why (also on each problem).
            "excluded": [{"record": e["record"], "message": e["message"]} for e in failures.run.errors],
            "item_hash": "sha256 of the item's frozen data (sorted-key JSON)",
            "content_hash": "sha256 over 'problem_key<TAB>item_hash<LF>' in ordinal order",
        }
        snapshot.manifest = manifest
        snapshot.content_hash = digest.hexdigest()
        snapshot.problem_count = ordinal
        snapshot.save(_allow_update=True)  # the one write that completes the row, same transaction
        audit_event_record(
            actor=user, action="snapshot_create", target=snapshot,
            after={"name": name, "version": version, "problem_count": ordinal, "content_hash": snapshot.content_hash},
        )
        payload = snapshot_event_payload(snapshot)
        transaction.on_commit(lambda: _emit("snapshot.created", payload))
    return snapshot


def _emit(event: str, payload: dict) -> None:
    from curation.services.webhooks import webhook_event_emit

    webhook_event_emit(event, payload)


def snapshot_event_payload(snapshot: DatasetSnapshot) -> dict:
    return {
        "id": snapshot.pk,
        "name": snapshot.name,
        "version": snapshot.version,
        "problem_count": snapshot.problem_count,
        "content_hash": snapshot.content_hash,
        "created_at": snapshot.created_at.isoformat(),
    }


def snapshot_diff(a: DatasetSnapshot, b: DatasetSnapshot) -> dict[str, Any]:
    """What changed from snapshot `a` to snapshot `b`, by problem_key and item content hash."""
    old = dict(SnapshotItem.objects.filter(snapshot=a).values_list("problem_key", "content_hash"))
    new = dict(SnapshotItem.objects.filter(snapshot=b).values_list("problem_key", "content_hash"))
    added = sorted(set(new) - set(old))
    removed = sorted(set(old) - set(new))
    changed = sorted(k for k in set(old) & set(new) if old[k] != new[k])
    return {
        "from": {"id": a.pk, "name": a.name, "version": a.version, "content_hash": a.content_hash},
        "to": {"id": b.pk, "name": b.name, "version": b.version, "content_hash": b.content_hash},
        "added": added,
        "removed": removed,
        "changed": changed,
        "unchanged_count": len(set(old) & set(new)) - len(changed),
    }


# --- manual selections -----------------------------------------------------------------------


def selection_create(
    *, name: str, user, problem_ids: list[int] | None = None, filters: dict | None = None, policy: dict | None = None
) -> Selection:
    """A hand-made selection: explicit problem ids and/or ProblemFilter parameters."""
    name = (name or "").strip()
    if not name:
        raise SnapshotCriteriaError("name", "required")
    if problem_ids is None and not filters:
        raise SnapshotCriteriaError("problem_ids", "give problem_ids or filters")
    ids: list[int] = []
    if problem_ids:
        found = set(Problem.objects.filter(pk__in=problem_ids).values_list("id", flat=True))
        missing = [pk for pk in problem_ids if pk not in found]
        if missing:
            raise SnapshotCriteriaError("problem_ids", f"unknown problem ids: {missing[:10]}")
        ids.extend(problem_ids)
    if filters:
        ids.extend(snapshot_problem_ids(filters=filters))
    ids = list(dict.fromkeys(ids))
    return selection_record(
        name=name, user=user, policy={"kind": "manual", **(policy or {}), **({"filters": filters} if filters else {})},
        preview={"count": len(ids)}, problem_ids=ids,
    )
