"""``gnnbench list``: the registered models, datasets, tasks and scenarios, with what a suite needs to use them."""

from __future__ import annotations

import sys
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from gnnbench.errors import GnnbenchError, did_you_mean

if TYPE_CHECKING:
    import argparse


def list_entries(args: argparse.Namespace, console: Console) -> int:
    """A table in a terminal; piped, one tab-separated line per entry, so ``grep`` and ``cut`` see whole rows."""
    from gnnbench import hparams
    from gnnbench.kernels import model_kernels
    from gnnbench.registry import DATASETS, MODELS, SCENARIOS, TASKS, defined_in, load_plugin, serves

    for plugin in args.plugin:
        try:
            registered = load_plugin(plugin, Path.cwd())
        except GnnbenchError as exc:
            raise GnnbenchError(f"--plugin {plugin}: {exc}") from None
        if not registered:  # else its entries would be silently missing from the list
            warnings.warn(f"--plugin {plugin} registered nothing: is @register_{args.what[:-1]} missing?", stacklevel=1)
    if args.task is not None and args.what == "tasks":
        raise GnnbenchError("--task filters models, datasets and scenarios; `gnnbench list tasks` lists every task")
    if args.task is not None and args.task not in TASKS:
        raise GnnbenchError(f"--task: unknown task {args.task!r}; known tasks: {', '.join(TASKS.names())}"
                            + did_you_mean(args.task, TASKS.names()))
    registry = {"models": MODELS, "datasets": DATASETS, "tasks": TASKS, "scenarios": SCENARIOS}[args.what]
    columns = {"models": ("name", "paper", "tasks", "defaults; kernels"),
               "datasets": ("name", "tasks", "about", "source"),
               "tasks": ("name", "metric", "about", "options"),
               "scenarios": ("name", "tasks", "about", "options")}[args.what]
    rows = []
    for entry in registry.entries():
        if args.task and not serves(entry, args.task):
            continue
        if args.what == "models":
            task = args.task or (entry.tasks[0] if entry.tasks else None)  # training defaults differ per task
            if task and task not in TASKS:
                raise GnnbenchError(f"model '{entry.name}' ({defined_in(entry.obj)}) names the unknown task "
                                    f"'{task}'{did_you_mean(task, TASKS.names())}")
            task_cls = TASKS.get(task).obj if task else None
            defaults = hparams.defaults(entry, task_cls) if task_cls else dict(entry.defaults)
            per_dataset = "".join(f"; on {dataset}" + ("" if dataset in DATASETS else " (not registered)") + ": "
                                  + ", ".join(f"{k}={v}" for k, v in sorted(values.items()))
                                  for dataset, values in sorted(entry.dataset_defaults.items()))
            rows.append((entry.name, entry.paper, ", ".join(entry.tasks),
                         ", ".join(f"{k}={v}" for k, v in sorted(defaults.items())) + per_dataset
                         + "; kernels: " + ", ".join(k for k in model_kernels(entry)  # those the task can run
                                                     if args.task is None or k in task_cls.kernels)))
        elif args.what == "datasets":
            rows.append((entry.name, ", ".join(entry.tasks), f"{entry.summary} {entry.meta.get('stats', '')}",
                         entry.meta.get("source", "")))
        elif args.what == "scenarios":
            options = entry.obj.__dataclass_fields__.values()
            rows.append((entry.name, ", ".join(entry.tasks), entry.summary,
                         ", ".join(f"{f.name}={f.default}" for f in options)))
        else:
            options = entry.obj.Options.__dataclass_fields__.values()
            like = entry.meta.get("like")
            rows.append((entry.name, f"{entry.obj.metric} ({entry.obj.direction})",
                         entry.summary + (f" Takes the models and datasets of {like}." if like else ""),
                         ", ".join(f"{f.name}={f.default}" for f in options)))
    if not rows and args.task:  # on stderr, beside the header alone (a pipe keeps its format)
        print(f"gnnbench: note: no {args.what[:-1]} serves task '{args.task}'", file=sys.stderr)
    if not console.is_terminal:
        for row in (columns, *rows):
            print("\t".join(" ".join(cell.split()) for cell in row))
        return 0
    table = Table(title=f"gnnbench {args.what}", show_lines=True)
    table.add_column(columns[0], no_wrap=True)
    for column in columns[1:]:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*map(escape, row))  # docstrings hold [n, t] shapes, which Rich would take for markup
    console.print(table)
    return 0
