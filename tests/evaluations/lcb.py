"""lcb_runner (LiveCodeBench's own code in ../shared/peers) as a test oracle: imported from
there, never copied. Its grader is not a sandbox: feed it only reference solutions."""
from __future__ import annotations

import sys

from tests.conftest import REPO_ROOT

PEERS = REPO_ROOT.parent / "shared" / "peers"
if str(PEERS) not in sys.path:
    sys.path.insert(0, str(PEERS))
