"""Shared shape of the stage commands (`process_problems`, `verify_problems`, ...): start a
StageRun, run it on a worker (default) or inline (`--sync`), follow its progress, print a summary."""
from __future__ import annotations

import argparse
import json
import time

from django.core.management.base import BaseCommand, CommandError

from curation import pipeline
from curation.models import StageRun
from curation.services import stages


def _argparse_type(opt: pipeline.Option):
    """argparse calls this with the flag's text: the option's own parse, so the command refuses
    exactly what the pipeline page refuses, in the same words."""

    def convert(text):
        try:
            return opt.parse(text)
        except pipeline.OptionError as exc:
            raise argparse.ArgumentTypeError(exc.reason) from None

    convert.__name__ = opt.kind  # argparse names the type in some messages
    return convert


def stage_options_add(parser, stage: pipeline.Stage) -> None:
    """Add a stage's declared options (`Stage.options` in the stage map) as flags."""
    for opt in stage.options:
        help_text = opt.help + (f" (default: {opt.default})" if opt.default not in (None, "", False) else "")
        if opt.kind == "bool":
            parser.add_argument(opt.flag, dest=opt.name, action="store_true", help=help_text)
        else:
            metavar = "{" + ",".join(opt.choices) + "}" if opt.choices else opt.name.upper()
            parser.add_argument(opt.flag, dest=opt.name, type=_argparse_type(opt), default=opt.default,
                                metavar=metavar, help=help_text)


def run_wait(command: BaseCommand, run, label: str, timeout: float, quiet: bool):
    """Follow a run row on a worker until it finishes, showing its progress on stderr."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run.refresh_from_db()
        if run.is_finished:
            return run
        if not quiet:
            command.stderr.write(f"\r{label} {run.status}: {run.done}/{run.total or '?'}", ending="")
        time.sleep(0.5)
    raise CommandError(f"{label} {run.pk} still {run.status} after {timeout:.0f}s (is a worker running?)")


class StageCommand(BaseCommand):
    """A stage's command: its help is the stage's description and its own flags are the stage's
    declared options (the map is the one list; the pipeline page's form reads the same)."""

    stage: str = ""

    @property
    def help(self) -> str:  # type: ignore[override]
        return pipeline.BY_NAME[self.stage].description

    def add_arguments(self, parser):
        parser.add_argument("--sync", action="store_true", help="run inline instead of on a worker")
        parser.add_argument("--no-wait", action="store_true", help="enqueue and return at once")
        parser.add_argument("--json", action="store_true", help="print the summary as JSON")
        parser.add_argument("--problem-ids", default="", help="comma-separated problem ids (default: all)")
        parser.add_argument("--timeout", type=float, default=6 * 3600, help="seconds to wait for the worker")
        stage_options_add(parser, pipeline.BY_NAME[self.stage])

    def _parsed(self, options) -> tuple[dict, str]:
        params, step, errors = pipeline.stage_options_parse(pipeline.BY_NAME[self.stage], options)
        if errors:  # argparse has checked each already; this is the page's check, for symmetry
            raise CommandError("; ".join(f"--{k.replace('_', '-')}: {v}" for k, v in errors.items()))
        return params, step

    def stage_params(self, options) -> dict:
        return self._parsed(options)[0]

    def stage_step(self, options) -> str:
        return self._parsed(options)[1]

    def handle(self, *args, **options):
        ids = [int(x) for x in options["problem_ids"].split(",") if x.strip()] or None
        try:
            run = stages.stage_run_create(
                stage=self.stage, problem_ids=ids, params=self.stage_params(options), step=self.stage_step(options)
            )
        except (stages.UnknownStageError, ValueError) as exc:
            raise CommandError(str(exc)) from exc
        if options["sync"]:
            run = stages.stage_run_execute(run.pk)
        else:
            from django.db import transaction

            with transaction.atomic():
                stages.stage_run_enqueue(run)
            if options["no_wait"]:
                self.emit({"id": run.pk, "stage": run.stage, "status": run.status}, options["json"])
                return
            run = self.wait(run, options["timeout"], quiet=options["json"])
        self.emit(stage_run_summary(run), options["json"])
        if run.status == "failed":
            raise CommandError(f"{self.stage} run {run.pk} failed: {run.message}")

    def wait(self, run: StageRun, timeout: float, quiet: bool) -> StageRun:
        return run_wait(self, run, f"{self.stage} run", timeout, quiet)

    def emit(self, summary: dict, as_json: bool) -> None:
        if as_json:
            self.stdout.write(json.dumps(summary, indent=2, default=str))
            return
        self.stdout.write(f"{summary['stage']} run {summary['id']}: {summary['status']} ({summary.get('done', 0)}/{summary.get('total') or 0})"
                          + (f", {summary['failed']} problems failed" if summary.get("failed") else ""))
        for key, value in summary.get("counts", {}).items():
            self.stdout.write(f"  {key}: {value}")
        for error in summary.get("errors", [])[:50]:
            self.stdout.write(f"  error: {error.get('record', '')} {error.get('field', '')} {error.get('message', '')}".rstrip())


def stage_run_summary(run: StageRun) -> dict:
    return {
        "id": run.pk,
        "stage": run.stage,
        "step": run.step,
        "status": run.status,
        "done": run.done,
        "total": run.total,
        "counts": run.counts,
        "failed": run.failed_count,  # problems that failed; each is named with its reason in errors
        "errors": run.errors,
        "message": run.message,
        "prompt_tokens": run.prompt_tokens,
        "completion_tokens": run.completion_tokens,
    }
