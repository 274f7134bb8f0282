"""Celery tasks, one module per concern; each task is thin: take ids, call a service.

Celery's autodiscovery imports `curation.tasks`; importing the modules here registers them.
Queues are named on each task or chosen at dispatch, matching the workers in docker-compose.yml.
"""
from curation.tasks import bulk, exports, imports, maintenance, stages, webhooks  # noqa: F401
