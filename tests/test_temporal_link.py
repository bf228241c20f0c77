"""Temporal link prediction: stream loaders, the chronological split, the three negative strategies, the MRR,
and EdgeBank's scores against a hand computation."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
import torch
from torch_geometric.data import TemporalData

from gnnbench import hparams as hp
from gnnbench.cli import main
from gnnbench.data.temporal import load_dyglib, load_jodie, load_snap, periodic_stream, stream
from gnnbench.errors import DataError
from gnnbench.leaderboard.aggregate import runs_frame
from gnnbench.registry import DATASETS, MODELS
from gnnbench.tasks.base import Budget, FitResult, RunContext
from gnnbench.tasks.metrics import average_precision, mrr
from gnnbench.tasks.temporal_link import (
    TemporalLinkModel,
    TemporalLinkOptions,
    TemporalLinkPrediction,
    hide_test,
    sample_negatives,
)

CPU = RunContext(torch.device("cpu"), seed=0)


def test_a_dyglib_csv_loads_with_and_without_edge_features(tmp_path) -> None:
    frame = pd.DataFrame({"u": [7, 3, 7, 9], "i": [3, 9, 9, 7], "ts": [5.0, 1.0, 5.0, 8.0], "label": 0,
                          "idx": [1, 2, 3, 4]})
    frame.to_csv(tmp_path / "ml_toy.csv")  # DyGLib writes the pandas index as a leading unnamed column
    data = load_dyglib(tmp_path, "toy")
    assert data.t.tolist() == [1, 5, 5, 8] and data.msg.shape == (4, 1) and not data.msg.any()
    assert data.src.tolist() == [0, 1, 1, 2] and data.dst.tolist() == [2, 0, 2, 1]  # ids 3, 7, 9 -> 0, 1, 2
    features = np.arange(10, dtype=np.float32).reshape(5, 2)  # row 0 is DyGLib's padding row
    np.save(tmp_path / "ml_toy.npy", features)
    assert load_dyglib(tmp_path, "toy").msg.tolist() == [[4, 5], [2, 3], [6, 7], [8, 9]]


def test_bad_stream_files_name_the_file_and_what_was_expected(tmp_path) -> None:
    pd.DataFrame({"u": [1], "dst": [2], "ts": [0]}).to_csv(tmp_path / "ml_bad.csv")
    with pytest.raises(DataError, match=r"ml_bad.csv: missing column\(s\) i"):
        load_dyglib(tmp_path, "bad")
    with pytest.raises(DataError, match="ml_none.csv is missing"):
        load_dyglib(tmp_path, "none")
    (tmp_path / "snap.txt").write_text("1 2\n")
    with pytest.raises(DataError, match="snap.txt: expected 3 columns"):
        load_snap(tmp_path / "snap.txt")


def test_fractional_times_are_refused_naming_the_file_not_truncated_nor_left_to_fail_the_task(tmp_path) -> None:
    """A memory model keeps integer times: DyGLib times of whole values load as integers, fractional ones are
    refused where they are read, not by the task's stream check pointing at ``stream()``."""
    pd.DataFrame({"u": [1, 2, 3], "i": [2, 3, 1], "ts": [0.0, 1.5, 3.25], "label": 0}).to_csv(tmp_path / "ml_f.csv")
    with pytest.raises(DataError) as info:
        load_dyglib(tmp_path, "f")
    assert str(info.value) == (f"{tmp_path / 'ml_f.csv'} (column ts): t holds fractional times (2 events; first: "
                               "event 1 as given, t=1.5); expected whole times: scale them to a finer whole unit "
                               "(seconds to milliseconds: t * 1000)")
    whole = stream(torch.tensor([0, 1]), torch.tensor([1, 0]), torch.tensor([3.0, 2.0]))
    assert whole.t.dtype == torch.long and whole.t.tolist() == [2, 3]


