"""Training runs: compute targets, recipes, runs and their attempts, metric points, checkpoints
and one event row per state change.

A run is a `RunRow` (status, progress, message, timestamps) with its own states; its progress is
the last logged step against the recipe's total steps. The state machine lives in one place,
`training_jobs.services.runs.training_run_transition`.
"""
from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from curation.models import DatasetSnapshot, Export, RunRow


class TargetKind(models.TextChoices):
    LOCAL = "local", "Local subprocess"
    RAY = "ray", "Ray cluster (Jobs API)"
    SLURM = "slurm", "Slurm"


class ComputeTarget(models.Model):
    """Where runs execute. Secrets are never stored: `token_env` names the environment variable
    of the web app / worker that holds the token (e.g. a Ray dashboard bearer token)."""

    name = models.CharField(max_length=100, unique=True)
    kind = models.CharField(max_length=12, choices=TargetKind.choices)
    address = models.CharField(max_length=500, blank=True, help_text="Ray: dashboard URL (http://host:8265)")
    options = models.JSONField(
        default=dict, blank=True,
        help_text="python, workdir, pythonpath, env, partition, cpus, time_limit_min …",
    )
    token_env = models.CharField(max_length=100, blank=True, help_text="name of the env variable holding the token")
    is_enabled = models.BooleanField(default=True)
    last_health = models.JSONField(default=dict, blank=True)
    last_health_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.kind})"


class Framework(models.TextChoices):
    VERL = "verl", "verl (main_ppo)"
    TRL = "trl", "TRL (GRPOTrainer)"


class Algorithm(models.TextChoices):
    GRPO = "grpo", "GRPO"
    DAPO = "dapo", "DAPO"
    DR_GRPO = "dr_grpo", "Dr. GRPO"


class Recipe(models.Model):
    """What to train: engine, algorithm, base model and validated hyper-parameters
    (`training_jobs.specs.params`)."""

    name = models.CharField(max_length=200)
    framework = models.CharField(max_length=8, choices=Framework.choices, default=Framework.VERL)
    algorithm = models.CharField(max_length=8, choices=Algorithm.choices, default=Algorithm.DAPO)
    base_model = models.CharField(max_length=500)
    params = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.framework}/{self.algorithm})"


class TrainingStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    QUEUED = "queued", "Queued"
    SUBMITTING = "submitting", "Submitting"
    PENDING = "pending", "Pending on the cluster"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"
    LOST = "lost", "Lost"


TERMINAL_STATUSES = (TrainingStatus.SUCCEEDED, TrainingStatus.FAILED, TrainingStatus.CANCELLED, TrainingStatus.LOST)
ACTIVE_STATUSES = (TrainingStatus.SUBMITTING, TrainingStatus.PENDING, TrainingStatus.RUNNING)


