"""Fixtures of the training tests: users (one per role, plus a trainer), a snapshot of real
problems from ../shared/data, compute targets and the training environment's interpreter."""
from __future__ import annotations

import gzip
import os
import signal
import shutil
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from curation.services import imports
from curation.services.snapshots import snapshot_create
from tests.api.conftest import users  # noqa: F401  (the one users fixture)
from training_jobs.models import ComputeTarget

REAL_CODECONTESTS = ("1141_a_game_23_2618", "791_b_bear_and_friendship_condition_8388")
TRAIN_PYTHON = Path(settings.BASE_DIR) / ".venv-train" / "bin" / "python"


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.TRAINING_JOBS_DIR = tmp_path / "jobs"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def trainer(users):
    user = get_user_model().objects.create_user("trainer_user", password="pw-trainer")
    user.groups.add(Group.objects.get(name="trainer"))
    return user


def import_real_problems(shared_data: Path, tmp_path: Path, leetcode: int = 2) -> None:
    folders = tmp_path / "cc"
    folders.mkdir(exist_ok=True)
    for name in REAL_CODECONTESTS:
        shutil.copytree(shared_data / "codecontests" / name, folders / name)
    imports.import_run_execute(imports.import_run_create(path=str(folders), format_name="codecontests-dir").pk)
    if leetcode:
        lines = gzip.open(shared_data / "leetcode" / "LeetCodeDataset-v0.3.1-test.jsonl.gz", "rt").read().splitlines()
        lc = tmp_path / "lc.jsonl"
        lc.write_text("\n".join(lines[:leetcode]) + "\n")
        imports.import_run_execute(imports.import_run_create(path=str(lc), format_name="leetcodedataset").pk)


@pytest.fixture
def real_snapshot(db, users, shared_data, tmp_path):
    import_real_problems(shared_data, tmp_path)
    return snapshot_create(name="real-train", user=users["curator"])


@pytest.fixture(scope="session")
def train_python() -> str:
    if not TRAIN_PYTHON.exists():
        pytest.fail(f"the training environment is missing ({TRAIN_PYTHON}): run `make train-deps`")
    return str(TRAIN_PYTHON)


@pytest.fixture
def local_target(db, tmp_path, train_python):
    yield ComputeTarget.objects.create(name="local", kind="local",
                                       options={"jobs_root": str(tmp_path / "jobs"), "python": train_python})
    # Whatever a failed test left running is stopped: jobs are process groups named in pgid files.
    for marker in (tmp_path / "jobs").glob("*/pgid"):
        try:
            os.killpg(int(marker.read_text()), signal.SIGKILL)
        except (ProcessLookupError, ValueError):
            pass


@pytest.fixture(scope="session")
def ray_head(train_python):
    """A real Ray head for the session (dashboard on 127.0.0.1, free ports), stopped at the end."""
    from .backends import RayHead

    head = RayHead(str(Path(train_python).parent / "ray"))
    address = head.start()
    yield address
    head.stop()


@pytest.fixture(scope="session")
def slurm_cluster(tmp_path_factory):
    """A real single-node Slurm for the session (Debian's slurmctld/slurmd, a private munged)."""
    from .backends import SlurmCluster

    if not shutil.which("slurmctld") or not shutil.which("munged"):
        pytest.fail("Slurm is not installed: apt-get install slurmctld slurmd slurm-client munge (.ci/run does)")
    cluster = SlurmCluster(tmp_path_factory.mktemp("slurm"))
    conf = cluster.start()
    yield conf
    cluster.stop()


@pytest.fixture
def ray_target(db, tmp_path, train_python, ray_head):
    return ComputeTarget.objects.create(name="ray", kind="ray", address=ray_head,
                                        options={"jobs_root": str(tmp_path / "jobs"), "python": train_python})


@pytest.fixture
def slurm_target(db, tmp_path, train_python, slurm_cluster):
    return ComputeTarget.objects.create(name="slurm", kind="slurm", options={
        "jobs_root": str(tmp_path / "jobs"), "python": train_python, "slurm_conf": slurm_cluster})