def test_snap_and_jodie_files_load_as_time_sorted_streams(tmp_path) -> None:
    (tmp_path / "snap.txt").write_text("10 20 300\n20 30 100\n")
    data = load_snap(tmp_path / "snap.txt")
    assert data.t.tolist() == [100, 300] and data.src.tolist() == [1, 0] and data.num_nodes == 3
    raw = tmp_path / "wikipedia" / "raw"
    raw.mkdir(parents=True)
    (raw / "wikipedia.csv").write_text("user,item,ts,label,f1,f2\n0,0,1.0,0,0.5,1.5\n1,0,2.0,0,2.5,3.5\n")
    jodie = load_jodie(tmp_path, "wikipedia")
    assert jodie.src.tolist() == [0, 1] and jodie.dst.tolist() == [2, 2] and jodie.msg.tolist()[1] == [2.5, 3.5]
    with pytest.raises(DataError, match="expected its CSV at"):  # never a download
        load_jodie(tmp_path, "reddit")


def test_jodie_processes_under_a_lock_keyed_by_its_folder(tmp_path, monkeypatch) -> None:
    """PyG writes ``processed/`` on first load: a second process must wait for it, not read it half-written.
    The lock lives in the cache folder, so a read-only data root stays readable."""
    import fcntl
    import hashlib

    from gnnbench.data import temporal

    monkeypatch.setenv("GNNBENCH_CACHE", str(tmp_path / "cache"))
    key = hashlib.sha256(str((tmp_path / "wikipedia").resolve()).encode()).hexdigest()[:16]
    raw = tmp_path / "wikipedia" / "raw"
    raw.mkdir(parents=True)
    (raw / "wikipedia.csv").write_text("user,item,ts,label,f1\n0,0,1.0,0,0.5\n")
    held = []

    class Probe(temporal.JODIEDataset):
        def __init__(self, root: str, name: str) -> None:
            with (tmp_path / "cache" / f".jodie-{key}.lock").open("a") as other:
                try:
                    fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    held.append(False)
                except BlockingIOError:
                    held.append(True)
            super().__init__(root, name)

    monkeypatch.setattr(temporal, "JODIEDataset", Probe)
    assert load_jodie(tmp_path, "wikipedia").num_events == 1 and held == [True]


def test_collegemsg_is_vendored_with_its_published_size() -> None:
    data = DATASETS.get("CollegeMsg").obj()
    assert (data.num_events, data.num_nodes) == (59835, 1899) and bool((data.t[1:] >= data.t[:-1]).all())


def test_periodic_stream_repeats_every_pair_exactly_one_period_later() -> None:
    data = periodic_stream(num_pairs=8, periods=3, seed=1)
    assert torch.equal(data.src[8:], data.src[:-8]) and torch.equal(data.dst[8:], data.dst[:-8])
    assert sorted(data.src[:8].tolist()) == list(range(8)) and torch.equal(data.dst[:8], data.src[:8] + 8)


