"""Options of tasks and scenarios: dataclass fields, resolved in full into a run's identity.

A resolved default enters the run_id, so a new option would change every run_id of what declares it, although
the earlier runs are exactly the new option at its "off" value. An option added after results existed is
declared with :func:`added_option` and left out of the resolved options while it is off.
"""

from __future__ import annotations

import dataclasses
from typing import Any


def added_option(off: Any) -> Any:
    """An option added after results existed. Its default is ``off``, the value that keeps the earlier
    behaviour, and stays so: the resolved options hold it only when it is set to something else, so adding one
    never changes existing run ids (the counterpart of :attr:`Task.optional_train_hparams` for options)."""
    return dataclasses.field(default=off, metadata={"added": True})


def resolved_options(options: Any) -> dict[str, Any]:
    """Every option of ``options`` (a dataclass instance) at its value, except added options at their off value."""
    resolved = dataclasses.asdict(options)
    return {f.name: resolved[f.name] for f in dataclasses.fields(options)
            if not (f.metadata.get("added") and resolved[f.name] == f.default)}
