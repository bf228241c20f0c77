from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import warnings
from pathlib import Path

import pandas as pd
import pytest

from gnnbench.cli import main
from gnnbench.data import sources
from gnnbench.harness.store import RunStore
from gnnbench.registry import TASKS

ROOT = Path(__file__).resolve().parents[1]
GOOD = """\
name: cli
defaults: {{seeds: 2, epochs: 3}}
experiments:
  - task: node_classification
    datasets: [{dataset}]
    models: [{model}]
"""


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "gnnbench", *args], capture_output=True, text=True, cwd=ROOT,
                          timeout=300)


def test_broken_yaml_is_one_line_exit_2_and_debug_shows_the_traceback(write_suite):
    path = write_suite("name: x\nexperiments: [\n")
    result = run_cli("run", str(path))
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0 and "Traceback" not in result.stderr
    assert result.stderr.startswith(f"gnnbench: error: {path}: invalid YAML at line 3")
    debug = run_cli("run", str(path), "--debug")
    assert debug.returncode == 2 and "Traceback" in debug.stderr


@pytest.mark.parametrize(("model", "expected"), [
    ("gcm", "experiments[0].models[0]: unknown model 'gcm'; did you mean 'gcn'?"),
    ("{name: gcn, hparams: {lr: 0.1, dropuot: 0.1}}",
     "experiments[0].models[0].hparams.dropuot: unknown hyperparameter 'dropuot' for model 'gcn'; "
     "did you mean 'dropout'?"),
])
def test_unknown_model_or_hyperparameter(write_suite, capsys, model, expected, tmp_path):
    path = write_suite(GOOD.format(dataset="Cora", model=model))
    assert main(["run", str(path), "--results", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"gnnbench: error: {path}: {expected}") and err.count("\n") == 1
    assert not (tmp_path / "r").exists()


def test_missing_dataset_names_the_suite_key(write_suite, capsys, tmp_path, monkeypatch):
    monkeypatch.setattr(sources, "PROJECT_DATASETS", tmp_path / "nothing")
    monkeypatch.setenv("GNNBENCH_CACHE", str(tmp_path / "empty-cache"))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("urllib.request.urlopen", lambda *a, **k: (_ for _ in ()).throw(OSError("offline")))
    path = write_suite(GOOD.format(dataset="CiteSeer", model="gcn"))
    assert main(["run", str(path), "--results", str(tmp_path / "r"), "-q"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"gnnbench: error: {path}: experiments[0].datasets[0]: dataset 'CiteSeer' not found")
    assert err.count("\n") == 1


def test_checksum_mismatch_names_the_suite_key_and_the_file(write_suite, capsys, tmp_path):
    root = tmp_path / "data"
    shutil.copytree(ROOT / "datasets" / "Cora", root / "Cora")
    with (root / "Cora" / "raw" / "ind.cora.ty").open("ab") as f:
        f.write(b"\0")
    path = write_suite(GOOD.format(dataset="Cora", model="gcn"))
    for dry in ([], ["--dry-run"]):  # a dry run checks the data too
        assert main(["run", str(path), "--results", str(tmp_path / "r"), "--data-root", str(root), "-q", *dry]) == 2
        err = capsys.readouterr().err
        assert err.startswith(f"gnnbench: error: {path}: experiments[0].datasets[0]: dataset 'Cora': checksum "
                              f"mismatch for {root / 'Cora' / 'raw' / 'ind.cora.ty'}")
    assert (tmp_path / "r" / "cli" / "runs.jsonl").read_text() == ""  # nothing ran


def test_smoke_runs_every_configuration_once_briefly_apart_from_the_suite(write_suite, capsys, tmp_path):
    """Before a long suite: does every model, configuration and dataset run at all? One seed, a few epochs."""
    path = write_suite("""\
name: cli
defaults: {seeds: 3, epochs: 50}
experiments:
  - {name: a, task: node_classification, datasets: [Cora], models: [{name: mlp, hparams: {hidden_channels: [8, 16]}}]}
  - {name: b, task: node_classification, datasets: [Cora], models: [gcn], seeds: [4, 5], epochs: 1}
""")
    results = tmp_path / "r"
    assert main(["run", str(path), "--results", str(results), "--smoke"]) == 0
    assert "a smoke check: at most 2 epochs per run, one seed" in capsys.readouterr().out
    records = [json.loads(line) for line in (results / "cli.smoke" / "runs.jsonl").read_text().splitlines()]
    assert sorted((r["spec"]["model"], r["spec"]["config"], r["spec"]["seed"], r["spec"]["epochs"]) for r in records) \
        == [("gcn", "default", 4, 1), ("mlp", "hidden_channels=16", 0, 2), ("mlp", "hidden_channels=8", 0, 2)]
    assert {r["spec"]["suite"] for r in records} == {"cli.smoke"} and not (results / "cli").exists()
    assert (results / "cli.smoke" / "leaderboard.csv").is_file()
    assert main(["run", str(path), "--results", str(results), "--smoke", "--only", "b", "--dry-run"]) == 0
    assert "cli.smoke: 1 run, 1 recorded, 0 failed (kept), 0 to run" in capsys.readouterr().out
    fresh = tmp_path / "fresh"
    assert main(["run", str(path), "--results", str(fresh), "--smoke", "--only", "b", "-q"]) == 0
    assert f"`gnnbench run {path} --smoke EPOCHS --results {fresh}` runs the rest, with the EPOCHS of that smoke" \
        in " ".join((fresh / "cli.smoke" / "leaderboard.md").read_text().split())  # not the suite's own runs


def test_a_second_smoke_check_resumes_its_own_records(write_suite, capsys, tmp_path):
    """The smoke check's records are runs of the smoke suite: a second --smoke of the same suite file and EPOCHS
    finds them done, neither setting them aside as another suite's nor running them again."""
    path = write_suite(GOOD.format(dataset="Cora", model="mlp"))
    argv = ["run", str(path), "--results", str(tmp_path / "r"), "--smoke", "1"]
    assert main(argv) == 0
    runs = tmp_path / "r" / "cli.smoke" / "runs.jsonl"
    first = runs.read_text()
    assert len(first.splitlines()) == 1
    capsys.readouterr()
    assert main(argv) == 0
    out, err = capsys.readouterr()
    assert "1 already recorded" in out and "running 0" in out
    assert "set aside" not in err and "no run of this suite" not in err
    assert runs.read_text() == first and not (tmp_path / "r" / "cli.smoke" / "stale.jsonl").exists()


def test_a_results_path_that_cannot_hold_records_is_one_error_before_anything_runs(write_suite, capsys, tmp_path):
    path = write_suite(GOOD.format(dataset="Cora", model="mlp"))
    (tmp_path / "afile").write_text("hi")
    for dry in ([], ["--dry-run"]):
        assert main(["run", str(path), "--results", str(tmp_path / "afile"), "-q", *dry]) == 2
        assert capsys.readouterr().err == (f"gnnbench: error: {tmp_path / 'afile' / 'cli'}: {tmp_path / 'afile'} is "
                                           "a file, not a folder (--results names the results root, a folder)\n")
    (tmp_path / "f").mkdir()  # the results root is a folder, its suite's folder a file
    (tmp_path / "f" / "cli").write_text("hi")
    assert main(["run", str(path), "--results", str(tmp_path / "f"), "-q", "--dry-run"]) == 2
    assert capsys.readouterr().err == (f"gnnbench: error: {tmp_path / 'f' / 'cli'}: the suite's folder (named by its "
                                       "name: key) is a file, not a folder; move the file away, or give --results "
                                       "another results root\n")
    (tmp_path / "r" / "cli" / "runs.jsonl").mkdir(parents=True)
    assert main(["run", str(path), "--results", str(tmp_path / "r"), "-q"]) == 2
    assert "runs.jsonl: expected a file of records, found a folder" in capsys.readouterr().err
    (tmp_path / "s" / "cli" / "leaderboard.csv").mkdir(parents=True)  # the runs would run, then no table be written
    assert main(["run", str(path), "--results", str(tmp_path / "s"), "-q", "--dry-run"]) == 2
    assert "leaderboard.csv: expected a file gnnbench writes, found a folder" in capsys.readouterr().err


def test_results_naming_the_suite_s_own_folder_is_refused_by_run_and_prune(write_suite, capsys, tmp_path):
    """A run would start over in results/cli/cli/, beside every record of results/cli/runs.jsonl."""
    path = write_suite(GOOD.format(dataset="Cora", model="mlp"))
    (tmp_path / "cli").mkdir()
    (tmp_path / "cli" / "runs.jsonl").write_text("")
    for command in (["run", "-q"], ["run", "--dry-run"], ["prune"]):
        assert main([command[0], str(path), "--results", str(tmp_path / "cli"), *command[1:]]) == 2
        assert capsys.readouterr().err == (f"gnnbench: error: --results {tmp_path / 'cli'} is the folder of suite "
                                           f"'cli' (it holds its runs.jsonl); --results names the results root, the "
                                           f"folder holding cli/: --results {tmp_path}\n")
    assert not (tmp_path / "cli" / "cli").exists()


def test_a_results_folder_no_file_can_be_made_in_is_refused_by_a_dry_run(write_suite, capsys, tmp_path, monkeypatch):
    """Root passes every permission check, and a filesystem such as /proc refuses files whatever the permissions:
    the folder is tried, not its mode bits."""
    import tempfile

    def refused(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    path = write_suite(GOOD.format(dataset="Cora", model="mlp"))
    monkeypatch.setattr(tempfile, "TemporaryFile", refused)
    assert main(["run", str(path), "--results", str(tmp_path), "-q", "--dry-run"]) == 2
    assert capsys.readouterr().err == (f"gnnbench: error: {tmp_path / 'cli'}: cannot write in {tmp_path} "
                                       "(Permission denied)\n")


def test_run_dry_run_and_leaderboard_rebuild(write_suite, capsys, tmp_path):
    path = write_suite(GOOD.format(dataset="Cora", model="mlp"))
    results = tmp_path / "r"
    assert main(["run", str(path), "--results", str(results), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "2 runs, 0 recorded, 0 failed (kept), 2 to run" in out
    assert "  experiments[0]: mlp (default) on Cora, node_classification: seeds 0-1\n" in out  # the plan
    with RunStore(results / "cli").writer():  # another driver at work: the plan says so
        assert main(["run", str(path), "--results", str(results), "--dry-run", "-q"]) == 0
    assert "another gnnbench process is writing" in capsys.readouterr().err
    assert main(["run", str(path), "--results", str(results), "--dry-run", "-q"]) == 0
    assert "another gnnbench process" not in capsys.readouterr().err
    with pytest.raises(SystemExit) as exited:  # a mistyped root must not fall back to the next one silently
        main(["run", str(path), "--results", str(results), "--data-root", str(tmp_path / "nodata"), "--dry-run"])
    assert exited.value.code == 2
    assert f"--data-root: no such directory: {tmp_path / 'nodata'}" in capsys.readouterr().err
    assert main(["run", str(path), "--results", str(results)]) == 0
    out = capsys.readouterr().out
    assert "2 runs finished, 0 failed" in out and "mlp" in out
    csv = (results / "cli" / "leaderboard.csv").read_bytes()
    assert main(["leaderboard", str(results / "cli")]) == 0
    assert (results / "cli" / "leaderboard.csv").read_bytes() == csv
    assert main(["run", str(path), "--results", str(results)]) == 0  # nothing left to do
    assert "2 already recorded; running 0" in capsys.readouterr().out


def test_the_plan_says_where_grid_points_run_a_key_at_its_default(write_suite, capsys, tmp_path):
    """A dry run's plan and a run's header name the model entry whose one-layer points run at the default width
    and merge, with the runs they make, in a line that fits a terminal; -q keeps to the line of counts. Once the
    entry's runs are recorded, neither says it again: it tells of no run that runs."""
    grid = "{name: gcn, hparams: {num_layers: [1, 2], hidden_channels: [32, 64]}}"
    path = write_suite(GOOD.format(dataset="Cora", model=grid).replace("seeds: 2, epochs: 3", "seeds: 1, epochs: 1"))
    note = "  experiments[0].models[0] (gcn): 4 grid points -> 3 configs; default where unread: hidden_channels\n"
    assert len(note) <= 120
    results = tmp_path / "r"
    assert main(["run", str(path), "--results", str(results), "--dry-run"]) == 0
    assert capsys.readouterr().out.splitlines(keepends=True)[1:] == [
        note, *(f"  experiments[0]: gcn ({config}) on Cora, node_classification: seed 0\n"
                for config in ("num_layers=1", "hidden_channels=32", "hidden_channels=64"))]
    assert main(["run", str(path), "--results", str(results), "--dry-run", "-q"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("cli: 3 runs, 0 recorded, 0 failed (kept), 3 to run -> ") and out.count("\n") == 1
    assert main(["run", str(path), "--results", str(results)]) == 0
    assert "cli: 3 runs; 0 already recorded; running 3 with the local executor\n" + note in capsys.readouterr().out
    assert main(["run", str(path), "--results", str(results)]) == 0  # all recorded: a header and no note
    assert "unread" not in capsys.readouterr().out
    assert main(["run", str(path), "--results", str(results), "--dry-run"]) == 0
    assert capsys.readouterr().out.splitlines()[1:] == []


def test_only_runs_the_named_experiment_into_the_same_records(write_suite, capsys, tmp_path):
    two = GOOD.format(dataset="Cora", model="mlp") + "  - name: second\n    datasets: [Cora]\n    models: [gcn]\n"
    path = write_suite(two.replace("defaults: {seeds: 2, epochs: 3}", "defaults: {seeds: 1, epochs: 3, "
                                                                        "task: node_classification}"))
    results = tmp_path / "r"
    assert main(["run", str(path), "--results", str(results), "--only", "second", "-q"]) == 0
    records = [json.loads(line) for line in (results / "cli" / "runs.jsonl").read_text().splitlines()]
    assert [r["spec"]["model"] for r in records] == ["gcn"]
    assert main(["run", str(path), "--results", str(results), "--dry-run"]) == 0
    assert "2 runs, 1 recorded, 0 failed (kept), 1 to run" in capsys.readouterr().out
    assert main(["run", str(path), "--results", str(results), "--only", "secnd"]) == 2
    assert capsys.readouterr().err.startswith(
        f"gnnbench: error: {path}: experiments: no experiment named 'secnd'; the suite has experiments[0], second; "
        "did you mean 'second'?")


def test_the_incomplete_note_names_the_suite_file_from_the_current_directory(capsys, tmp_path, monkeypatch):
    """A run notes the suite file as it was given, relative to where it ran; the note on stderr names it so that
    its command works from wherever the leaderboard is built, while expected.json and the page keep it, and the
    results root, as noted (they read the same on any machine, and wherever the page is built from)."""
    project = tmp_path / "project"
    (project / "configs").mkdir(parents=True)
    (project / "configs" / "parts.yaml").write_text("""\
name: parts
defaults: {seeds: 1, epochs: 2}
experiments:
  - {name: first, task: node_classification, datasets: [Cora], models: [mlp]}
  - {name: second, task: node_classification, datasets: [Cora], models: [gcn]}
""")
    folder = project / "results" / "parts"
    monkeypatch.chdir(project)
    assert main(["run", "configs/parts.yaml", "--only", "first", "-q"]) == 0
    noted = (folder / "expected.json").read_bytes()
    assert json.loads(noted)["file"] == "configs/parts.yaml"
    capsys.readouterr()
    for here, given, hint in (
            (project, "results/parts", "`gnnbench run configs/parts.yaml` runs the rest"),
            (tmp_path, "project/results/parts",
             "`gnnbench run project/configs/parts.yaml --results project/results` runs the rest"),
            (folder.parent, "parts", f"`gnnbench run {project / 'configs' / 'parts.yaml'} --results .` runs the rest")):
        monkeypatch.chdir(here)
        assert main(["leaderboard", given]) == 0
        assert hint in capsys.readouterr().err
        assert main(["compare", given, given, "-q"]) == 0
        assert hint in capsys.readouterr().err
        page = (folder / "leaderboard.md").read_text()
        assert "runs of suite parts (configs/parts.yaml) are recorded" in page  # as noted, wherever built
        assert "`gnnbench run configs/parts.yaml` runs the rest" in page
        assert (folder / "expected.json").read_bytes() == noted
    monkeypatch.chdir(tmp_path)  # the note's command, from there, runs the rest
    assert main(["run", "project/configs/parts.yaml", "--results", "project/results", "-q"]) == 0
    assert "Incomplete" not in (folder / "leaderboard.md").read_text()


def test_records_of_an_older_default_are_named_by_run_and_set_aside_by_prune(write_suite, capsys, tmp_path):
    old = write_suite(GOOD.format(dataset="Cora", model="mlp"))
    results, folder = tmp_path / "r", tmp_path / "r" / "cli"
    assert main(["run", str(old), "--results", str(results), "-q"]) == 0
    capsys.readouterr()  # what that run said (a modified checkout is noted)
    old_records = (folder / "runs.jsonl").read_text()
    # the suite after a change that enters the run_id but not the configuration label (here the epoch budget,
    # as a new default would): its runs are new, and the old records are no run of it any more
    new = write_suite(GOOD.format(dataset="Cora", model="mlp").replace("epochs: 3", "epochs: 4"), "new.yaml")
    assert main(["run", str(new), "--results", str(results), "--dry-run", "-q"]) == 0
    err = capsys.readouterr().err
    assert err.startswith("gnnbench: note: 2 runs (mlp on Cora: 2) recorded in")
    assert f"`gnnbench prune {new} --results {results}`" in err  # a command that finds them, as written
    assert "Or by another suite file also named 'cli'" in err  # whose records prune would set aside
    assert main(["run", str(new), "--results", str(results), "-q"]) == 0
    err = capsys.readouterr().err
    assert "gnnbench: note: 2 runs (mlp on Cora: 2)" in err  # the real run says so too, and so does its leaderboard:
    assert "gnnbench: warning: node_classification Cora mlp (default): seeds 0, 1 recorded by more than one run" in err
    assert pd.read_csv(folder / "leaderboard.csv")["n"].tolist() == [4]  # old and new seeds counted together
    runs = (folder / "runs.jsonl").read_text()
    assert main(["prune", str(new), "--results", str(results), "--dry-run"]) == 0
    assert (folder / "runs.jsonl").read_text() == runs
    assert main(["prune", str(new), "--results", str(results)]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "set aside 2 runs (mlp on Cora: 2): epochs 3 -> 4 (2 runs) into" in out  # 1 record each, and why
    assert (folder / "stale.jsonl").read_text() == old_records  # nothing lost, byte for byte
    assert (folder / "runs.jsonl").read_text() == runs[len(old_records):]
    assert pd.read_csv(folder / "leaderboard.csv")["n"].tolist() == [2]  # rebuilt from the new runs alone
    assert main(["prune", str(new), "--results", str(results)]) == 0
    assert "every record" in capsys.readouterr().out
    # a suite none of whose runs is recorded: everything goes, and so does the leaderboard of it
    assert main(["prune", str(old), "--results", str(results)]) == 0
    assert (folder / "runs.jsonl").read_text() == "" and not (folder / "leaderboard.csv").exists()
    capsys.readouterr()
    # the edit undone: the old suite's runs are in stale.jsonl, and the next run takes them back, running nothing
    assert main(["run", str(old), "--results", str(results), "--dry-run", "-q"]) == 0
    note = (f"2 runs (mlp on Cora: 2) of this suite were set aside into {folder / 'stale.jsonl'} by an earlier "
            f"prune; would be taken back into {folder / 'runs.jsonl'}, not run again")
    assert note in capsys.readouterr().err
    assert (folder / "runs.jsonl").read_text() == ""  # a dry run moves nothing
    assert main(["run", str(old), "--results", str(results), "-q"]) == 0
    assert note.replace("would be taken", "taken") in capsys.readouterr().err
    assert (folder / "runs.jsonl").read_text() == old_records  # back byte for byte, not run again
    assert pd.read_csv(folder / "leaderboard.csv")["n"].tolist() == [2]
    assert (folder / "stale.jsonl").read_text() == runs[len(old_records):]  # the new suite's runs stay aside


def test_version_is_pyproject_s(capsys):
    import tomllib

    with pytest.raises(SystemExit) as exited:
        main(["--version"])
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert exited.value.code == 0 and capsys.readouterr().out == f"gnnbench {project['version']}\n"


def test_the_version_is_read_from_the_installed_metadata(monkeypatch):
    import importlib
    import importlib.metadata

    import gnnbench

    monkeypatch.setattr(importlib.metadata, "version", lambda name: f"9.9.9+{name}")
    try:
        assert importlib.reload(gnnbench).__version__ == "9.9.9+gnnbench"  # not a constant of its own
    finally:
        monkeypatch.undo()
        importlib.reload(gnnbench)


def test_an_interrupted_run_leaves_a_leaderboard_of_its_finished_runs(write_suite, capsys, tmp_path, monkeypatch):
    from gnnbench.harness.executors import LocalExecutor

    real_map = LocalExecutor.map

    def one_then_ctrl_c(self, specs, data_root=None):
        yield next(real_map(self, specs, data_root))
        raise KeyboardInterrupt

    monkeypatch.setattr(LocalExecutor, "map", one_then_ctrl_c)
    results = tmp_path / "r"
    assert main(["run", str(write_suite(GOOD.format(dataset="Cora", model="mlp"))), "--results", str(results),
                 "-q"]) == 130
    err = capsys.readouterr().err
    assert f"gnnbench: leaderboard rebuilt from the records so far: {results / 'cli' / 'leaderboard.csv'}" in err
    assert "interrupted; finished runs are recorded, rerun the same command to resume" in err
    assert pd.read_csv(results / "cli" / "leaderboard.csv")["n"].tolist() == [1]


def test_prune_explains_an_edited_hyperparameter_by_its_values(write_suite, capsys, tmp_path):
    """An edited hyperparameter changes the configuration label too (``default`` -> ``lr=0.001``): the record is
    still matched to the suite's one run of that model, dataset and seed, and the reason names the value."""
    suite = GOOD.format(dataset="Cora", model="mlp").replace("seeds: 2", "seeds: 1")
    path, results = write_suite(suite), tmp_path / "r"

    def pruned_after(run: str, edited: str) -> str:
        """What prune would say after running the suite with the models ``run``, then editing them to ``edited``."""
        path.write_text(suite.replace("models: [mlp]", f"models: [{run}]"))
        assert main(["run", str(path), "--results", str(results), "-q"]) == 0
        path.write_text(suite.replace("models: [mlp]", f"models: [{edited}]"))
        capsys.readouterr()
        assert main(["prune", str(path), "--results", str(results), "--dry-run"]) == 0
        return " ".join(capsys.readouterr().out.split())

    lr = "{name: mlp, hparams: {lr: %s}}"
    assert "would set aside 1 run (mlp on Cora: 1): hparams.lr 0.01 -> 0.001 (1 run)" in pruned_after("mlp", lr % 0.001)
    # a grid point removed is no edit of the point left, whose run is recorded
    assert "would set aside 1 run (mlp on Cora: 1): no such run in the suite now (1 run)" in \
        pruned_after(lr % "[0.001, 0.01]", lr % 0.001)


def test_a_second_ctrl_c_while_the_leaderboard_is_written_does_not_tear_it(write_suite, capsys, tmp_path,
                                                                           monkeypatch, request):
    """Impatient users press Ctrl-C twice: the CSV and the Markdown must still describe the same records."""
    from gnnbench import leaderboard
    from gnnbench.harness.executors import LocalExecutor

    real_map, real_build = LocalExecutor.map, leaderboard.build

    def one_then_ctrl_c(self, specs, data_root=None):
        yield next(real_map(self, specs, data_root))
        raise KeyboardInterrupt

    def build_pressed_again(*args, **kwargs):
        os.kill(os.getpid(), signal.SIGINT)  # between the first file and the last
        return real_build(*args, **kwargs)

    monkeypatch.setattr(LocalExecutor, "map", one_then_ctrl_c)
    monkeypatch.setattr(leaderboard, "build", build_pressed_again)
    original = signal.signal(signal.SIGINT, signal.default_int_handler)  # a background job may ignore SIGINT
    request.addfinalizer(lambda: signal.signal(signal.SIGINT, original))
    results = tmp_path / "r"
    assert main(["run", str(write_suite(GOOD.format(dataset="Cora", model="mlp"))), "--results", str(results),
                 "-q"]) == 130
    assert "leaderboard rebuilt from the records so far" in capsys.readouterr().err
    assert pd.read_csv(results / "cli" / "leaderboard.csv")["n"].tolist() == [1]
    assert "(1)" in (results / "cli" / "leaderboard.md").read_text()
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # restored


def test_a_signal_while_the_final_leaderboard_is_written_waits_for_it_then_counts(write_suite, capsys, tmp_path,
                                                                                monkeypatch):
    """A scheduler's SIGTERM as the last files are written: they are finished, and the exit status says 143."""
    from gnnbench import leaderboard

    real_build = leaderboard.build

    def build_terminated(*args, **kwargs):
        os.kill(os.getpid(), signal.SIGTERM)
        return real_build(*args, **kwargs)

    monkeypatch.setattr(leaderboard, "build", build_terminated)
    results = tmp_path / "r"
    assert main(["run", str(write_suite(GOOD.format(dataset="Cora", model="mlp"))), "--results", str(results),
                 "-q"]) == 143
    assert "terminated; finished runs are recorded" in capsys.readouterr().err
    assert pd.read_csv(results / "cli" / "leaderboard.csv")["n"].tolist() == [2]
    assert "(2)" in (results / "cli" / "leaderboard.md").read_text()


@pytest.mark.parametrize("command", ["leaderboard", "prune"])
def test_a_signal_while_leaderboard_or_prune_writes_the_tables_waits_for_them(command, write_suite, capsys, tmp_path,
                                                                              monkeypatch, request):
    """The page, the CSV and the Markdown describe the same records after Ctrl-C too (here they are written
    from nothing, so a torn write would leave some missing); prune still says what it moved; the message says only
    that the command was interrupted (it has no runs to resume)."""
    from gnnbench import leaderboard

    path, results = write_suite(GOOD.format(dataset="Cora", model="mlp")), tmp_path / "r"
    assert main(["run", str(path), "--results", str(results), "-q"]) == 0
    for table in ("leaderboard.csv", "leaderboard.md", "grid.csv"):
        (results / "cli" / table).unlink()
    path.write_text(path.read_text().replace("seeds: 2", "seeds: 1"))  # one run for prune to set aside
    real_csv = leaderboard.to_csv

    def csv_then_ctrl_c(*args, **kwargs):
        os.kill(os.getpid(), signal.SIGINT)  # after the records, before the tables
        return real_csv(*args, **kwargs)

    monkeypatch.setattr(leaderboard, "to_csv", csv_then_ctrl_c)
    original = signal.signal(signal.SIGINT, signal.default_int_handler)  # a background job may ignore SIGINT
    request.addfinalizer(lambda: signal.signal(signal.SIGINT, original))
    argv = ["leaderboard", str(results / "cli"), "--html"] if command == "leaderboard" else \
        ["prune", str(path), "--results", str(results)]
    assert main(argv) == 130
    out, err = capsys.readouterr()
    assert err.endswith("gnnbench: interrupted\n")
    assert ("set aside 1 run (mlp on Cora: 1)" in " ".join(out.split())) == (command == "prune")
    n = 2 if command == "leaderboard" else 1
    assert pd.read_csv(results / "cli" / "leaderboard.csv")["n"].tolist() == [n]
    assert f"({n})" in (results / "cli" / "leaderboard.md").read_text()
    assert (results / "cli" / "grid.csv").is_file()
    assert (results / "cli" / "leaderboard.html").is_file() == (command == "leaderboard")


def test_sigterm_is_handled_as_an_interrupt(write_suite, capsys, tmp_path, monkeypatch):
    """A batch scheduler's time limit sends SIGTERM: the finished runs get their leaderboard, as on Ctrl-C."""
    from gnnbench.harness.executors import LocalExecutor

    real_map = LocalExecutor.map

    def one_then_sigterm(self, specs, data_root=None):
        yield next(real_map(self, specs, data_root))
        os.kill(os.getpid(), signal.SIGTERM)
        yield from real_map(self, specs, data_root)  # the handler raises before this runs

    monkeypatch.setattr(LocalExecutor, "map", one_then_sigterm)
    results = tmp_path / "r"
    assert main(["run", str(write_suite(GOOD.format(dataset="Cora", model="mlp"))), "--results", str(results),
                 "-q"]) == 143
    err = capsys.readouterr().err
    assert "leaderboard rebuilt from the records so far" in err and "gnnbench: terminated; finished runs" in err
    assert pd.read_csv(results / "cli" / "leaderboard.csv")["n"].tolist() == [1]
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL  # restored


def test_sigterm_still_says_terminated_when_a_library_reraises_it_as_ctrl_c(write_suite, capsys, tmp_path,
                                                                           monkeypatch):
    """Ray's wait turns the handler's exception into a plain KeyboardInterrupt: a batch script must still see 143
    (a time limit), not 130 (Ctrl-C)."""
    from gnnbench.harness.executors import LocalExecutor

    real_map = LocalExecutor.map

    def one_then_sigterm_seen_as_ctrl_c(self, specs, data_root=None):
        yield next(real_map(self, specs, data_root))
        try:
            os.kill(os.getpid(), signal.SIGTERM)
        except KeyboardInterrupt:
            raise KeyboardInterrupt from None  # what Ray's wait re-raises

    monkeypatch.setattr(LocalExecutor, "map", one_then_sigterm_seen_as_ctrl_c)
    assert main(["run", str(write_suite(GOOD.format(dataset="Cora", model="mlp"))), "--results",
                 str(tmp_path / "r"), "-q"]) == 143
    assert "gnnbench: terminated; finished runs" in capsys.readouterr().err


def test_a_full_disk_names_the_file_it_could_not_write(write_suite, capsys, tmp_path, monkeypatch):
    """A write's ENOSPC names no file: the records' and the tables' files are named for it, exit 74; the records
    written before are kept and nothing is half-written."""
    import errno

    from gnnbench import files
    from gnnbench.harness import store

    path, results = write_suite(GOOD.format(dataset="Cora", model="mlp")), tmp_path / "r"
    real_write, writes = os.write, []

    def fills_after_one(fd, data):
        writes.append(fd)
        if len(writes) > 1:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_write(fd, data)

    monkeypatch.setattr(store.os, "write", fills_after_one)
    assert main(["run", str(path), "--results", str(results), "-q"]) == 74
    runs = results / "cli" / "runs.jsonl"
    assert capsys.readouterr().err.endswith(f"gnnbench: error: {runs}: No space left on device\n")
    assert len(runs.read_text().splitlines()) == 1
    monkeypatch.undo()

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(files.os, "replace", full)  # the last step of writing a table's file
    assert main(["leaderboard", str(results / "cli"), "-q"]) == 74
    csv = results / "cli" / "leaderboard.csv"
    assert capsys.readouterr().err == f"gnnbench: error: {csv}: No space left on device\n"
    assert not list((results / "cli").glob(".*.partial"))


def test_a_file_that_cannot_be_written_is_one_line_naming_it(capsys, tmp_path):
    """An OSError (a folder where a leaderboard file goes, no permission, a full disk) names the file the user
    knows, not the temporary one it was written through, and prints no traceback; --out is checked before a
    profile measures anything."""
    reference = Path(__file__).parents[1] / "results" / "reference" / "quickstart" / "runs.jsonl"
    (tmp_path / "runs.jsonl").write_bytes(reference.read_bytes())
    (tmp_path / "leaderboard.md").mkdir()
    assert main(["leaderboard", str(tmp_path), "-q"]) == 74  # EX_IOERR: neither a failed run nor a user error
    assert capsys.readouterr().err == f"gnnbench: error: {tmp_path / 'leaderboard.md'}: Is a directory\n"
    (tmp_path / "afile").write_text("")
    assert main(["profile", "kernels", "--device", "cpu", "--out", str(tmp_path / "afile")]) == 2
    assert "--out: cannot make the folder" in capsys.readouterr().err


def test_leaderboard_of_an_empty_folder_is_a_user_error(capsys, tmp_path):
    assert main(["leaderboard", str(tmp_path)]) == 2
    assert "no records here (run a suite first" in capsys.readouterr().err
    assert main(["leaderboard", str(tmp_path / "missing")]) == 2
    assert f"no records here (no such directory: {tmp_path / 'missing'})" in capsys.readouterr().err
    (tmp_path / "a" / "s1").mkdir(parents=True)
    (tmp_path / "a" / "s1" / "runs.jsonl").write_text("")
    assert main(["leaderboard", str(tmp_path / "a")]) == 2  # the results root, not a suite's folder
    assert f"(a results root? give one of its suite folders, {tmp_path / 'a'}/SUITE: s1)" in capsys.readouterr().err
    (tmp_path / "runs.jsonl").symlink_to(tmp_path / "moved.jsonl")  # the records it named moved or deleted
    assert main(["leaderboard", str(tmp_path)]) == 2
    assert (f"{tmp_path / 'runs.jsonl'}: no records here (runs.jsonl is a broken link to {tmp_path / 'moved.jsonl'}, "
            "which does not exist)") in capsys.readouterr().err
    (tmp_path / "runs.jsonl").unlink()
    (tmp_path / "runs.jsonl").write_text("")
    assert main(["leaderboard", str(tmp_path)]) == 2
    assert "no records here" in capsys.readouterr().err
    (tmp_path / "a" / "A.csv").write_text("task\n")  # a copied leaderboard CSV, no records beside it
    assert main(["leaderboard", str(tmp_path / "a" / "A.csv")]) == 2
    assert ("no records here (a file, not a folder of records: `gnnbench leaderboard` rebuilds the tables "
            f"of a results folder from its runs.jsonl; `gnnbench compare {tmp_path / 'a' / 'A.csv'} B.csv` reads a "
            "leaderboard CSV as it is") in capsys.readouterr().err
    (tmp_path / "grid.yaml").write_text("name: grid_study\nexperiments: []\n")  # its folder: the name, not the file
    assert main(["leaderboard", str(tmp_path / "grid.yaml")]) == 2
    assert ("no records here (a suite file: give the folder of its records, RESULTS/grid_study (results/ unless run "
            "with --results), named by the suite's name: key)") in capsys.readouterr().err


def test_compare_given_a_records_file_names_the_table_built_from_it(capsys, tmp_path):
    (tmp_path / "s").mkdir()
    for name, table in (("runs.jsonl", "leaderboard.csv"), ("kernels.jsonl", "kernels.csv")):
        (tmp_path / "s" / name).write_text('{"run_id": "a"}\n{"run_id": "b", "x": 1}\n')
        assert main(["compare", str(tmp_path / "s" / name), str(tmp_path / "s" / name)]) == 2
        assert capsys.readouterr().err == (f"gnnbench: error: {tmp_path / 's' / name}: a records file, not a "
                                           f"leaderboard CSV; pass the table built from it, {tmp_path / 's' / table} "
                                           f"(gnnbench leaderboard {tmp_path / 's'} rebuilds it)\n")


@pytest.mark.parametrize(("what", "expected"), [("models", "Kipf & Welling"), ("datasets", "Cora"),
                                                 ("tasks", "accuracy (max)"), ("scenarios", "label_noise")])
def test_list(capsys, what, expected):
    assert main(["list", what]) == 0
    assert expected in capsys.readouterr().out


def test_list_piped_is_one_tab_separated_row_per_entry(capsys):
    assert main(["list", "tasks"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split("\t") == ["name", "metric", "about", "options"]
    rows = {line.split("\t")[0]: line.split("\t") for line in lines[1:]}
    assert set(rows) == set(TASKS.names()) and all(len(row) == 4 for row in rows.values())
    assert rows["node_classification"][1] == "accuracy (max)" and "split=public" in rows["node_classification"][3]


def test_list_orders_numbered_names_by_their_numbers(capsys):
    """HeteroEdgeCount-2 before HeteroEdgeCount-10, as the leaderboards list them (a plain string sort put 10 first)."""
    assert main(["list", "datasets", "--task", "graph_regression"]) == 0
    names = [line.split("\t")[0] for line in capsys.readouterr().out.splitlines()[1:]]
    assert [n for n in names if n.startswith("HeteroEdgeCount-")] == [f"HeteroEdgeCount-{c}" for c in (2, 4, 6, 8, 10)]


def test_list_in_a_terminal_is_a_table_with_unbroken_names(capsys, monkeypatch):
    monkeypatch.setenv("FORCE_COLOR", "1")
    assert main(["list", "tasks"]) == 0
    out = capsys.readouterr().out
    assert "gnnbench tasks" in out and "\t" not in out and "inductive_node_classification" in out


def test_failed_runs_are_named_on_stderr_even_with_quiet(write_suite, capsys, tmp_path):
    path = write_suite(GOOD.format(dataset="Cora", model="{name: mlp, hparams: {lr: 1.0e+38}}")
                       .replace("seeds: 2, epochs: 3", "seeds: 1, epochs: 1"))
    results = tmp_path / "r"
    assert main(["run", str(path), "--results", str(results), "-q"]) == 1
    out, err = capsys.readouterr()
    (record,) = [json.loads(line) for line in (results / "cli" / "runs.jsonl").read_text().splitlines()]
    assert out == "" and record["status"] == "failed"
    where = record["error"]["where"]  # the line that raised: gnnbench's check of the loss, not torch's internals
    assert re.fullmatch(r".*/gnnbench/tasks/base\.py:\d+", where)
    assert err == (f"gnnbench: failed: mlp (lr=1e+38) on Cora seed 0: {record['error']['type']}: "
                   f"{record['error']['message']} at {where} (record in {results / 'cli' / 'runs.jsonl'})\n")
    assert main(["run", str(path), "--results", str(results), "-q", "--rerun-failed", "--debug"]) == 1
    assert capsys.readouterr().err.endswith(f"{record['error']['traceback'].splitlines()[-1]}\n")  # and the traceback
    assert main(["run", str(path), "--results", str(results), "-q"]) == 1  # kept, not retried: still failing
    assert capsys.readouterr().err == ("gnnbench: note: 1 run recorded as failed is kept, not retried "
                                       "(--rerun-failed retries it)\n")


def test_a_failed_run_under_a_scenario_is_named_with_it(write_suite, capsys, tmp_path):
    """Cora's public split has 20 training nodes per class: few_shot k=50 fails at run time, under its scenario."""
    path = write_suite(GOOD.format(dataset="Cora", model="mlp").replace("seeds: 2, epochs: 3", "seeds: 1, epochs: 1")
                       + "    scenario: {name: few_shot, k: 50}\n")
    results = tmp_path / "r"
    assert main(["run", str(path), "--results", str(results), "-q"]) == 1
    assert capsys.readouterr().err.startswith("gnnbench: failed: mlp (default) on Cora [few_shot(k=50)] seed 0: "
                                              "ValueError: few_shot k=50")
    md = (results / "cli" / "leaderboard.md").read_text()
    assert "| dataset | model | config | scenario | seed | error |" in md
    assert "| Cora | mlp | default | few_shot(k=50) | 0 | ValueError: few_shot k=50" in md


def test_where_a_run_failed_is_the_innermost_line_outside_the_libraries():
    import torch

    from gnnbench.errors import where

    def forward():
        return torch.nn.functional.dropout(torch.ones(2), p=1.5)  # torch raises, three frames down

    with pytest.raises(ValueError) as info:
        forward()
    assert where(info.value) == f"{__file__}:{forward.__code__.co_firstlineno + 1}"


def test_gnnbench_installed_among_the_libraries_still_counts_as_its_own_code(monkeypatch):
    from gnnbench import errors, files

    site = Path("/opt/venv/lib/python3.11/site-packages")
    monkeypatch.setattr(files, "PACKAGE", site / "gnnbench")
    assert not errors._library_file(site / "gnnbench" / "tasks" / "base.py")
    assert errors._library_file(site / "torch" / "nn" / "functional.py")
    assert errors._library_file(Path("/usr/lib/python3/dist-packages/numpy/core.py"))


def test_piped_output_keeps_long_lines_and_scenarios_apart(tmp_path, capsys):
    """A CI log is not a terminal: a path or a number is never wrapped, and robustness rows say their scenario."""
    import shutil

    folder = tmp_path / ("a-results-folder-with-a-long-name-" * 3) / "robustness"
    shutil.copytree(Path(__file__).parents[1] / "results" / "reference" / "robustness", folder)
    assert main(["leaderboard", str(folder / "runs.jsonl")]) == 0  # the file itself names its folder
    out = capsys.readouterr().out
    assert f"wrote {folder / 'leaderboard.csv'}, {folder / 'grid.csv'}, {folder / 'leaderboard.md'}" in out
    assert main(["leaderboard", str(folder / "leaderboard.csv"), "-q"]) == 0  # as does any file of the folder
    assert "label_noise(rate=0.4)" in out and "scenario" in out


def test_cli_mistakes_are_one_line_errors(tmp_path, capsys):
    quickstart = str(Path(__file__).parents[1] / "configs" / "quickstart.yaml")
    assert main(["prune", quickstart, "--results", str(tmp_path / "nowhere")]) == 2
    assert "nothing to prune" in capsys.readouterr().err
    (tmp_path / "emptied" / "quickstart").mkdir(parents=True)  # a run stopped at its checks left an empty file
    (tmp_path / "emptied" / "quickstart" / "runs.jsonl").touch()
    assert main(["prune", quickstart, "--results", str(tmp_path / "emptied")]) == 2
    assert "(an empty file); nothing to prune" in capsys.readouterr().err
    (tmp_path / "emptied" / "quickstart" / "runs.jsonl").write_text("\n\n")  # `echo > runs.jsonl`: nothing warned
    assert main(["prune", quickstart, "--results", str(tmp_path / "emptied")]) == 2
    assert "(blank lines only); nothing to prune" in capsys.readouterr().err
    (tmp_path / "emptied" / "quickstart" / "runs.jsonl").write_text('{"note": "not a record"}\n')
    assert main(["prune", quickstart, "--results", str(tmp_path / "emptied")]) == 2
    err = capsys.readouterr().err  # not empty: no records, and nothing unreadable to move either
    assert "lines are no records this gnnbench can read (each warned about above); nothing to prune" in " ".join(
        err.split())
    assert main(["list", "tasks", "--task", "node_classification"]) == 2
    assert "--task filters models, datasets and scenarios" in capsys.readouterr().err
    assert main(["profile", "kernels", "--device", "cpu", "--rows", "5", "--out", str(tmp_path / "p")]) == 2
    assert "--rows: not an option of `profile kernels` (it belongs to `profile loading`)" in capsys.readouterr().err
    board = Path(__file__).parents[1] / "results" / "reference" / "quickstart" / "leaderboard.csv"
    assert main(["compare", str(board), str(board), "--md", str(tmp_path / "no" / "such" / "dir.md")]) == 2
    assert capsys.readouterr().err.startswith("gnnbench: error: --md: cannot write")
    for option, value in (("--fail-on-regression", "-1"), ("--min-effect", "nan"), ("--min-effect", "inf")):
        with pytest.raises(SystemExit) as exit_info:  # NaN would make every row `unclear`: a gate switched off
            main(["compare", str(board), str(board), option, value])
        assert exit_info.value.code == 2 and "expected a finite number of at least 0" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:  # a negative share, which argparse took for an unknown option
        main(["compare", str(board), str(board), "--min-effect", "-1%"])
    assert exit_info.value.code == 2 and capsys.readouterr().err.endswith(
        "argument --min-effect: expected a finite number of at least 0, or a share of A such as 5%, got -1%\n")


def test_prune_moves_the_lines_that_are_not_json_aside_and_leaves_a_torn_last_line(tmp_path, capsys):
    """A corrupt line amid the records was warned about by every command, and prune, finding every record a run
    of the suite, left it: it moves such lines, each as it was, into unreadable.jsonl. A torn last line is the
    next writer's to cut off (as its warning says), so it stays."""
    quickstart = ROOT / "configs" / "quickstart.yaml"
    folder = tmp_path / "quickstart"
    shutil.copytree(ROOT / "results" / "reference" / "quickstart", folder)
    records = (folder / "runs.jsonl").read_bytes().splitlines(keepends=True)
    corrupt, torn = [b"not json\n", b"\xff\x00{\n"], b'{"run_id": "x", "sta'
    (folder / "runs.jsonl").write_bytes(records[0] + corrupt[0] + b"".join(records[1:]) + corrupt[1] + torn)
    with pytest.warns(UserWarning, match=r"runs\.jsonl:2: skipping a line that is not a JSON record; `gnnbench "
                                         r"prune SUITE\.yaml` moves it aside into unreadable\.jsonl"):
        RunStore(folder).latest()
    assert main(["prune", str(quickstart), "--results", str(tmp_path), "--dry-run"]) == 0
    assert (f"quickstart: would move 2 lines that are not JSON (lines 2, {len(records) + 2}) into "
            f"{folder / 'unreadable.jsonl'} (--dry-run: nothing moved)") in " ".join(capsys.readouterr().out.split())
    assert not (folder / "unreadable.jsonl").exists()
    assert main(["prune", str(quickstart), "--results", str(tmp_path)]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "quickstart: moved 2 lines that are not JSON" in out and "every record read from" in out
    assert (folder / "unreadable.jsonl").read_bytes() == b"".join(corrupt)
    assert (folder / "runs.jsonl").read_bytes() == b"".join(records) + torn
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert len(RunStore(folder).latest()) == len(records)
    assert [str(w.message) for w in caught if "torn" not in str(w.message)] == []


def test_prune_lets_go_of_its_read_before_the_leaderboard_reads_again_and_copies_no_spec(tmp_path, capsys,
                                                                                           monkeypatch):
    """prune held its read of every record (463 MB of 20,000) while its leaderboard read the records left, and
    explaining what it sets aside deep-copied every run of the suite (``RunSpec.to_dict``) to read six fields."""
    import dataclasses
    import weakref

    from gnnbench.harness.spec import RunSpec
    from gnnbench.recordable import encode

    quickstart = ROOT / "configs" / "quickstart.yaml"
    folder = tmp_path / "quickstart"
    shutil.copytree(ROOT / "results" / "reference" / "quickstart", folder)
    record = json.loads((folder / "runs.jsonl").read_bytes().splitlines()[0])
    spec = dataclasses.replace(RunSpec.from_dict(record["spec"]), epochs=500)  # made under another default
    old = encode({**record, "run_id": spec.run_id, "spec": spec.to_dict()})
    with (folder / "runs.jsonl").open("ab") as f:
        f.write(old)

    class Read(dict):  # a dict that can be watched for its release
        pass

    reads, held, copies = [], [], []
    latest, to_dict = RunStore.latest, RunSpec.to_dict

    def read(*args, **kwargs):
        held.append(any(earlier() is not None for earlier in reads))
        reads.append(weakref.ref(result := Read(latest(*args, **kwargs))))
        return result

    monkeypatch.setattr(RunStore, "latest", read)
    monkeypatch.setattr(RunSpec, "to_dict", lambda self: copies.append(self) or to_dict(self))
    assert main(["prune", str(quickstart), "--results", str(tmp_path)]) == 0
    assert "set aside 1 run (gcn on Cora: 1): epochs 500 -> 200 (1 run) into" in " ".join(
        capsys.readouterr().out.split())
    assert held == [False, False]  # prune's read, then the leaderboard's of the records left
    assert len(copies) == 1  # the suite's run the record is explained by
    assert (folder / "stale.jsonl").read_bytes() == old


def test_prune_says_which_lines_it_moved_under_the_lock_not_which_its_first_read_found(tmp_path, capsys, monkeypatch):
    """The file can change between prune's read and the lock it moves lines under (another prune, a hand edit):
    it names the lines it moved, numbered as they were then, and says so when none were left."""
    quickstart = ROOT / "configs" / "quickstart.yaml"
    folder = tmp_path / "quickstart"
    shutil.copytree(ROOT / "results" / "reference" / "quickstart", folder)
    records = (folder / "runs.jsonl").read_bytes().splitlines(keepends=True)
    (folder / "runs.jsonl").write_bytes(records[0] + b"not json\n" + b"".join(records[1:]))
    set_aside_unreadable = RunStore.set_aside_unreadable

    def edited_meanwhile(edit):
        def move(store):
            store.path.write_bytes(edit(store.path.read_bytes()))
            return set_aside_unreadable(store)
        monkeypatch.setattr(RunStore, "set_aside_unreadable", move)

    edited_meanwhile(lambda data: b"{ torn\n" + data)  # a line added before the others: they move down by one
    assert main(["prune", str(quickstart), "--results", str(tmp_path)]) == 0
    assert "quickstart: moved 2 lines that are not JSON (lines 1, 3) of" in " ".join(capsys.readouterr().out.split())
    assert (folder / "unreadable.jsonl").read_bytes() == b"{ torn\nnot json\n"
    (folder / "runs.jsonl").write_bytes(b"not json\n" + b"".join(records))
    edited_meanwhile(lambda data: data.replace(b"not json\n", b""))  # mended by hand meanwhile
    assert main(["prune", str(quickstart), "--results", str(tmp_path)]) == 0
    assert (f"quickstart: moved nothing into {folder / 'unreadable.jsonl'}: the lines of {folder / 'runs.jsonl'} "
            "that were not JSON were gone when it was locked (moved or mended)") in " ".join(
        capsys.readouterr().out.split())
    assert (folder / "runs.jsonl").read_bytes() == b"".join(records)


def test_a_warning_is_a_line_of_the_command(tmp_path, capsys):
    import shutil

    folder = tmp_path / "quickstart"
    shutil.copytree(Path(__file__).parents[1] / "results" / "reference" / "quickstart", folder)
    with (folder / "runs.jsonl").open("a") as f:
        f.write('{"not": "a record"}\n')
    assert main(["leaderboard", str(folder), "-q"]) == 0
    assert capsys.readouterr().err.startswith("gnnbench: warning: ")
    with pytest.warns(UserWarning, match="skipping a line that is not a run record"):  # --debug: Python's own
        assert main(["leaderboard", str(folder), "-q", "--debug"]) == 0
    assert "gnnbench: warning: " not in capsys.readouterr().err



def test_a_record_whose_spec_is_not_its_run_is_left_out_of_the_leaderboard_with_its_line_named(tmp_path, capsys):
    """A learning rate edited in a record's spec, not in its run_id: its result was counted for a configuration that
    did not make it. Its line is skipped with a warning naming both ids, and its run counts as not recorded."""
    folder = tmp_path / "quickstart"
    shutil.copytree(ROOT / "results" / "reference" / "quickstart", folder)
    lines = (folder / "runs.jsonl").read_text().splitlines(keepends=True)
    number, record = next((n, json.loads(line)) for n, line in enumerate(lines, start=1)
                          if json.loads(line)["spec"]["model"] == "gat")
    record["spec"]["hparams"]["lr"] *= 10
    lines[number - 1] = json.dumps(record) + "\n"
    (folder / "runs.jsonl").write_text("".join(lines))
    assert main(["leaderboard", str(folder), "-q"]) == 0
    err = " ".join(capsys.readouterr().err.split())
    assert re.search(rf"gnnbench: warning: {re.escape(str(folder / 'runs.jsonl'))}:{number}: skipping a line that "
                     rf"has run_id '{record['run_id']}', but its spec hashes to '[0-9a-f]{{16}}': one of them was "
                     "edited after the run, so whose results it holds cannot be told", err)
    board = pd.read_csv(folder / "leaderboard.csv").set_index("model")
    assert board.at["gat", "n"] == 2 and board.at["gcn", "n"] == 3


def test_quiet_and_debug_work_before_and_after_the_subcommand(write_suite, capsys, tmp_path):
    path = write_suite(GOOD.format(dataset="Cora", model="mlp"))
    for argv in (["-q", "run", str(path), "--dry-run"], ["run", str(path), "--dry-run", "-q"]):
        assert main([*argv, "--results", str(tmp_path)]) == 0  # quiet: the plan's counts, not its line per run
        assert capsys.readouterr().out == (f"cli: 2 runs, 0 recorded, 0 failed (kept), 2 to run -> "
                                           f"{tmp_path / 'cli' / 'runs.jsonl'}\n")
    broken = write_suite("name: x\nexperiments: [\n", "broken.yaml")
    for argv in (["--debug", "run", str(broken)], ["run", str(broken), "--debug"]):
        assert main(argv) == 2
        assert "Traceback" in capsys.readouterr().err
    assert main(["run", str(broken)]) == 2
    assert "Traceback" not in capsys.readouterr().err


@pytest.mark.parametrize("workers", ["0", "-1", "two"])
def test_workers_below_one_is_a_usage_error(write_suite, capsys, tmp_path, workers):
    path = write_suite(GOOD.format(dataset="Cora", model="mlp"))
    with pytest.raises(SystemExit) as exit_:
        main(["run", str(path), "--results", str(tmp_path), "--executor", "process", f"--workers={workers}",
              "--dry-run"])
    assert exit_.value.code == 2
    assert "argument --workers: expected a positive integer, got " in capsys.readouterr().err


def test_executor_flags_the_chosen_executor_ignores_are_warnings(write_suite, capsys, tmp_path):
    path = write_suite(GOOD.format(dataset="Cora", model="mlp"))
    assert main(["run", str(path), "--results", str(tmp_path), "--workers", "2", "--dry-run", "-q"]) == 0
    assert capsys.readouterr().err == ("gnnbench: warning: --workers is for the process executor; the local executor "
                                       "ignores it (add --executor process)\n")
    assert main(["run", str(path), "--results", str(tmp_path), "--address", "head:6379", "--executor", "process",
                 "--dry-run", "-q"]) == 0
    assert capsys.readouterr().err == ("gnnbench: warning: --address is for the ray executor; the process executor "
                                       "ignores it\n")
    assert main(["run", str(path), "--results", str(tmp_path), "--workers", "2", "--executor", "process",
                 "--dry-run"]) == 0
    assert capsys.readouterr().err == ""
    assert main(["run", str(path), "--results", str(tmp_path), "-v", "--executor", "process", "--dry-run", "-q"]) == 0
    assert capsys.readouterr().err == ("gnnbench: warning: -v shows the epochs of the local executor; the process "
                                       "executor ignores it\n")


def test_verbose_epoch_lines_name_their_run(write_suite, tmp_path, monkeypatch):
    """``run -v`` shows each epoch as it passes; with several runs in a suite, each line says whose it is."""
    from rich.progress import Progress

    from gnnbench.cli import run

    shown: list[str] = []

    class Recording(Progress):
        def update(self, task_id, **fields):
            if fields.get("description", "").startswith("  "):  # the epoch line, not the suite's bar
                shown.append(fields["description"])
            super().update(task_id, **fields)

    monkeypatch.setattr(run, "progress_bars", lambda console: Recording(console=console, disable=True))
    path = write_suite(GOOD.format(dataset="Cora", model="mlp"))
    assert main(["run", str(path), "--results", str(tmp_path), "-v", "-q"]) == 0
    assert [line.split(":")[0] for line in shown] == [f"  mlp (default) on Cora seed {s}, epoch {e}"
                                                      for s in (0, 1) for e in (1, 2, 3)]


def test_list_models_shows_the_defaults_of_the_task_asked_for(capsys):
    def gcn_defaults(*task: str) -> str:
        assert main(["list", "models", *task]) == 0
        return next(line for line in capsys.readouterr().out.splitlines() if line.startswith("gcn\t")).split("\t")[3]

    assert "batch_size" not in gcn_defaults()  # full-batch node classification, the first task gcn lists
    assert "batch_size=32" in gcn_defaults("--task", "inductive_node_classification")  # mini-batch training
    assert gcn_defaults().endswith("; kernels: scatter, torch_scatter, csr")  # what the model can run
    assert gcn_defaults("--task", "link_prediction").endswith("; kernels: scatter")  # what this task can run it on
    assert main(["list", "models"]) == 0  # DGMLP's official PubMed settings, for a dataset not shipped yet
    dgmlp = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("dgmlp\t"))
    assert "; on PubMed (not registered): " in dgmlp and "; on Cora: " in dgmlp


def test_list_models_can_import_a_plugin_first(capsys, tmp_path, monkeypatch):
    from gnnbench.registry import MODELS

    monkeypatch.setattr(MODELS, "_entries", dict(MODELS._entries))
    (tmp_path / "mine.py").write_text(
        "from torch import nn\nfrom gnnbench import register_model\n\n"
        "@register_model('listed_plugin', tasks=('node_classification',), defaults={'lr': 0.02})\n"
        "class Mine(nn.Module):\n    def __init__(self, in_channels: int, out_channels: int, width: int = 8):\n"
        "        super().__init__()\n")
    monkeypatch.chdir(tmp_path)
    assert main(["list", "models", "--plugin", "mine.py"]) == 0
    line = next(x for x in capsys.readouterr().out.splitlines() if x.startswith("listed_plugin\t"))
    assert "lr=0.02" in line and "width=8" in line
    assert main(["list", "models", "--plugin", "missing.py"]) == 2
    assert "gnnbench: error: --plugin missing.py: plugin file not found: " in capsys.readouterr().err
    (tmp_path / "typo.py").write_text("from torch import nn\nfrom gnnbench import register_model\n\n"
                                      "@register_model('typo_task', tasks=('node_clasification',))\n"
                                      "class Typo(nn.Module):\n    pass\n")
    assert main(["list", "models", "--plugin", "typo.py"]) == 2  # the model and its file are named
    assert capsys.readouterr().err.startswith("gnnbench: error: model 'typo_task' (")


def test_list_with_an_unknown_task_names_the_known_ones(capsys):
    assert main(["list", "models", "--task", "node_clasification"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("gnnbench: error: --task: unknown task 'node_clasification'; known tasks: ")
    assert all(name in err for name in TASKS.names()) and err.endswith("did you mean 'node_classification'?\n")


def test_list_of_nothing_for_a_task_says_so_beside_the_header(capsys):
    assert main(["list", "scenarios", "--task", "link_prediction"]) == 0
    out, err = capsys.readouterr()
    assert out == "name\ttasks\tabout\toptions\n"
    assert err == "gnnbench: note: no scenario serves task 'link_prediction'\n"


def test_a_run_from_a_modified_checkout_says_its_records_do_not_pin_the_code(write_suite, capsys, tmp_path,
                                                                               monkeypatch):
    from gnnbench.harness import env

    monkeypatch.setattr(env, "modified_checkout", lambda: "0123456789abcdef0123-dirty")
    path = write_suite(GOOD.format(dataset="Cora", model="mlp"))
    argv = ["run", str(path), "--results", str(tmp_path), "-q"]
    assert main(argv) == 0
    assert ("note: this gnnbench checkout has uncommitted changes outside results/: the new records name commit "
            "0123456789ab-dirty") in capsys.readouterr().err
    assert main(argv) == 0  # nothing left to run: nothing to say
    assert "uncommitted" not in capsys.readouterr().err


@pytest.mark.parametrize("command", ["run", "prune"])
def test_an_empty_results_root_is_a_usage_error_not_the_current_folder(write_suite, capsys, command):
    """``--results ''`` (an unset variable in a script) would write the suite's folder into the current one."""
    path = write_suite(GOOD.format(dataset="Cora", model="mlp"))
    with pytest.raises(SystemExit) as exit_:
        main([command, str(path), "--results", ""])
    assert exit_.value.code == 2
    assert "argument --results: expected a folder for the results (default: results), got an empty path" in (
        capsys.readouterr().err)


@pytest.mark.parametrize("args", [("list", "models"), ("leaderboard", "results/reference/quickstart")])
def test_a_closed_output_pipe_stops_the_command_quietly(args):
    """``gnnbench list models | head -1``: the reader leaves early; plain prints and Rich's tables alike end with
    128 + SIGPIPE and nothing on stderr, as ``ls | head`` does, not with an I/O error."""
    read, write = os.pipe()
    os.close(read)
    try:
        proc = subprocess.run([sys.executable, "-m", "gnnbench", *args], stdout=write, stderr=subprocess.PIPE,
                              cwd=ROOT, timeout=120)
    finally:
        os.close(write)
    assert (proc.returncode, proc.stderr) == (128 + signal.SIGPIPE, b"")


def test_the_results_commands_import_neither_torch_nor_pyg(tmp_path):
    """``leaderboard`` and ``compare`` read records and tables: torch and PyG, which nothing there uses, once cost
    each command seconds and hundreds of MB (through the run spec the store hashes a record's run id with)."""
    folder = tmp_path / "quickstart"
    shutil.copytree(ROOT / "results" / "reference" / "quickstart", folder)
    other = ROOT / "results" / "reference" / "node_classification" / "leaderboard.csv"
    script = f"""\
import sys
import gnnbench.cli.results, gnnbench.harness.store, gnnbench.leaderboard.compare, gnnbench.leaderboard.compare_report
import gnnbench.leaderboard.html, gnnbench.leaderboard.profile
from gnnbench.cli import main
assert main(["leaderboard", {str(folder)!r}, "--html", "-q"]) == 0
assert main(["compare", {str(other)!r}, {str(folder / "leaderboard.csv")!r}, "-q"]) == 0
print("imported:", sorted({{"torch", "torch_geometric"}} & sys.modules.keys()))
"""
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "imported: []"
