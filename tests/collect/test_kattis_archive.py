"""Kattis archives as they come: nested folders, HTML and PDF statements, subtask groups,
`type: scoring`, interactive problems, infinite limits. The archive is written by the test."""
from __future__ import annotations

from pathlib import Path

import pytest

from curation.collect.records import FLAG_LIMIT_CLAMPED, FLAG_NOT_JUDGEABLE, FLAG_STATEMENT_FROM_PDF

from .helpers import by_id, run


def minimal_pdf(text: str) -> bytes:
    """A one-page PDF showing `text` in Helvetica (written by hand: no PDF writer needed)."""
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for n, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{n} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def write(path: Path, content: str | bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)


HTML_STATEMENT = """<h1>Alpha Centauri</h1>
<p>Given $n$ numbers, print their sum.</p>
<h2>Input</h2><p>The first line contains $n$ ($1 \\le n \\le 10^5$).</p>
<h2>Output</h2><p>Print one integer.</p>
"""


def scoring_package(root: Path, *, name: str | None = "Alpha") -> None:
    yaml = "type: scoring\nlimits:\n  time_limit: 2\n  memory: 256\n"
    if name:
        yaml = f"name: {name}\n" + yaml
    write(root / "problem.yaml", yaml)
    write(root / "problem_statement" / "problem.en.html", HTML_STATEMENT)
    write(root / "data" / "sample" / "1.in", "2\n1 2\n")
    write(root / "data" / "sample" / "1.ans", "3\n")
    for group, cases in (("group1", ["1\n5\n", "1\n7\n"]), ("group2", ["3\n1 1 1\n"])):
        write(root / "data" / "secret" / group / "testdata.yaml", "grading: sum\naccept_score: 30\n")
        for i, case in enumerate(cases, 1):
            write(root / "data" / "secret" / group / f"{i}.in", case)
            write(root / "data" / "secret" / group / f"{i}.ans", f"{sum(map(int, case.split()[1:]))}\n")
    write(root / "submissions" / "accepted" / "sum.py", "input()\nprint(sum(map(int, input().split())))\n")


def build_archive(tmp_path: Path) -> Path:
    archive = tmp_path / "archive"
    scoring_package(archive / "nwerc" / "2021" / "round1" / "alpha")
    scoring_package(archive / "nwerc" / "2022" / "finals" / "alpha", name="Alpha, again")
    # No name in problem.yaml, statement as problem.html without language: title from <h1>.
    scoring_package(archive / "nwerc" / "2021" / "round1" / "beta", name=None)
    (archive / "nwerc" / "2021" / "round1" / "beta" / "problem_statement" / "problem.en.html").rename(
        archive / "nwerc" / "2021" / "round1" / "beta" / "problem_statement" / "problem.html")
    # Interactive (2023-07 `type`), answers absent as interactors need none.
    gamma = archive / "nwerc" / "2022" / "finals" / "gamma"
    write(gamma / "problem.yaml", "name: Guess\ntype: interactive\n")
    write(gamma / "statement" / "problem.en.md", "Guess the number.\n\n## Interaction\nAsk queries.\n")
    write(gamma / "data" / "secret" / "1.in", "42\n")
    # Legacy interactive + infinite time limit + absurd memory, statement only as a PDF.
    delta = archive / "icpc" / "wf" / "2019" / "delta"
    write(delta / "problem.yaml", "name: Delta\nvalidation: custom interactive\nlimits:\n  time_limit: .inf\n  memory: 10000000\n")
    write(delta / "problem_statement" / "problem.pdf", minimal_pdf("Print the answer to everything"))
    write(delta / "data" / "sample" / "1.in", "\n")
    write(delta / "data" / "sample" / "1.ans", "42\n")
    # LaTeX statement in another language only.
    eps = archive / "icpc" / "wf" / "2019" / "epsilon"
    write(eps / "problem.yaml", "validation: default\nvalidator_flags: float_tolerance 1e-4\n")
    write(eps / "problem_statement" / "problem.sv.tex", "\\problemname{Epsilon}\nSkriv $x$.\n")
    write(eps / "data" / "secret" / "a.in", "1\n")
    write(eps / "data" / "secret" / "a.ans", "1.0\n")
    write(eps / ".timelimit", "3\n")
    # A folder of notes next to the packages: reported, the packages still import.
    write(archive / "icpc" / "notes" / "README.txt", "judges' notes\n")
    return archive


