"""The domain tables. Filterable facts are typed, indexed columns — not keys inside JSON."""
from __future__ import annotations

import re

from django.conf import settings
from django.db import models
from django.utils import timezone

from curation import vocabulary as vocab
from curation.errors import ConflictError


class RunStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    PARTIAL = "partial", "Succeeded with errors"
    FAILED = "failed", "Failed"


class RunRow(models.Model):
    """Long work is a row: status, counts and progress that the UI polls and the API reports.

    Shared by curation's runs (imports, stages, exports) and training runs. A subclass says
    with `emits_run_finished` whether `run_finish` announces it as the `run.finished` webhook
    (exports announce `export.finished`, training runs `training_run.finished`, themselves).
    """

    emits_run_finished = False
    # Statuses after which nothing changes any more; a subclass with its own states overrides it.
    finished_statuses: tuple[str, ...] = ("succeeded", "partial", "failed")

    status = models.CharField(max_length=16, choices=RunStatus.choices, default=RunStatus.PENDING, db_index=True)
    total = models.PositiveIntegerField(null=True, blank=True)
    done = models.PositiveIntegerField(default=0)
    message = models.TextField(blank=True)
    errors = models.JSONField(default=list, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True

    @property
    def progress(self) -> float:
        if self.status in (RunStatus.SUCCEEDED, RunStatus.PARTIAL):
            return 1.0
        if not self.total:
            return 0.0
        return min(1.0, self.done / self.total)

    @property
    def is_finished(self) -> bool:
        return self.status in self.finished_statuses


# --- Collection --------------------------------------------------------------------------


class Source(models.Model):
    name = models.CharField(max_length=100, unique=True)
    url = models.URLField(blank=True)
    license = models.CharField(max_length=100, blank=True)
    description = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.name


class ImportRun(RunRow):
    emits_run_finished = True

    source = models.ForeignKey(Source, on_delete=models.PROTECT, related_name="import_runs")
    file_path = models.CharField(max_length=1000)
    format = models.CharField(max_length=40)
    created_count = models.PositiveIntegerField(default=0)
    updated_count = models.PositiveIntegerField(default=0)
    unchanged_count = models.PositiveIntegerField(default=0)
    failed_count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"ImportRun #{self.pk} {self.format} {self.file_path}"

    # What viewers see: the file's name, not where it lies on the server (the upload folder, the
    # project's path, the user's home). Operators keep the full path in the admin and the CLI.
    @property
    def file_name(self) -> str:
        return self.file_path.replace("\\", "/").rsplit("/", 1)[-1]

    def _without_server_paths(self, text) -> str:
        text = str(text or "")
        folder = self.file_path.replace("\\", "/").rsplit("/", 1)[0] + "/" if "/" in self.file_path else ""
        roots = {folder, str(settings.BASE_DIR) + "/", str(getattr(settings, "VAR_DIR", "")) + "/"}
        for root in sorted((r for r in roots if len(r) > 1), key=len, reverse=True):
            text = text.replace(root, "")
        return re.sub(r"(?<![\w.])/(?:[\w.@+-]+/)+", "", text)  # any other absolute folder

    def public_errors(self) -> list[dict]:
        return [
            {**e, "file": self._without_server_paths(e.get("file")), "message": self._without_server_paths(e.get("message"))}
            if isinstance(e, dict) else e
            for e in (self.errors or [])
        ]

    @property
    def public_message(self) -> str:
        return self._without_server_paths(self.message)

    def summary(self) -> dict:
        return {
            "id": self.pk,
            "status": self.status,
            "source": self.source.name,
            "format": self.format,
            "file": self.file_path,
            "created": self.created_count,
            "updated": self.updated_count,
            "unchanged": self.unchanged_count,
            "failed": self.failed_count,
            "errors": self.errors,
        }


class IoFormat(models.TextChoices):
    STDIN = vocab.IO_STDIN, vocab.IO_FORMAT_LABELS[vocab.IO_STDIN]
    FUNCTIONAL = vocab.IO_FUNCTIONAL, vocab.IO_FORMAT_LABELS[vocab.IO_FUNCTIONAL]


class ProcessStatus(models.TextChoices):
    PENDING = "pending", "Not processed"
    OK = "ok", "Processed"
    INCOMPLETE = "incomplete", "Incomplete statement"
    FAILED = "failed", "Processing failed"


class VerificationStatus(models.TextChoices):
    UNVERIFIED = "unverified", "Not verified"
    VERIFIED = "verified", "Verified"
    TESTS_INCONSISTENT = "tests_inconsistent", "Tests inconsistent"
    NEEDS_CHECKER = "needs_checker", "Needs checker"
    NO_REFERENCE = "no_reference", "No reference solution"
    REFERENCE_TOO_SLOW = "reference_too_slow", "Reference too slow"
    ERROR = "error", "Verification error"


class Bucket(models.TextChoices):
    EASY = "easy", "Easy"
    MEDIUM = "medium", "Medium"
    HARD = "hard", "Hard"


class ReviewStatus(models.TextChoices):
    UNREVIEWED = "unreviewed", "Not reviewed"
    IN_REVIEW = "in_review", "In review"
    ACCEPTED = "accepted", "Accepted"
    REJECTED = "rejected", "Rejected"
    NEEDS_ADJUDICATION = "needs_adjudication", "Needs adjudication"


DIMENSIONS = vocab.DIMENSIONS


class Problem(models.Model):
    source = models.ForeignKey(Source, on_delete=models.PROTECT, related_name="problems")
    external_id = models.CharField(max_length=255)
    platform = models.CharField(max_length=40, blank=True, db_index=True)
    contest_id = models.CharField(max_length=64, blank=True)
    problem_index = models.CharField(max_length=64, blank=True)
    contest_date = models.DateField(null=True, blank=True, db_index=True)
    url = models.URLField(max_length=500, blank=True)
    title = models.CharField(max_length=500, db_index=True)
    statement = models.TextField(help_text="Markdown with LaTeX; sanitized when rendered")
    statement_original = models.TextField(blank=True, help_text="As imported, before processing")
    io_format = models.CharField(max_length=16, choices=IoFormat.choices, default=IoFormat.STDIN, db_index=True)
    starter_code = models.TextField(blank=True)
    function_name = models.CharField(max_length=200, blank=True)
    signature = models.CharField(max_length=1000, blank=True)
    format_instruction = models.TextField(blank=True)
    time_limit_ms = models.PositiveIntegerField(null=True, blank=True)
    memory_limit_mb = models.PositiveIntegerField(null=True, blank=True)
    tags = models.JSONField(default=list, blank=True)
    difficulty_label = models.CharField(max_length=32, blank=True, db_index=True)
    difficulty_rating = models.IntegerField(null=True, blank=True)
    comparison = models.JSONField(default=dict, blank=True, help_text='e.g. {"mode": "tokens"}')
    flags = models.JSONField(default=list, blank=True)
    extra = models.JSONField(default=dict, blank=True)
    # Not indexed: nothing looks a problem up by hash, and random keys make every insert of a big
    # import touch a random index page.
    content_hash = models.CharField(max_length=64)
    raw_hash = models.CharField(max_length=64, blank=True)
    import_run = models.ForeignKey(ImportRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    # Stage status, each a typed column so the list page can filter on it.
    process_status = models.CharField(
        max_length=16, choices=ProcessStatus.choices, default=ProcessStatus.PENDING, db_index=True
    )
    process_reasons = models.JSONField(default=list, blank=True)
    # The last failure of each stage on this problem ({stage: {"message", "run"}}), so one bad
    # problem is visible on itself while its run goes on; cleared when the stage next succeeds.
    stage_errors = models.JSONField(default=dict, blank=True)
    normalized_hash = models.CharField(max_length=64, blank=True)
    verification_status = models.CharField(
        max_length=24, choices=VerificationStatus.choices, default=VerificationStatus.UNVERIFIED, db_index=True
    )
    duplicate_cluster = models.ForeignKey(
        "DuplicateCluster", null=True, blank=True, on_delete=models.SET_NULL, related_name="members"
    )
    is_duplicate = models.BooleanField(default=False, db_index=True, help_text="In a cluster and not its canonical member")
    is_benchmark = models.BooleanField(default=False, db_index=True)
    benchmark_name = models.CharField(max_length=100, blank=True)
    is_contaminated = models.BooleanField(default=False, db_index=True)

    # Current difficulty (copied from the latest prediction, adjusted by reviews).
    score_algorithmic_thinking = models.FloatField(null=True, blank=True, db_index=True)
    score_implementation = models.FloatField(null=True, blank=True, db_index=True)
    score_mathematics = models.FloatField(null=True, blank=True, db_index=True)
    score_data_structures = models.FloatField(null=True, blank=True, db_index=True)
    score_edge_cases = models.FloatField(null=True, blank=True, db_index=True)
    weighted_score = models.FloatField(null=True, blank=True, db_index=True)
    calibrated_pass_rate = models.FloatField(null=True, blank=True, db_index=True)
    bucket = models.CharField(max_length=8, choices=Bucket.choices, blank=True, db_index=True)

    review_status = models.CharField(
        max_length=24, choices=ReviewStatus.choices, default=ReviewStatus.UNREVIEWED, db_index=True
    )
    # Optimistic concurrency: every write bumps it; an edit based on an older version is refused.
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["source", "external_id"], name="problem_unique_source_external_id"),
        ]
        indexes = [models.Index(fields=["platform", "contest_id", "problem_index"])]
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.source_id}:{self.external_id} {self.title}"

    def scores(self) -> dict[str, float | None]:
        return {dim: getattr(self, f"score_{dim}") for dim in DIMENSIONS}


