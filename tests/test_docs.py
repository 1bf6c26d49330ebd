"""Docs that cannot go stale: every command shown in README.md and docs/*.md runs, and prints what is shown.

The markup:

* A ```console block holds commands and their output: each line starting `$ symparams ...` is
  run (in a folder holding `examples/` and the page's named files), and the lines after it, up
  to the next `$` line or the block's end, are what it prints (stdout and stderr, in order).
* `$ symparams repl [FILE]` followed by `>>> ` and `... ` lines is a recorded session: those
  lines are typed in (as `symparams repl --echo` reads them from a pipe), and the whole block
  is what it prints.
* A ```sp block whose info string names a file (```sp seed.sp) is written as that file for the
  page's commands.
* A ```pycon block is a Python session (`>>> ` lines and what they print), run as a doctest; a
  ```python block runs and must not raise. Both have `symparams` imported.
* `…` in an expected line stands for any text within that line (timings, temporary paths).
* A command written inline in the prose (`symparams summary examples/x.sp --expand`) must run
  and exit 0, unless it names no file (`symparams summary --format json`), holds a placeholder
  (FILE, NAME, [...]) or a redirection.

Tables are printed at COLUMNS=100, the width the pages show. Each page is one test.
"""
from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md"] + sorted((ROOT / "docs").glob("*.md"))
FENCE = re.compile(r"^```([^\n]*)\n(.*?)^```\s*$", re.S | re.M)
WIDTH = "100"


def blocks(text: str):
    """(info string, body, line number) of each fenced block."""
    for m in FENCE.finditer(text):
        yield m.group(1).strip(), m.group(2), text[:m.start()].count("\n") + 1


def commands(body: str):
    """(command line, expected output lines) of a console block; a REPL session keeps its typed lines."""
    out = []
    for line in body.rstrip("\n").split("\n"):
        if line.startswith("$ "):
            out.append((line[2:], []))
        elif out:
            out[-1][1].append(line)
        elif line.strip():
            raise AssertionError(f"a console block starts with '$ symparams ...', found {line!r}")
    return out


def expected_matches(expected: list[str], got: list[str]) -> bool:
    if len(expected) != len(got):
        return False
    for want, have in zip(expected, got):
        if "…" in want:
            if not re.fullmatch(".*".join(re.escape(part) for part in want.split("…")), have):
                return False
        elif want != have:
            return False
    return True


def check_command(command: str, expected: list[str], folder: Path, where: str) -> None:
    argv = shlex.split(command)
    assert argv[0] == "symparams", f"{where}: console blocks run symparams only, found {command!r}"
    env = {**os.environ, "COLUMNS": WIDTH, "PYTHONPATH": str(ROOT), "KERAS_BACKEND": "torch"}
    typed = None
    shown = [line.rstrip() for line in expected]
    while shown and not shown[-1]:
        shown.pop()
    if argv[1] == "repl":        # a recorded session: the typed lines go in, the whole record comes out
        typed = "".join(line[4:] + "\n" for line in shown if line.startswith((">>> ", "... ")) or
                        line in (">>>", "..."))
        argv.append("--echo")
    done = subprocess.run([sys.executable, "-m", "symparams", *argv[1:]], input=typed, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, cwd=folder, env=env, timeout=600)
    got = [line.rstrip() for line in done.stdout.rstrip("\n").split("\n")] if done.stdout.strip() else []
    if not expected_matches(shown, got):
        raise AssertionError(f"{where}: `{command}` prints\n" + "\n".join(got) +
                             "\n\n-- but the page shows --\n" + "\n".join(shown))


def check_python(kind: str, body: str, folder: Path, where: str) -> None:
    """A python block in a fresh interpreter; a pycon block as a doctest there (NORMALIZE_WHITESPACE)."""
    script = "import symparams\n" + body if kind == "python" else (
        "import doctest, sys, symparams\n"
        "test = doctest.DocTestParser().get_doctest(sys.stdin.read(), {'symparams': symparams}, 'page', None, 0)\n"
        "runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)\n"
        "runner.run(test)\n"
        "sys.exit(1 if runner.failures else 0)\n")
    done = subprocess.run([sys.executable, "-c", script], input=body if kind == "pycon" else None,
                          capture_output=True, text=True, cwd=folder,
                          env={**os.environ, "PYTHONPATH": str(ROOT), "KERAS_BACKEND": "torch", "COLUMNS": WIDTH})
    assert done.returncode == 0, f"{where}: the {kind} block fails\n{(done.stdout + done.stderr)[-3000:]}"


INLINE = re.compile(r"(?<!`)`(symparams [^`]+)`(?!`)")
PLACEHOLDER = re.compile(r"\b[A-Z][A-Z_.]+\b|\[|<|\|")


def inline_commands(text: str):
    """(command, line) of each runnable command written in the prose, outside fenced blocks."""
    prose = FENCE.sub(lambda m: "\n" * m.group(0).count("\n"), text)
    for m in INLINE.finditer(prose):
        command = " ".join(m.group(1).split())
        words = command.split()
        if len(words) > 2 and not words[2].startswith("-") and not PLACEHOLDER.search(command):
            yield command, prose[:m.start()].count("\n") + 1


def check_inline(command: str, folder: Path, where: str) -> None:
    done = subprocess.run([sys.executable, "-m", "symparams", *shlex.split(command)[1:]], capture_output=True,
                          text=True, cwd=folder, env={**os.environ, "PYTHONPATH": str(ROOT), "KERAS_BACKEND": "torch"},
                          timeout=600)
    assert done.returncode == 0, f"{where}: `{command}` exits {done.returncode}\n{done.stderr[-1500:]}"


def page_checks(page: Path):
    text = page.read_text()
    files, checks = {}, []
    checks += [("inline", command, None, f"{page.relative_to(ROOT)}:{line}") for command, line in inline_commands(text)]
    for info, body, line in blocks(text):
        words = info.split()
        kind = words[0] if words else ""
        where = f"{page.relative_to(ROOT)}:{line}"
        if kind == "sp" and len(words) > 1:
            files[words[1]] = body
        elif kind == "console":
            checks += [("command", command, expected, where) for command, expected in commands(body)]
        elif kind in ("python", "pycon"):
            checks.append((kind, body, None, where))
        elif re.search(r"^\$ symparams ", body, re.M):
            raise AssertionError(f"{where}: a block showing `$ symparams ...` must be a ```console block, "
                                 "so that tests/test_docs.py runs it")
    return files, checks


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_page_shows_real_output(page, tmp_path):
    files, checks = page_checks(page)
    (tmp_path / "examples").symlink_to(ROOT / "examples")
    for name, body in files.items():
        (tmp_path / name).write_text(body)
    failures = []
    for kind, what, expected, where in checks:
        try:
            if kind == "command":
                check_command(what, expected, tmp_path, where)
            elif kind == "inline":
                check_inline(what, tmp_path, where)
            else:
                check_python(kind, what, tmp_path, where)
        except AssertionError as e:
            failures.append(str(e))
    assert not failures, "\n\n========\n\n".join(failures)


def test_every_page_is_checked():
    """docs/*.md is picked up as pages are added; each page with commands has console blocks."""
    assert {p.name for p in PAGES} >= {"README.md", "repl.md", "json.md", "tutorial-budget.md"}


def test_ci_runs_the_readme_test_command():
    """CI is what a reader runs: `.ci/run`'s last line is the README's test command, word for word."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme.split("## Run the tests", 1)[1].split("```bash\n", 1)[1].split("\n```", 1)[0]
    assert (ROOT / ".ci" / "run").read_text(encoding="utf-8").rstrip("\n").splitlines()[-1] == block