class TrainingRun(RunRow):
    """One training run of a recipe on a snapshot. `done`/`total` count optimizer steps."""

    emits_run_finished = False  # it has its own event, training_run.finished
    finished_statuses = tuple(str(s) for s in TERMINAL_STATUSES)

    status = models.CharField(max_length=16, choices=TrainingStatus.choices, default=TrainingStatus.DRAFT,
                              db_index=True)
    name = models.CharField(max_length=200)
    train_snapshot = models.ForeignKey(DatasetSnapshot, on_delete=models.PROTECT, related_name="training_runs")
    val_snapshot = models.ForeignKey(DatasetSnapshot, null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="validation_runs")
    recipe = models.ForeignKey(Recipe, on_delete=models.PROTECT, related_name="runs")
    target = models.ForeignKey(ComputeTarget, on_delete=models.PROTECT, related_name="runs")
    # The recipe as launched (framework, algorithm, base model, normalised params): recipes may
    # change later, a run must keep saying what it ran.
    config = models.JSONField(default=dict, blank=True)
    train_export = models.ForeignKey(Export, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    val_export = models.ForeignKey(Export, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    output_dir = models.CharField(max_length=1000, blank=True)
    cancel_requested = models.BooleanField(default=False)
    status_changed_at = models.DateTimeField(default=timezone.now)
    last_metric_at = models.DateTimeField(null=True, blank=True)
    # Scheduled evaluations: every checkpoint whose step is a multiple of `eval_every` is evaluated
    # on `eval_benchmark` (blank: every benchmark problem) with `eval_options` (n_samples,
    # temperature, top_p, max_tokens, concurrency, date_from, date_to), served by a job on `target`.
    eval_every = models.PositiveIntegerField(default=0, help_text="0: no scheduled evaluations")
    eval_benchmark = models.CharField(max_length=100, blank=True)
    eval_options = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"training run #{self.pk} {self.name} ({self.status})"

    @property
    def current_attempt(self):
        return self.attempts.order_by("-number").first()


class RunAttempt(models.Model):
    """One submission of a run to its backend. `key` is the idempotency key (Ray submission id,
    Slurm job name, local job folder): submitting the same attempt twice never launches twice."""

    run = models.ForeignKey(TrainingRun, on_delete=models.CASCADE, related_name="attempts")
    number = models.PositiveIntegerField()
    key = models.CharField(max_length=100, unique=True)
    external_id = models.CharField(max_length=200, blank=True)
    backend_status = models.CharField(max_length=32, blank=True)
    exit_code = models.IntegerField(null=True, blank=True)
    message = models.TextField(blank=True)
    job_dir = models.CharField(max_length=1000, blank=True)
    metrics_path = models.CharField(max_length=1000, blank=True)
    metrics_offset = models.PositiveBigIntegerField(default=0)
    metrics_inode = models.PositiveBigIntegerField(null=True, blank=True)
    log_offset = models.PositiveBigIntegerField(default=0)
    log_tail = models.TextField(blank=True)
    resume_from = models.CharField(max_length=1000, blank=True)
    command = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    submitted_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["run_id", "number"]
        constraints = [models.UniqueConstraint(fields=["run", "number"], name="runattempt_unique_number")]

    def __str__(self) -> str:
        return self.key


class MetricPoint(models.Model):
    run = models.ForeignKey(TrainingRun, on_delete=models.CASCADE, related_name="metric_points")
    attempt = models.ForeignKey(RunAttempt, on_delete=models.CASCADE, related_name="metric_points")
    key = models.CharField(max_length=200, help_text="canonical name (training_jobs.metrics.CANONICAL)")
    raw_key = models.CharField(max_length=200)
    step = models.IntegerField()
    value = models.FloatField()

    class Meta:
        ordering = ["run_id", "key", "step"]
        constraints = [
            models.UniqueConstraint(fields=["run", "attempt", "key", "step"], name="metricpoint_unique_step")
        ]
        indexes = [models.Index(fields=["run", "key", "step"], name="metricpoint_series")]


class Checkpoint(models.Model):
    run = models.ForeignKey(TrainingRun, on_delete=models.CASCADE, related_name="checkpoints")
    attempt = models.ForeignKey(RunAttempt, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    step = models.PositiveIntegerField()
    path = models.CharField(max_length=1000)
    size_bytes = models.PositiveBigIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["run_id", "step"]
        constraints = [models.UniqueConstraint(fields=["run", "step"], name="checkpoint_unique_step")]


class EventKind(models.TextChoices):
    STATUS = "status", "Status change"
    CANCEL_REQUEST = "cancel_request", "Cancel requested"
    RETRY = "retry", "Retry"
    SUBMIT_ERROR = "submit_error", "Submit error"
    BACKEND = "backend", "Backend message"


class TrainingEvent(models.Model):
    """One row per state change (and per cancel request, submit error, retry, lost job)."""

    run = models.ForeignKey(TrainingRun, on_delete=models.CASCADE, related_name="events")
    attempt = models.ForeignKey(RunAttempt, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    kind = models.CharField(max_length=24, choices=EventKind.choices)
    from_status = models.CharField(max_length=16, blank=True)
    to_status = models.CharField(max_length=16, blank=True)
    message = models.TextField(blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["run_id", "created_at", "id"]
