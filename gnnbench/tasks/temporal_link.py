"""Future link prediction on a continuous-time event stream, under the DyGLib protocol (Yu et al., NeurIPS 2023;
negative sampling of Poursafaei et al., NeurIPS 2022).

**Split.** Chronological by time quantiles: events up to the 70 % quantile of time train, up to the 85 %
quantile validate, the rest test. As DyGLib, ``new_node_fraction`` of all nodes (drawn with ``split_seed``
among the nodes of the validation and test periods) are hidden from training: training keeps only the
training-period events that touch none of them. ``setting: transductive`` evaluates every validation/test
event; ``setting: inductive`` only those with an endpoint never seen in training.

**Evaluation negatives.** For each evaluated event ``(u, v, t)``, ``K = mrr_negatives`` destinations ``v'``
replace ``v``, drawn once per task from ``negative_seed`` (never the run seed), so every model and every seed
scores the same pairs:

* ``random``: uniform over every destination of the stream (not ``v``);
* ``historical``: uniform over the destinations ``u`` messaged strictly before ``t`` (not ``v``, nor any
  destination of ``u`` at time ``t``);
* ``inductive``: uniform over the destinations first seen after the training period and strictly before ``t``
  (not ``v``).

When a strategy has no candidate the draw falls back to ``random``; the record counts these fallbacks among the
scored events (``random_fallbacks``, per split). The first negative of each event makes the 1:1 set of AP,
ROC-AUC (the headline metric: AP) and the loss; all ``K`` give the MRR (tie-aware,
:func:`gnnbench.tasks.metrics.mrr`).

**Models** subclass :class:`TemporalLinkModel`: they score ``(src, candidate destinations)`` from a ``history``
holding only the events strictly before the batch's first time (so a model cannot see the batch or the future), and
``observe`` each batch after it is scored (memory models update their state there). Validation follows the training
pass, so memory is carried over; the test continues from the state after the selected epoch's validation pass
(memory models have then seen the training and the validation events, as in DyGLib). The default protocol is Adam
on the binary cross-entropy of the training events against one random destination each (redrawn every epoch from
the run seed), the epoch selected on validation AP.
"""

from __future__ import annotations

import dataclasses
from abc import abstractmethod
from collections import defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch_geometric.data import TemporalData

from gnnbench import hparams as hp
from gnnbench.data.checks import check_stream
from gnnbench.errors import DataError
from gnnbench.registry import Entry, register_task
from gnnbench.tasks.base import Budget, FitResult, RunContext, Task, check_finite, own_fit, train_epochs
from gnnbench.tasks.metrics import average_precision, mrr, roc_auc
from gnnbench.units import FRACTION

Strategy = Literal["random", "historical", "inductive"]


class TemporalLinkModel(nn.Module):
    """What the temporal link task asks of a model: pair scores from the past, and a look at each batch after."""

    def reset_state(self) -> None:
        """Forget everything observed (called before each pass over the stream)."""

    def observe(self, batch: TemporalData) -> None:
        """Take in the events of a batch that has just been scored."""

    @abstractmethod
    def link_logits(self, history: TemporalData, src: Tensor, dst: Tensor, t: Tensor) -> Tensor:
        """Logits ``[B, C]`` of ``src[b]`` linking to each of ``dst[b, :]`` at time ``t[b]``, given the events of
        ``history`` (all strictly before ``t.min()``) and whatever was observed."""


