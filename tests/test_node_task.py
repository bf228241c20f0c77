from __future__ import annotations

import inspect
import math
import re

import pytest
import torch
from torch import nn
from torch_geometric.data import Data

from gnnbench.harness.runner import execute
from gnnbench.harness.suite import load_suite
from gnnbench.registry import MODELS, register_model
from gnnbench.tasks.base import EarlyStopping, FitResult, train_epochs
from gnnbench.tasks.metrics import accuracy, macro_f1
from gnnbench.tasks.node import NodeClassification, hide_test


def spec_for(write_suite, model="gcn", epochs=30, patience="null", task="node_classification", seeds=1):
    suite = load_suite(write_suite(f"""\
        name: t
        experiments:
          - task: {task}
            datasets: [Cora]
            models: [{model}]
            seeds: {seeds}
            epochs: {epochs}
            patience: {patience}
        """))
    return suite.specs


def test_validation_selects_the_epoch_and_the_restored_state_is_what_is_evaluated(write_suite):
    record = execute(spec_for(write_suite, epochs=40)[0])
    assert record["status"] == "ok", record.get("error")
    history = record["history"]
    val = history["val_accuracy"]
    best = record["best_epoch"]
    assert val[best] == pytest.approx(max(val))
    first_max = [e for e, v in enumerate(val) if v == max(val)]
    losses = [history["val_loss"][e] for e in first_max]
    assert best == first_max[losses.index(min(losses))]  # ties go to the lower validation loss
    assert record["metrics"]["val"]["accuracy"] == pytest.approx(val[best], abs=1e-6)  # best state restored
    assert record["epochs_run"] == 40


def test_early_stopping_stops_patience_epochs_after_the_best(write_suite):
    record = execute(spec_for(write_suite, model="mlp", epochs=500, patience=5)[0])
    assert record["epochs_run"] == record["best_epoch"] + 5 + 1 < 500


def test_test_split_is_evaluated_once_after_training_and_hidden_during_it(write_suite, monkeypatch):
    calls = []
    original = NodeClassification.evaluate

    def spy(self, model, data, splits):
        splits = tuple(splits)
        calls.append(splits)
        if "test" not in splits:
            assert not hasattr(data, "test_mask") and bool((data.y[data.train_mask] >= 0).all())
            assert int((data.y == -1).sum()) == 1000  # the 1,000 Cora test labels are hidden from training
        return original(self, model, data, splits)

    monkeypatch.setattr(NodeClassification, "evaluate", spy)
    record = execute(spec_for(write_suite, epochs=10)[0])
    assert record["status"] == "ok", record.get("error")
    assert [c for c in calls if "test" in c] == [("train", "val", "test")]
    assert calls[-1] == ("train", "val", "test") and len(calls) == 11


def test_random_split_differs_per_seed_and_is_recorded(write_suite):
    specs = spec_for(write_suite, model="mlp", epochs=2, seeds=2,
                     task="{name: node_classification, split: random, train_fraction: 0.64, val_fraction: 0.16}")
    records = [execute(s) for s in specs]
    assert [r["split"] for r in records] == ["random(train=0.64,val=0.16,seed=0)",
                                             "random(train=0.64,val=0.16,seed=1)"]
    assert records[0]["data"]["num_train"] == pytest.approx(0.64 * 2708, abs=7)
    assert records[0]["data"]["num_test"] == pytest.approx(0.20 * 2708, abs=7)


class Diverging(nn.Module):
    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.lin = nn.Linear(in_channels, out_channels)

    def forward(self, x, edge_index):
        return self.lin(x) * float("nan")


def test_diverging_loss_and_crashes_are_failed_records_with_the_reason(write_suite, monkeypatch):
    monkeypatch.setattr(MODELS, "_entries", dict(MODELS._entries))
    register_model("diverging", tasks=("node_classification",))(Diverging)
    record = execute(spec_for(write_suite, model="diverging", epochs=5)[0])
    assert record["status"] == "failed"
    assert (record["metric"], record["direction"]) == ("accuracy", "max")  # its leaderboard row needs them
    assert record["error"]["type"] == "NonFiniteLossError" and "nan at epoch 0" in record["error"]["message"]
    assert "Traceback" in record["error"]["traceback"]
    overflow = execute(spec_for(write_suite, model="{name: mlp, hparams: {lr: 1.0e+38}}", epochs=5)[0])
    assert overflow["status"] == "failed" and overflow["error"]["type"] == "RuntimeError"


class TenRows(Diverging):
    def forward(self, x, edge_index):
        return self.lin(x[:10])


