"""The examples a newcomer runs first must run (each checks its own
numbers: against values worked out independently, gradlab's built-in
twin, or an uninterrupted run)."""

import pathlib
import runpy

import pytest

ROOT = pathlib.Path(__file__).parent.parent
EXAMPLES = sorted((ROOT / "examples").glob("*.py"))


def test_the_examples_a_learner_starts_from_are_there():
    names = {p.stem for p in EXAMPLES}
    assert {"autodiff", "mlp_digits", "cnn_augmentation", "char_lstm", "lr_range_test",
            "custom_optimizer", "resume_run"} <= names


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_example_runs(path, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # examples that write files write them here
    runpy.run_path(str(path), run_name="__main__")
    assert capsys.readouterr().out.strip()


def test_custom_optimizer_is_twenty_lines():
    source = (ROOT / "examples" / "custom_optimizer.py").read_text()
    body = source.split("class Momentum(Optimizer):", 1)[1].split("\n\n\n", 1)[0]
    assert len(body.strip().splitlines()) + 1 <= 20


def test_readme_example_is_the_autodiff_example():
    readme = (ROOT / "README.md").read_text()
    example = (ROOT / "examples" / "autodiff.py").read_text()
    section = readme.split("## Autodiff in ten lines", 1)[1]
    block = section.split("```python\n", 1)[1].split("```", 1)[0]
    for line in block.strip().splitlines():
        assert line in example, f"README line not in examples/autodiff.py: {line!r}"
