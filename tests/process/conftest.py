"""Fixtures for the processing-core tests: the real data in ../shared/data."""
from __future__ import annotations

import gzip
import json
import os
from pathlib import Path

import pytest

from curation.process.normalize import markdown_section

_REPO = Path(__file__).resolve().parents[2]
DATA = Path(os.environ.get("MICROCODER_SHARED_DATA", _REPO.parent / "shared" / "data"))


def _need(path: Path) -> Path:
    if not path.exists():
        pytest.fail(f"{path} not found: the processing tests read the real data in ../shared/data")
    return path


@pytest.fixture(scope="session")
def cc_root() -> Path:
    return _need(DATA / "codecontests")


@pytest.fixture(scope="session")
def cc_problems(cc_root) -> dict[str, dict]:
    """folder id → {"md": PROBLEM.md text, "title", "description"}."""
    out = {}
    for d in sorted(cc_root.iterdir()):
        if not (d / "PROBLEM.md").is_file():
            continue
        md = (d / "PROBLEM.md").read_text(encoding="utf-8")
        title = md.split("\n", 1)[0].lstrip("# ").split(" ", 1)[-1].strip()
        out[d.name] = {"md": md, "title": title, "description": markdown_section(md, "Description")}
    return out


def _read_jsonl_gz(path: Path) -> list[dict]:
    with gzip.open(_need(path), "rt", encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


@pytest.fixture(scope="session")
def lc_v031() -> list[dict]:
    return _read_jsonl_gz(DATA / "leetcode" / "LeetCodeDataset-v0.3.1-test.jsonl.gz")


@pytest.fixture(scope="session")
def lc_v020() -> list[dict]:
    return _read_jsonl_gz(DATA / "leetcode" / "LeetCodeDataset-v0.2.0-train.jsonl.gz")


def read_tests(folder: Path) -> list[tuple[str, str]]:
    out = []
    for f in sorted((folder / "tests").glob("input_*.txt")):
        o = f.with_name(f.name.replace("input_", "output_"))
        out.append((f.read_text().strip("\n").rstrip(), o.read_text().strip("\n").rstrip()))
    return out
