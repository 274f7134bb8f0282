"""Celery tasks, one module per concern; each task is thin: take ids, call a service.

Celery's autodiscovery imports `curation.tasks`; importing the modules here registers them.
Every task has an explicit name; its queue comes from the stage map (curation.pipeline.route_task),
matching the workers in docker-compose.yml.
"""
from curation.tasks import bulk, exports, imports, maintenance, snapshots, stages, webhooks  # noqa: F401
