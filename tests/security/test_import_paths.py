"""Import runs show viewers the file's name, never where it lies on the server: not in the job
page, not in the API, not inside error messages."""
from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from accounts.services import api_token_create
from curation.models import ImportRun, Source

pytestmark = pytest.mark.django_db

SERVER_DIR = "/srv/private-home/alice/var/uploads/3f2a9c"


@pytest.fixture
def run(db):
    return ImportRun.objects.create(
        source=Source.objects.create(name="pathsrc"),
        file_path=f"{SERVER_DIR}/contest.jsonl",
        format="canonical-jsonl",
        status="failed",
        message=f"import aborted: [Errno 13] Permission denied: '{SERVER_DIR}/contest.jsonl'",
        errors=[
            {"file": f"{SERVER_DIR}/contest.jsonl", "record": "p7", "field": "tests",
             "message": f"cannot open: [Errno 2] No such file or directory: '{SERVER_DIR}/tests/input_1.txt'"},
            {"file": f"{SERVER_DIR}/contest.jsonl", "record": "p8", "field": "statement",
             "message": "refers to /etc/passwd outside the package"},
        ],
    )


def test_job_page_shows_names_not_server_paths(client, make_user, run):
    client.force_login(make_user("watcher", "viewer"))
    r = client.get(f"/imports/{run.pk}/")
    assert r.status_code == 200
    html = r.content.decode()
    assert "contest.jsonl" in html and "tests/input_1.txt" in html and "p7" in html
    assert "/srv/" not in html and "private-home" not in html and "alice" not in html and "/etc/" not in html


def test_api_shows_names_not_server_paths(make_user, run):
    _row, raw = api_token_create(user=make_user("watcher2", "viewer"), name="t", expires_in_days=1)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    body = api.get(f"/api/v1/import-runs/{run.pk}/").json()
    assert body["file_name"] == "contest.jsonl" and "file_path" not in body
    assert body["errors"][0]["file"] == "contest.jsonl" and "tests/input_1.txt" in body["errors"][0]["message"]
    assert "private-home" not in str(body) and "/etc/" not in str(body)
    assert body["message"].startswith("import aborted") and "contest.jsonl" in body["message"]
    # The operator's view keeps everything.
    assert ImportRun.objects.get(pk=run.pk).file_path.startswith(SERVER_DIR)
