"""A one-file model added through ``plugins:`` runs and is ranked beside the built-in models."""

from __future__ import annotations

import re
from pathlib import Path

from gnnbench import leaderboard
from gnnbench.harness import driver
from gnnbench.harness.executors import LocalExecutor
from gnnbench.harness.store import RunStore
from gnnbench.harness.suite import load_suite

DOC = Path(__file__).resolve().parents[1] / "docs" / "adding_a_model.md"


def test_the_documented_plugin_is_ranked_beside_builtin_models(write_suite, tmp_path):
    code = re.search(r"```python\n(# my_models.py\n.*?)```", DOC.read_text(), re.DOTALL).group(1)
    (tmp_path / "my_models.py").write_text(code)
    suite = load_suite(write_suite("""\
        name: plugged
        plugins: [my_models.py]
        defaults: {seeds: 2, epochs: 15}
        experiments:
          - task: node_classification
            datasets: [Cora]
            models: [mlp, gcn_residual]
        """))
    store = RunStore(tmp_path / "results")
    summary = driver.run(suite, store, LocalExecutor())
    assert (summary.ok, summary.failed) == (4, 0)
    board = leaderboard.build(store.directory).board.set_index("model")
    assert set(board.index) == {"mlp", "gcn_residual"}
    assert sorted(board["rank"]) == [1, 2] and board.loc["gcn_residual", "n"] == 2
    assert board.loc["gcn_residual", "mean"] > board.loc["mlp", "mean"]  # the graph helps on Cora
