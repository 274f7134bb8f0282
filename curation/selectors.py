"""Reads: querysets and aggregates for views and the API. Nothing here writes."""
from __future__ import annotations

from dataclasses import dataclass
from django.core.cache import cache
from django.db.models import Count, Q, QuerySet
from django.db.models.functions import Substr, TruncMonth
from django.http import QueryDict
from django.utils import timezone

from curation.filters import ProblemFilter
from curation.judge.spec import JudgeSpec
from curation.models import (
    DIMENSIONS,
    AuditEvent,
    Calibration,
    ContaminationMatch,
    ImportRun,
    PassRateMeasurement,
    Prediction,
    Problem,
    ProblemRevision,
    ReferenceSolution,
    Review,
    ReviewLease,
    ReviewStatus,
    RunStatus,
    SavedView,
    Selection,
    Source,
    StageRun,
    TestCase,
    VerificationRun,
)

LIST_COLUMNS = (
    "id", "title", "external_id", "platform", "io_format", "contest_date", "process_status",
    "verification_status", "bucket", "review_status", "weighted_score", "calibrated_pass_rate",
    "is_duplicate", "is_contaminated", "is_benchmark", "source_id", "source__name",
)
# The list shows "more than 1,000" past this: counting further costs a scan per filter change;
# the bulk-action confirm step counts exactly.
COUNT_CAP = 1_000
PAGE_SIZE = 50
# Query parameters that shape the page but not the set of problems.
NON_FILTER_PARAMS = ("page", "ordering", "per_page")


# --- Problem list ------------------------------------------------------------------------


def problem_filter(params: QueryDict | dict | None) -> ProblemFilter:
    """The shared FilterSet bound to the request's parameters (the same one the API uses)."""
    if params is not None and not isinstance(params, QueryDict):
        qd = QueryDict(mutable=True)
        for key, value in params.items():
            if isinstance(value, (list, tuple)):
                qd.setlist(key, [str(v) for v in value])
            else:
                qd[key] = str(value)
        params = qd
    return ProblemFilter(params, queryset=Problem.objects.all())


def filter_query_string(params: QueryDict) -> str:
    """The filter part of a query string (no page, no ordering), empty values dropped — a stable key
    for saved views and bulk actions."""
    qd = QueryDict(mutable=True)
    for key in sorted(params.keys()):
        if key in NON_FILTER_PARAMS or key == "csrfmiddlewaretoken":
            continue
        values = [v for v in params.getlist(key) if v != ""]
        if values:
            qd.setlist(key, values)
    return qd.urlencode()


def problem_list(*, params: QueryDict | dict | None = None, search: str = "", filterset: ProblemFilter | None = None) -> QuerySet[Problem]:
    """Filtered problems with just the list columns. Invalid filter values are ignored here; callers
    that act on the result (bulk actions) must check `problem_filter(...).is_valid()` first."""
    if params is None and search:
        params = {"q": search}
    fs = filterset if filterset is not None else problem_filter(params)
    qs = fs.qs.select_related("source").only(*LIST_COLUMNS)
    if not qs.query.order_by:
        qs = qs.order_by("id")
    return qs


