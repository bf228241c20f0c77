"""Todyformer's defining mechanisms: chronological patches of a window that stops before the batch, a node-wise
pack/unpack bijection whose padding gets no gradient, exact causality, the global encoder carrying information
across patches, the long-range synthetic rule that patches + global encoder learn and M = 1 cannot, and the
node2vec positional encoding: fitted on training events only, reaching the scores, a clear error without
torch-cluster."""

from __future__ import annotations

import sys

import pytest
import torch
import torch_geometric.typing
from torch_geometric.data import TemporalData

from gnnbench import hparams as hp
from gnnbench.data.temporal import periodic_stream, stream
from gnnbench.errors import GnnbenchError
from gnnbench.models.todyformer import Todyformer, pack, patchify, unpack, window
from gnnbench.registry import MODELS
from gnnbench.tasks.base import Budget, RunContext
from gnnbench.tasks.temporal_link import TemporalLinkOptions, TemporalLinkPrediction, hide_test


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


def with_random_encoding(net: Todyformer, seed: int = 2) -> Todyformer:
    """``net`` with a random stand-in for the fitted node2vec table (the scoring path is the same)."""
    net.node2vec = torch.randn(50, net.node2vec_dim, generator=torch.Generator().manual_seed(seed))
    return net


def test_patch_ages_are_exact_at_unix_timestamps() -> None:
    """A patch's age is t0 minus its newest event's time, to the second, even where float32 cannot tell
    Unix times apart (they are 128 s apart near 1.1e9, CollegeMsg's range)."""
    data = random_stream(events=64)
    data.t = data.t + 1_082_040_961
    net, ages = model(), []
    net.position_encoder.register_forward_pre_hook(lambda _, args: ages.append(args[0].clone()))
    t0 = data.t[-1] + 7
    with torch.no_grad():
        net.link_logits(data, data.src[:1], data.dst[:1].view(1, 1), t0.view(1))
    newest = [int(t0 - data.t[torch.nonzero(patchify(64, 4) == p)[-1]]) for p in range(4)]
    assert ages[0].tolist() == [*newest, 0] and newest[-1] == 7


@pytest.mark.parametrize("node2vec_dim", [0, 8])
def test_events_at_or_after_the_target_time_never_change_the_scores(node2vec_dim: int) -> None:
    data = random_stream()
    net = with_random_encoding(model(node2vec_dim=node2vec_dim)) if node2vec_dim else model()
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


def test_the_global_encoder_never_attends_to_a_patch_a_node_is_absent_from(monkeypatch) -> None:
    """A node's sequence has a slot per patch; where the node has no token the slot is padding. Whatever the
    padding holds, every embedding is bit-identical: the padding mask reaches the model's own encoder."""
    import gnnbench.models.todyformer as module

    net, data = model(num_blocks=2), random_stream(events=300)
    query, t0 = torch.arange(50), data.t[250]
    reference = net.embed(data, query, t0)[0]
    real_pack, noise, padded = module.pack, torch.Generator().manual_seed(5), []

    def noisy_pack(*args, **kwargs):
        dense, present = real_pack(*args, **kwargs)
        padded.append(int((~present).sum()))
        return torch.where(present.unsqueeze(-1), dense, 100 * torch.randn(dense.shape, generator=noise)), present

    monkeypatch.setattr(module, "pack", noisy_pack)
    assert torch.equal(net.embed(data, query, t0)[0], reference)
    assert len(padded) == 2 and min(padded) > 0  # once per block, each with padding to fill


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


@pytest.mark.parametrize("readout", ["token", "last_patch"])
def test_blocks_alternate_so_the_global_output_feeds_the_next_local_step(readout: str) -> None:
    """v (node 2) meets u only in the late patches, u met w in patch 1: the (u, w) event reaches v only through
    u's global step and then the *next* block's local MPNN, so one block cannot see it and two can; running all the
    local blocks before all the global layers would not."""
    src = torch.tensor([0] + [10 + k for k in range(15)] + [20 + k for k in range(15)] + [0] * 16)
    dst = torch.tensor([1] + [30 + k for k in range(15)] + [35 + k for k in range(15)] + [2] * 16)
    data = stream(src, dst, torch.arange(src.numel()))
    data.msg = torch.zeros(data.num_events, 3)
    changed = data.clone()
    changed.msg[0] = torch.tensor([5.0, -5.0, 5.0])

    def embedding(net: Todyformer, d: TemporalData) -> torch.Tensor:
        z, index = net.embed(d, torch.tensor([2]), torch.tensor(d.num_events))
        return z[index]

    one = model(num_blocks=1, readout=readout)
    assert torch.equal(embedding(one, data), embedding(one, changed))
    two = model(num_blocks=2, readout=readout)
    assert (embedding(two, data) - embedding(two, changed)).abs().max() > 1e-4


