"""Add or update a compute target, and check its health.

    manage.py compute_target local --kind local
    manage.py compute_target cluster --kind ray --address http://head:8265 --token-env RAY_TOKEN \\
        --option jobs_root=/shared/microcoder --option python=/opt/train/bin/python --option workdir=/opt/microcoder
    manage.py compute_target hpc --kind slurm --option partition=gpu --option jobs_root=/scratch/microcoder
    manage.py compute_target cluster --check
"""
from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError

from training_jobs.models import ComputeTarget, TargetKind
from training_jobs.services.launch import target_health_check


class Command(BaseCommand):
    help = "Add or update a compute target (local, ray, slurm) and check its health."

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument("--kind", choices=[k.value for k in TargetKind])
        parser.add_argument("--address", default=None, help="Ray: the dashboard URL")
        parser.add_argument("--token-env", default=None, help="name of the environment variable holding the token")
        parser.add_argument("--option", action="append", default=[], metavar="KEY=VALUE")
        parser.add_argument("--disable", action="store_true")
        parser.add_argument("--check", action="store_true", help="only check the health of an existing target")

    def handle(self, *args, name, kind, address, token_env, option, disable, check, **_):
        if check:
            try:
                target = ComputeTarget.objects.get(name=name)
            except ComputeTarget.DoesNotExist:
                raise CommandError(f"no compute target named {name!r}") from None
        else:
            options = {}
            for item in option:
                key, sep, value = item.partition("=")
                if not sep or not key:
                    raise CommandError(f"--option {item!r}: expected KEY=VALUE")
                options[key] = value
            target, created = ComputeTarget.objects.get_or_create(name=name, defaults={"kind": kind or "local"})
            if kind:
                target.kind = kind
            if address is not None:
                target.address = address
            if token_env is not None:
                target.token_env = token_env
            target.options = {**target.options, **options}
            target.is_enabled = not disable
            if target.kind == "ray" and not target.address:
                raise CommandError("a ray target needs --address (the dashboard URL, e.g. http://127.0.0.1:8265)")
            target.save()
            self.stdout.write(f"{'created' if created else 'updated'} {target}")
        self.stdout.write(json.dumps(target_health_check(target), sort_keys=True))
