"""Evaluation runs: a model × a benchmark window → every sample kept with its verdicts → pass@k.

`EvalRun` is a run row like every other (status, progress); `EvalProblem` holds one problem's
counts and its breakdown groups as typed, indexed columns; `EvalSample` one answer, the code taken
from it and the judge's verdicts. Samples are keyed by `cache_key` (model, prompt, sample index,
sampling parameters), so a rerun — of this run or an identical one — resumes instead of paying
for the same answer twice.
"""
from __future__ import annotations

from django.db import models

from curation.models import Problem, RunRow


class EvalSource(models.TextChoices):
    GENERATED = "generated", "Generated here"
    IMPORTED = "imported", "Imported (lcb_runner graded output)"


class EvalRun(RunRow):
    name = models.CharField(max_length=200, blank=True)
    source = models.CharField(max_length=12, choices=EvalSource.choices, default=EvalSource.GENERATED, db_index=True)
    # The model: any OpenAI-compatible endpoint (vLLM, SGLang, `transformers serve`, a hosted API).
    base_url = models.CharField(max_length=500, blank=True)
    model_name = models.CharField(max_length=200, db_index=True)
    # The benchmark: problems marked as a benchmark, narrowed by contest date so it stays unseen.
    benchmark_name = models.CharField(max_length=100, blank=True, help_text="blank: every benchmark problem")
    date_from = models.DateField(null=True, blank=True)
    date_to = models.DateField(null=True, blank=True)
    # Sampling.
    n_samples = models.PositiveSmallIntegerField(default=1)
    temperature = models.FloatField(default=0.2)
    top_p = models.FloatField(default=0.95)
    max_tokens = models.PositiveIntegerField(default=2048)
    concurrency = models.PositiveSmallIntegerField(default=16)
    request_timeout_s = models.FloatField(default=120.0)
    prompts = models.JSONField(default=dict, blank=True, help_text="system + user template per io format")
    # A training run's checkpoint, when this evaluates one (served at base_url); its run's page
    # plots pass@1 by difficulty against the checkpoints' steps.
    checkpoint = models.ForeignKey("training_jobs.Checkpoint", null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="evaluations")
    # When the model *is* the checkpoint (no endpoint given), a serving job on the training run's
    # compute target runs `transformers serve` over it for the evaluation's lifetime; what the page
    # and the API show of that job lives here (the evaluation stays the one row with status).
    serve_checkpoint = models.BooleanField(default=False)
    scheduled = models.BooleanField(default=False, help_text="created by the training run's eval-every-N schedule")
    serve_key = models.CharField(max_length=100, blank=True, help_text="the serving job's idempotency key")
    serve_external_id = models.CharField(max_length=200, blank=True)
    serve_state = models.CharField(max_length=16, blank=True, help_text="pending/running/…/stopped, as last seen")
    serve_job_dir = models.CharField(max_length=1000, blank=True, help_text="log.txt and endpoint.json live here")
    serve_message = models.TextField(blank=True)
    serve_log_tail = models.TextField(blank=True)
    cancel_requested = models.BooleanField(default=False)
    # Results.
    problem_count = models.PositiveIntegerField(default=0)
    samples_correct = models.PositiveIntegerField(default=0)
    samples_failed = models.PositiveIntegerField(default=0, help_text="answers never received (endpoint errors)")
    prompt_tokens = models.PositiveBigIntegerField(default=0)
    completion_tokens = models.PositiveBigIntegerField(default=0)
    cached_samples = models.PositiveIntegerField(default=0)
    summary = models.JSONField(default=dict, blank=True, help_text="pass@k overall and by group, with intervals")
    judge_mode = models.JSONField(default=dict, blank=True,
                                  help_text="how the samples were judged: the weakest isolation, resource limits and seccomp seen")

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.name or f"{self.model_name} #{self.pk}"

    @property
    def label(self) -> str:
        return f"#{self.pk} {self.name or self.model_name}"


class EvalProblem(models.Model):
    run = models.ForeignKey(EvalRun, on_delete=models.CASCADE, related_name="problems")
    problem = models.ForeignKey(Problem, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    question_id = models.CharField(max_length=255, help_text="the problem's external id (lcb_runner's question_id)")
    title = models.CharField(max_length=500, blank=True)
    label = models.CharField(max_length=16, blank=True, db_index=True, help_text="the benchmark's difficulty")
    bucket = models.CharField(max_length=8, blank=True, db_index=True, help_text="our difficulty bucket")
    platform = models.CharField(max_length=40, blank=True, db_index=True)
    month = models.CharField(max_length=7, blank=True, db_index=True, help_text="contest month, YYYY-MM")
    n = models.PositiveSmallIntegerField(default=0)
    c = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["run_id", "id"]
        constraints = [models.UniqueConstraint(fields=["run", "question_id"], name="evalproblem_unique_question")]

    @property
    def pass_rate(self) -> float | None:
        return self.c / self.n if self.n else None


class SampleStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    GENERATED = "generated", "Answer received"
    JUDGED = "judged", "Judged"
    FAILED = "failed", "No answer (endpoint error)"


class EvalSample(models.Model):
    run = models.ForeignKey(EvalRun, on_delete=models.CASCADE, related_name="samples")
    eval_problem = models.ForeignKey(EvalProblem, on_delete=models.CASCADE, related_name="samples")
    index = models.PositiveSmallIntegerField()
    cache_key = models.CharField(max_length=64, blank=True, db_index=True)
    status = models.CharField(max_length=12, choices=SampleStatus.choices, default=SampleStatus.PENDING, db_index=True)
    answer = models.TextField(blank=True)
    code = models.TextField(blank=True)
    language = models.CharField(max_length=16, blank=True)
    fence_language = models.CharField(max_length=32, blank=True)
    # AC, WA, TLE, MLE, RE, CE, OLE, SE from the judge; NO_CODE (no fenced block) and LANG (a
    # language we cannot run) from extraction. Both of the latter count as failed.
    verdict = models.CharField(max_length=8, blank=True, db_index=True)
    passed = models.BooleanField(default=False)
    tests = models.JSONField(default=list, blank=True, help_text="per-test verdicts: [[verdict, time_s], ...]")
    error = models.TextField(blank=True)
    prompt_tokens = models.PositiveIntegerField(default=0)
    completion_tokens = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["eval_problem_id", "index"]
        constraints = [models.UniqueConstraint(fields=["eval_problem", "index"], name="evalsample_unique_index")]
