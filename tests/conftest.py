"""Shared fixtures: an isolated dataset cache and small suite files."""

from __future__ import annotations

import os
import re
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True, scope="session")
def _isolated_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Processed datasets go to a temporary cache, never to the repository or the user's ~/.cache."""
    os.environ["GNNBENCH_CACHE"] = str(tmp_path_factory.mktemp("cache"))


@pytest.fixture(autouse=True, scope="session")
def _registered_builtins() -> None:
    """The built-in entries registered before any test patches a registry's ``_entries``: registered into a
    patched copy, they would vanish with it when the patch is undone, for every later test."""
    from gnnbench.registry import DATASETS, MODELS, SCENARIOS, TASKS

    for registry in (MODELS, DATASETS, TASKS, SCENARIOS):
        registry.names()


@pytest.fixture(autouse=True)
def _committed_checkout(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests read what ``gnnbench run`` prints, and a developer's uncommitted edits would add the note that the
    new records name a ``-dirty`` commit: the note reads the checkout as committed (its own test sets it back).
    Records still name the real commit."""
    from gnnbench.harness import env

    monkeypatch.setattr(env, "modified_checkout", lambda: None)


@pytest.fixture
def documented():
    """``documented(page, file)`` -> the code block of ``docs/<page>`` that begins with ``# <file>``: the tests run
    the examples the pages show, as written."""
    docs = Path(__file__).resolve().parents[1] / "docs"

    def code(page: str, file: str) -> str:
        found = re.search(rf"```python\n(# {re.escape(file)}\n.*?)```", (docs / page).read_text(), re.DOTALL)
        assert found, f"docs/{page} has no python block beginning with # {file}"
        return found.group(1)

    return code


@pytest.fixture
def write_suite(tmp_path: Path):
    """``write_suite(text)`` -> path of a suite file holding the dedented text."""

    def write(text: str, name: str = "suite.yaml") -> Path:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text))
        return path

    return write


TINY = """\
name: tiny
defaults: {{seeds: {seeds}, epochs: {epochs}, patience: null}}
experiments:
  - task: node_classification
    datasets: [Cora]
    models: [{models}]
"""


@pytest.fixture
def tiny_suite(write_suite):
    """A fast real suite: small models on Cora for a few epochs."""

    def make(models: str = "mlp", seeds: int = 2, epochs: int = 5) -> Path:
        return write_suite(TINY.format(models=models, seeds=seeds, epochs=epochs))

    return make


@pytest.fixture
def write_access_opens(monkeypatch: pytest.MonkeyPatch):
    """``opens(suffix)``: whether each ``os.open`` of a path ending in ``suffix`` during the test asked for write
    access (a lock file needs none: flock takes a read-only descriptor)."""
    opened: list[tuple[str, int]] = []
    real_open = os.open

    def spy(path, flags, *args):
        opened.append((os.fspath(path), flags))
        return real_open(path, flags, *args)

    monkeypatch.setattr(os, "open", spy)
    return lambda suffix: [bool(flags & (os.O_WRONLY | os.O_RDWR | os.O_APPEND))
                           for path, flags in opened if path.endswith(suffix)]
