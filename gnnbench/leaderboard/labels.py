"""How a record's parts read in leaderboard cells and warnings: its row, kernel, scenario, environment, plugin
sources and settings as text, and the order the tables list them in (:func:`natural_groups`).
:mod:`gnnbench.leaderboard.aggregate` groups and ranks by these labels; compare and the pages read them back
(:func:`label_items`)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import pandas as pd

from gnnbench.harness.store import recorded_sources
from gnnbench.natural import natural_key
from gnnbench.settings import differing, flatten, shown

if TYPE_CHECKING:  # for the annotation: pandas.api.typing came in pandas 2.1, and pyproject allows 2.0
    from pandas.api.typing import DataFrameGroupBy

#: The key of a plugin dataset's data digest in a row's ``sources``, beside its files' (``model``, ``dataset``, ...).
DATA_SOURCE = "dataset data"
#: What ``loading.epoch_load_s`` averaged in records without ``loading.epoch_load_over`` (made before it was
#: recorded), and in leaderboard CSVs without that column: every epoch, the first's one-off loading cost included.
ALL_EPOCHS = "all_epochs"


def kernel_label(record: dict[str, Any]) -> str:
    """The suite's ``kernel:``, with the backend ``auto`` chose: ``auto:csr``."""
    requested = record["spec"].get("kernel", "")
    chosen = record.get("kernel", {}).get("chosen")
    return f"{requested}:{chosen}" if requested == "auto" and chosen else requested


def row_key(record: dict[str, Any]) -> tuple[str, str, str, str, str]:
    """The leaderboard row and configuration a record belongs to: (task label, dataset, model, config,
    scenario). The task label, not the task name: a task's incomparable protocols get rows of their own."""
    spec = record["spec"]
    return (record.get("task_label", spec["task"]), spec["dataset"], spec["model"], spec.get("config", "default"),
            scenario_label(spec.get("scenario")))


def sources_label(record: dict[str, Any]) -> str:
    """``dataset=1a2b3c4d5e6f;model=...``: the first 12 hex digits of the sha256 of each plugin part's file, and of
    a plugin dataset's data (``dataset data``); empty where the run's parts are all gnnbench's own. By content,
    not by path, as the driver tells an edited file (a Ray worker imports a copy from elsewhere)."""
    sources = recorded_sources(record)
    versions = {part: s["sha256"] for part, s in sources.items()}
    if data := sources.get("dataset", {}).get("data_sha256"):
        versions[DATA_SOURCE] = data
    return ";".join(f"{part}={sha[:12]}" for part, sha in sorted(versions.items()))


def load_over_label(record: dict[str, Any]) -> str:
    """What a record's ``loading.epoch_load_s`` averages (``after_first_epoch``, or :data:`ALL_EPOCHS`), as
    ``compare`` must not judge an average of one kind against one of the other; empty for a record without
    ``loading``, which has no ``epoch_load_s`` to average."""
    loading = record.get("loading")
    return loading.get("epoch_load_over", ALL_EPOCHS) if loading else ""


def heap_label(env: dict[str, Any]) -> str:
    """``kept freed memory`` or ``allocator defaults``: the heap setting a run's times and memory were measured
    under (``env.allocator``; a record made before it was recorded ran under the allocator's defaults)."""
    return "allocator defaults" if env.get("allocator") in (None, "default") else "kept freed memory"


def versions_label(env: dict[str, Any]) -> str:
    """``python=3.11.7;threads=1;torch=2.13.0+cpu;...``: the library versions a record ran with, its threads, heap
    setting (``allocator``), the runs its executor ran side by side (``concurrent_runs``), gnnbench commit
    (``git_commit``, abbreviated) and the vector instructions of PyTorch's CPU kernels (``cpu_capability``: AVX2 and
    AVX512 time, and can round, a kernel differently on CPUs of one name), each where the record has it: what moves
    its numbers besides the machine's name, sorted by name, so ``gnnbench compare`` can tell when two leaderboards,
    or the runs of one row, come from different code or environments."""
    versions = {"python": env.get("python"), **env.get("versions", {}), "allocator": env.get("allocator"),
                "threads": env.get("threads"), "concurrent_runs": env.get("concurrent_runs"),
                "git_commit": _short_commit(env.get("git_commit")), "cpu_capability": env.get("cpu_capability")}
    return ";".join(f"{name}={v}" for name, v in sorted(versions.items()) if v)


def _short_commit(commit: str | None) -> str | None:
    """``88dc6c863311-dirty``: a record's commit to 12 hex digits (as :func:`sources_label` cuts a sha256), its
    ``-dirty`` kept."""
    if not commit:
        return None
    head, dirty, _ = commit.partition("-dirty")
    return head[:12] + dirty


def distinct_plugin_files(sources: Iterable[Mapping[str, object]]) -> list[dict[str, object]]:
    """The distinct sets of plugin files among :func:`sources_label` items, their data digests left out: a loader
    seeded per run gives each seed its own data, which is no second version (``run`` and ``prune`` tell changed
    data by loading it again, seed by seed); none for gnnbench's own parts, or records made before records named
    their files."""
    files = (tuple(sorted((part, sha) for part, sha in items.items() if part != DATA_SOURCE)) for items in sources)
    return [dict(f) for f in dict.fromkeys(files) if f]


def label_items(label: str) -> dict[str, str]:
    """``a=1;b=2`` -> ``{"a": "1", "b": "2"}``: one environment of :func:`versions_label`, one set of
    :func:`sources_label`."""
    return dict(item.split("=", 1) for item in label.split(";") if "=" in item)


def scenario_label(scenario: dict[str, Any] | str | None) -> str:
    """``label_noise(rate=0.2)`` for a spec's resolved scenario; ``none`` for clean data."""
    if not scenario:
        return "none"
    if isinstance(scenario, str):
        return scenario
    options = ",".join(f"{k}={v}" for k, v in sorted(scenario.items()) if k != "name")
    return f"{scenario['name']}({options})"


def settings_cell(cells: pd.Series) -> str:
    """A row's ``hparams`` or ``protocol`` cell: the JSON object its runs share, or, where they do not (runs of
    an earlier suite file left in the folder; warned), a JSON list of every distinct one, so that the row never
    claims one setting while it holds several (in the order the runs first use them: seed order)."""
    distinct = list(dict.fromkeys(cells))
    return distinct[0] if len(distinct) == 1 else f"[{','.join(distinct)}]"


def setting_differences(settings: Iterable[tuple[str, str]]) -> str:
    """``epochs 3 vs 4; task_options.split public vs random``: what differs among (protocol, hparams) JSON
    pairs, one level deep."""
    flat = [flatten({**json.loads(protocol), "hparams": json.loads(hparams)}) for protocol, hparams in settings]
    values = {k: sorted({shown(f, k) for f in flat}, key=natural_key) for k in differing(flat)}
    return "; ".join(f"{k} {' vs '.join(v)}" for k, v in values.items())


def natural_order(column: pd.Series) -> pd.Series:
    """A ``sort_values`` key: a text column (dataset, model, config, scenario) in :func:`natural_key` order, any
    other (a rank, a depth) as it is."""
    return column.map(natural_key) if pd.api.types.is_string_dtype(column) else column


def natural_groups(frame: pd.DataFrame, keys: str | list[str]) -> DataFrameGroupBy:
    """``frame.groupby(keys)`` with the groups in :func:`natural_key` order (pandas' own sort is a plain one), the
    rows of each in ``frame``'s order."""
    return frame.sort_values(keys, key=natural_order, kind="stable").groupby(keys, sort=False)