class ProblemRevision(models.Model):
    """The content a problem had before an import changed it: provenance survives updates."""

    problem = models.ForeignKey(Problem, on_delete=models.CASCADE, related_name="revisions")
    content_hash = models.CharField(max_length=64)
    raw_hash = models.CharField(max_length=64, blank=True)
    import_run = models.ForeignKey(ImportRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    replaced_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-replaced_at"]


class TestKind(models.TextChoices):
    SAMPLE = vocab.TEST_SAMPLE, "Sample"
    HIDDEN = vocab.TEST_HIDDEN, "Hidden"
    GENERATED = vocab.TEST_GENERATED, "Generated"


class TestCase(models.Model):
    __test__ = False  # not a pytest class

    # No index of its own on `problem` or `kind`: the unique (problem, ordinal) index serves every
    # lookup by problem, and a table of millions of tests should not maintain indexes nobody uses.
    problem = models.ForeignKey(Problem, on_delete=models.CASCADE, related_name="tests", db_index=False)
    ordinal = models.PositiveIntegerField()
    input = models.TextField(blank=True)
    output = models.TextField(blank=True)
    kind = models.CharField(max_length=12, choices=TestKind.choices, default=TestKind.HIDDEN)
    # Test group of a scored problem (Kattis `data/secret/<group>/`, subtasks); "" when none.
    group = models.CharField(max_length=100, blank=True, default="")
    size_bytes = models.PositiveIntegerField(default=0)
    # Chosen for training and verification by the test-hygiene step (cap per problem).
    is_training = models.BooleanField(default=True)
    flags = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["problem_id", "ordinal"]
        constraints = [models.UniqueConstraint(fields=["problem", "ordinal"], name="testcase_unique_ordinal")]


class ReferenceSolution(models.Model):
    problem = models.ForeignKey(Problem, on_delete=models.CASCADE, related_name="solutions")
    ordinal = models.PositiveIntegerField(default=0)
    language = models.CharField(max_length=16, default="python3")
    code = models.TextField()
    is_correct = models.BooleanField(default=True)

    class Meta:
        ordering = ["problem_id", "ordinal"]


# --- Processing -------------------------------------------------------------------------


class StageRun(RunRow):
    """One run of a pipeline stage (process, verify, predict, measure, calibrate, select, bulk)."""

    emits_run_finished = True

    stage = models.CharField(max_length=32, db_index=True)
    step = models.CharField(max_length=64, blank=True)
    params = models.JSONField(default=dict, blank=True)
    counts = models.JSONField(default=dict, blank=True)
    prompt_tokens = models.PositiveBigIntegerField(default=0)
    completion_tokens = models.PositiveBigIntegerField(default=0)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.stage} run #{self.pk} ({self.status})"

    @property
    def failed_count(self) -> int:
        """Problems the run went on without: counts["failed"], or the sum over a process run's steps."""
        counts = self.counts if isinstance(self.counts, dict) else {}
        total = counts.get("failed", 0) if isinstance(counts.get("failed"), int) else 0
        return total + sum(v.get("failed", 0) for v in counts.values() if isinstance(v, dict) and isinstance(v.get("failed"), int))


