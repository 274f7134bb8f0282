"""Language registry.

python3: the system interpreter inside the sandbox (``/usr/bin/python3 -I``, site enabled
  so system dist-packages stay importable; stdlib-only code is the norm).  The driver
  compiles the source once and runs the code object in a fresh forked child per test
  (no interpreter start-up per test); a syntax error is a CE.
cpp: ``g++ -std=c++17 -O2`` run INSIDE the sandbox (the source is untrusted too), once per
  distinct source (binaries cached by hash of compiler command + source); compiler
  diagnostics -> CE.
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Language:
    name: str
    source_name: str                      # file name of the solution inside /box
    kind: str                             # "python" (in-process fork) or "exec"
    compile_argv: tuple[str, ...] = ()    # run inside the sandbox; {src} {out}
    run_argv: tuple[str, ...] = ()        # for kind="exec"; {box} substituted
    binary_name: str = "main.bin"
    supports_functional: bool = False
    aliases: tuple[str, ...] = field(default=())


LANGUAGES: dict[str, Language] = {}


def register(lang: Language) -> Language:
    LANGUAGES[lang.name] = lang
    for a in lang.aliases:
        LANGUAGES[a] = lang
    return lang


PYTHON3 = register(Language(
    name="python3", source_name="main.py", kind="python", supports_functional=True,
    aliases=("python", "py", "py3"),
))

CPP = register(Language(
    name="cpp", source_name="main.cpp", kind="exec",
    compile_argv=("/usr/bin/g++", "-std=c++17", "-O2", "-pipe", "-o", "{out}", "{src}"),
    run_argv=("{box}/main.bin",),
    aliases=("c++", "cpp17", "g++"),
))


def get_language(name: str) -> Language:
    try:
        return LANGUAGES[name.lower()]
    except KeyError:
        raise ValueError(f"unsupported language {name!r}; known: "
                         f"{sorted({l.name for l in LANGUAGES.values()})}") from None
