"""Folder helpers for one-folder-per-problem formats (Kattis packages, CodeContests folders, APPS).

The folder being imported is untrusted: a crafted package can hold symbolic links to
`/etc/passwd`, the project's settings or `/proc/self/environ`, which would then be stored as tests
and shown to every viewer. So every file and folder is reached through the helpers here, which
refuse symbolic links (on any component below the imported folder) and any path that resolves
outside it, with a `FieldError` naming the file; the package is skipped and the others import.
"""
from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path
from typing import Callable, Iterator

from .importer import DuplicateTracker, FieldError, Importer, Result
from .records import CanonicalProblem, RecordError


class FolderHasher:
    """Hash of the files a folder importer read: relative path, length and bytes of each.

    Its `root` is also the boundary that `read_text_file` and `walk_files` keep inside.
    """

    def __init__(self, root: Path):
        self.root = root
        self._h = hashlib.sha256()
        self.total = 0

    def add(self, path: Path, data: bytes) -> None:
        rel = path.relative_to(self.root).as_posix().encode("utf-8")
        self._h.update(rel + b"\0" + str(len(data)).encode() + b"\0")
        self._h.update(data)
        self.total += len(data)

    def hexdigest(self) -> str:
        return self._h.hexdigest()


def _rel(root: Path, path: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)


def check_inside(root: Path, path: Path, field: str) -> None:
    """Raise FieldError unless `path` is below `root` with no symbolic link on the way.

    Checked component by component with lstat (a link is refused even when its target would be
    inside), then once more on the resolved path (``..`` components, a root that moved).
    """
    try:
        rel_parts = path.relative_to(root).parts
    except ValueError:
        raise FieldError(field, f"{path} is outside the folder being imported; refused") from None
    current = root
    for part in rel_parts:
        if part == "..":
            raise FieldError(field, f"{_rel(root, path)} leaves the folder being imported; refused")
        current = current / part
        if current.is_symlink():
            raise FieldError(field, f"{_rel(root, current)} is a symbolic link; refused (links may point anywhere)")
    try:
        resolved = path.resolve(strict=False)
        inside = resolved.is_relative_to(root.resolve(strict=False))
    except (OSError, RuntimeError) as exc:  # RuntimeError: a symlink loop on old Pythons
        raise FieldError(field, f"{_rel(root, path)} cannot be resolved: {exc}") from None
    if not inside:
        raise FieldError(field, f"{_rel(root, path)} resolves outside the folder being imported; refused")


def read_text_file(
    path: Path,
    field: str,
    hasher: FolderHasher,
    limit: int,
    *,
    required: bool = True,
) -> str | None:
    """Read a small text file of a problem folder: inside `hasher.root`, no links, size checked
    before reading."""
    check_inside(hasher.root, path, field)
    if not path.is_file():
        if required:
            raise FieldError(field, f"missing file {path.name}")
        return None
    size = path.stat().st_size
    if size > limit:
        raise FieldError(field, f"{path.name} is {size} bytes, over the limit of {limit}")
    data = path.read_bytes()
    hasher.add(path, data)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FieldError(field, f"invalid UTF-8 in {path.name} at byte {exc.start}") from None


def read_bytes_file(path: Path, field: str, hasher: FolderHasher, limit: int) -> bytes:
    """Like `read_text_file` for a binary file (a PDF statement); the file must exist."""
    check_inside(hasher.root, path, field)
    if not path.is_file():
        raise FieldError(field, f"missing file {path.name}")
    size = path.stat().st_size
    if size > limit:
        raise FieldError(field, f"{path.name} is {size} bytes, over the limit of {limit}")
    data = path.read_bytes()
    hasher.add(path, data)
    return data


def walk_files(base: Path, root: Path, field: str) -> list[Path]:
    """Every regular file below `base` (inside `root`), links refused, not followed."""
    check_inside(root, base, field)
    found: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(base, followlinks=False):
        here = Path(dirpath)
        for name in dirnames + filenames:
            if (here / name).is_symlink():
                raise FieldError(field, f"{_rel(root, here / name)} is a symbolic link; refused (links may point anywhere)")
        found.extend(here / name for name in filenames)
    return found


def natural_key(name: str) -> list:
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name)]


def _subdirs(path: Path) -> list[Path]:
    return sorted((p for p in path.iterdir() if not p.name.startswith(".") and (p.is_dir() or p.is_symlink())),
                  key=lambda p: natural_key(p.name))


def iter_problem_folders(
    path: Path, is_problem: Callable[[Path], bool], *, recursive: bool = False
) -> Iterator[tuple[Path | None, str, RecordError | None]]:
    """Yield (folder, label, error): PATH is a problem folder or a folder of problem folders.

    `recursive`: problem folders are found at any depth (archives as they come: contest / year /
    round / problem); the label is the path relative to PATH. A leaf folder that is no problem
    folder is reported; a symbolic link is refused, never followed.
    """
    if not path.exists():
        yield None, "folder", RecordError(str(path), "folder", "", "no such file or folder")
        return
    if not path.is_dir():
        yield None, "folder", RecordError(str(path), "folder", "", "expected a folder")
        return
    if is_problem(path):
        yield path, path.name, None
        return
    subdirs = _subdirs(path)
    if not subdirs:
        yield None, "folder", RecordError(str(path), "folder", "", "no problem folders found")
        return
    if not recursive:
        for sub in subdirs:
            if sub.is_symlink():
                yield None, sub.name, RecordError(str(sub), sub.name, "", "symbolic link to a folder; refused")
            else:
                yield sub, sub.name, None
        return
    stack = list(reversed(subdirs))
    while stack:
        sub = stack.pop()
        label = sub.relative_to(path).as_posix()
        if sub.is_symlink():
            yield None, label, RecordError(str(sub), label, "", "symbolic link to a folder; refused")
            continue
        if is_problem(sub):
            yield sub, label, None
            continue
        children = _subdirs(sub)
        if children:
            stack.extend(reversed(children))
        elif any(p.is_file() for p in sub.iterdir()):
            yield None, label, RecordError(str(sub), label, "", "not a problem folder, and no problem folders below it")


def iter_folder_records(
    importer: Importer,
    root: Path,
    is_problem: Callable[[Path], bool],
    parse: Callable[[Path], CanonicalProblem],
    *,
    recursive: bool = False,
    id_from_path: bool = False,
) -> Iterator[Result]:
    """The loop every one-folder-per-problem format shares: find the folders, parse each,
    check limits, and report bad folders and repeated ids without stopping.

    `id_from_path`: the external id is the folder's path relative to ROOT (unique in a nested
    archive where two rounds both have a problem `a`).
    """
    dup = DuplicateTracker()
    for folder, label, error in iter_problem_folders(root, is_problem, recursive=recursive):
        if error is not None:
            yield error
            continue
        assert folder is not None
        try:
            problem = parse(folder)
            if id_from_path:
                problem.external_id = label
            importer.check_problem(problem)
        except FieldError as exc:
            yield RecordError(str(folder), label, exc.field, exc.message)
            continue
        except Exception as exc:  # noqa: BLE001 — one package's surprise must not stop the others
            yield RecordError(str(folder), label, "", f"cannot read the folder: {type(exc).__name__}: {exc}")
            continue
        err = dup.check(str(folder), label, problem.external_id)
        if err is not None:
            yield err
            continue
        yield problem
