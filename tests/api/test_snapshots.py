"""Snapshots: frozen contents, versions, manifest, immutability, diff (service and API)."""
from __future__ import annotations

import pytest

from curation.models import AuditEvent, DatasetSnapshot, ImmutableError, Problem, TestCase
from curation.services.snapshots import SnapshotCriteriaError, selection_create, snapshot_create, snapshot_diff

from .conftest import make_problem

pytestmark = pytest.mark.django_db


def test_snapshot_freezes_training_tests_correct_solutions_and_facts(users, problems):
    snap = snapshot_create(name="train-mix", user=users["curator"])
    assert (snap.version, snap.problem_count) == (1, 4)
    assert len(snap.content_hash) == 64
    items = list(snap.items.order_by("ordinal"))
    # Ordered by problem_key.
    assert [i.problem_key for i in items] == ["leet:f1", "testsrc:p1", "testsrc:p2", "testsrc:p3"]
    data = items[1].data
    assert [t["ordinal"] for t in data["tests"]] == [0, 1, 2]  # is_training only
    assert [s["code"] for s in data["solutions"]] == ["a, b = map(int, input().split())\nprint(a + b)\n"]
    assert data["format_instruction"] == "Read from stdin, write to stdout."
    assert data["scores"]["edge_cases"] == 6 and data["weighted_score"] == 4.2
    assert (data["bucket"], data["review_status"], data["source"], data["platform"]) == ("easy", "accepted", "testsrc", "codeforces")
    assert data["contest_date"] == "2023-05-01" and data["content_hash"] == problems[0].content_hash
    assert items[0].data["function_name"] == "twoSum" and items[0].data["io_format"] == "functional"
    manifest = snap.manifest
    assert manifest["counts"]["bucket"] == {"easy": 1, "hard": 2, "medium": 1}
    assert manifest["counts"]["source"] == {"leet": 1, "testsrc": 3}
    assert manifest["counts"]["platform"] == {"atcoder": 1, "codeforces": 2, "leetcode": 1}
    assert manifest["counts"]["month"] == {"2023-05": 1, "2024-06": 1, "2024-08": 1, "unknown": 1}
    assert manifest["test_count"] == 12
    assert AuditEvent.objects.filter(action="snapshot_create", target_id=str(snap.pk)).count() == 1


def test_versions_per_name_and_criteria_in_manifest(users, problems):
    a = snapshot_create(name="s", user=users["curator"], filters={"bucket": "hard"},
                        decontamination={"benchmarks": ["livecodebench"], "cutoff_date": "2024-07-01"})
    b = snapshot_create(name="s", user=users["curator"])
    c = snapshot_create(name="other", user=users["curator"])
    assert (a.version, b.version, c.version) == (1, 2, 1)
    assert a.problem_count == 2
    assert a.manifest["decontamination"] == {"benchmarks": ["livecodebench"], "cutoff_date": "2024-07-01"}
    assert a.manifest["criteria"]["filters"] == {"bucket": "hard"}
    assert a.manifest["rubric_version"] is None


def test_selection_criteria(users, problems):
    sel = selection_create(name="two", user=users["curator"], problem_ids=[problems[0].pk, problems[3].pk])
    snap = snapshot_create(name="sel", user=users["curator"], selection=sel)
    assert sorted(snap.items.values_list("problem_key", flat=True)) == ["leet:f1", "testsrc:p1"]
    assert snap.selection == sel


def test_bad_filter_names_the_field(users, problems):
    with pytest.raises(SnapshotCriteriaError) as exc:
        snapshot_create(name="x", user=users["curator"], filters={"bucket": "impossible"})
    assert exc.value.field == "filters.bucket"
    with pytest.raises(SnapshotCriteriaError) as exc:
        snapshot_create(name="x", user=users["curator"], filters={"colour": "red"})
    assert exc.value.field == "filters.colour"


