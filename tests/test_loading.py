"""Feature store and gathers: every available mode returns ``features[index]`` exactly, the statistics add up,
``gpu_direct`` is unavailable without CUDA (and, on a GPU, never gathers on the host), and the loading
profile writes its bandwidth-vs-row-size table."""

from __future__ import annotations

import json
import time
import weakref

import pandas as pd
import pytest
import torch

from gnnbench.cli import main
from gnnbench.errors import GnnbenchError
from gnnbench.leaderboard.aggregate import COLUMNS
from gnnbench.leaderboard.compare import compare
from gnnbench.leaderboard.profile import markdown, profile_frame
from gnnbench.loading import EpochLoad, FeatureStore, LoadingUnavailableError, LoadStats, available_modes
from gnnbench.loading import profile as lp

CPU = torch.device("cpu")
needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")


@pytest.mark.parametrize("width", [1, 31, 32, 100, 128, 257])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float16])
def test_available_modes_return_identical_rows(width: int, dtype: torch.dtype) -> None:
    g = torch.Generator().manual_seed(width)
    table = torch.randn(500, width, generator=g).to(dtype)
    index = torch.randint(0, 500, (97,), generator=g)  # repeats and any order
    store = FeatureStore(table, CPU)
    for mode in available_modes(CPU):
        out, stats = store.gather(index, mode)
        assert out.device == CPU and torch.equal(out, table[index])
        assert (stats.mode, stats.rows, stats.row_bytes) == (mode, 97, width * table.element_size())


@pytest.mark.parametrize("device", [CPU, pytest.param(torch.device("cuda"), marks=needs_cuda)], ids=str)
@pytest.mark.parametrize("bad", [[0, 500], [-1, 3]])
def test_an_index_outside_the_table_is_refused_in_every_mode(device: torch.device, bad: list[int]) -> None:
    """gpu_direct's kernel does not check bounds (it would read past the pinned table): the store does, for all."""
    store = FeatureStore(torch.zeros(500, 4), device)
    for mode in available_modes(device):
        with pytest.raises(IndexError, match="out of range: rows .* of a 500-row table"):
            store.gather(torch.tensor(bad), mode)


def test_gpu_direct_is_unavailable_without_cuda() -> None:
    assert available_modes(CPU) == ("cpu", "device")
    with pytest.raises(LoadingUnavailableError, match="needs CUDA and Triton"):
        FeatureStore(torch.zeros(4, 2), CPU).gather(torch.tensor([1]), "gpu_direct")
    with pytest.raises(ValueError, match="gather mode must be one of"):
        FeatureStore(torch.zeros(4, 2), CPU).gather(torch.tensor([1]), "zero_copy")


def test_a_cuda_device_without_cuda_is_refused_at_construction(monkeypatch: pytest.MonkeyPatch) -> None:
    """Refused as ``--device cuda`` is, not accepted for every gather to fail with torch's own error."""
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(LoadingUnavailableError, match="device 'cuda' requested but CUDA is not available"):
        FeatureStore(torch.randn(10, 4), torch.device("cuda"))


@pytest.mark.skipif(torch.cuda.is_available(), reason="pins without refusal where CUDA exists")
def test_pinning_without_cuda_is_refused_by_name() -> None:
    with pytest.raises(LoadingUnavailableError, match="pin=True needs CUDA"):
        FeatureStore(torch.randn(4, 2), torch.device("cpu"), pin=True)
    assert not FeatureStore(torch.randn(4, 2), torch.device("cpu")).host.is_pinned()


