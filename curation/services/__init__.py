"""Writes. One function per user-visible action, named `<entity>_<verb>`; each is one transaction
with its audit row, and side effects (task dispatch, webhooks) run after commit."""