@dataclass
class ProblemPage:
    rows: list[Problem]
    number: int
    per_page: int
    count: int
    count_capped: bool

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number * self.per_page < self.count or (self.count_capped and len(self.rows) == self.per_page)

    @property
    def previous_page_number(self) -> int:
        return self.number - 1

    @property
    def next_page_number(self) -> int:
        return self.number + 1

    @property
    def num_pages(self) -> int | None:
        if self.count_capped:
            return None
        return max(1, -(-self.count // self.per_page))

    @property
    def start_index(self) -> int:
        return (self.number - 1) * self.per_page + 1 if self.rows else 0

    @property
    def end_index(self) -> int:
        return (self.number - 1) * self.per_page + len(self.rows)


def count_capped(qs: QuerySet, cap: int | None = None) -> tuple[int, bool]:
    """COUNT over at most cap+1 ids (SELECT COUNT(*) FROM (... LIMIT cap+1)): cheap at any size."""
    cap = COUNT_CAP if cap is None else cap
    n = qs.order_by().values("id")[: cap + 1].count()
    return (cap, True) if n > cap else (n, False)


def problem_page(qs: QuerySet[Problem], *, page: str | int | None, per_page: int = PAGE_SIZE) -> ProblemPage:
    try:
        number = max(1, int(page or 1))
    except (TypeError, ValueError):
        number = 1
    count, capped = count_capped(qs)
    if not capped:
        last = max(1, -(-count // per_page))
        number = min(number, last)
    offset = (number - 1) * per_page
    rows = list(qs[offset : offset + per_page])
    return ProblemPage(rows=rows, number=number, per_page=per_page, count=count, count_capped=capped)


def problem_count_exact(qs: QuerySet[Problem]) -> int:
    return qs.order_by().values("id").count()


def platforms_known() -> list[str]:
    """Distinct platforms for the filter's choices; cached, since it scans an index."""
    key = "curation:platforms"
    value = cache.get(key)
    if value is None:
        value = sorted(p for p in Problem.objects.order_by().values_list("platform", flat=True).distinct() if p)
        cache.set(key, value, 300)
    return value


def sources_known() -> list[str]:
    return list(Source.objects.order_by("name").values_list("name", flat=True))


def saved_views_for_user(user) -> QuerySet[SavedView]:
    return SavedView.objects.filter(user=user).order_by("name")


def selections_recent(limit: int = 50) -> QuerySet[Selection]:
    return Selection.objects.order_by("-created_at")[:limit]


# --- Problem page ------------------------------------------------------------------------

TEST_PREVIEW_CHARS = 2_000
TESTS_SHOWN = 30


def problem_get(problem_id: int) -> Problem:
    return Problem.objects.select_related("source", "duplicate_cluster").get(pk=problem_id)


def problem_tests(problem: Problem) -> dict:
    """Tests with inputs and outputs cut to a preview in the database (big tests never travel)."""
    qs = (
        TestCase.objects.filter(problem=problem)
        .defer("input", "output")
        .annotate(input_head=Substr("input", 1, TEST_PREVIEW_CHARS), output_head=Substr("output", 1, TEST_PREVIEW_CHARS))
        .order_by("ordinal")
    )
    samples = list(qs.filter(kind="sample")[:TESTS_SHOWN])
    others = list(qs.exclude(kind="sample")[:TESTS_SHOWN])
    counts = dict(TestCase.objects.filter(problem=problem).values_list("kind").annotate(n=Count("id")))
    for t in samples + others:
        t.truncated = t.size_bytes > len(t.input_head.encode()) + len(t.output_head.encode())
    return {"samples": samples, "others": others, "counts": counts, "total": sum(counts.values()), "shown": TESTS_SHOWN}


def problem_training_tests(problem: Problem) -> list[tuple[int, str, str]]:
    """(test id, input, expected) of the tests a problem is judged on, in order."""
    return list(problem.tests.filter(is_training=True).order_by("ordinal").values_list("pk", "input", "output"))


def problem_judge_spec(problem: Problem, tests=None) -> JudgeSpec:
    """How `problem` is judged: the one spec that verification, pass-rate measurement and
    snapshots (hence exports, the RL reward and evaluation) all use. `tests` are (input, expected)
    pairs when the caller already holds them, else the training tests are read. Raises
    JudgeSpecError naming the field when the stored facts cannot make a spec."""
    if tests is None:
        tests = [(i, o) for _pk, i, o in problem_training_tests(problem)]
    extra = problem.extra or {}
    return JudgeSpec.from_fields(
        io_format=problem.io_format, comparison=problem.comparison, time_limit_ms=problem.time_limit_ms,
        memory_limit_mb=problem.memory_limit_mb, tests=tests, function_name=problem.function_name,
        # The source's own call expression (LeetCodeDataset: `Solution().twoSum`) and the code
        # it runs first (its `prompt`: imports and helper classes such as ListNode).
        entry_point=extra.get("entry_point") or None, prelude=extra.get("prompt"),
    )


def problem_solutions(problem: Problem) -> list[ReferenceSolution]:
    return list(ReferenceSolution.objects.filter(problem=problem).order_by("ordinal")[:10])


FAILING_SHOWN = 20


def problem_verification(problem: Problem) -> dict:
    run = VerificationRun.objects.filter(problem=problem).order_by("-created_at").first()
    if run is None:
        return {"run": None, "rows": [], "solutions": []}
    verdicts = list(
        run.verdicts.select_related("test", "solution").only(
            "verdict", "time_ms", "memory_kb", "diff", "test__ordinal", "test__kind", "solution__ordinal", "solution__language"
        )[:2000]
    )
    solutions = sorted({v.solution.ordinal for v in verdicts if v.solution_id is not None})
    rows: dict = {}
    for v in verdicts:
        key = v.test.ordinal if v.test_id else None
        row = rows.setdefault(key, {"test": v.test, "cells": {}})
        row["cells"][v.solution.ordinal if v.solution_id else None] = v
    table = [
        {"test": r["test"], "cells": [r["cells"].get(s) for s in solutions]}
        for _, r in sorted(rows.items(), key=lambda kv: (kv[0] is None, kv[0] or 0))
    ]
    # Failing verdicts with what the judge recorded (stderr, first difference), for reading in full.
    failing = [v for v in verdicts if v.verdict != "AC"][:FAILING_SHOWN]
    return {"run": run, "rows": table, "solutions": solutions, "failing": failing}


def problem_predictions(problem: Problem) -> list[dict]:
    out = []
    for p in Prediction.objects.filter(problem=problem).order_by("-created_at")[:5]:
        out.append(
            {
                "prediction": p,
                "dimensions": [
                    {"name": dim, "score": getattr(p, f"score_{dim}"), "reason": (p.reasons or {}).get(dim, "")}
                    for dim in DIMENSIONS
                ],
            }
        )
    return out


def problem_duplicates(problem: Problem, limit: int = 20) -> list[Problem]:
    if not problem.duplicate_cluster_id:
        return []
    return list(
        Problem.objects.filter(duplicate_cluster_id=problem.duplicate_cluster_id)
        .exclude(pk=problem.pk)
        .select_related("source")
        .only("id", "title", "external_id", "source__name", "is_duplicate")[:limit]
    )


def problem_contamination(problem: Problem) -> list[ContaminationMatch]:
    return list(
        ContaminationMatch.objects.filter(problem=problem)
        .select_related("benchmark_problem", "benchmark_problem__source")
        .order_by("-score")[:50]
    )


BLIND_ACTIONS = ("review_submit", "review_undo")


def _blind(problem: Problem, user) -> bool:
    """Whether others' review details are hidden from this user (see reviews_visible_q)."""
    if user is None or problem.review_status in SETTLED_STATUSES:
        return False
    from curation.roles import user_has_role

    return not (problem.review_status == ReviewStatus.NEEDS_ADJUDICATION and user_has_role(user, "adjudicator"))


def problem_history(problem: Problem, user=None) -> list[dict]:
    """AuditEvent rows about the problem and the content revisions, newest first, as one timeline.
    With `user`, others' review events keep only their time while the review is blind."""
    blind = _blind(problem, user)
    items = []
    for e in AuditEvent.objects.filter(target_type="Problem", target_id=str(problem.pk)).select_related("actor")[:200]:
        if blind and e.action in BLIND_ACTIONS and e.actor_id != user.pk:
            items.append({"at": e.created_at, "kind": "event", "action": "review (hidden until settled)", "actor": None, "before": {}, "after": {}})
            continue
        items.append({"at": e.created_at, "kind": "event", "action": e.action, "actor": e.actor, "before": e.before, "after": e.after})
    items += [
        {"at": r.replaced_at, "kind": "revision", "action": "content replaced by import", "actor": None,
         "before": {"content_hash": r.content_hash}, "after": {"import_run": r.import_run_id}}
        for r in ProblemRevision.objects.filter(problem=problem)[:100]
    ]
    return sorted(items, key=lambda i: i["at"], reverse=True)


def problem_reviews(problem: Problem) -> list[Review]:
    return list(Review.objects.filter(problem=problem).select_related("reviewer").order_by("created_at"))


SETTLED_STATUSES = (ReviewStatus.ACCEPTED, ReviewStatus.REJECTED)


def reviews_visible_q(user) -> Q:
    """Blind double review: a reviewer sees others' reviews only once the problem is settled;
    adjudicators see them while they adjudicate. One's own reviews are always visible."""
    from curation.roles import user_has_role

    q = Q(problem__review_status__in=SETTLED_STATUSES) | Q(reviewer_id=getattr(user, "pk", None))
    if user_has_role(user, "adjudicator"):
        q |= Q(problem__review_status=ReviewStatus.NEEDS_ADJUDICATION)
    return q


def problem_reviews_visible(problem: Problem, user) -> tuple[list[Review], int]:
    """(the reviews this user may see, how many are hidden until the problem is settled)."""
    reviews = problem_reviews(problem)
    visible_ids = set(Review.objects.filter(problem=problem).filter(reviews_visible_q(user)).values_list("pk", flat=True))
    visible = [r for r in reviews if r.pk in visible_ids]
    return visible, len(reviews) - len(visible)


def review_side_by_side(problem: Problem, reviews: list[Review], prediction: dict | None) -> dict:
    """Adjudication: each curator's decision and per-dimension scores next to the model's, one
    column each. A dimension a curator did not change kept the value shown as 'kept'."""
    columns = [
        {
            "label": r.reviewer.username,
            "kind": "curator",
            "decision": r.decision,
            "reason": r.reason,
            "comment": r.comment,
            "scores": [r.adjusted_scores.get(dim) for dim in DIMENSIONS],
        }
        for r in reviews
        if not r.is_adjudication
    ]
    if prediction is not None:
        p = prediction["prediction"]
        columns.append({
            "label": f"model · {p.predictor} {p.model}".strip(),
            "kind": "model",
            "decision": "",
            "reason": "",
            "comment": "",
            "scores": [d["score"] for d in prediction["dimensions"]],
            "weighted": p.weighted_score,
        })
    rows = [
        {"dimension": dim, "cells": [c["scores"][i] for c in columns]} for i, dim in enumerate(DIMENSIONS)
    ]
    return {"columns": columns, "rows": rows}


def review_last_decision(user, *, adjudication: bool = False) -> Review | None:
    return (
        Review.objects.filter(reviewer=user, is_adjudication=adjudication)
        .select_related("problem")
        .only("id", "decision", "problem_version", "created_at", "problem__id", "problem__title", "problem__version")
        .order_by("-created_at", "-pk")
        .first()
    )


def problem_lease(problem: Problem) -> ReviewLease | None:
    return ReviewLease.objects.filter(problem=problem, expires_at__gt=timezone.now()).select_related("user").first()


# --- Review queue ------------------------------------------------------------------------


def review_lease_current(user, *, adjudication: bool = False) -> ReviewLease | None:
    """The live lease this user holds in the given queue, if any."""
    statuses = [ReviewStatus.NEEDS_ADJUDICATION] if adjudication else [ReviewStatus.UNREVIEWED, ReviewStatus.IN_REVIEW]
    return (
        ReviewLease.objects.filter(user=user, expires_at__gt=timezone.now(), problem__review_status__in=statuses)
        .select_related("problem", "problem__source")
        .order_by("expires_at")
        .first()
    )


def review_queue_counts() -> dict:
    rows = dict(
        Problem.objects.order_by()
        .filter(review_status__in=[ReviewStatus.UNREVIEWED, ReviewStatus.IN_REVIEW, ReviewStatus.NEEDS_ADJUDICATION])
        .values_list("review_status")
        # COUNT(*), not COUNT(id): the review_status index alone answers it (an index-only scan,
        # ~10 ms at 100k problems, against a ~120 ms table scan for COUNT(id)).
        .annotate(n=Count("*"))
    )
    return {
        "to_review": rows.get(ReviewStatus.UNREVIEWED, 0) + rows.get(ReviewStatus.IN_REVIEW, 0),
        "to_adjudicate": rows.get(ReviewStatus.NEEDS_ADJUDICATION, 0),
        "leased": ReviewLease.objects.filter(expires_at__gt=timezone.now()).count(),
    }


# --- Jobs and dashboard --------------------------------------------------------------------


def stage_run_get(run_id: int) -> StageRun:
    return StageRun.objects.select_related("created_by").get(pk=run_id)


def import_run_get(run_id: int) -> ImportRun:
    return ImportRun.objects.select_related("source", "created_by").get(pk=run_id)


def stage_runs_recent(*, stage: str, limit: int = 20) -> list[StageRun]:
    return list(StageRun.objects.filter(stage=stage).select_related("created_by").order_by("-created_at")[:limit])


def jobs_recent(limit: int = 10) -> dict:
    unfinished = [RunStatus.PENDING, RunStatus.RUNNING]
    stage_runs = list(StageRun.objects.select_related("created_by").order_by("-created_at")[:limit])
    import_runs = list(ImportRun.objects.select_related("source", "created_by").order_by("-created_at")[:limit])
    running = any(r.status in unfinished for r in stage_runs + import_runs)
    return {"stage_runs": stage_runs, "import_runs": import_runs, "any_running": running}


def _grouped(field: str) -> dict:
    return dict(Problem.objects.order_by().values_list(field).annotate(n=Count("id")))


def dashboard_stats(*, selection_id: int | None = None) -> dict:
    """Aggregates over indexed columns only; cached briefly so a busy dashboard costs one scan."""
    key = f"curation:dashboard:{selection_id or 0}"
    cached = cache.get(key)
    if cached is not None:
        return cached
    total = Problem.objects.count()
    stats: dict = {
        "total": total,
        "process": _grouped("process_status"),
        "verification": _grouped("verification_status"),
        "review": _grouped("review_status"),
        "bucket": _grouped("bucket"),
        "predicted": Problem.objects.filter(weighted_score__isnull=False).count(),
        "calibrated": Problem.objects.filter(calibrated_pass_rate__isnull=False).count(),
        "duplicates": Problem.objects.filter(is_duplicate=True).count(),
        "contaminated": Problem.objects.filter(is_contaminated=True).count(),
    }
    stats["sources"] = list(
        Problem.objects.order_by().values("source__name").annotate(n=Count("id")).order_by("-n")[:20]
    )
    stats["platforms"] = [
        {"platform": k or "—", "n": v} for k, v in sorted(_grouped("platform").items(), key=lambda kv: -kv[1])[:20]
    ]
    stats["timeline"] = [
        {"month": row["month"].strftime("%Y-%m"), "n": row["n"]}
        for row in Problem.objects.filter(contest_date__isnull=False)
        .annotate(month=TruncMonth("contest_date"))
        .order_by()
        .values("month")
        .annotate(n=Count("id"))
        .order_by("month")
    ]
    # Difficulty before and after selection: bucket shares among all bucketed problems vs the selection.
    selection = (
        Selection.objects.filter(pk=selection_id).first() if selection_id else Selection.objects.order_by("-created_at").first()
    )
    before = {b: stats["bucket"].get(b, 0) for b in ("easy", "medium", "hard")}
    after = {b: 0 for b in before}
    if selection is not None:
        for bucket, n in selection.problems.order_by().values_list("bucket").annotate(n=Count("id")):
            if bucket in after:
                after[bucket] = n
    stats["selection"] = {"id": selection.pk, "name": selection.name} if selection else None
    stats["buckets_before"] = _shares(before)
    stats["buckets_after"] = _shares(after)
    stats["calibration"] = calibration_points()
    cache.set(key, stats, 15)
    return stats


JUDGE_MODE_CACHE_KEY = "curation:judge-mode-now"
JUDGE_MODE_CACHE_S = 600


def judge_mode_now() -> dict:
    """How the judge would limit a solution now ({isolation, resource_limits, seccomp}, plus
    `error` where it would refuse to run), probed in this process and cached for ten minutes:
    bubblewrap's probe and the seccomp check start a process each the first time. Also `last`:
    the judge mode of the latest run that judged anything (workers may see another machine
    than the web server), with its run's id."""
    from curation.judge import mode as judge_modes
    from curation.services.verification import sandbox_config  # the configuration the judges use

    now = cache.get(JUDGE_MODE_CACHE_KEY)
    if now is None:
        try:
            now = judge_modes.probe(sandbox_config())
        except Exception as exc:  # noqa: BLE001 — a page must render even when the probe breaks
            now = {"error": f"{type(exc).__name__}: {exc}"}
        cache.set(JUDGE_MODE_CACHE_KEY, now, JUDGE_MODE_CACHE_S)
    last = (StageRun.objects.filter(stage__in=("verify", "measure")).exclude(judge_mode={})
            .order_by("-created_at").values("pk", "stage", "judge_mode").first())
    return {"now": now, "last": last}


def _shares(counts: dict) -> dict:
    total = sum(counts.values())
    return {"counts": counts, "shares": {k: (v / total if total else 0.0) for k, v in counts.items()}, "total": total}


def calibration_points(limit: int = 2000) -> dict:
    points = [
        {"x": ws, "y": passes / samples}
        for ws, passes, samples in PassRateMeasurement.objects.filter(problem__weighted_score__isnull=False, samples__gt=0)
        .order_by("-created_at")
        .values_list("problem__weighted_score", "passes", "samples")[:limit]
    ]
    calibration = Calibration.objects.filter(is_active=True).order_by("-created_at").first() or Calibration.objects.order_by(
        "-created_at"
    ).first()
    curve = []
    if calibration is not None:
        fitted = calibration.fitted or {}
        xs, ys = _calibration_curve_xy(fitted)
        if isinstance(xs, list) and isinstance(ys, list) and len(xs) == len(ys):
            try:
                curve = [{"x": float(x), "y": float(y)} for x, y in zip(xs, ys)]
            except (TypeError, ValueError):
                curve = []
    return {
        "points": points,
        "curve": curve,
        "version": calibration.version if calibration else None,
        "rho": calibration.spearman_rho if calibration else None,
    }


def _calibration_curve_xy(fitted: dict) -> tuple:
    """The fitted map as (scores, pass rates) to draw: a stored isotonic fit's own steps
    (`x_thresholds`/`y_thresholds`, as `calibrate` writes them), a logistic fit sampled over the
    rubric's 1-10 range, or plain `x`/`y` lists."""
    if "x" in fitted or "y" in fitted:
        return fitted.get("x"), fitted.get("y")
    if fitted.get("method") == "isotonic":
        return fitted.get("x_thresholds"), fitted.get("y_thresholds")
    if fitted.get("method") == "logistic":
        from curation.difficulty.calibration import Calibration as FittedCalibration

        try:
            xs = [1 + i * 0.25 for i in range(37)]
            return xs, FittedCalibration.from_dict(fitted).predict_many(xs)
        except (TypeError, ValueError, KeyError):
            return None, None
    return None, None


def has_filters(params: QueryDict) -> bool:
    return bool(filter_query_string(params))


def problem_checker_candidates(problem, limit: int = 20):
    """Checker candidates of a problem, newest first (approved one included)."""
    from curation.models import CheckerCandidate

    return list(CheckerCandidate.objects.filter(problem=problem).select_related("created_by", "decided_by")[:limit])
