"""The examples a newcomer runs first must run (each checks its own
numbers against values worked out independently)."""

import pathlib
import runpy

import pytest

EXAMPLES = sorted((pathlib.Path(__file__).parent.parent / "examples").glob("*.py"))


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_example_runs(path, capsys):
    runpy.run_path(str(path), run_name="__main__")
    assert capsys.readouterr().out.strip()


def test_readme_example_is_the_autodiff_example():
    readme = (pathlib.Path(__file__).parent.parent / "README.md").read_text()
    example = (pathlib.Path(__file__).parent.parent / "examples" / "autodiff.py").read_text()
    section = readme.split("## Autodiff in ten lines", 1)[1]
    block = section.split("```python\n", 1)[1].split("```", 1)[0]
    for line in block.strip().splitlines():
        assert line in example, f"README line not in examples/autodiff.py: {line!r}"