def test_causal_global_attention_never_reads_a_later_patch() -> None:
    """``causal``: a patch's output ignores every later patch (the read-out token, last, reads them all), padding
    included, and no row turns NaN, not even a node's padding before its first patch; bidirectional, it reads them."""
    g = torch.Generator().manual_seed(0)
    seq = torch.randn(3, 5, 16, generator=g)  # 3 nodes, 4 patches + the read-out token
    pad = torch.tensor([[False, True, False, False, False],
                        [True, True, False, True, False],  # absent from patches 0, 1 and 3
                        [True, True, True, True, False]])  # absent from every patch
    later = seq.clone()
    later[:, 3] += 10 * torch.randn(3, 16, generator=g)  # the last patch
    for causal in (True, False):
        net = model(causal=causal)
        out, moved = (net.attend(net.globals[0], s, pad) for s in (seq, later))
        present = ~pad[:, :3]
        assert torch.equal(out[:, :3][present], moved[:, :3][present]) == causal
        assert not torch.equal(out[0, 4], moved[0, 4])  # node 0's read-out token reads its last patch...
        assert torch.equal(out[1:, 4], moved[1:, 4])  # ...the others' never read their padding
        with torch.no_grad():  # the inference kernel, where a fully masked row would be NaN
            assert torch.isfinite(net.attend(net.globals[0], seq, pad)).all()
    net, one_by_one = model(causal=True), []  # each node alone, with its own 2-D mask: the batched mask must give
    for node in range(3):                     # every node (and head) its own
        allowed = torch.ones(5, 5, dtype=torch.bool).tril() & ~pad[node] | torch.eye(5, dtype=torch.bool)
        one_by_one.append(net.globals[0](seq[node:node + 1], src_mask=~allowed))
    torch.testing.assert_close(net.attend(net.globals[0], seq, pad), torch.cat(one_by_one))
    with pytest.raises(ValueError, match="causal"):
        model(causal=True, global_encoder=False)


def test_the_last_patch_readout_is_the_node_token_of_its_latest_patch() -> None:
    """``readout: last_patch`` reads z_v from the final block's token of the latest patch v occurs in (the read-out
    token where it occurs in none): the description's "token of the last patch in which the node appears"."""
    net, data = model(readout="last_patch", num_blocks=1), random_stream(events=300)
    seen = {}
    net.globals[0].register_forward_hook(
        lambda layer, args, kwargs, out: seen.update(out=out, pad=kwargs["src_key_padding_mask"]), with_kwargs=True)
    z, _ = net.embed(data, torch.arange(50), data.t[250])
    out, present = seen["out"], ~seen["pad"][:, :-1]
    latest = torch.where(present.any(1), (present * torch.arange(1, 5)).argmax(1), 4)  # 4: the read-out token
    assert present.any(1).sum() > 0 and (~present.any(1)).sum() > 0  # both kinds of node are queried
    assert torch.equal(z, out[torch.arange(z.size(0)), latest])
    token, _ = model(num_blocks=1).embed(data, torch.arange(50), data.t[250])
    assert not torch.equal(z, token)  # the read-out token's own row is another embedding


def test_norm_first_false_normalises_the_global_layers_output() -> None:
    """Post-LN (``norm_first: false``) ends each global layer with its LayerNorm (weight 1, bias 0 at start), so
    every row of its output has mean 0 and variance 1; pre-LN (the default) leaves the residual stream as is."""
    data, rows = random_stream(events=300), {}
    for norm_first in (True, False):
        net = model(norm_first=norm_first, num_blocks=1)
        net.globals[0].register_forward_hook(lambda layer, args, out, key=norm_first: rows.update({key: out}))
        net.embed(data, torch.arange(50), data.t[250])
    post, pre = rows[False], rows[True]
    torch.testing.assert_close(post.mean(-1), torch.zeros(post.shape[:-1]), atol=1e-5, rtol=0)
    torch.testing.assert_close(post.var(-1, unbiased=False), torch.ones(post.shape[:-1]), atol=1e-3, rtol=0)
    assert pre.var(-1, unbiased=False).sub(1).abs().max() > 0.1


def test_a_window_of_patches_learns_a_rule_longer_than_a_patch_and_m1_does_not() -> None:
    """Every pair recurs 64 events later; patches of 16 events, windows of 8 patches (128 events) vs one. What
    the M = 1 ablation removes here is the window's reach, not only the global encoder: that encoder's own part
    is :func:`test_the_global_encoder_carries_what_the_local_mpnn_cannot`."""
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


