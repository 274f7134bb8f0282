import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = Path(os.environ.get("MICROCODER_SHARED_DATA", REPO_ROOT.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.fail(f"../shared/data not found at {SHARED_DATA}: the tests read the real data there")
    return SHARED_DATA


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    """API throttles and login counters live in the cache (Redis in CI, where it outlives a test
    and a run): every test starts from zero, as a new client would."""
    from django.core.cache import cache

    cache.clear()