def test_a_model_returning_the_wrong_shape_fails_with_what_was_expected(write_suite, monkeypatch):
    monkeypatch.setattr(MODELS, "_entries", dict(MODELS._entries))
    register_model("ten_rows", tasks=("node_classification",))(TenRows)
    record = execute(spec_for(write_suite, model="ten_rows", epochs=2)[0])
    forward = f"forward at {__file__}:{inspect.getsourcelines(TenRows.forward)[1]}"  # where to look
    assert record["status"] == "failed" and record["error"]["message"] == (
        f"TenRows returned (10, 7) ({forward}); expected class scores of shape (2708, 7): one row per node "
        "and one column per class")


class TenClasses(Diverging):
    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__(in_channels, 10)


class NaNWhenEvaluated(Diverging):
    def forward(self, x, edge_index):
        out = self.lin(x)
        return out if self.training else out * float("nan")


@pytest.mark.parametrize(("model", "message"), [
    (TenClasses, "TenClasses returned (2708, 10) ({at}); expected class scores of shape (2708, 7): one row "
                 "per node and one column per class"),
    (NaNWhenEvaluated, "NaNWhenEvaluated returned NaN class scores in eval mode for 1640 nodes after training"),
])
def test_scores_that_are_no_class_scores_fail_instead_of_being_ranked(write_suite, monkeypatch, model, message):
    """Columns beyond the classes, or NaN rows (argmax reads them as class 0), would train or score and be
    ranked; they fail, named."""
    monkeypatch.setattr(MODELS, "_entries", dict(MODELS._entries))
    register_model("odd_scores", tasks=("node_classification",))(model)
    record = execute(spec_for(write_suite, model="odd_scores", epochs=2)[0])
    at = f"forward at {__file__}:{inspect.getsourcelines(model.forward)[1]}"
    assert record["status"] == "failed" and record["error"]["message"].startswith(message.format(at=at))


def test_a_model_with_its_own_fit_uses_the_hook_and_the_task_still_reports_test(write_suite, monkeypatch):
    monkeypatch.setattr(MODELS, "_entries", dict(MODELS._entries))
    seen = {}

    @register_model("layerwise_toy", tasks=("node_classification",))
    class Toy(nn.Module):
        fit_hparams = {"lr": 0.05}

        def __init__(self, in_channels: int, out_channels: int) -> None:
            super().__init__()
            self.lin = nn.Linear(in_channels, out_channels)

        def forward(self, x, edge_index):
            return self.lin(x)

        def fit(self, task, data, hparams, budget, ctx):
            seen.update(hparams=hparams, has_test=hasattr(data, "test_mask"))
            opt = torch.optim.SGD(self.parameters(), lr=hparams["lr"])
            for _ in range(budget.epochs):
                opt.zero_grad()
                nn.functional.cross_entropy(self(data.x, None)[data.train_mask], data.y[data.train_mask]).backward()
                opt.step()
            return FitResult(best_epoch=budget.epochs - 1, epochs_run=budget.epochs)

    record = execute(spec_for(write_suite, model="{name: layerwise_toy, hparams: {lr: 0.1}}", epochs=3)[0])
    assert record["status"] == "ok", record.get("error")
    assert seen == {"hparams": {"lr": 0.1}, "has_test": False}
    assert 0 <= record["metrics"]["test"]["accuracy"] <= 1 and record["epochs_run"] == 3


class ForgetsToReturn(Diverging):
    def fit(self, task, data, hparams, budget, ctx):
        pass


class StepWithoutTrainLoss(Diverging):
    def fit(self, task, data, hparams, budget, ctx):
        def epoch_step(epoch):
            return {"loss": 0.0}

        return train_epochs(self, epoch_step, lambda: task.evaluate(self, data, ("val",))["val"], task, budget, ctx)


class ValidatesWithoutSplit(Diverging):
    def fit(self, task, data, hparams, budget, ctx):
        def validate():
            return task.evaluate(self, data, ("val",))  # without ["val"]

        return train_epochs(self, lambda epoch: {"train_loss": 0.0}, validate, task, budget, ctx)


def test_a_protocol_that_selects_no_epoch_fails_instead_of_reporting_the_last_one(write_suite, monkeypatch):
    """Every validation score undefined (NaN): no epoch is selected, and the test metric of whatever state training
    ended in must not be reported as if one had been."""
    monkeypatch.setattr(NodeClassification, "evaluate",
                        lambda self, model, data, splits: {s: {"accuracy": math.nan, "loss": 1.0} for s in splits})
    record = execute(spec_for(write_suite, model="mlp", epochs=3)[0])
    assert record["status"] == "failed"
    assert record["error"]["message"] == ("NodeClassification.fit selected no epoch (best_epoch -1 after 3 epochs: "
                                          "was every validation accuracy undefined?)")


