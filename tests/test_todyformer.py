"""Todyformer's defining mechanisms: chronological patches of a window that stops before the batch, a node-wise
pack/unpack bijection whose padding gets no gradient, exact causality, the global encoder carrying information
across patches, and the long-range synthetic rule that patches + global encoder learn and M = 1 cannot."""

from __future__ import annotations

import torch
from torch_geometric.data import TemporalData

from gnnbench import hparams as hp
from gnnbench.data.temporal import periodic_stream, stream
from gnnbench.models.todyformer import Todyformer, pack, patchify, unpack, window
from gnnbench.registry import MODELS
from gnnbench.tasks.base import Budget, RunContext
from gnnbench.tasks.temporal_link import TemporalLinkOptions, TemporalLinkPrediction


def random_stream(events: int = 1000, nodes: int = 50, seed: int = 0) -> TemporalData:
    g = torch.Generator().manual_seed(seed)
    src, dst = torch.randint(nodes, (2, events), generator=g)
    t = torch.sort(torch.randint(0, events // 2, (events,), generator=g)).values  # ties on purpose
    msg = torch.randn(events, 3, generator=g)
    return TemporalData(src=src, dst=dst, t=t, msg=msg)


def test_patchify_is_a_chronological_partition_of_a_window_before_the_batch() -> None:
    data = random_stream()
    t0 = data.t[700]  # the batch's first target time; events 699, 698, ... may share it
    events = window(data, t0, 256)
    patch = patchify(events.num_events, 8)
    assert events.num_events == 256 and bool((events.t < t0).all())
    assert int((data.t < t0).sum()) == int(torch.searchsorted(data.t, t0))  # the window ends right before t0
    assert torch.equal(events.t, data.t[data.t < t0][-256:])
    assert torch.equal(torch.bincount(patch), torch.full((8,), 32))  # disjoint, covering, equal
    for m in range(7):
        assert events.t[patch == m].max() <= events.t[patch == m + 1].min()


def test_pack_unpack_is_a_bijection_and_padding_gets_no_gradient() -> None:
    g = torch.Generator().manual_seed(0)
    node = torch.tensor([0, 0, 1, 2, 2, 2, 4])
    patch = torch.tensor([0, 3, 1, 0, 1, 2, 3])
    tokens = torch.randn(7, 5, generator=g, requires_grad=True)
    dense, present = pack(tokens, node, patch, num_nodes=5, num_patches=4)
    assert torch.equal(unpack(dense, node, patch), tokens)  # bit-identical
    assert int(present.sum()) == 7 and not present[3].any()
    dense = dense.detach().requires_grad_(True)
    layer = torch.nn.TransformerEncoderLayer(5, 1, 8, dropout=0.0, batch_first=True)
    rows = present.any(1)  # node 3 is in no patch: a fully masked row is never attended (Todyformer adds r_v)
    out = layer(dense[rows], src_key_padding_mask=~present[rows])
    unpack(out, *torch.nonzero(present[rows], as_tuple=True)).pow(2).sum().backward()
    assert (dense.grad[~present] == 0).all()  # padded slots: no gradient
    assert dense.grad[present].abs().sum() > 0


def model(**kwargs) -> Todyformer:
    torch.manual_seed(0)
    return Todyformer(3, 1, num_nodes=50, hidden_channels=16, time_channels=8, num_patches=4, patch_size=16,
                      heads=2, **kwargs).eval()


def test_events_at_or_after_the_target_time_never_change_the_scores() -> None:
    data = random_stream()
    net = model()
    t0 = data.t[600]
    src, dst = torch.tensor([1, 2, 3]), torch.tensor([[4, 5], [6, 7], [8, 9]])
    t = torch.full((3,), int(t0))
    before = net.link_logits(data, src, dst, t)
    future = data.t >= t0
    g = torch.Generator().manual_seed(1)
    perturbed = data.clone()
    perturbed.msg[future] = torch.randn(int(future.sum()), 3, generator=g)
    perturbed.src[future] = torch.randint(50, (int(future.sum()),), generator=g)
    perturbed.dst[future] = torch.randint(50, (int(future.sum()),), generator=g)
    perturbed.t[future] = perturbed.t[future] + 3
    assert torch.equal(net.link_logits(perturbed, src, dst, t), before)
    past = data.clone()
    past.msg[~future] += 1.0  # while the events before t0 do count
    assert not torch.equal(net.link_logits(past, src, dst, t), before)


def test_the_global_encoder_carries_what_the_local_mpnn_cannot() -> None:
    """u meets w only in patch 1, then v in the last patch; w's edge features reach u's embedding only through
    the global encoder (one local hop per block, patches separate)."""
    src = torch.tensor([0] + [10 + k for k in range(15)] + [20 + k for k in range(15)] + [0] * 16)
    dst = torch.tensor([1] + [30 + k for k in range(15)] + [35 + k for k in range(15)] + [2] * 16)
    data = stream(src, dst, torch.arange(src.numel()))
    data.msg = torch.zeros(data.num_events, 3)
    changed = data.clone()
    changed.msg[0] = torch.tensor([5.0, -5.0, 5.0])  # the (u, w) event in patch 1

    def embedding(net: Todyformer, d: TemporalData) -> torch.Tensor:
        z, index = net.embed(d, torch.tensor([0]), torch.tensor(d.num_events))
        return z[index]

    local = model(global_encoder=False, num_blocks=1)
    assert torch.equal(embedding(local, data), embedding(local, changed))
    full = model(num_blocks=1)
    assert (embedding(full, data) - embedding(full, changed)).abs().max() > 1e-4


def test_patches_and_global_encoder_learn_a_rule_longer_than_a_patch_and_m1_does_not() -> None:
    """Every pair recurs 64 events later; patches of 16 events, windows of 8 patches (128 events) vs one."""
    data = periodic_stream(num_pairs=64, periods=20, seed=0)
    task = TemporalLinkPrediction(TemporalLinkOptions(batch_size=32, mrr_negatives=5))
    entry = MODELS.get("todyformer")
    scores = {}
    for name, overrides in (("patches", {}), ("m1", {"num_patches": 1, "global_encoder": False})):
        hparams = hp.resolve(entry, TemporalLinkPrediction, {"time_channels": 16,
                                                             "patch_size": 16, "num_blocks": 1, **overrides})
        torch.manual_seed(0)
        result = task.run(entry, data, hparams, Budget(epochs=12, patience=None), RunContext(torch.device("cpu"), 0))
        scores[name] = result["metrics"]["test"]["average_precision"]
    assert scores["patches"] >= 0.9, scores
    assert scores["patches"] - scores["m1"] >= 0.2, scores