def test_stats_add_up() -> None:
    stats = LoadStats(mode="cpu", rows=1000, row_bytes=512, seconds=0.002, cpu_seconds=0.001, device="cpu")
    assert stats.bytes == 512_000 and stats.gbps == pytest.approx(0.256)
    record = stats.to_record()
    assert record["bytes"] == 512_000 and record["mode"] == "cpu" and record["cpu_seconds"] == 0.001
    epoch = EpochLoad()
    epoch.add(stats)
    epoch.add(LoadStats(mode="device", rows=10, row_bytes=512, seconds=0.001, cpu_seconds=0.0, device="cpu"))
    assert epoch.bytes == 517_120 and epoch.cpu_seconds == pytest.approx(0.001)
    assert epoch.seconds == pytest.approx(0.003) and epoch.gbps == pytest.approx(517_120 / 0.003 / 1e9)


def test_a_gather_measures_wall_and_cpu_time() -> None:
    store = FeatureStore(torch.randn(20_000, 64), CPU)
    _, stats = store.gather(torch.randperm(20_000)[:5_000], "cpu")
    assert stats.seconds > 0 and stats.cpu_seconds >= 0 and stats.gbps == pytest.approx(
        5_000 * 256 / stats.seconds / 1e9)


@needs_cuda
@pytest.mark.parametrize("width", [1, 31, 32, 100, 128, 257])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float16])
def test_gpu_direct_equals_the_host_gather_without_touching_it_on_the_host(width: int, dtype: torch.dtype,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    device = torch.device("cuda")
    if "gpu_direct" not in available_modes(device):
        pytest.skip("Triton is not installed")
    table = torch.randn(10_000, width).to(dtype)
    store = FeatureStore(table, device)
    assert store.host.is_pinned()
    index = torch.randint(0, 10_000, (3_001,))
    expected = table[index]

    def forbidden(*args, **kwargs):
        raise AssertionError("host gather")

    monkeypatch.setattr(torch, "index_select", forbidden)
    monkeypatch.setattr(torch.Tensor, "index_select", forbidden)
    out, stats = store.gather(index.cuda(), "gpu_direct")
    monkeypatch.undo()
    assert out.is_cuda and torch.equal(out.cpu(), expected) and stats.mode == "gpu_direct"


@pytest.mark.parametrize(("row_bytes", "batches", "message"), [
    ((128, 6), (10,), "--row-bytes: .* got 6"),
    ((128, 4096), (100, 70_000), "--batches: a batch of 70000 rows does not fit the table of 4096-byte rows"),
])
def test_profile_refuses_sizes_it_cannot_measure_before_measuring(row_bytes, batches, message, monkeypatch) -> None:
    """Not after the first sizes have run for minutes: nothing would be written."""
    monkeypatch.setattr(lp, "environment", lambda device: pytest.fail("measuring started"))
    with pytest.raises(GnnbenchError, match=message):
        lp.profile(CPU, rows=200_000, row_bytes=row_bytes, batches=batches)


def test_profile_checks_and_tabulates_every_mode(tmp_path) -> None:
    records = lp.profile(CPU, rows=2_000, row_bytes=(128, 1024), batches=(100, 500), warmup=0, repeats=2)
    assert len(records) == 2 * 2 * len(available_modes(CPU))
    for r in records:
        assert r["gbps"] == pytest.approx(r["batch"] * r["row_bytes"] / r["seconds"] / 1e9)
        assert len(r["gathers"]) == 2 and r["copy_gbps"] > 0
    lines = lp.notes(records)
    assert "Bandwidth vs row size, batches of 500 rows (GB/s):" in lines
    assert any(line.startswith("| 1024 |") for line in lines)


def test_profile_gathers_a_fresh_seeded_batch_every_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """A batch gathered again would be read from cache: every check, warm-up and repeat draws its own rows."""
    gathered: list[tuple[str, tuple[int, ...]]] = []
    real = FeatureStore.gather

    def spy(store: FeatureStore, index: torch.Tensor, mode: str = "cpu"):
        gathered.append((mode, tuple(index.tolist())))
        return real(store, index, mode)

    monkeypatch.setattr(FeatureStore, "gather", spy)
    lp.profile(CPU, rows=2_000, row_bytes=(128,), batches=(100,), warmup=2, repeats=3)
    first = list(gathered)
    assert sorted(mode for mode, _ in first) == [m for m in sorted(available_modes(CPU)) for _ in range(1 + 2 + 3)]
    assert len({rows for _, rows in first}) == len(first) and all(len(set(rows)) == 100 for _, rows in first)
    gathered.clear()
    lp.profile(CPU, rows=2_000, row_bytes=(128,), batches=(100,), warmup=2, repeats=3)
    assert gathered == first  # seeded: the same batches on every run


def test_profile_modes_take_turns_so_a_drifting_machine_biases_none(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each gather here takes 1 ms longer than the one before (a machine slowing down). Timed one mode after
    the other, the last mode's median would be ``repeats`` gathers later than the first's. Taking turns keeps
    the medians within one gather; reversing the order every round (cpu, device, device, cpu, ...) leaves
    neither mode always the later one, so over an even number of rounds their mean times are equal."""
    modes = available_modes(CPU)
    calls = iter(range(1, 1_000))
    monkeypatch.setattr(FeatureStore, "gather", lambda store, index, mode="cpu": (
        store.host[index], LoadStats(mode, len(index), 512, next(calls) * 1e-3, 0.0, "cpu")))
    records = lp.profile(CPU, rows=2_000, row_bytes=(512,), batches=(100,), warmup=2, repeats=4)
    medians = [r["seconds"] for r in records]
    assert len(medians) == len(modes) and max(medians) - min(medians) <= 1e-3 + 1e-12, medians
    means = [sum(g["seconds"] for g in r["gathers"]) / len(r["gathers"]) for r in records]
    assert max(means) - min(means) < 1e-12, means


def test_profile_frees_each_batch_before_the_next_gather(monkeypatch: pytest.MonkeyPatch) -> None:
    """A batch kept alive while the next is gathered makes the allocator map fresh memory for every other large
    batch (measured: 4 KiB rows in batches of 10,000 took 14 and 3.5 ms by turns), and a mode's median flipped
    between the two with the parity of its turns."""
    alive: list[weakref.ref] = []
    real = FeatureStore.gather

    def spy(store: FeatureStore, index: torch.Tensor, mode: str = "cpu"):
        assert all(ref() is None for ref in alive), "an earlier batch is still alive"
        out, stats = real(store, index, mode)
        alive.append(weakref.ref(out))
        return out, stats

    monkeypatch.setattr(FeatureStore, "gather", spy)
    lp.profile(CPU, rows=2_000, row_bytes=(128,), batches=(100,), warmup=2, repeats=3)
    assert len(alive) == len(available_modes(CPU)) * (1 + 2 + 3)


def test_cpu_reference_copy_counts_the_payload_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Like a gather's GB/s (batch rows x row bytes), not bytes read plus bytes written."""
    monkeypatch.setattr(lp, "median_ms", lambda *args: 2.0)  # a copy of 4 MiB takes 2 ms
    assert lp.reference_copy_gbps(CPU, 4, 0, 1) == pytest.approx(4 * 2**20 / 2e-3 / 1e9)


def test_device_mode_uploads_the_table_outside_the_timed_gather(monkeypatch: pytest.MonkeyPatch) -> None:
    table = torch.randn(1_000, 16)
    store = FeatureStore(table, CPU)
    real_to = torch.Tensor.to

    def slow_upload(tensor: torch.Tensor, *args, **kwargs):
        if tensor is store.host:
            time.sleep(0.3)
        return real_to(tensor, *args, **kwargs)

    monkeypatch.setattr(torch.Tensor, "to", slow_upload)
    index = torch.randperm(1_000)[:100]
    out, stats = store.gather(index, "device")
    assert torch.equal(out, table[index]) and stats.seconds < 0.3


def test_profile_rows_rank_by_their_gbps_not_the_mean_of_the_repeats() -> None:
    """``gbps`` is the batch over the median gather; one fast outlier moves the mean of the repeats' rates."""
    def row(mode: str, rates: list[float]) -> dict:
        return {"task": "loading_128B", "dataset": "t", "model": mode, "metric": "gbps", "direction": "max",
                "mean": sum(rates) / len(rates), "values": rates, "gbps": sorted(rates)[1]}

    frame = profile_frame([row("cpu", [2.0, 2.0, 2.0]), row("device", [1.0, 1.0, 9.0])], lp.EXTRA_COLUMNS)
    assert dict(zip(frame["model"], frame["rank"], strict=True)) == {"cpu": 1, "device": 2}


def test_profile_tables_list_sizes_in_numeric_order() -> None:
    """128 B before 1024 B, batches of 1000 rows before 10000: the sizes in the names compared as numbers."""
    rows = [{"task": f"loading_{size}B", "dataset": f"table-1000x{size}B-batch{batch}", "model": "cpu",
             "metric": "gbps", "direction": "max", "mean": 1.0, "values": [1.0], "gbps": 1.0}
            for size in (1024, 128) for batch in (10000, 1000)]
    frame = profile_frame(rows, lp.EXTRA_COLUMNS)
    assert frame["dataset"].tolist() == [f"table-1000x{s}B-batch{b}" for s in (128, 1024) for b in (1000, 10000)]
    page = markdown(frame, lp.EXTRA_COLUMNS, "t", [])
    assert page.index("## loading_128B") < page.index("## loading_1024B")


def test_cli_writes_the_loading_leaderboard(tmp_path) -> None:
    assert main(["profile", "loading", "--device", "cpu", "--rows", "1000", "--row-bytes", "128", "--batches", "100",
                 "--warmup", "0", "--repeats", "2", "--out", str(tmp_path), "-q"]) == 0
    board = pd.read_csv(tmp_path / "loading.csv", keep_default_na=False)
    assert list(board.columns[: len(COLUMNS)]) == COLUMNS and set(lp.EXTRA_COLUMNS) <= set(board.columns)
    assert set(board["mode"]) == set(available_modes(CPU))
    assert "Bandwidth vs row size" in (tmp_path / "loading.md").read_text()
    assert "gpu_direct (the zero-copy gather) is not measured: it needs CUDA" in (tmp_path / "loading.md").read_text()


def test_a_loading_profile_s_seed_draws_its_batches_and_is_recorded(tmp_path, monkeypatch) -> None:
    """--seed 1 gathers other rows than the default 0, a seed given again the same ones, and each record keeps
    the seed with the warm-up and repeat counts, which compare notes a change of."""
    gathered: list[tuple[int, ...]] = []
    real = FeatureStore.gather

    def spy(store: FeatureStore, index: torch.Tensor, mode: str = "cpu"):
        gathered.append(tuple(index.tolist()))
        return real(store, index, mode)

    monkeypatch.setattr(FeatureStore, "gather", spy)
    argv = ["profile", "loading", "--device", "cpu", "--rows", "1000", "--row-bytes", "128", "--batches", "100",
            "--warmup", "0", "--repeats", "2", "-q"]
    drawn = []
    for name, options in (("default", []), ("zero", ["--seed", "0"]), ("one", ["--seed", "1", "--warmup", "1"])):
        gathered.clear()
        assert main([*argv, *options, "--out", str(tmp_path / name)]) == 0
        drawn.append(list(gathered))
    assert drawn[0] == drawn[1] and drawn[0][0] != drawn[2][0]
    records = [json.loads(line) for line in (tmp_path / "one" / "loading.jsonl").read_text().splitlines()]
    assert records and all(r["protocol"] == {"seed": 1, "warmup": 1, "repeats": 2} for r in records)
    notes = compare(tmp_path / "zero" / "loading.csv", tmp_path / "one" / "loading.csv", min_effect=1.0).table["notes"]
    assert len(notes) == len(records) and all("protocol seed=0, warmup=0 -> seed=1, warmup=1" in n for n in notes)
