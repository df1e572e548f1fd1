"""The Python examples in the README and docs/ run as written."""

from __future__ import annotations

import re
import sys
import types
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PYTHON_BLOCK = re.compile(r"^```python\n(.*?)^```", re.DOTALL | re.MULTILINE)
PAGES = sorted([ROOT / "README.md", *(ROOT / "docs").glob("*.md")])


def run_blocks(page: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run every ```python block of *page*, in order, as one importable module."""
    module = types.ModuleType(f"docs_{page.stem.lower()}")
    monkeypatch.setitem(sys.modules, module.__name__, module)
    for number, block in enumerate(PYTHON_BLOCK.findall(page.read_text()), start=1):
        exec(compile(block, f"{page.name} block {number}", "exec"), module.__dict__)


@pytest.mark.parametrize("page", PAGES, ids=lambda page: str(page.relative_to(ROOT)))
def test_python_blocks_run(page: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every ```python block of the page runs, in order, in one namespace, without error."""
    run_blocks(page, monkeypatch)


def test_readme_tour_prints_what_it_says(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The README's tour prints the log line and the result its last comments promise."""
    run_blocks(ROOT / "README.md", monkeypatch)
    assert re.fullmatch(r"level=info method=uppercase took=\d+µs\nHELLO\n", capsys.readouterr().out)
