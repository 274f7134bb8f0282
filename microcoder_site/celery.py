import os

from celery import Celery
from celery.signals import worker_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "microcoder_site.settings")

app = Celery("microcoder")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_init.connect
def sandbox_programs_check(sender=None, **kwargs):
    """A worker that consumes the sandbox queue refuses to start when a program the judge runs is
    missing (JUDGE_PYTHON, g++, bubblewrap): otherwise every verification would end as `error`."""
    consumed = getattr(sender.app.amqp.queues, "consume_from", None) or {}
    if "sandbox" not in consumed:
        return
    from curation.judge.host import host_programs_missing
    from curation.services.verification import sandbox_config

    missing = host_programs_missing(sandbox_config())
    if missing:
        raise SystemExit("This worker serves the sandbox queue but cannot judge: " + "; ".join(missing))