class DuplicateMethod(models.TextChoices):
    EXACT = "exact", "Exact (normalised text)"
    NEAR = "near", "Near (MinHash, verified Jaccard)"


class DuplicateCluster(models.Model):
    method = models.CharField(max_length=16, choices=DuplicateMethod.choices)
    canonical = models.ForeignKey(Problem, null=True, on_delete=models.SET_NULL, related_name="+")
    size = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)


class ContaminationMethod(models.TextChoices):
    # The values curation.process.decontam writes (its METHOD_* constants).
    EXACT = "exact_hash", "Exact duplicate"
    SAME_ID = "same_id", "Same platform and id"
    NEAR = "near_duplicate", "Near duplicate"
    NGRAM = "ngram_overlap", "13-gram overlap"
    TITLE = "title", "Same title"
    SLUG = "slug", "Same slug"


class MatchStatus(models.TextChoices):
    PENDING = "pending", "To confirm"
    CONFIRMED = "confirmed", "Confirmed"
    DISMISSED = "dismissed", "Dismissed"


class ContaminationMatch(models.Model):
    problem = models.ForeignKey(Problem, on_delete=models.CASCADE, related_name="contamination_matches")
    benchmark_problem = models.ForeignKey(Problem, on_delete=models.CASCADE, related_name="+")
    method = models.CharField(max_length=24, choices=ContaminationMethod.choices)
    score = models.FloatField(default=1.0)
    status = models.CharField(max_length=12, choices=MatchStatus.choices, default=MatchStatus.PENDING)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["problem", "benchmark_problem", "method"], name="contamination_unique_match"
            )
        ]


