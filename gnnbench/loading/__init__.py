"""Host-resident features and batch gathers, with statistics for every gather.

A :class:`~gnnbench.loading.store.FeatureStore` keeps a feature table (node features, or features precomputed
by a decoupled model such as SIGN or DGMLP) in host memory, pinned when CUDA exists, and gathers batches of
rows onto the compute device in one of three modes, all returning identical tensors:

* ``cpu``: the CPU-centric path: ``index_select`` on the host into a pinned staging buffer, then a copy;
* ``gpu_direct``: a zero-copy Triton kernel on the GPU reads the rows straight from pinned host memory through
  unified virtual addressing (PyTorch-Direct, Min et al., arXiv 2101.07956); the batch indices are sorted
  first and each row is written back to its original position, because host-address order decides the
  bandwidth;
* ``device``: the table resident in device memory (the upper bound when it fits).

Every gather returns a :class:`~gnnbench.loading.stats.LoadStats` (bytes, seconds, GB/s, host CPU seconds,
mode). Without CUDA, ``gpu_direct`` is unavailable and says so; ``cpu`` and ``device`` run (on the CPU the
device is the host, so both are an ``index_select``).
"""

from gnnbench.loading.stats import EPOCH_LOAD_OVER, EpochLoad, LoadStats, steady_mean
from gnnbench.loading.store import MODES, FeatureStore, LoadingUnavailableError, available_modes

__all__ = ["EPOCH_LOAD_OVER", "MODES", "EpochLoad", "FeatureStore", "LoadStats", "LoadingUnavailableError",
           "available_modes", "steady_mean"]