def test_later_edits_leave_the_snapshot_unchanged_and_writes_are_refused(users, problems):
    snap = snapshot_create(name="frozen", user=users["curator"])
    before = list(snap.items.order_by("ordinal").values_list("problem_key", "content_hash", "data"))
    p = problems[0]
    Problem.objects.filter(pk=p.pk).update(statement="CHANGED", bucket="hard", weighted_score=9.9, version=7)
    TestCase.objects.filter(problem=p).update(output="changed\n")
    TestCase.objects.filter(problem=p, is_training=False).update(is_training=True)
    p.solutions.all().delete()
    after = list(DatasetSnapshot.objects.get(pk=snap.pk).items.order_by("ordinal").values_list("problem_key", "content_hash", "data"))
    assert after == before
    assert DatasetSnapshot.objects.get(pk=snap.pk).content_hash == snap.content_hash
    snap.name = "renamed"
    with pytest.raises(ImmutableError):
        snap.save()
    with pytest.raises(ImmutableError):
        snap.delete()
    item = snap.items.first()
    item.data = {}
    with pytest.raises(ImmutableError):
        item.save()
    with pytest.raises(ImmutableError):
        item.delete()
    # A new snapshot of the same name sees the edits: hash and diff differ.
    snap2 = snapshot_create(name="frozen", user=users["curator"])
    assert snap2.content_hash != snap.content_hash
    diff = snapshot_diff(snap, snap2)
    assert diff["changed"] == ["testsrc:p1"] and diff["added"] == [] and diff["removed"] == []


def test_same_problems_give_the_same_hash(users, problems):
    a = snapshot_create(name="a", user=users["curator"])
    b = snapshot_create(name="b", user=users["curator"])
    assert a.content_hash == b.content_hash


def test_diff_added_removed_changed(users, problems):
    a = snapshot_create(name="d", user=users["curator"], filters={"source": ["testsrc"]})
    Problem.objects.filter(pk=problems[1].pk).update(bucket="easy")
    make_problem("p9")
    b = snapshot_create(name="d", user=users["curator"], filters={"bucket": "easy"})
    diff = snapshot_diff(a, b)
    assert diff["added"] == []  # p9 is medium: not in b
    assert diff["removed"] == ["testsrc:p3"]
    assert diff["changed"] == ["testsrc:p2"]
    assert diff["unchanged_count"] == 1  # p1


# --- API --------------------------------------------------------------------------------------


def test_api_create_list_items_and_diff(api, problems):
    client = api("curator")
    r = client.post("/api/v1/snapshots/", {"name": "api-snap", "filters": {"bucket": "hard"}}, format="json")
    assert r.status_code == 201, r.json()
    first = r.json()
    assert (first["version"], first["problem_count"], first["created_by"]) == (1, 2, "curator_user")
    r = client.post("/api/v1/snapshots/", {"name": "api-snap", "decontamination": {"benchmarks": ["lcb"], "cutoff_date": "2024-01-01"}}, format="json")
    second = r.json()
    assert second["version"] == 2 and second["manifest"]["decontamination"]["cutoff_date"] == "2024-01-01"

    viewer = api("viewer")
    r = viewer.get(f"/api/v1/snapshots/{second['id']}/items/?page_size=3")
    assert r.status_code == 200
    body = r.json()
    assert [i["ordinal"] for i in body["results"]] == [0, 1, 2] and body["next"]
    r2 = viewer.get(body["next"])
    assert [i["ordinal"] for i in r2.json()["results"]] == [3]

    r = viewer.get(f"/api/v1/snapshots/{first['id']}/diff/?other={second['id']}")
    assert r.status_code == 200
    assert r.json()["added"] == ["testsrc:p1", "testsrc:p2"] and r.json()["from"]["version"] == 1

    r = viewer.get(f"/api/v1/snapshots/{first['id']}/diff/")
    assert r.status_code == 400 and "other" in r.json() and r.json()["message"].startswith("other:")
    assert viewer.get(f"/api/v1/snapshots/{first['id']}/diff/?other=999999").status_code == 404


def test_api_snapshot_errors_name_the_field(api, problems):
    client = api("curator")
    r = client.post("/api/v1/snapshots/", {"name": "x", "filters": {"bucket": "nope"}}, format="json")
    assert r.status_code == 400 and "filters.bucket" in r.json()
    r = client.post("/api/v1/snapshots/", {"filters": {}}, format="json")
    assert r.status_code == 400 and r.json()["name"] and r.json()["message"].startswith("name:")
    r = client.post("/api/v1/snapshots/", {"name": "x", "selection": 12345}, format="json")
    assert r.status_code == 400 and "selection" in r.json()


def test_api_snapshots_cannot_be_changed(api, problems):
    snap = snapshot_create(name="ro", user=None)
    client = api("admin")
    for method in ("put", "patch", "delete"):
        r = getattr(client, method)(f"/api/v1/snapshots/{snap.pk}/", {}, format="json")
        assert r.status_code == 405 and r.json()["detail"]