def fitted_encoding(data: TemporalData) -> tuple[torch.Tensor, int]:
    """The node2vec table Todyformer's fit hook builds on ``data`` (seed 0, one training epoch), and the number of
    training events. No hidden nodes, so the training events are exactly the chronological training range."""
    task = TemporalLinkPrediction(TemporalLinkOptions(batch_size=64, mrr_negatives=2, new_node_fraction=0.0))
    split = task.split(data)
    net = model(node2vec_dim=8, node2vec_walk_length=6, node2vec_context_size=3, node2vec_walks_per_node=2,
                node2vec_epochs=2)
    net.fit(task, hide_test(split), dict(TemporalLinkPrediction.train_hparams), Budget(epochs=1),
            RunContext(torch.device("cpu"), seed=0))
    return net.node2vec, split.train.num_events


def test_the_node2vec_encoding_is_fitted_on_training_events_only() -> None:
    pytest.importorskip("torch_cluster")
    data = random_stream(events=400)
    table, n_train = fitted_encoding(data)
    seen = torch.zeros(50, dtype=torch.bool)
    seen[data.src[:n_train]], seen[data.dst[:n_train]] = True, True
    assert (table[~seen] == 0).all() and (table[seen].abs().sum(1) > 0).all()  # unseen nodes: zeros

    g = torch.Generator().manual_seed(3)
    later = data.clone()  # rewire and re-feature every validation and test event, and add two test events
    later.src[n_train:] = torch.randint(50, (data.num_events - n_train,), generator=g)
    later.dst[n_train:] = torch.randint(50, (data.num_events - n_train,), generator=g)
    later.msg[n_train:] = torch.randn(data.num_events - n_train, 3, generator=g)
    extra = {"src": torch.tensor([0, 1]), "dst": torch.tensor([2, 3]), "t": data.t[-1:].repeat(2) + 1,
             "msg": torch.zeros(2, 3)}
    later = TemporalData(**{k: torch.cat([later[k], v]) for k, v in extra.items()})
    later_table, later_n_train = fitted_encoding(later)
    assert later_n_train == n_train  # the time quantiles, so the training range, stay put
    assert torch.equal(later_table, table)  # bit-identical

    earlier = data.clone()
    earlier.dst[0] = (earlier.dst[0] + 1) % 50  # one training event rewired
    assert not torch.equal(fitted_encoding(earlier)[0], table)


def test_the_node2vec_encoding_reaches_the_scores() -> None:
    data = random_stream()
    src, dst = torch.tensor([1, 2, 3]), torch.tensor([[4, 5], [6, 7], [8, 9]])
    t = torch.full((3,), int(data.t[600]))
    net = with_random_encoding(model(node2vec_dim=8))
    before = net.link_logits(data, src, dst, t)
    net.node2vec[4] += 1.0  # a scored destination's encoding
    assert not torch.equal(net.link_logits(data, src, dst, t), before)
    net.node2vec.zero_()  # zeros: no positional term, the scores of the model without the encoding
    plain = model()
    plain.load_state_dict({k: v for k, v in net.state_dict().items() if not k.startswith("node2vec")})
    assert torch.allclose(net.link_logits(data, src, dst, t), plain.link_logits(data, src, dst, t))


def test_the_node2vec_encoding_without_torch_cluster_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch_geometric.typing, "WITH_PYG_LIB", False)
    monkeypatch.setitem(sys.modules, "torch_cluster", None)  # ``import torch_cluster`` fails
    net = model(node2vec_dim=8)
    with pytest.raises(GnnbenchError, match=r"node2vec_dim.*torch-cluster.*pip install --no-build-isolation"):
        net.fit_positional_encoding(random_stream(events=100), seed=0)


def test_the_patch_age_and_edge_time_encodings_reach_the_scores() -> None:
    """Both temporal encodings get a gradient from the link scores: neither the patch-age positional encoding nor
    the event-age encoding on the edges can be cut off without this failing (a learning threshold alone would
    only notice the second, and barely)."""
    net = model().eval()
    data = random_stream(events=300)
    scores = net.link_logits(data, torch.tensor([1, 2]), torch.tensor([[3, 4], [5, 6]]), torch.tensor([300, 300]))
    scores.sum().backward()
    assert net.position_encoder.lin.weight.grad.abs().sum() > 0
    assert net.time_encoder.lin.weight.grad.abs().sum() > 0
