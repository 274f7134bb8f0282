"""Service tests use the API tests' users (one per role) and fast password hashing."""
from tests.api.conftest import _media_root, users  # noqa: F401 — fixtures, re-used
