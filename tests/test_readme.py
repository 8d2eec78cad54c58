"""The README is tested like code (issue 22: a snippet that did not run, a
design document it pointed to that was not there).

Every ```python block runs, in a fresh namespace and a temporary folder.
Every command of the ```bash blocks is checked: ``gradlab`` commands must
parse with the real argument parser (the cheap ones run), ``python FILE``
must name a file that compiles, ``pip install -e .[extra]`` an extra that
pyproject.toml defines. A command of another kind fails the test, so that
a new snippet gets a check. Files and folders the README names exist.
"""

import py_compile
import re
import shlex

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib
from pathlib import Path

import pytest

from gradlab import cli

ROOT = Path(__file__).parent.parent
README = (ROOT / "README.md").read_text()


def blocks(language):
    return re.findall(rf"^```{language}\n(.*?)^```", README, flags=re.S | re.M)


def commands():
    found = []
    for block in blocks("bash"):
        for line in block.splitlines():
            line = line.split("  #", 1)[0].strip()
            found += [part.strip() for part in line.split("&&") if part.strip()]
    return found


PYTHON = blocks("python")
COMMANDS = commands()


def test_the_readme_has_code_to_test():
    assert len(PYTHON) >= 3 and len(COMMANDS) >= 8


@pytest.mark.parametrize("code", PYTHON, ids=lambda c: c.strip().splitlines()[-1][:40])
def test_python_block_runs(code, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    exec(compile(code, "README.md", "exec"), {"__name__": "__main__"})  # noqa: S102 - our own README
    assert capsys.readouterr().out.strip()


CHEAP = {("--version",), ("experiment", "list")}


@pytest.mark.parametrize("command", COMMANDS)
def test_bash_command_is_true(command, capsys):
    words = shlex.split(command)
    if words[0] == "gradlab":
        args = words[1:]
        if tuple(args) in CHEAP:
            try:
                status = cli.main(args)
            except SystemExit as stop:  # --version exits through argparse
                status = stop.code
            assert status == 0
            out = capsys.readouterr().out
            if args == ["experiment", "list"]:
                assert len(out.strip().splitlines()) == 12  # "the twelve experiments"
            return
        parsed = cli._parser().parse_args(args)  # a bad option exits with status 2
        assert parsed.command in cli.COMMANDS
    elif words[0] == "python":
        py_compile.compile(str(ROOT / words[1]), doraise=True)
    elif words[:3] == ["pip", "install", "-e"]:
        spec = words[3]
        extras = re.findall(r"\[(.*)\]", spec)
        optional = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
        for extra in extras:
            assert extra in optional, spec
    elif words == ["pytest"]:
        assert (ROOT / "tests").is_dir()
    else:
        pytest.fail(f"README command {command!r} has no check: add one to tests/test_readme.py")


def test_files_the_readme_names_exist():
    named = set(re.findall(r"`((?:examples|src|docs|benchmarks|\.ci)/[\w./-]+)`", README))
    named |= set(re.findall(r"\]\(((?:docs|examples)/[\w./-]+)\)", README))
    assert "docs/architecture.md" in named
    for path in named:
        assert (ROOT / path).exists(), path