# --- Verification -----------------------------------------------------------------------


class VerificationRun(models.Model):
    problem = models.ForeignKey(Problem, on_delete=models.CASCADE, related_name="verification_runs")
    stage_run = models.ForeignKey(StageRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    outcome = models.CharField(max_length=24, choices=VerificationStatus.choices)
    detail = models.TextField(blank=True)
    inconsistent_tests = models.JSONField(default=list, blank=True)
    isolation = models.CharField(max_length=24, blank=True)
    max_reference_ms = models.FloatField(null=True, blank=True)
    derived_time_limit_ms = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]


class Verdict(models.Model):
    verification_run = models.ForeignKey(VerificationRun, on_delete=models.CASCADE, related_name="verdicts")
    solution = models.ForeignKey(ReferenceSolution, null=True, on_delete=models.SET_NULL, related_name="+")
    test = models.ForeignKey(TestCase, null=True, on_delete=models.SET_NULL, related_name="verdicts")
    verdict = models.CharField(max_length=4, db_index=True)
    time_ms = models.FloatField(null=True, blank=True)
    memory_kb = models.PositiveIntegerField(null=True, blank=True)
    diff = models.TextField(blank=True)


class CheckerOrigin(models.TextChoices):
    LLM = "llm", "synthesised by an LLM"
    CURATOR = "curator", "written or edited by a curator"


class CheckerStatus(models.TextChoices):
    VALID = "valid", "passed the sandbox validation"
    REJECTED = "rejected", "failed the sandbox validation"
    APPROVED = "approved", "approved: the problem's comparison rule"
    SUPERSEDED = "superseded", "replaced by a later approval"


class CheckerCandidate(models.Model):
    """A checker program proposed for a problem that accepts many answers, with the outcome of its
    sandbox validation (accepts every valid answer, rejects mutated ones). Approving one makes it
    the problem's comparison rule and re-runs verification."""

    problem = models.ForeignKey(Problem, on_delete=models.CASCADE, related_name="checker_candidates")
    source = models.TextField()
    origin = models.CharField(max_length=16, choices=CheckerOrigin.choices)
    status = models.CharField(max_length=16, choices=CheckerStatus.choices, db_index=True)
    reason = models.TextField(blank=True)
    validation = models.JSONField(default=dict, blank=True)
    model = models.CharField(max_length=200, blank=True)
    prompt_version = models.CharField(max_length=32, blank=True)
    stage_run = models.ForeignKey(StageRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]


# --- Difficulty -------------------------------------------------------------------------


class DifficultyRubric(models.Model):
    version = models.CharField(max_length=32, unique=True)
    dimensions = models.JSONField(default=dict)
    weights = models.JSONField(default=dict)
    prompt_version = models.CharField(max_length=32, default="v1")
    is_active = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"rubric {self.version}"


class PredictorKind(models.TextChoices):
    LLM = "llm", "LLM endpoint"
    FEATURES = "features", "Features model"


