"""Celery tasks: webhooks."""
