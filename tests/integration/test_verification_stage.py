"""The verification stage against the database, judging real reference solutions in the sandbox."""
import gzip
import json
import shutil

import pytest
from django.core.management import call_command

from curation.models import Problem, Verdict, VerificationRun
from curation.services import imports

pytestmark = pytest.mark.django_db


def run_import(path, fmt, source=None):
    return imports.import_run_execute(imports.import_run_create(path=str(path), format_name=fmt, source_name=source).pk)


def _rename(folder, new_id):
    md = folder / "PROBLEM.md"
    md.write_text(md.read_text().replace("**ID:** 1141_a_game_23_2618", f"**ID:** {new_id}"))


def verify(capsys, *args):
    call_command("verify_problems", "--sync", "--json", *args)
    return json.loads(capsys.readouterr().out)


def test_verification_classifies_real_problems(shared_data, capsys, tmp_path):
    folders = tmp_path / "cc"
    folders.mkdir()
    for name in ("1141_a_game_23_2618", "54_c_first_digit_law_6609", "791_b_bear_and_friendship_condition_8388"):
        shutil.copytree(shared_data / "codecontests" / name, folders / name)
    # A broken copy: one expected output is wrong, so the tests are inconsistent.
    broken = folders / "broken_game_23"
    shutil.copytree(shared_data / "codecontests" / "1141_a_game_23_2618", broken)
    (broken / "tests" / "output_4.txt").write_text("123456\n")
    _rename(broken, "broken_game_23")
    # A copy without a reference solution.
    orphan = folders / "orphan_game_23"
    shutil.copytree(shared_data / "codecontests" / "1141_a_game_23_2618", orphan)
    (orphan / "main.py").unlink()
    _rename(orphan, "orphan_game_23")
    run_import(folders, "codecontests-dir")
    lines = gzip.open(shared_data / "leetcode" / "LeetCodeDataset-v0.3.1-test.jsonl.gz", "rt").read().splitlines()[:4]
    lc = tmp_path / "lc.jsonl"
    lc.write_text("\n".join(lines) + "\n")
    run_import(lc, "leetcodedataset")

    summary = verify(capsys)
    assert summary["status"] == "succeeded", summary
    statuses = dict(Problem.objects.values_list("external_id", "verification_status"))
    assert statuses["1141_a_game_23_2618"] == "verified"
    assert statuses["orphan_game_23"] == "no_reference"
    assert statuses["broken_game_23"] == "tests_inconsistent"
    assert all(statuses[json.loads(line)["task_id"]] == "verified" for line in lines)
    # Undetected float tolerance and YES/NO in another case: verified with a relaxed rule, kept.
    probability = Problem.objects.get(external_id="54_c_first_digit_law_6609")
    assert probability.verification_status == "verified" and probability.comparison["mode"] == "float"
    assert "confirm" in probability.verification_runs.get().detail
    yes_no = Problem.objects.get(external_id="791_b_bear_and_friendship_condition_8388")
    assert (yes_no.verification_status, yes_no.comparison["mode"]) == ("verified", "case_insensitive")

    broken_run = VerificationRun.objects.get(problem__external_id="broken_game_23")
    named = broken_run.inconsistent_tests
    assert named == [Problem.objects.get(external_id="broken_game_23").tests.get(output__startswith="123456").pk]
    assert Verdict.objects.get(verification_run=broken_run, test_id=named[0]).verdict == "WA"
    assert broken_run.isolation == "bubblewrap"

    game = Problem.objects.get(external_id="1141_a_game_23_2618")
    run = game.verification_runs.get()
    assert run.verdicts.count() == game.tests.filter(is_training=True).count() == 10
    assert set(run.verdicts.values_list("verdict", flat=True)) == {"AC"}
    # CodeContests gives no limit here: it is derived from the measured reference time.
    assert run.derived_time_limit_ms and game.time_limit_ms == run.derived_time_limit_ms >= 1000

    # Idempotent: a rerun classifies the same way and adds one run per problem.
    again = verify(capsys)
    assert again["counts"] == summary["counts"]