class AugmentsInPlace(Diverging):
    def fit(self, task, data, hparams, budget, ctx):
        data.x += 0.5  # meant as augmentation: it would reach the features the test split is scored on
        return train_epochs(self, lambda epoch: {"train_loss": 0.0},
                            lambda: task.evaluate(self, data, ("val",))["val"], task, budget, ctx)


@pytest.mark.parametrize(("model", "message"), [
    (AugmentsInPlace, r"training modified data.x in place; the data a model trains on is shared with the "
                      r"evaluation"),
    (ForgetsToReturn, r"ForgetsToReturn.fit \(fit at .*test_node_task.py:\d+\) returned NoneType; expected a "
                      r"FitResult"),
    (StepWithoutTrainLoss, r"StepWithoutTrainLoss.fit.<locals>.epoch_step at .*test_node_task.py:\d+ returned "
                           r"\['loss'\]; expected the epoch's values with the keys train_loss"),
    (ValidatesWithoutSplit, r"ValidatesWithoutSplit.fit.<locals>.validate at .*:\d+ returned \['val'\]; expected the "
                            r"validation metrics"),
])
def test_a_mistake_in_a_models_own_fit_is_named_where_it_is(write_suite, monkeypatch, model, message):
    """The failed record points at the user's fit, epoch_step or validate, not at a KeyError inside gnnbench."""
    monkeypatch.setattr(MODELS, "_entries", dict(MODELS._entries))
    register_model("own_fit", tasks=("node_classification",))(model)
    record = execute(spec_for(write_suite, model="own_fit", epochs=2)[0])
    assert record["status"] == "failed" and re.match(message, record["error"]["message"]), record["error"]


def public_split(**masks: torch.Tensor) -> Data:
    """60 nodes of 3 classes: 20 training, 20 validation and 20 test nodes, less or other masks as given."""
    rank = torch.arange(60)
    return Data(x=torch.randn(60, 4), edge_index=torch.randint(60, (2, 200)), y=rank % 3,
                **{"train_mask": rank < 20, "val_mask": (rank >= 20) & (rank < 40), "test_mask": rank >= 40, **masks})


@pytest.mark.parametrize(("masks", "message"), [
    ({"test_mask": torch.zeros(60, dtype=torch.bool)}, "test_mask selects no node; expected at least one node in "
                                                       "each of train_mask, val_mask and test_mask"),
    ({"train_mask": torch.zeros(60, dtype=torch.bool)}, "train_mask selects no node"),
    ({"val_mask": torch.zeros(60, dtype=torch.bool)}, "val_mask selects no node"),
    ({"train_mask": (torch.arange(60) < 20).long()}, "train_mask is a tensor of dtype int64 and shape [60]; "
                                                     "expected a boolean tensor of one entry per node (60 here)"),
    ({"train_mask": torch.arange(20)}, "train_mask is a tensor of dtype int64 and shape [20]; expected a boolean"),
    ({"val_mask": (torch.arange(60) >= 20).view(-1, 1)}, "val_mask is a tensor of dtype bool and shape [60, 1]; "
                                                         "expected a boolean tensor of one entry per node"),
])
def test_public_masks_that_are_empty_or_no_boolean_vector_are_refused_saying_so(masks, message):
    """An empty test split was a run recorded ok with a NaN metric, an empty training split a NaN loss at epoch 0;
    a mask that exists in another form was told the dataset has none."""
    from gnnbench.errors import DataError
    from gnnbench.tasks.node import NodeOptions

    with pytest.raises(DataError, match=re.escape(message)):
        NodeClassification(NodeOptions()).check_data(public_split(**masks))
    NodeClassification(NodeOptions()).check_data(public_split())


def test_the_training_view_hides_test_labels_without_copying_the_features():
    """The protocol sees y = -1 on test nodes and no test mask; the run's data keeps both, and the features (the
    largest tensor: 15.5 MB on Cora, gigabytes at OGB scale) are shared, not copied."""
    data = Data(x=torch.randn(6, 4), y=torch.arange(6), test_mask=torch.tensor([0, 0, 1, 1, 0, 0], dtype=torch.bool))
    view = hide_test(data)
    assert view.y.tolist() == [0, 1, -1, -1, 4, 5] and not hasattr(view, "test_mask")
    assert data.y.tolist() == list(range(6)) and hasattr(data, "test_mask") and view.x is data.x