@dataclass(frozen=True)
class TemporalLinkOptions:
    """Evaluation setting, negative strategy and seeds, split shares, batch size and the MRR's K."""

    setting: Literal["transductive", "inductive"] = "transductive"
    negatives: Strategy = "random"
    negative_seed: int = 0
    split_seed: int = 0
    new_node_fraction: float = 0.1
    val_fraction: float = 0.15
    test_fraction: float = 0.15
    batch_size: int = 200
    mrr_negatives: int = 20

    def __post_init__(self) -> None:
        if min(self.val_fraction, self.test_fraction) <= 0 or self.val_fraction + self.test_fraction >= 1:
            raise ValueError("temporal split shares need 0 < val_fraction, 0 < test_fraction and a sum below 1; "
                             f"got {self.val_fraction} and {self.test_fraction}")
        if not 0 <= self.new_node_fraction < 1:
            raise ValueError(f"new_node_fraction must be in [0, 1), got {self.new_node_fraction}")
        if self.batch_size < 1 or self.mrr_negatives < 1:
            raise ValueError(f"batch_size and mrr_negatives must be positive, got {self.batch_size} "
                             f"and {self.mrr_negatives}")


@dataclass
class StreamSplit:
    """The full stream, the training events, and per evaluation split its event range, scored events and
    fixed negatives."""

    full: TemporalData
    train: TemporalData
    ranges: dict[str, tuple[int, int]]  # split -> [start, end) in ``full``
    scored: dict[str, Tensor]  # split -> bool mask over the range: the events that are evaluated
    negatives: dict[str, Tensor]  # split -> [n_scored, K] destinations
    fallbacks: dict[str, int]  # split -> scored events whose negatives fell back to random candidates
    train_dst: Tensor  # the destinations of training events, for training negatives
    description: str


def chronological_bounds(t: Tensor, val_fraction: float, test_fraction: float) -> tuple[int, int]:
    """Indices ``(a, b)`` of the sorted stream: train ``[0, a)`` has ``t <= q(1 - val - test)``, validation
    ``[a, b)`` has ``t <= q(1 - test)``, test the rest (DyGLib's quantile rule)."""
    val_time, test_time = np.quantile(t.double().numpy(), [1 - val_fraction - test_fraction, 1 - test_fraction])
    a = int(torch.searchsorted(t.double(), torch.tensor(val_time, dtype=torch.float64), right=True))
    b = int(torch.searchsorted(t.double(), torch.tensor(test_time, dtype=torch.float64), right=True))
    return a, b


def hidden_nodes(data: TemporalData, start: int, fraction: float, seed: int) -> Tensor:
    """``int(fraction x N)`` nodes of the events from ``start`` on, drawn with ``seed`` (DyGLib's new nodes)."""
    later = torch.unique(torch.cat([data.src[start:], data.dst[start:]]))
    count = min(int(fraction * data.num_nodes), later.numel())
    generator = torch.Generator().manual_seed(seed)
    return later[torch.randperm(later.numel(), generator=generator)[:count]]


def sample_negatives(data: TemporalData, start: int, end: int, train_end: int, strategy: Strategy, k: int,
                     seed: int) -> tuple[Tensor, Tensor]:
    """``[end - start, k]`` negative destinations for the events ``[start, end)`` of ``data`` (see the module
    docstring), and which of those events fell back to random candidates (a mask, so a caller can count the
    scored ones only)."""
    rng = np.random.default_rng([seed, start])  # each split draws its own stream from the one seed
    src, dst, t = data.src.numpy(), data.dst.numpy(), data.t.numpy()
    all_dst = np.unique(dst)
    out = np.empty((end - start, k), dtype=np.int64)
    fell_back = np.zeros(end - start, dtype=bool)
    seen_dst: dict[int, list[int]] = defaultdict(list)  # source -> destinations before the current time
    known_dst = set(dst[:train_end].tolist())
    new_dst: list[int] = []  # destinations first seen after training, in order of appearance
    i = 0
    while i < end:
        j = i
        while j < len(t) and t[j] == t[i]:  # every event at this time step sees the same past
            j += 1
        for e in range(max(i, start), min(j, end)):
            u, v = int(src[e]), int(dst[e])
            if strategy == "historical":
                now = {int(d) for d in dst[i:j][src[i:j] == u]}
                pool = [d for d in dict.fromkeys(seen_dst[u]) if d != v and d not in now]
            elif strategy == "inductive":
                pool = [d for d in new_dst if d != v]
            else:
                pool = None
            fell_back[e - start] = strategy != "random" and not pool
            out[e - start] = rng.choice(pool, k) if pool else _random_other(all_dst, v, k, rng)
        for e in range(i, j):
            u, v = int(src[e]), int(dst[e])
            seen_dst[u].append(v)
            if e >= train_end and v not in known_dst:
                known_dst.add(v)
                new_dst.append(v)
        i = j
    return torch.from_numpy(out), torch.from_numpy(fell_back)