def test_nested_archive_imports_every_package(tmp_path):
    archive = build_archive(tmp_path)
    ok, errors = run("kattis", archive)
    probs = by_id(ok)
    assert sorted(probs) == [
        "icpc/wf/2019/delta", "icpc/wf/2019/epsilon", "nwerc/2021/round1/alpha", "nwerc/2021/round1/beta",
        "nwerc/2022/finals/alpha", "nwerc/2022/finals/gamma",
    ]
    assert [(e.record, e.message) for e in errors] == [
        ("icpc/notes", "not a problem folder, and no problem folders below it")]

    alpha = probs["nwerc/2021/round1/alpha"]
    assert (alpha.title, alpha.statement_format) == ("Alpha", "html")
    assert alpha.statement.startswith("<h1>Alpha Centauri</h1>")
    assert alpha.extra["statement_file"] == "problem_statement/problem.en.html"
    assert alpha.extra["problem_type"] == ["scoring"]
    assert [(t.kind, t.group) for t in alpha.tests] == [
        ("sample", ""), ("hidden", "group1"), ("hidden", "group1"), ("hidden", "group2")]
    assert alpha.extra["test_groups"] == {
        "group1": {"tests": 2, "testdata": {"grading": "sum", "accept_score": 30}},
        "group2": {"tests": 1, "testdata": {"grading": "sum", "accept_score": 30}},
    }
    assert (alpha.time_limit_ms, alpha.memory_limit_mb, alpha.flags) == (2000, 256, [])
    assert probs["nwerc/2022/finals/alpha"].title == "Alpha, again"
    assert probs["nwerc/2021/round1/beta"].title == "Alpha Centauri"

    gamma = probs["nwerc/2022/finals/gamma"]
    assert FLAG_NOT_JUDGEABLE in gamma.flags and gamma.comparison["interactive"] is True
    assert [(t.input, t.output) for t in gamma.tests] == [("42\n", "")]
    assert "interactor" in gamma.extra["not_judgeable_reason"]

    delta = probs["icpc/wf/2019/delta"]
    assert {FLAG_NOT_JUDGEABLE, FLAG_STATEMENT_FROM_PDF, FLAG_LIMIT_CLAMPED} <= set(delta.flags)
    assert "Print the answer to everything" in delta.statement
    assert (delta.time_limit_ms, delta.memory_limit_mb) == (60000, 8192)
    assert delta.extra["limits_clamped"] == [
        "limits.time_limit: inf clamped to 60000", "limits.memory: 10000000 clamped to 8192"]

    eps = probs["icpc/wf/2019/epsilon"]
    assert (eps.title, eps.time_limit_ms, eps.extra["statement_file"]) == ("Epsilon", 3000, "problem_statement/problem.sv.tex")
    assert eps.comparison["mode"] == "float" and eps.tests[0].group == ""


def test_single_package_keeps_its_name_as_id(tmp_path):
    scoring_package(tmp_path / "alpha")
    ok, errors = run("kattis", tmp_path / "alpha")
    assert errors == [] and [p.external_id for p in ok] == ["alpha"]


@pytest.mark.parametrize("bad, field", [
    ("limits:\n  time_limit: abc\n", "limits.time_limit"),
    ("limits:\n  memory: [1]\n", "limits.memory"),
    ("type: {a: 1}\n", "type"),
])
def test_bad_limits_name_the_field_and_the_rest_imports(tmp_path, bad, field):
    scoring_package(tmp_path / "a" / "good")
    scoring_package(tmp_path / "a" / "bad")
    write(tmp_path / "a" / "bad" / "problem.yaml", bad)
    ok, errors = run("kattis", tmp_path / "a")
    assert [p.external_id for p in ok] == ["good"]
    assert [(e.record, e.field) for e in errors] == [("bad", field)]


def test_package_without_any_statement_is_reported(tmp_path):
    scoring_package(tmp_path / "pk" / "x")
    (tmp_path / "pk" / "x" / "problem_statement" / "problem.en.html").unlink()
    ok, errors = run("kattis", tmp_path / "pk")
    assert ok == [] and [(e.record, e.field) for e in errors] == [("x", "statement")]
    assert "problem[.<lang>].md|tex|html or a PDF" in errors[0].message


@pytest.mark.django_db
def test_archive_imports_through_the_service_with_groups_and_flags(tmp_path):
    from curation.models import Problem, TestCase
    from curation.services import imports

    archive = build_archive(tmp_path)
    run_row = imports.import_run_execute(
        imports.import_run_create(path=str(archive), format_name="kattis", source_name="kattis-archive").pk)
    assert (run_row.created_count, run_row.failed_count) == (6, 1)
    alpha = Problem.objects.get(external_id="nwerc/2021/round1/alpha")
    assert list(alpha.tests.order_by("ordinal").values_list("group", flat=True)) == ["", "group1", "group1", "group2"]
    assert "not_judgeable" in Problem.objects.get(external_id="nwerc/2022/finals/gamma").flags
    assert TestCase.objects.filter(group="group2").count() == 3  # alpha, alpha again, beta
    # Re-importing changes nothing: the groups are part of the content hash, stably.
    again = imports.import_run_execute(
        imports.import_run_create(path=str(archive), format_name="kattis", source_name="kattis-archive").pk)
    assert (again.created_count, again.updated_count, again.unchanged_count) == (0, 0, 6)


@pytest.mark.django_db
def test_api_shows_the_test_group(tmp_path):
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from rest_framework.test import APIClient

    from curation.models import TestCase
    from curation.services import imports
    from curation.services.accounts import roles_ensure

    scoring_package(tmp_path / "alpha")
    imports.import_run_execute(imports.import_run_create(path=str(tmp_path / "alpha"), format_name="kattis").pk)
    roles_ensure()
    user = get_user_model().objects.create_user("v")
    user.groups.add(Group.objects.get(name="viewer"))
    client = APIClient()
    client.force_authenticate(user)
    test = TestCase.objects.get(group="group2")
    data = client.get(f"/api/v1/tests/{test.pk}/").json()
    assert (data["group"], data["kind"]) == ("group2", "hidden")
