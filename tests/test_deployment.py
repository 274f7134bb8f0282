import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent


def compose_command() -> list[str] | None:
    if shutil.which("docker") and subprocess.run(["docker", "compose", "version"], capture_output=True).returncode == 0:
        return ["docker", "compose"]
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    return None


def test_docker_compose_config_accepts_the_file():
    cmd = compose_command()
    if cmd is None:
        pytest.skip("neither `docker compose` nor `docker-compose` is installed (.ci/run installs it)")
    env = dict(os.environ, SECRET_KEY="x")
    result = subprocess.run(cmd + ["-f", "docker-compose.yml", "config", "--services"], cwd=REPO_ROOT, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    services = set(result.stdout.split())
    assert {"postgres", "redis", "web", "worker-default", "worker-llm", "worker-sandbox", "worker-jobs", "beat"} <= services


def test_ci_script_runs_make_test_against_postgres_and_redis():
    script = (REPO_ROOT / ".ci" / "run").read_text()
    assert "make test" in script
    assert "DATABASE_URL=\"postgres://" in script and "CELERY_BROKER_URL=\"redis://" in script
    readme = (REPO_ROOT / "README.md").read_text()
    assert "make run" in readme and "make test" in readme
