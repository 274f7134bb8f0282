"""Folder importers refuse symbolic links and paths outside the folder being imported (issue 13).

A crafted package that links /etc/passwd, the project's settings or /proc/self/environ (the
SECRET_KEY) must not have them stored as tests or solutions; each bad package is reported with
the file named, and the other packages import.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from curation.collect.folders import FieldError, FolderHasher, check_inside, read_text_file

from .helpers import FIXTURES, SHARED_DATA, by_id, run

SETTINGS = Path(__file__).resolve().parents[2] / "microcoder_site" / "settings.py"


def _kattis_with(tmp_path: Path, name: str, rel: str, target: str, *, is_dir: bool = False) -> None:
    pkg = tmp_path / "pkgs" / name
    shutil.copytree(FIXTURES / "kattis" / "hello", pkg)
    link = pkg / rel
    if link.exists() or link.is_symlink():
        shutil.rmtree(link) if link.is_dir() and not link.is_symlink() else link.unlink()
    link.parent.mkdir(parents=True, exist_ok=True)
    os.symlink(target, link, target_is_directory=is_dir)


@pytest.mark.parametrize("name, rel, target, field", [
    ("passwd_test", "data/secret/leak.in", "/etc/passwd", "data/secret"),  # found while listing tests
    ("passwd_answer", "data/sample/1.ans", "/etc/passwd", "data/sample"),
    ("environ_solution", "submissions/accepted/evil.py", "/proc/self/environ", "solutions[0]"),
    ("settings_statement", "problem_statement/problem.en.md", str(SETTINGS), "statement"),
    ("settings_yaml", "problem.yaml", str(SETTINGS), "problem.yaml"),
])
def test_kattis_symlinked_files_are_refused_per_package(tmp_path, name, rel, target, field):
    shutil.copytree(FIXTURES / "kattis" / "circlearea", tmp_path / "pkgs" / "circlearea")
    _kattis_with(tmp_path, name, rel, target)
    if rel == "data/secret/leak.in":  # a test needs its answer; the link is the input
        (tmp_path / "pkgs" / name / "data" / "secret" / "leak.ans").write_text("x\n")
    ok, errors = run("kattis", tmp_path / "pkgs")
    assert [p.external_id for p in ok] == ["circlearea"]
    assert [(e.record, e.field) for e in errors] == [(name, field)]
    assert "symbolic link; refused" in errors[0].message and rel in errors[0].message
    assert all("root:" not in t.input + t.output for p in ok for t in p.tests)


def test_kattis_symlinked_test_folder_and_package_folder_are_refused(tmp_path):
    outside = tmp_path / "outside"
    (outside / "data" / "secret").mkdir(parents=True)
    (outside / "data" / "secret" / "1.in").write_text("secret input\n")
    (outside / "data" / "secret" / "1.ans").write_text("secret answer\n")
    _kattis_with(tmp_path, "linked_group", "data/secret/g1", str(outside / "data" / "secret"), is_dir=True)
    # A whole package that is a link, inside a nested archive.
    (tmp_path / "pkgs" / "round").mkdir()
    os.symlink(outside, tmp_path / "pkgs" / "round" / "linked_pkg", target_is_directory=True)
    ok, errors = run("kattis", tmp_path / "pkgs")
    assert ok == []
    assert sorted((e.record, e.field) for e in errors) == [("linked_group", "data/secret"), ("round/linked_pkg", "")]
    assert all("symbolic link" in e.message for e in errors)


def test_codecontests_folder_with_linked_test_is_refused_and_others_import(tmp_path, shared_data):
    names = sorted(p.name for p in (shared_data / "codecontests").iterdir())[:3]
    for n in names:
        shutil.copytree(shared_data / "codecontests" / n, tmp_path / "cc" / n)
    bad = tmp_path / "cc" / names[1] / "tests" / "output_1.txt"
    bad.unlink()
    os.symlink("/etc/passwd", bad)
    linked_dir = tmp_path / "cc" / "zz_linked"
    os.symlink(shared_data / "codecontests" / names[0], linked_dir, target_is_directory=True)
    ok, errors = run("codecontests-dir", tmp_path / "cc")
    assert sorted(p.external_id for p in ok) == sorted([names[0], names[2]])
    assert sorted((e.record, e.field) for e in errors) == [(names[1], "tests[0].output"), ("zz_linked", "")]


def test_apps_folder_with_linked_question_is_refused(tmp_path):
    shutil.copytree(FIXTURES / "apps_folders", tmp_path / "apps")
    shutil.copytree(tmp_path / "apps" / "0007", tmp_path / "apps" / "0008")
    first = tmp_path / "apps" / "0007"
    (first / "question.txt").unlink()
    os.symlink(SETTINGS, first / "question.txt")
    ok, errors = run("apps", tmp_path / "apps")
    assert list(by_id(ok)) == ["0008"]
    assert [(e.record, e.field) for e in errors] == [(first.name, "question")]


def test_check_inside_refuses_dotdot_and_outside_paths(tmp_path):
    root = tmp_path / "pkg"
    root.mkdir()
    (tmp_path / "secret.txt").write_text("s")
    with pytest.raises(FieldError, match="leaves the folder"):
        check_inside(root, root / ".." / "secret.txt", "f")
    with pytest.raises(FieldError, match="outside the folder"):
        check_inside(root, tmp_path / "secret.txt", "f")
    (root / "ok.txt").write_text("fine")
    assert read_text_file(root / "ok.txt", "f", FolderHasher(root), 100) == "fine"
    assert SHARED_DATA.is_dir()


def test_row_files_linked_into_a_folder_are_refused(tmp_path):
    (tmp_path / "rows").mkdir()
    shutil.copy(FIXTURES / "taco.jsonl", tmp_path / "rows" / "a.jsonl")
    os.symlink(FIXTURES / "taco.jsonl", tmp_path / "rows" / "b.jsonl")
    ok, errors = run("taco", tmp_path / "rows")
    assert ok and {p.external_id for p in ok} == {p.external_id for p in run("taco", FIXTURES / "taco.jsonl")[0]}
    assert [(Path(e.file).name, e.message) for e in errors if e.record == "file"] == [
        ("b.jsonl", "symbolic link; refused (links may point anywhere)")]
