"""gnnbench's torch metrics against scikit-learn's on the same predictions, measured in the same run.

Every epoch validates, so a metric runs as often as a training step: macro-F1 (node classification), ROC-AUC
and average precision (link prediction) over validation splits of the sizes the suites use. Both sides start
from the tensors a task holds; scikit-learn's time includes the conversion to NumPy it needs. Prints
milliseconds (median of the repeats) and the ratio.

    OMP_NUM_THREADS=1 python benchmarks/metrics.py
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

import sklearn
import torch
from sklearn.metrics import average_precision_score, f1_score, roc_auc_score

from gnnbench.harness.env import described
from gnnbench.kernels.timing import median_ms
from gnnbench.tasks.metrics import average_precision, macro_f1, roc_auc

CPU = torch.device("cpu")
CLASSES = 7  # Cora's


def pairs(n: int) -> dict[str, tuple[Callable[[], float], Callable[[], float]]]:
    """metric -> (gnnbench's, scikit-learn's), each a call on the same random data of ``n`` items."""
    pred, target = torch.randint(CLASSES, (n,)), torch.randint(CLASSES, (n,))
    scores, labels = torch.randn(n), torch.randint(2, (n,))
    return {
        "macro_f1": (lambda: macro_f1(pred, target, CLASSES),
                     lambda: f1_score(target.numpy(), pred.numpy(), average="macro")),
        "roc_auc": (lambda: roc_auc(scores, labels), lambda: roc_auc_score(labels.numpy(), scores.numpy())),
        "average_precision": (lambda: average_precision(scores, labels),
                              lambda: average_precision_score(labels.numpy(), scores.numpy())),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[500, 1_000, 20_000, 200_000],
                        help="items per split (Cora's validation has 500 nodes, PubMed's test 1,000)")
    parser.add_argument("--repeats", type=int, default=51)
    args = parser.parse_args()
    torch.manual_seed(0)
    print(f"median of {args.repeats} calls; scikit-learn {sklearn.__version__}")
    print(described(CPU))
    print(f"{'metric':<18} {'items':>9} {'scikit-learn ms':>16} {'gnnbench ms':>12} {'speed-up':>9}")
    for n in args.sizes:
        for metric, (ours, theirs) in pairs(n).items():
            assert abs(ours() - theirs()) < 1e-6, (metric, n)  # the same number, or the ratio means nothing
            timed = [median_ms(call, device=CPU, warmup=3, repeats=args.repeats) for call in (theirs, ours)]
            print(f"{metric:<18} {n:>9,} {timed[0]:>16.3f} {timed[1]:>12.3f} {timed[0] / timed[1]:>8.1f}x")


if __name__ == "__main__":
    main()