def test_early_stopping_prefers_lower_loss_on_ties():
    model = nn.Linear(1, 1)
    stop = EarlyStopping("max", patience=2)
    assert not stop.step(0, 0.5, 1.0, model)
    assert not stop.step(1, 0.5, 0.8, model)  # same accuracy, lower loss: new best
    assert not stop.step(2, 0.5, 0.9, model)
    assert stop.step(3, 0.4, 0.1, model)  # two epochs without improvement
    assert stop.best_epoch == 1
    minimise = EarlyStopping("min", patience=None)
    minimise.step(0, 3.0, 0.0, model)
    minimise.step(1, 2.0, 0.0, model)
    assert minimise.best_epoch == 1


def test_exactly_tied_epochs_keep_the_first_and_a_flat_validation_stops():
    """A later epoch equal in metric and loss is no improvement: the first is kept, and patience runs out."""
    model = nn.Linear(1, 1)
    stop = EarlyStopping("max", patience=2)
    assert [stop.step(epoch, 0.5, 1.0, model) for epoch in range(3)] == [False, False, True]
    assert stop.best_epoch == 0


def test_epoch_time_is_the_training_step_alone_not_the_validation(monkeypatch):
    """epoch_time_s (and compare --on epoch_time_s) times the step: a costly evaluation is no slower training."""
    import gnnbench.tasks.base as base
    from gnnbench.tasks.base import Budget, RunContext

    now = [0.0]
    monkeypatch.setattr(base.time, "perf_counter", lambda: now[0])

    def epoch_step(epoch: int) -> dict[str, float]:
        now[0] += 0.001
        return {"train_loss": 1.0}

    def validate() -> dict[str, float]:
        now[0] += 1.0
        return {"accuracy": 0.5, "loss": 1.0}

    fit = train_epochs(nn.Linear(1, 1), epoch_step, validate, NodeClassification(None), Budget(epochs=3),
                       RunContext(device=torch.device("cpu"), seed=0))
    assert fit.epoch_time_s == pytest.approx(0.001)


def test_a_record_keeps_the_first_epoch_s_time_beside_the_mean():
    """The first epoch's one-off costs stay visible: the mean over every epoch and the first apart (none where
    nothing was trained)."""
    model = nn.Linear(1, 1)
    record = FitResult(best_epoch=2, epochs_run=3, epoch_times_s=[0.5, 0.1, 0.3]).record(model)
    assert record["epoch_time_s"] == pytest.approx(0.3) and record["first_epoch_time_s"] == 0.5
    assert "first_epoch_time_s" not in FitResult(best_epoch=-1, epochs_run=0).record(model)


def test_patience_starts_counting_when_the_warm_up_ends():
    model = nn.Linear(1, 1)
    stop = EarlyStopping("max", patience=3, warmup=10)
    assert not stop.step(0, 0.9, 1.0, model)  # the best epoch, early in the warm-up
    assert not any(stop.step(epoch, 0.5, 1.0, model) for epoch in range(1, 12))  # epochs 10-12 count: 3 of them
    assert stop.step(12, 0.5, 1.0, model) and stop.best_epoch == 0
    late = EarlyStopping("max", patience=3, warmup=10)
    assert not any(late.step(epoch, epoch / 100, 1.0, model) for epoch in range(15))  # improving past the warm-up
    assert not late.step(16, 0.0, 1.0, model) and late.step(17, 0.0, 1.0, model)  # three after the best, 14


def test_metrics_match_hand_computation():
    pred = torch.tensor([0, 0, 1, 1, 2, 2])
    target = torch.tensor([0, 1, 1, 1, 2, 0])
    assert accuracy(pred, target) == pytest.approx(4 / 6)
    # per-class F1: class 0: tp1 fp1 fn1 -> 0.5; class 1: tp2 fp0 fn1 -> 0.8; class 2: tp1 fp1 fn0 -> 2/3
    assert macro_f1(pred, target, 3) == pytest.approx((0.5 + 0.8 + 2 / 3) / 3)
    assert macro_f1(torch.tensor([0]), torch.tensor([0]), 5) == 1.0  # absent classes do not count
    from sklearn.metrics import f1_score

    g = torch.Generator().manual_seed(0)
    for n, classes in ((5, 3), (60, 7), (500, 4)):
        pred, target = torch.randint(0, classes, (2, n), generator=g)
        assert macro_f1(pred, target, classes) == pytest.approx(f1_score(target, pred, average="macro"), abs=1e-12)
    assert math.isnan(accuracy(torch.tensor([]), torch.tensor([])))