class DifficultyModel(models.Model):
    """A trained offline predictor (the `features` model), stored as JSON coefficients — no pickle."""

    version = models.CharField(max_length=64, unique=True)
    kind = models.CharField(max_length=16, choices=PredictorKind.choices, default=PredictorKind.FEATURES)
    params = models.JSONField()
    cv_accuracy = models.FloatField(null=True, blank=True)
    cv_accuracy_std = models.FloatField(null=True, blank=True)
    n_train = models.PositiveIntegerField(default=0)
    label_counts = models.JSONField(default=dict, blank=True)
    is_active = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.kind} model {self.version}"


class PredictionStatus(models.TextChoices):
    OK = "ok", "OK"
    FAILED = "failed", "Failed"


class Prediction(models.Model):
    problem = models.ForeignKey(Problem, on_delete=models.CASCADE, related_name="predictions")
    rubric = models.ForeignKey(DifficultyRubric, on_delete=models.PROTECT, related_name="predictions")
    stage_run = models.ForeignKey(StageRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    predictor = models.CharField(max_length=16, choices=PredictorKind.choices)
    model = models.CharField(max_length=200)
    prompt_version = models.CharField(max_length=32, blank=True)
    content_hash = models.CharField(max_length=64)
    status = models.CharField(max_length=8, choices=PredictionStatus.choices, default=PredictionStatus.OK)
    score_algorithmic_thinking = models.FloatField(null=True, blank=True)
    score_implementation = models.FloatField(null=True, blank=True)
    score_mathematics = models.FloatField(null=True, blank=True)
    score_data_structures = models.FloatField(null=True, blank=True)
    score_edge_cases = models.FloatField(null=True, blank=True)
    weighted_score = models.FloatField(null=True, blank=True)
    reasons = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    prompt_tokens = models.PositiveIntegerField(default=0)
    completion_tokens = models.PositiveIntegerField(default=0)
    attempts = models.PositiveSmallIntegerField(default=1)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["content_hash", "model", "prompt_version"])]


class PassRateOrigin(models.TextChoices):
    MEASURED = "measured", "Measured here"
    IMPORTED = "imported", "Imported graded results"


class PassRateMeasurement(models.Model):
    problem = models.ForeignKey(Problem, on_delete=models.CASCADE, related_name="pass_rates")
    stage_run = models.ForeignKey(StageRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    model = models.CharField(max_length=200)
    samples = models.PositiveIntegerField()
    passes = models.PositiveIntegerField()
    origin = models.CharField(max_length=16, choices=PassRateOrigin.choices, default=PassRateOrigin.MEASURED)
    created_at = models.DateTimeField(default=timezone.now)

    @property
    def pass_rate(self) -> float:
        return self.passes / self.samples if self.samples else 0.0


class CalibrationMethod(models.TextChoices):
    ISOTONIC = "isotonic", "Isotonic"
    LOGISTIC = "logistic", "Logistic"


class Calibration(models.Model):
    version = models.CharField(max_length=32, unique=True)
    rubric = models.ForeignKey(DifficultyRubric, on_delete=models.PROTECT, related_name="calibrations")
    method = models.CharField(max_length=16, choices=CalibrationMethod.choices, default=CalibrationMethod.ISOTONIC)
    fitted = models.JSONField(default=dict)
    weights = models.JSONField(default=dict)
    bucket_bounds = models.JSONField(default=dict)
    spearman_rho = models.FloatField(null=True, blank=True)
    reliability = models.JSONField(default=list, blank=True)
    n_points = models.PositiveIntegerField(default=0)
    is_active = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    # Saved from the calibration workbench: a curator's name for the version, the evidence set the
    # fit used (origins, human switch, rows), every metric the page showed, and who saved it.
    label = models.CharField(max_length=200, blank=True)
    evidence = models.JSONField(default=dict, blank=True)
    metrics = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")


class Selection(models.Model):
    name = models.CharField(max_length=200)
    calibration = models.ForeignKey(Calibration, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    policy = models.JSONField(default=dict)
    preview = models.JSONField(default=dict, blank=True)
    problems = models.ManyToManyField(Problem, related_name="selections", blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    # Workbench selections are versioned (1, 2, ...); the current one is what the next preview
    # compares against (problems entering and leaving).
    version = models.PositiveIntegerField(null=True, blank=True)
    is_current = models.BooleanField(default=False)
    stage_run = models.ForeignKey(StageRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    def __str__(self) -> str:
        return self.name


# --- Review -----------------------------------------------------------------------------


class ReviewDecision(models.TextChoices):
    ACCEPT = "accept", "Accept"
    REJECT = "reject", "Reject"


class Review(models.Model):
    problem = models.ForeignKey(Problem, on_delete=models.CASCADE, related_name="reviews")
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="reviews")
    decision = models.CharField(max_length=12, choices=ReviewDecision.choices)
    reason = models.TextField(blank=True)
    adjusted_scores = models.JSONField(default=dict, blank=True)
    comment = models.TextField(blank=True)
    is_adjudication = models.BooleanField(default=False)
    problem_version = models.PositiveIntegerField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]


class ReviewLease(models.Model):
    # One row per problem: the unique key itself forbids two curators holding the same problem.
    problem = models.OneToOneField(Problem, on_delete=models.CASCADE, related_name="lease")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="leases")
    expires_at = models.DateTimeField(db_index=True)


class AuditEvent(models.Model):
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    action = models.CharField(max_length=64, db_index=True)
    target_type = models.CharField(max_length=64)
    target_id = models.CharField(max_length=64, db_index=True)
    before = models.JSONField(default=dict, blank=True)
    after = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at"]


class SavedView(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_views")
    name = models.CharField(max_length=100)
    query = models.TextField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "name"], name="savedview_unique_name")]


