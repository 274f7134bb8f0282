"""Where a test's stdout goes on the host while it streams in from the sandbox.

The judge never keeps every test's whole output: each test gets a *sink* that sees the bytes
chunk by chunk as the sandbox sends them and keeps only what its caller needs:

* :class:`StreamCompare` compares against the expected output as it streams (the rules of
  :func:`curation.judge.compare.compare_output`, same verdict and same diff text) and keeps a
  SHA-256 and a short prefix;
* :class:`Collector` keeps the bytes up to the output cap (``run_program``: its caller asked
  for the output);
* :class:`Spool` writes them to a private temporary file (checker runs read it from there);
* :class:`Prefix` keeps a hash and a prefix only (functional mode: the return value counts).

Worker memory is flat in the number of tests; per test it is bounded by the expected output
(already in memory) plus, for ``tokens``/``float``, the longest single token, for ``exact``
the longest line — both capped by the output limit.
"""
from __future__ import annotations

import codecs
import hashlib
import os
import tempfile

from .compare import _as_number, _float_eq, _short, _trunc, normalize_rule

PREFIX_BYTES = 4096


class _Base:
    def __init__(self) -> None:
        self.sha = hashlib.sha256()
        self.prefix = bytearray()
        self.size = 0

    def feed(self, data: bytes) -> None:
        self.sha.update(data)
        self.size += len(data)
        if len(self.prefix) < PREFIX_BYTES:
            self.prefix += data[:PREFIX_BYTES - len(self.prefix)]
        self._feed(data)

    def _feed(self, data: bytes) -> None:
        pass

    def fields(self) -> dict:
        """What the raw result keeps of the output."""
        return {"stdout_sha256": self.sha.hexdigest(), "stdout_bytes": self.size,
                "stdout_prefix": bytes(self.prefix).decode("utf-8", "replace")}

    def close(self) -> None:
        pass


class Prefix(_Base):
    """Hash + prefix only."""


class Collector(_Base):
    """The whole output (bounded by the sandbox's output cap)."""

    def __init__(self) -> None:
        super().__init__()
        self.buf = bytearray()

    def _feed(self, data: bytes) -> None:
        self.buf += data

    def fields(self) -> dict:
        d = super().fields()
        d["stdout"] = bytes(self.buf).decode("latin-1")   # the raw bytes, losslessly
        return d


class Spool(_Base):
    """The output in a private temporary file (0600 in the judge's private directory)."""

    def __init__(self, directory: str | None = None) -> None:
        super().__init__()
        fd, self.path = tempfile.mkstemp(prefix="out-", dir=directory)
        self.fh = os.fdopen(fd, "wb")

    def _feed(self, data: bytes) -> None:
        self.fh.write(data)

    def fields(self) -> dict:
        self.fh.flush()
        d = super().fields()
        d["stdout_path"] = self.path
        return d

    def close(self) -> None:
        try:
            self.fh.close()
        finally:
            try:
                os.unlink(self.path)
            except OSError:
                pass


class StreamCompare(_Base):
    """Compare with ``expected`` under ``rule`` (not ``checker``) while the output streams.

    The result equals ``compare_output(whole_output, expected, rule)``: the output is decoded
    as UTF-8 (invalid bytes replaced) incrementally, so tokens and lines are those of the
    decoded whole.
    """

    def __init__(self, expected: str, rule: dict | None) -> None:
        super().__init__()
        self.rule = normalize_rule(rule)
        self.mode = self.rule["mode"]
        if self.mode == "checker":
            raise ValueError("checker comparisons run in the sandbox")
        self.decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self.carry = ""
        self.diff: str | None = None        # first difference once found
        self.n = 0                           # tokens / complete lines seen
        self.extra = ""
        self._result: tuple[bool, str] | None = None
        if self.mode == "exact":
            self.exp = expected.replace("\r\n", "\n").split("\n")
            self.cr = False                  # a "\r" held back (maybe half of "\r\n")
        else:
            self.exp = expected.split()
            self.abs_tol = float(self.rule.get("abs_tol", 0.0))
            self.rel_tol = float(self.rule.get("rel_tol", 0.0))

    # tokens, float, case_insensitive ------------------------------------------------------
    def _token(self, x: str) -> None:
        if self.diff is not None:
            self.n += 1
            return
        if self.n < len(self.exp):
            y = self.exp[self.n]
            if x != y and not (self.mode == "case_insensitive" and x.casefold() == y.casefold()):
                ok = False
                if self.mode == "float":
                    fx, fy = _as_number(x), _as_number(y)
                    ok = fx is not None and fy is not None and _float_eq(
                        fx, fy, self.abs_tol, self.rel_tol)
                if not ok:
                    self.diff = _trunc(f"token {self.n + 1}: expected {_short(y)}, got {_short(x)}")
        elif self.n == len(self.exp):
            self.extra = x
        self.n += 1

    def _tokens(self, text: str, final: bool) -> None:
        s = self.carry + text
        toks = s.split()
        if not final and toks and not s[-1].isspace():
            self.carry = toks.pop()
        else:
            self.carry = ""
        if self.diff is None and toks == self.exp[self.n:self.n + len(toks)]:
            self.n += len(toks)         # the common case, at C speed: all equal
            return
        for t in toks:
            self._token(t)

    # exact ----------------------------------------------------------------------------------
    def _line(self, line: str) -> None:
        k = self.n
        self.n += 1
        if self.diff is None and k < len(self.exp) and line != self.exp[k]:
            self.diff = _trunc(f"line {k + 1}: expected {_short(self.exp[k])}, got {_short(line)}")

    def _exact(self, text: str, final: bool) -> None:
        if self.cr:
            text = "\r" + text
            self.cr = False
        if not final and text.endswith("\r"):
            text, self.cr = text[:-1], True
        s = (self.carry + text).replace("\r\n", "\n")
        lines = s.split("\n")
        self.carry = lines.pop()
        if self.diff is None and lines == self.exp[self.n:self.n + len(lines)]:
            self.n += len(lines)
            lines = []
        for line in lines:
            self._line(line)
        if final:
            self._line(self.carry)
            self.carry = ""

    def _feed(self, data: bytes) -> None:
        text = self.decoder.decode(data)
        (self._exact if self.mode == "exact" else self._tokens)(text, False)

    def result(self) -> tuple[bool, str]:
        if self._result is None:
            self._result = self._finish()
        return self._result

    def _finish(self) -> tuple[bool, str]:
        text = self.decoder.decode(b"", final=True)
        if self.mode == "exact":
            self._exact(text, True)
            if self.diff is not None:
                return False, self.diff
            if self.n != len(self.exp):
                return False, _trunc(f"expected {len(self.exp)} lines, got {self.n} lines")
            return True, ""
        self._tokens(text, True)
        if self.diff is not None:
            return False, self.diff
        if self.n != len(self.exp):
            if self.n < len(self.exp):
                return False, _trunc(f"output ended after {self.n} tokens; expected "
                                     f"{len(self.exp)} (next: {_short(self.exp[self.n])})")
            return False, _trunc(f"extra output after {len(self.exp)} tokens: "
                                 f"{_short(self.extra)}")
        return True, ""

    def fields(self) -> dict:
        d = super().fields()
        ok, diff = self.result()
        d["compare"] = (ok, diff)
        self.exp, self.carry = [], ""     # the verdict is taken: keep nothing large
        return d