def toy_stream() -> TemporalData:
    """Source 0 messages 1, 2, 3 in turn, with 4, 5, 6, 7 busy elsewhere and, from event 70 on, messaging the
    new nodes 8, 9, 10; 100 events, one per time step."""
    src, dst = [], []
    for k in range(100):
        src.append(0 if k % 2 == 0 else 4 + (k // 2) % 4)
        other = 4 + (k // 2 + 1) % 4 if k < 70 else 8 + (k // 2) % 3
        dst.append(1 + (k // 2) % 3 if k % 2 == 0 else other)
    return stream(torch.tensor(src), torch.tensor(dst), torch.arange(100))


def test_negative_strategies_differ_and_historical_ones_are_historical() -> None:
    data = toy_stream()
    start, end = 70, 100
    draws = {s: sample_negatives(data, start, end, 70, s, 5, seed=3)[0] for s in ("random", "historical",
                                                                                 "inductive")}
    assert not torch.equal(draws["random"], draws["historical"])
    assert not torch.equal(draws["random"], draws["inductive"])
    assert not torch.equal(draws["historical"], draws["inductive"])
    for e in range(start, end):
        u, v, t = int(data.src[e]), int(data.dst[e]), int(data.t[e])
        past = set(data.dst[(data.src == u) & (data.t < t)].tolist())
        now = set(data.dst[(data.src == u) & (data.t == t)].tolist())
        negatives = set(draws["historical"][e - start].tolist())
        if past - now - {v}:
            assert negatives <= past - now - {v}
            assert v not in set(draws["random"][e - start].tolist())
        new = set(data.dst[70:e].tolist()) - set(data.dst[:70].tolist()) - {v}
        if new:
            assert set(draws["inductive"][e - start].tolist()) <= new
    again = sample_negatives(data, start, end, 70, "historical", 5, seed=3)[0]
    assert torch.equal(again, draws["historical"])  # fixed seed: every model sees the same negatives


def test_inductive_negatives_are_destinations_first_seen_after_training() -> None:
    src = torch.tensor([0, 0, 1, 1, 2, 2, 0, 0, 1, 1])
    dst = torch.tensor([5, 6, 5, 6, 7, 8, 5, 9, 5, 6])
    data = stream(src, dst, torch.arange(10))
    negatives, fell_back = sample_negatives(data, 6, 10, train_end=4, strategy="inductive", k=4, seed=0)
    # destinations new after event 4: 7, 8 (seen at t = 4, 5), then 9 (t = 7); renumbered ids are dst - 2
    assert set(negatives[0].tolist()) <= {5, 6} and set(negatives[2].tolist()) <= {5, 6, 7}
    assert fell_back.tolist() == [False] * 4
    _, fell_back = sample_negatives(data, 4, 10, train_end=4, strategy="inductive", k=4, seed=0)
    assert fell_back.tolist() == [True] + [False] * 5  # event 4: no destination new after training yet


def test_random_fallbacks_count_only_the_scored_events() -> None:
    data = periodic_stream(num_pairs=20, periods=10)
    split = TemporalLinkPrediction(TemporalLinkOptions(setting="inductive", negatives="historical")).split(data)
    for name, (start, end) in split.ranges.items():
        scored = int(split.scored[name].sum())
        assert 0 < scored < end - start
        assert split.fallbacks[name] == scored  # one partner per source: no historical candidate, every draw falls back


def test_mrr_is_tie_aware() -> None:
    assert mrr(torch.tensor([1.0]), torch.tensor([[0.0, 0.0]])) == 1.0
    assert mrr(torch.tensor([1.0]), torch.tensor([[1.0, 1.0]])) == pytest.approx(1 / 2)  # ranks 1..3 -> 2
    assert mrr(torch.tensor([0.0, 1.0]), torch.tensor([[1.0, 2.0], [0.0, 0.5]])) == pytest.approx((1 / 3 + 1) / 2)


def test_chronological_split_and_hidden_nodes() -> None:
    data = periodic_stream(num_pairs=20, periods=10)
    task = TemporalLinkPrediction(TemporalLinkOptions(setting="inductive", mrr_negatives=3))
    split = task.split(data)
    (a, b), (b2, c) = split.ranges["val"], split.ranges["test"]
    assert (a, b, b2, c) == (140, 170, 170, 200)
    assert split.train.t.max() < data.t[a] and split.train.num_events < a
    seen = set(split.train.src.tolist()) | set(split.train.dst.tolist())
    scored = data[a:b][split.scored["val"]]
    assert all(int(u) not in seen or int(v) not in seen for u, v in zip(scored.src, scored.dst, strict=True))
    assert split.negatives["val"].shape == (int(split.scored["val"].sum()), 3)
    assert "inductive" in split.description and "negatives=random(seed=0,k=3)" in split.description
    view = hide_test(split)  # what a training protocol gets: the stream stops after validation
    assert view.full.num_events == b and set(view.ranges) == set(view.negatives) == {"val"}


@pytest.mark.parametrize(("data", "options", "message"), [
    (stream(torch.arange(100) % 7, (torch.arange(100) + 1) % 7, torch.arange(100) // 20), {},
     "the test period holds no events: the time quantiles of val_fraction=0.15 and test_fraction=0.15 split the "
     "stream's 5 distinct times at events 80 and 100 of 100"),
    (periodic_stream(num_pairs=20, periods=10), {"setting": "inductive", "new_node_fraction": 0.0},
     "setting 'inductive' scores no validation event: none of its 30 events has an endpoint unseen in training "
     "(new_node_fraction=0.0 hid 0 nodes)"),
    (periodic_stream(num_pairs=20, periods=10), {"new_node_fraction": 0.95},
     "no training events: each of the 140 events of the training period touches one of the 38 nodes hidden"),
])
def test_a_split_that_trains_or_scores_nothing_is_refused_before_any_run(data, options, message) -> None:
    """Not a crash after training (nothing to score), nor a run recorded ok that trained on no event."""
    task = TemporalLinkPrediction(TemporalLinkOptions(**options))
    with pytest.raises(DataError, match=re.escape(message)):
        task.check_data(data)
    with pytest.raises(DataError, match=re.escape(message)):
        task.split(data)


def hand_stream() -> TemporalData:
    """Train: (0,1)@1 (0,2)@2 (1,2)@3 ... val: (0,1)@8, (2,3)@9; test: (0,2)@10, (3,1)@11 (all dst-replaced)."""
    src = torch.tensor([0, 0, 1, 0, 1, 0, 1, 0, 2, 0, 3])
    dst = torch.tensor([1, 2, 2, 1, 2, 1, 2, 1, 3, 2, 1])
    return stream(src, dst, torch.arange(1, 12))


def test_edgebank_average_precision_equals_the_hand_computed_value() -> None:
    data = hand_stream()
    task = TemporalLinkPrediction(TemporalLinkOptions(val_fraction=0.2, test_fraction=0.2, new_node_fraction=0.0,
                                                      batch_size=1, mrr_negatives=1))
    split = task.split(data)
    assert split.ranges == {"val": (7, 9), "test": (9, 11)}
    split.negatives["test"] = torch.tensor([[1], [2]])  # (0, 1) seen before t = 10; (3, 2) never seen
    entry = MODELS.get("edgebank")
    model = entry.obj(in_channels=1, out_channels=1, num_nodes=data.num_nodes)
    model.fit(task, split, {}, Budget(1), CPU)
    test = task.evaluate(model, split, "test")
    # positives (0, 2)@10 -> seen (1), (3, 1)@11 -> unseen (0); negatives (0, 1) -> seen (1), (3, 2) -> 0.
    # Ranking: the two 1s (one positive, one negative) tie at the top, then the two 0s (one of each):
    # AP = (1/2 - 0) * 2/4 + (1 - 1/2) * 2/4 = 0.5.
    assert test["average_precision"] == pytest.approx(0.5)
    assert test["average_precision"] == average_precision(torch.tensor([1.0, 0, 1, 0]), torch.tensor([1, 1, 0, 0]))
    assert test["roc_auc"] == pytest.approx(0.5)


def test_edgebank_time_window_forgets_old_edges() -> None:
    history = stream(torch.tensor([0, 1]), torch.tensor([1, 2]), torch.tensor([0, 90]))
    model = MODELS.get("edgebank").obj(1, 1, num_nodes=3, memory="time_window")
    model.window = 20.0
    logits = model.link_logits(history, torch.tensor([0, 1]), torch.tensor([[1], [2]]), torch.tensor([100, 100]))
    assert logits.view(-1).tolist() == [0.0, 1.0]  # (0, 1) is 100 old: outside the window of 20
    model.window = None
    assert model.link_logits(history, torch.tensor([0]), torch.tensor([[1]]), torch.tensor([100])).item() == 1.0


def test_a_run_records_strategy_seed_and_a_leaderboard_row_per_protocol() -> None:
    entry = MODELS.get("edgebank")
    data = periodic_stream(num_pairs=20, periods=10)
    records = []
    for negatives in ("random", "historical"):
        task = TemporalLinkPrediction(TemporalLinkOptions(negatives=negatives, negative_seed=4))
        result = task.run(entry, data, hp.resolve(entry, TemporalLinkPrediction, {}), Budget(1), CPU)
        assert result["negatives"]["strategy"] == negatives and result["negatives"]["seed"] == 4
        assert f"negatives={negatives}(seed=4" in result["split"]
        records.append({"run_id": negatives, "status": "ok", "task_label": task.label(), "metric": task.metric,
                        "direction": task.direction, **result,
                        "spec": {"task": "temporal_link", "dataset": "p", "model": "edgebank", "seed": 0}})
    # every source of the periodic stream has one partner only: no historical candidate, all fall back (counted)
    assert result["negatives"]["random_fallbacks"]["test"] == result["data"]["num_test_scored"]
    assert set(runs_frame(records)["task"]) == {"temporal_link(transductive,random)",
                                                "temporal_link(transductive,historical)"}


def test_a_suite_runs_each_protocol_into_its_own_leaderboard_row(write_suite, tmp_path) -> None:
    path = write_suite("""\
        name: temporal
        defaults: {seeds: 1, epochs: 1, datasets: [PeriodicStream], models: [edgebank, edgebank_tw]}
        experiments:
          - {task: {name: temporal_link, negatives: random}}
          - {task: {name: temporal_link, setting: inductive, negatives: historical}}
        """)
    assert main(["run", str(path), "--results", str(tmp_path / "r"), "-q"]) == 0
    board = pd.read_csv(tmp_path / "r" / "temporal" / "leaderboard.csv")
    assert sorted(set(board["task"])) == ["temporal_link(inductive,historical)", "temporal_link(transductive,random)"]
    assert len(board) == 4 and (board["n"] == 1).all() and (board["metric"] == "average_precision").all()


class CountsPasses(TemporalLinkModel):
    """One weight, and a count of the passes over the stream it has started: state outside its state_dict, as a
    memory model's bank of what it has observed is."""

    def __init__(self) -> None:
        super().__init__()
        self.weight = torch.nn.Parameter(torch.zeros(()))
        self.passes = 0

    def reset_state(self) -> None:
        self.passes += 1

    def link_logits(self, history, src, dst, t):
        return self.weight * torch.ones(dst.shape)


def test_the_selected_epoch_restores_what_the_model_observed_not_only_its_parameters(monkeypatch) -> None:
    """Validation AP falls after epoch 0: the model is left as it stood after epoch 0's pass (one pass started),
    not with the last epoch's memory and the first epoch's weights."""
    task = TemporalLinkPrediction(TemporalLinkOptions())
    split = hide_test(task.split(periodic_stream(num_pairs=20, periods=10)))
    scores = iter([0.9, 0.5, 0.4])
    monkeypatch.setattr(task, "evaluate", lambda model, split, name: {"average_precision": next(scores), "loss": 1.0})
    model = CountsPasses()
    fit = task.fit(model, split, {"lr": 0.01, "weight_decay": 0.0}, Budget(3), CPU)
    assert (fit.best_epoch, fit.epochs_run, model.passes) == (0, 3, 1)


class NoTimes(CountsPasses):
    """A ``link_logits`` that takes no times."""

    def __init__(self, in_channels: int, out_channels: int, num_nodes: int) -> None:
        super().__init__()

    def link_logits(self, history, src, dst):
        return self.weight * torch.ones(dst.shape)


class NoLogits(TemporalLinkModel):
    """``TemporalLinkModel``'s abstract ``link_logits`` left undefined."""

    def __init__(self, in_channels: int, out_channels: int, num_nodes: int) -> None:
        super().__init__()


@pytest.mark.parametrize(("model", "problem"), [
    (NoTimes, r"has a link_logits that cannot take \(history, src, dst, t\): task 'temporal_link' calls "
              r"model\.link_logits\(history, src, dst, t\) \(link_logits at .*test_temporal_link\.py:\d+\)"),
    # no place: the abstract stub is gnnbench's code, not the model's
    (NoLogits, r"has no link_logits: task 'temporal_link' calls model\.link_logits\(history, src, dst, t\)"),
])
def test_a_run_of_a_model_lacking_link_logits_or_whose_link_logits_cannot_take_the_call_names_it(model,
                                                                                                  problem) -> None:
    """A run (started from Python here; a suite refuses a ``link_logits`` that cannot take the call when it loads):
    the model, the task's call and where its ``link_logits`` is, if it has one, not an error inside the protocol."""
    from gnnbench.registry import Entry

    with pytest.raises(ValueError, match=f"^{model.__name__} {problem}$"):
        TemporalLinkPrediction(TemporalLinkOptions()).run(Entry("mine", model), periodic_stream(20, 10),
                                                          dict(TemporalLinkPrediction.train_hparams), Budget(1), CPU)


class Seen(torch.nn.Module):
    """EdgeBank's pattern without its base: its own ``fit`` scores the validation events once; no ``reset_state``."""

    def __init__(self, in_channels: int, out_channels: int, num_nodes: int) -> None:
        super().__init__()
        self.num_nodes = num_nodes

    def fit(self, task, split, hparams, budget, ctx):
        val = task.evaluate(self, split, "val")
        return FitResult(best_epoch=0, epochs_run=0, history={f"val_{k}": [v] for k, v in val.items()})

    def link_logits(self, history, src, dst, t):
        return torch.isin(src.unsqueeze(1) * self.num_nodes + dst, history.src * self.num_nodes + history.dst).float()

    def observe(self, batch) -> None:
        pass


def test_a_model_with_its_own_fit_needs_no_reset_state() -> None:
    """Only the task's ``fit`` resets the state; the evaluation calls ``link_logits`` and ``observe`` alone."""
    from gnnbench.registry import Entry

    result = TemporalLinkPrediction(TemporalLinkOptions()).run(Entry("seen", Seen), periodic_stream(20, 10),
                                                               dict(TemporalLinkPrediction.train_hparams), Budget(1),
                                                               CPU)
    assert result["metrics"]["test"]["average_precision"] > 0.5  # each pair recurs: seen pairs score 1


class HandsOver(Seen):
    """Its own ``fit`` hands over to the task's, as Todyformer's does after its preprocessing; no ``reset_state``."""

    def __init__(self, in_channels: int, out_channels: int, num_nodes: int) -> None:
        super().__init__(in_channels, out_channels, num_nodes)
        self.weight = torch.nn.Parameter(torch.zeros(()))  # for the task's optimiser

    def fit(self, task, split, hparams, budget, ctx):
        return task.fit(self, split, hparams, budget, ctx)


def test_a_model_whose_own_fit_hands_over_to_the_task_s_is_named_when_it_lacks_reset_state() -> None:
    """The check at the run's start passes it (its own ``fit`` may not call the task's); the task's ``fit`` refuses
    it in the same words, not with an AttributeError from its first epoch."""
    from gnnbench.registry import Entry

    with pytest.raises(ValueError, match=r"^HandsOver has no reset_state: task 'temporal_link' calls "
                                         r"model\.reset_state\(\)$"):
        TemporalLinkPrediction(TemporalLinkOptions()).run(Entry("hands_over", HandsOver), periodic_stream(20, 10),
                                                          dict(TemporalLinkPrediction.train_hparams), Budget(1), CPU)


def test_training_that_edits_the_shared_stream_in_place_fails() -> None:
    """The training view slices the stream the test events are scored on: an in-place edit would reach them."""
    from gnnbench.tasks.base import read_only

    task = TemporalLinkPrediction(TemporalLinkOptions())
    split = task.split(periodic_stream(num_pairs=20, periods=10))
    view = hide_test(split)
    with pytest.raises(ValueError, match=r"training modified data.full.msg in place"), read_only(view):
        view.full.msg += 1.0
    assert split.full.msg.max() >= 1.0  # the edit did reach the evaluated stream: hence the error
