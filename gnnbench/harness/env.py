"""The environment a record was produced in: versions, machine, device, threads, git commit, and the source files
of the parts of a run that are not gnnbench's own."""

from __future__ import annotations

import hashlib
import inspect
import os
import platform
import socket
import subprocess
from collections.abc import Mapping
from functools import cache, partial
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import torch

from gnnbench.files import PACKAGE
from gnnbench.harness import allocator
from gnnbench.registry import DATASETS, MODELS, SCENARIOS, TASKS

#: the versions a record keeps (``triton``: the compiler of the gpu_direct gather, where CUDA is)
PACKAGES = ("torch", "torch_geometric", "numpy", "scipy", "pandas", "ogb", "torch_scatter", "triton", "python-sat",
            "cnfgen", "gnnbench")

def environment(device: torch.device) -> dict[str, Any]:
    """Everything needed to tell whether two records are comparable (the heap setting included: it moves CPU
    times)."""
    return {
        **host_environment(),
        "device": str(device),
        "device_name": device_name(device),
        "threads": torch.get_num_threads(),
        "allocator": allocator.applied(),
    }


def described(device: torch.device, heap: bool = True) -> str:
    """One line naming what a benchmark's figures were measured with (machine, threads, this process's heap
    setting unless ``heap`` is False, versions, commit): a script's printed table carries what a record's ``env``
    would."""
    env = environment(device)
    versions = ", ".join(f"{p} {env['versions'][p]}" for p in ("torch", "torch_geometric") if env["versions"][p])
    return (f"{env['device_name']} ({env['cpu_count']} cores), {env['threads']} thread(s), "
            + (f"heap {env['allocator']}, " if heap else "")
            + f"{versions}, Python {env['python']}, gnnbench commit {env['git_commit'] or 'unknown'}")


def modified_checkout() -> str | None:
    """The ``-dirty`` commit this process's records name, or None when the checkout is committed (or none): what
    ``gnnbench run`` warns of before it makes records that do not pin their code."""
    commit = host_environment()["git_commit"]
    return commit if commit and commit.endswith("-dirty") else None


def host_environment() -> dict[str, Any]:
    """This process's versions, machine and commit without a device: all a driver can say of a run whose worker
    died before it could report its own."""
    return dict(_static())


def device_name(device: torch.device) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return _cpu_model()


@cache
def _static() -> dict[str, Any]:
    return {
        "python": platform.python_version(),
        "versions": {p: _version(p) for p in PACKAGES},
        "cuda": torch.version.cuda,
        "platform": platform.platform(),
        "hostname": socket.gethostname(),
        "cpu_count": cpu_count(),
        # the vector instructions PyTorch's CPU kernels use: another set can round sums differently
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "git_commit": git_commit(),
    }


def _version(package: str) -> str | None:
    try:
        return version(package.replace("_", "-"))
    except PackageNotFoundError:
        return None


@cache
def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def cpu_count() -> int:
    """The cores this process may use (its affinity mask, where the platform has one)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


@cache
def git_commit() -> str | None:
    """HEAD of the gnnbench checkout, suffixed ``-dirty`` when tracked files outside ``results/`` differ (records
    appended to committed results change no code); None outside git. Read once per process, at its first run's
    start (:func:`gnnbench.harness.runner.execute`) or as the driver starts, so a commit made while a long suite
    runs is not credited with code the process imported before it."""
    return checkout_commit(Path(__file__).resolve().parents[2])


def checkout_commit(root: Path) -> str | None:
    """The commit of the checkout whose top level is ``root``; None when ``root`` is not one: a package installed
    into a virtual environment inside some other repository is not that repository's code."""
    try:
        top, head = subprocess.run(["git", "-C", str(root), "rev-parse", "--show-toplevel", "HEAD"],
                                   capture_output=True, text=True, timeout=10, check=True).stdout.splitlines()
        if Path(top).resolve() != root.resolve():
            return None
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no", "--",
                                ".", ":(exclude)results"],
                               capture_output=True, text=True, timeout=10, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError, ValueError):
        return None
    return f"{head}-dirty" if dirty else head


@cache
def untracked_package_files() -> frozenset[Path]:
    """The files inside the gnnbench package of a checkout that git does not track, ignored ones included: a
    model added as ``gnnbench/models/my_file.py`` and not yet committed is in no commit, so ``git_commit`` cannot
    version it. Empty outside a checkout. Read once per process, as :func:`git_commit` is."""
    root = PACKAGE.parent
    if checkout_commit(root) is None:
        return frozenset()
    try:
        listed = subprocess.run(["git", "-C", str(root), "ls-files", "-z", "--others", "--", PACKAGE.name],
                                capture_output=True, text=True, timeout=10, check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return frozenset()
    return frozenset((root / name).resolve() for name in listed.split("\0") if name)


def plugin_sources(spec: Mapping[str, Any]) -> dict[str, dict[str, str]]:
    """``{"model": {"file": ..., "sha256": ...}, "task": ...}``: the file defining each part of a run (its spec as a
    dict: model, task, dataset, scenario) that gnnbench does not ship (a plugin, another package, a file of the
    package git does not track). The run id hashes the spec, not that code, so this is how a record tells which
    version of it ran; gnnbench's own parts are versioned by ``git_commit``. A part whose file cannot be read is
    left out. A record keeps them as ``sources`` (:func:`~gnnbench.harness.store.recorded_sources`)."""
    return {part: source for part, obj in _parts(spec).items() if (source := _file_source(obj))}


def source_now(spec: Mapping[str, Any], part: str) -> dict[str, str] | None:
    """The file defining ``part`` of the run ``spec`` now, wherever it lies: a part its record hashed as a plugin
    may since have been committed into the package, where :func:`plugin_sources` leaves it to the commit."""
    return _file_source(_parts(spec)[part], shipped=True)


def _parts(spec: Mapping[str, Any]) -> dict[str, Any]:
    """What defines each part of the run ``spec``: its model, task, dataset and scenario (where it has one)."""
    parts = {"model": MODELS.get(spec["model"]).obj, "task": TASKS.get(spec["task"]).obj,
             "dataset": DATASETS.get(spec["dataset"]).obj}
    if spec.get("scenario"):
        parts["scenario"] = SCENARIOS.get(spec["scenario"]["name"]).obj
    return parts


def _file_source(obj: Any, shipped: bool = False) -> dict[str, str] | None:
    """The file defining ``obj``: a class or function (the one it wraps, if any: ``dataset_loader``'s); the
    function of a ``functools.partial``; the class of a callable instance. None for a file the package ships
    (its commit versions it), unless ``shipped``."""
    obj = inspect.unwrap(obj.func if isinstance(obj, partial) else obj)
    if not (inspect.isclass(obj) or inspect.isroutine(obj)):
        obj = type(obj)
    try:
        path = Path(inspect.getfile(obj)).resolve()
        if not shipped and path.is_relative_to(PACKAGE) and path not in untracked_package_files():
            return None
        return {"file": str(path), "sha256": hashlib.sha256(path.read_bytes()).hexdigest()}
    except (OSError, TypeError):
        return None
