"""Evaluate a model on a benchmark window, or import lcb_runner's graded output.

    manage.py evaluate --base-url http://host:8000/v1 --model M [--benchmark lcb-v6] [--from 2024-08-01]
                       [--to D] [-n 8] [--temperature 0.2] [--top-p 0.95] [--max-tokens 4096]
                       [--concurrency 32] [--name N] [--sync | --no-wait] [--json]
    manage.py evaluate --checkpoint CKPT_ID [--benchmark …] …      # a training checkpoint, served for the run
    manage.py evaluate --import-lcb eval_all.json --model M [--benchmark lcb-v6] [--json]
    manage.py evaluate --lcb-custom-input RUN_ID > custom.json   # our samples for lcb_runner

Without --sync the run goes to a worker (llm queue) and the command follows its progress.
"""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from curation.management.stage_command import run_wait
from evaluations import selectors, services
from evaluations.models import EvalRun


def _date(value: str | None):
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        raise CommandError(f"not a date (YYYY-MM-DD): {value!r}") from None


class Command(BaseCommand):
    help = "Evaluate a model (OpenAI-compatible endpoint) on benchmark problems; pass@k by difficulty."

    def add_arguments(self, parser):
        parser.add_argument("--base-url", default="")
        parser.add_argument("--model", default="")
        parser.add_argument("--benchmark", default="", help="benchmark name (default: every benchmark problem)")
        parser.add_argument("--from", dest="date_from", default=None, help="contest date from (YYYY-MM-DD)")
        parser.add_argument("--to", dest="date_to", default=None, help="contest date to (YYYY-MM-DD)")
        parser.add_argument("-n", "--samples", type=int, default=1)
        parser.add_argument("--temperature", type=float, default=0.2)
        parser.add_argument("--top-p", type=float, default=0.95)
        parser.add_argument("--max-tokens", type=int, default=2048)
        parser.add_argument("--concurrency", type=int, default=16)
        parser.add_argument("--timeout", type=float, default=120.0, help="seconds per request")
        parser.add_argument("--name", default="")
        parser.add_argument("--checkpoint", type=int, default=0, help="training checkpoint id: served at --base-url when given, else by a "
                                 "serving job on its training run's compute target")
        parser.add_argument("--import-lcb", default="", help="lcb_runner eval_all JSON to import as an evaluation")
        parser.add_argument("--lcb-custom-input", type=int, default=0, help="print a run's samples for lcb_runner")
        parser.add_argument("--sync", action="store_true", help="run inline instead of on a worker")
        parser.add_argument("--no-wait", action="store_true", help="enqueue and return at once")
        parser.add_argument("--json", action="store_true", help="print the summary as JSON")
        parser.add_argument("--wait-timeout", type=float, default=24 * 3600)

    def handle(self, *args, **o):
        if o["lcb_custom_input"]:
            try:
                run = EvalRun.objects.get(pk=o["lcb_custom_input"])
            except EvalRun.DoesNotExist:
                raise CommandError(f"no evaluation {o['lcb_custom_input']}") from None
            self.stdout.write(json.dumps(selectors.lcb_custom_input(run), ensure_ascii=False))
            return
        try:
            if o["import_lcb"]:
                path = Path(o["import_lcb"])
                if not path.is_file():
                    raise CommandError(f"no file {path}")
                run = services.eval_import_lcb(user=None, data=path.read_text(encoding="utf-8"), model_name=o["model"],
                                               name=o["name"], benchmark_name=o["benchmark"])
            else:
                run = services.eval_run_create(
                    user=None, model_name=o["model"], base_url=o["base_url"], benchmark_name=o["benchmark"],
                    date_from=_date(o["date_from"]), date_to=_date(o["date_to"]), n_samples=o["samples"],
                    temperature=o["temperature"], top_p=o["top_p"], max_tokens=o["max_tokens"],
                    concurrency=o["concurrency"], request_timeout_s=o["timeout"], name=o["name"], enqueue=False,
                    checkpoint=self.checkpoint(o["checkpoint"]))
                if o["sync"]:
                    run = services.eval_run_execute(run.pk)
                else:
                    with transaction.atomic():
                        services.eval_run_enqueue(run)
                    if o["no_wait"]:
                        self.emit(run, o["json"])
                        return
                    run = run_wait(self, run, "evaluation", o["wait_timeout"], quiet=o["json"])
        except services.EvalInputError as exc:
            raise CommandError(str(exc)) from None
        self.emit(run, o["json"])
        if run.status == "failed":
            raise CommandError(f"evaluation {run.pk} failed: {run.message}")

    def checkpoint(self, pk: int):
        if not pk:
            return None
        from training_jobs.models import Checkpoint

        try:
            return Checkpoint.objects.get(pk=pk)
        except Checkpoint.DoesNotExist:
            raise CommandError(f"no checkpoint {pk}") from None

    def emit(self, run: EvalRun, as_json: bool) -> None:
        payload = services.eval_event_payload(run)
        payload["summary"] = run.summary
        payload["errors"] = run.errors[:50]
        if as_json:
            self.stdout.write(json.dumps(payload, indent=2, default=str))
            return
        self.stdout.write(f"evaluation {run.pk}: {run.status} — {run.message}")
        overall = (run.summary or {}).get("overall", {})
        for key in ("pass@1", "pass@5", "pass@10"):
            if key in overall:
                v = overall[key]
                self.stdout.write(f"  {key}: {v['value']:.4f} [{v['low']:.4f}, {v['high']:.4f}]")
        for group, block in ((run.summary or {}).get("by", {}).get("label") or {}).items():
            if "pass@1" in block:
                self.stdout.write(f"  {group}: pass@1 {block['pass@1']['value']:.4f} ({block['problems']} problems)")
        for error in run.errors[:50]:
            self.stdout.write(f"  error: {error.get('record', '')} {error.get('field', '')} {error.get('message', '')}".rstrip())
