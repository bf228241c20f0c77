"""The ``gpu_direct`` gather: a Triton kernel reading rows of a pinned host table over PCIe (zero-copy).

Triton resolves a pinned CPU tensor passed as a pointer argument to its device-mapped address (an unpinned one
is rejected), so the kernel's loads go straight to host memory: no CPU gather, no staging buffer. The batch
indices arrive sorted, with the permutation that sorted them: each program reads ``BLOCK_ROWS`` rows in
ascending host-address order and writes each to its original position in the output. Offsets are computed
in int64, so tables of more than 2^31 elements are addressed correctly.

Imported only when a ``gpu_direct`` gather runs: Triton exists only where CUDA does.
"""

from __future__ import annotations

import torch
import triton
import triton.language as tl

BLOCK_ROWS = 16


@triton.jit
def _gather_rows(table_ptr, sorted_ptr, perm_ptr, out_ptr, n_rows, width,
                 BLOCK_ROWS: tl.constexpr, BLOCK_COLS: tl.constexpr):
    rows = tl.program_id(0) * BLOCK_ROWS + tl.arange(0, BLOCK_ROWS)
    row_mask = rows < n_rows
    src = tl.load(sorted_ptr + rows, mask=row_mask, other=0).to(tl.int64)
    dst = tl.load(perm_ptr + rows, mask=row_mask, other=0).to(tl.int64)
    for start in range(0, width, BLOCK_COLS):
        cols = start + tl.arange(0, BLOCK_COLS)
        mask = row_mask[:, None] & (cols[None, :] < width)
        values = tl.load(table_ptr + src[:, None] * width + cols[None, :], mask=mask)
        tl.store(out_ptr + dst[:, None] * width + cols[None, :], values, mask=mask)


def gather(table: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    """``table[index]`` on ``index.device`` (CUDA), read from the pinned, contiguous 2-D host ``table``; the
    indices must be in range (the caller checks: the kernel does not)."""
    sorted_index, perm = torch.sort(index)
    out = torch.empty(index.numel(), table.size(1), dtype=table.dtype, device=index.device)
    if index.numel():
        block_cols = min(triton.next_power_of_2(table.size(1)), 256)
        with torch.cuda.device(index.device):  # Triton launches on the current device, which may be another GPU
            _gather_rows[(triton.cdiv(index.numel(), BLOCK_ROWS),)](
                table, sorted_index, perm, out, index.numel(), table.size(1), BLOCK_ROWS=BLOCK_ROWS,
                BLOCK_COLS=block_cols)
    return out