def _random_other(candidates: np.ndarray, exclude: int, k: int, rng: np.random.Generator) -> np.ndarray:
    draw = rng.choice(candidates, k)
    while (clash := draw == exclude).any() and candidates.size > 1:
        draw[clash] = rng.choice(candidates, int(clash.sum()))
    return draw


def batches(start: int, end: int, size: int) -> Iterator[tuple[int, int]]:
    """``[a, b)`` event ranges of at most ``size`` events covering ``[start, end)`` in order."""
    for a in range(start, end, size):
        yield a, min(a + size, end)


def history_before(data: TemporalData, time: Tensor) -> TemporalData:
    """The events of ``data`` strictly before ``time``: everything a model may use to score a batch."""
    return data[:int(torch.searchsorted(data.t, time.reshape(1).to(data.t.dtype), right=False))]


@register_task("temporal_link", paper="DyGLib protocol: Yu et al., NeurIPS 2023; Poursafaei et al., NeurIPS 2022")
class TemporalLinkPrediction(Task):
    """Future link prediction on an event stream; AP (ROC-AUC, MRR recorded), validation-selected epoch."""

    name = "temporal_link"
    metric = "average_precision"
    unit = FRACTION
    direction = "max"
    train_hparams = {"lr": 1e-4, "weight_decay": 0.0}
    Options = TemporalLinkOptions
    #: a memory holds a row per node of the stream
    model_args = ("in_channels", "out_channels", "num_nodes")
    #: what :meth:`fit` calls on a model besides :meth:`evaluate`'s calls
    fit_calls: ClassVar[dict[str, tuple[str, ...]]] = {"reset_state": ()}

    def label(self) -> str:
        return f"{self.name}({self.options.setting},{self.options.negatives})"

    @classmethod
    def model_call(cls, model: Any) -> dict[str, tuple[str, ...]]:
        """:class:`TemporalLinkModel`'s methods, as :meth:`evaluate` and :meth:`fit` call them; never ``forward``.
        ``reset_state`` (:attr:`fit_calls`) only of a model the task's :meth:`fit` trains, one without a ``fit`` of
        its own (:meth:`~gnnbench.tasks.base.Task.fit_model`): :meth:`evaluate` does not call it. A model's ``fit``
        that hands over to the task's, as Todyformer's, needs one too, which cannot be seen here: :meth:`fit`
        checks it."""
        calls = {"link_logits": ("history", "src", "dst", "t"), "observe": ("batch",)}
        return calls if own_fit(model) is not None else {**calls, **cls.fit_calls}

    def check_data(self, data: TemporalData) -> None:
        """An event stream sorted by time (:func:`~gnnbench.data.checks.check_stream`): it is split by time,
        into events to train on and events to score in each split (:meth:`partition`)."""
        check_stream(data)
        self.partition(data)

    def run(self, entry: Entry, data: TemporalData, hparams: Mapping[str, Any], budget: Budget,
            ctx: RunContext) -> dict:
        split = self.split(data)
        model_kwargs, train_kwargs = hp.split(entry.obj, hparams)
        model = entry.obj(in_channels=data.msg.size(-1), out_channels=1, num_nodes=data.num_nodes, **model_kwargs)
        model = model.to(ctx.device)
        fit = self.fit_model(model, hide_test(split), train_kwargs, budget, ctx)
        # the model stands as after the selected epoch's validation pass: test continues the stream from there
        metrics = {"val": {k[4:]: v[fit.best_epoch] for k, v in fit.history.items() if k.startswith("val_")},
                   "test": self.evaluate(model, split, "test")}
        opts: TemporalLinkOptions = self.options
        return {
            "metrics": metrics,
            "split": split.description,
            "negatives": {"strategy": opts.negatives, "seed": opts.negative_seed, "k": opts.mrr_negatives,
                          "random_fallbacks": split.fallbacks},
            **fit.record(model),
            "data": {"num_nodes": data.num_nodes, "num_events": data.num_events,
                     "num_train_events": split.train.num_events,
                     **{f"num_{s}_scored": int(m.sum()) for s, m in split.scored.items()}},
        }

    def partition(self, data: TemporalData
                  ) -> tuple[TemporalData, dict[str, tuple[int, int]], dict[str, Tensor], int]:
        """The training events (without hidden nodes), each evaluation split's range of the stream and its scored
        events, and the number of hidden nodes. Refused when one of them is empty: a run would train on nothing,
        or fail after training with nothing to score. A stream of few distinct times is split at its times, not
        at 70/15/15 % of its events, which can leave a split empty."""
        opts: TemporalLinkOptions = self.options
        a, b = chronological_bounds(data.t, opts.val_fraction, opts.test_fraction)
        if empty := [name for name, size in (("training", a), ("validation", b - a), ("test", data.num_events - b))
                     if size == 0]:
            raise DataError(f"the {empty[0]} period holds no events: the time quantiles of val_fraction="
                            f"{opts.val_fraction} and test_fraction={opts.test_fraction} split the stream's "
                            f"{torch.unique(data.t).numel()} distinct times at events {a} and {b} of "
                            f"{data.num_events}; expected events in every period (change the fractions)")
        hidden = hidden_nodes(data, a, opts.new_node_fraction, opts.split_seed)
        keep = ~(torch.isin(data.src[:a], hidden) | torch.isin(data.dst[:a], hidden))
        train = data[torch.nonzero(keep).view(-1)]
        if train.num_events == 0:
            raise DataError(f"no training events: each of the {a} events of the training period touches one of the "
                            f"{hidden.numel()} nodes hidden from training (new_node_fraction="
                            f"{opts.new_node_fraction}); lower new_node_fraction")
        seen = torch.zeros(data.num_nodes, dtype=torch.bool)
        seen[train.src], seen[train.dst] = True, True
        ranges = {"val": (a, b), "test": (b, data.num_events)}
        scored = {name: (~seen[data.src[start:end]] | ~seen[data.dst[start:end]]) if opts.setting == "inductive"
                  else torch.ones(end - start, dtype=torch.bool) for name, (start, end) in ranges.items()}
        for name, mask in scored.items():
            if not mask.any():
                period = "validation" if name == "val" else name
                raise DataError(f"setting 'inductive' scores no {period} event: none of its {mask.numel()} events has "
                                f"an endpoint unseen in training (new_node_fraction={opts.new_node_fraction} hid "
                                f"{hidden.numel()} nodes); raise new_node_fraction, or use setting: transductive")
        return train, ranges, scored, hidden.numel()

    def split(self, data: TemporalData) -> StreamSplit:
        """:meth:`partition`'s events, with the fixed negatives of each scored event."""
        opts: TemporalLinkOptions = self.options
        train, ranges, scored, hidden = self.partition(data)
        a = ranges["val"][0]
        negatives, fallbacks = {}, {}
        for name, (start, end) in ranges.items():
            negs, fell_back = sample_negatives(data, start, end, a, opts.negatives, opts.mrr_negatives,
                                               opts.negative_seed)
            negatives[name] = negs[scored[name]]
            fallbacks[name] = int(fell_back[scored[name]].sum())  # unscored events' negatives are never used
        description = (f"chronological(val={opts.val_fraction},test={opts.test_fraction}),{opts.setting},"
                       f"hidden_nodes={hidden}(seed={opts.split_seed}),negatives={opts.negatives}"
                       f"(seed={opts.negative_seed},k={opts.mrr_negatives})")
        return StreamSplit(full=data, train=train, ranges=ranges, scored=scored, negatives=negatives,
                           fallbacks=fallbacks, train_dst=torch.unique(train.dst), description=description)

    @torch.no_grad()
    def evaluate(self, model: TemporalLinkModel, split: StreamSplit, name: str) -> dict[str, float]:
        """Score split ``name`` batch by batch, continuing from the model's current state, observing every batch."""
        model.eval()
        start, end = split.ranges[name]
        positive, negative = [], []
        offset = 0
        for a, b in batches(start, end, self.options.batch_size):
            batch = split.full[a:b]
            mask = split.scored[name][a - start:b - start]
            n = int(mask.sum())
            if n:
                candidates = torch.cat([batch.dst[mask].unsqueeze(1), split.negatives[name][offset:offset + n]], 1)
                logits = model.link_logits(history_before(split.full, batch.t[0]), batch.src[mask],
                                           candidates, batch.t[mask])
                positive.append(logits[:, 0])
                negative.append(logits[:, 1:])
                offset += n
            model.observe(batch)
        return self.metrics(torch.cat(positive), torch.cat(negative))

    @staticmethod
    def metrics(positive: Tensor, negative: Tensor) -> dict[str, float]:
        """AP, ROC-AUC and loss on each positive against its first negative; MRR against all of them."""
        scores = torch.cat([positive, negative[:, 0]]).double()
        labels = torch.cat([torch.ones_like(positive), torch.zeros_like(positive)])
        return {"average_precision": average_precision(scores, labels), "roc_auc": roc_auc(scores, labels),
                "mrr": mrr(positive.double(), negative.double()),
                "loss": float(F.binary_cross_entropy_with_logits(scores, labels.double()))}

    def fit(self, model: TemporalLinkModel, split: StreamSplit, train_hparams: Mapping[str, Any], budget: Budget,
            ctx: RunContext) -> FitResult:
        """One pass over the training events per epoch (BCE against a fresh random destination per event), then
        the validation events, continuing from the state the pass left. The model is left as it stood after the
        selected epoch's validation pass (parameters and memory, as DyGLib restores its memory bank). A model
        lacking ``reset_state`` is named first, also one whose own ``fit`` handed over to this one, for which
        :meth:`fit_model` did not ask it (its other calls it checked)."""
        self.check_call(model, self.fit_calls)
        optimizer = torch.optim.Adam(model.parameters(), lr=train_hparams["lr"],
                                     weight_decay=train_hparams["weight_decay"])
        generator = torch.Generator().manual_seed(ctx.seed)
        train = split.train

        def epoch_step(epoch: int) -> dict[str, float]:
            model.train()
            model.reset_state()
            total, count = 0.0, 0
            for a, b in batches(0, train.num_events, self.options.batch_size):
                batch = train[a:b]
                negative = split.train_dst[torch.randint(split.train_dst.numel(), (b - a,), generator=generator)]
                logits = model.link_logits(history_before(train, batch.t[0]), batch.src,
                                           torch.stack([batch.dst, negative], 1), batch.t)
                labels = torch.zeros_like(logits)
                labels[:, 0] = 1
                loss = F.binary_cross_entropy_with_logits(logits, labels)
                check_finite(loss, epoch)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                model.observe(batch)
                total, count = total + loss.item() * (b - a), count + b - a
            return {"train_loss": total / max(count, 1)}

        return train_epochs(model, epoch_step, lambda: self.evaluate(model, split, "val"), self, budget, ctx,
                            whole=True)


def hide_test(split: StreamSplit) -> StreamSplit:
    """A view for the training protocol: the stream ends with the validation events; no test range, scored
    events or negatives."""
    def drop(d: dict) -> dict:
        return {k: v for k, v in d.items() if k != "test"}

    return dataclasses.replace(split, full=split.full[:split.ranges["val"][1]], ranges=drop(split.ranges),
                               scored=drop(split.scored), negatives=drop(split.negatives),
                               fallbacks=drop(split.fallbacks))
