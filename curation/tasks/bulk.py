"""Celery tasks: bulk."""