# --- Snapshots, exports, webhooks ----------------------------------------------------------


class ImmutableError(ConflictError):
    """A snapshot, once made, never changes."""


class DatasetSnapshot(models.Model):
    """An immutable, versioned set of problem versions with a manifest and a content hash."""

    name = models.CharField(max_length=200, db_index=True)
    version = models.PositiveIntegerField()
    selection = models.ForeignKey(Selection, null=True, blank=True, on_delete=models.SET_NULL, related_name="snapshots")
    criteria = models.JSONField(default=dict, blank=True)
    manifest = models.JSONField(default=dict, blank=True)
    content_hash = models.CharField(max_length=64, db_index=True)
    problem_count = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["name", "version"], name="snapshot_unique_version")]

    def save(self, *args, **kwargs):
        if self.pk is not None and not kwargs.pop("_allow_update", False):
            raise ImmutableError(f"snapshot {self.pk} is immutable")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ImmutableError(f"snapshot {self.pk} is immutable")

    def __str__(self) -> str:
        return f"{self.name} v{self.version}"


class SnapshotItem(models.Model):
    """One frozen problem version: everything a training run needs, copied, not referenced."""

    snapshot = models.ForeignKey(DatasetSnapshot, on_delete=models.PROTECT, related_name="items")
    problem = models.ForeignKey(Problem, null=True, on_delete=models.SET_NULL, related_name="+")
    ordinal = models.PositiveIntegerField()
    problem_key = models.CharField(max_length=400, help_text="source:external_id, stable across re-imports")
    content_hash = models.CharField(max_length=64)
    data = models.JSONField()

    class Meta:
        ordering = ["snapshot_id", "ordinal"]
        constraints = [models.UniqueConstraint(fields=["snapshot", "ordinal"], name="snapshotitem_unique_ordinal")]

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ImmutableError(f"snapshot item {self.pk} is immutable")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ImmutableError(f"snapshot item {self.pk} is immutable")


def export_format_choices() -> list[tuple[str, str]]:
    """The registered writers (curation.exports): a new writer is a new choice, no migration."""
    from curation.exports import EXPORT_FORMATS

    return [(name, name) for name in EXPORT_FORMATS]


class Export(RunRow):
    snapshot = models.ForeignKey(DatasetSnapshot, on_delete=models.PROTECT, related_name="exports")
    format = models.CharField(max_length=24, choices=export_format_choices)
    options = models.JSONField(default=dict, blank=True)
    file = models.CharField(max_length=500, blank=True, help_text="path under MEDIA_ROOT")
    size_bytes = models.PositiveBigIntegerField(default=0)
    sha256 = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-created_at"]


class Webhook(models.Model):
    url = models.URLField(max_length=500)
    secret = models.CharField(max_length=200, help_text="Standard Webhooks secret (whsec_...)")
    events = models.JSONField(default=list, help_text="snapshot.created, export.finished, run.finished")
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.url


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    DELIVERED = "delivered", "Delivered"
    FAILED = "failed", "Failed"


class WebhookDelivery(models.Model):
    webhook = models.ForeignKey(Webhook, on_delete=models.CASCADE, related_name="deliveries")
    event = models.CharField(max_length=64)
    message_id = models.CharField(max_length=64)
    payload = models.JSONField()
    status = models.CharField(max_length=12, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
