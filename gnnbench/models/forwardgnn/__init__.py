"""ForwardGNN (Park et al., ICLR 2024): graph neural networks trained layer by layer without backpropagation.

Every variant trains each layer on its own local objective with its own optimiser, through the task's
protocol hook (``fit``); the backprop baseline shares the backbone and the budget. Registry names:

* ``forwardgnn_sf``: single forward with virtual class nodes (the paper's main method);
* ``forwardgnn_sf_top2loss`` / ``forwardgnn_sf_top2input``: SF with top-down signals in the loss / the input;
* ``forwardgnn_ff_la`` / ``forwardgnn_ff_vn``: forward-forward with label appending / virtual-node negatives;
* ``forwardgnn_bp``: the same backbone trained end to end by backprop (node classification, and link
  prediction with the task's dot-product decoder);
* ``forwardgnn_sf_link``: single forward for link prediction (per-layer dot-product scores);
* ``forwardgnn_ff_link`` / ``forwardgnn_top2input_link``: forward-forward (pair goodness) and top-down
  (Top-to-Input with no label state) for link prediction.
"""

from gnnbench.models.forwardgnn.bp import BackpropGNN
from gnnbench.models.forwardgnn.ff import ForwardForwardLabels, ForwardForwardVirtual
from gnnbench.models.forwardgnn.link import LinkForwardForward, LinkSingleForward
from gnnbench.models.forwardgnn.sf import SingleForward
from gnnbench.models.forwardgnn.topdown import LinkTopToInput, SingleForwardTopToInput, SingleForwardTopToLoss
from gnnbench.registry import register_model

PAPER = "Park et al., Forward Learning of Graph Neural Networks, ICLR 2024 (arXiv 2403.11004)"
NODE = ("node_classification",)
LINK = ("link_prediction",)
#: Official training defaults: Adam with lr 1e-3 and weight decay 5e-4 (one optimiser per layer when local). The
#: forward-learning models declare them in their ``fit_hparams``; the backprop baseline trains by the task's loop.
TRAINING = {"lr": 1e-3, "weight_decay": 5e-4}

register_model("forwardgnn_sf", paper=PAPER, tasks=NODE)(SingleForward)
register_model("forwardgnn_sf_top2loss", paper=PAPER, tasks=NODE)(SingleForwardTopToLoss)
register_model("forwardgnn_sf_top2input", paper=PAPER, tasks=NODE)(SingleForwardTopToInput)
register_model("forwardgnn_ff_la", paper=PAPER, tasks=NODE)(ForwardForwardLabels)
register_model("forwardgnn_ff_vn", paper=PAPER, tasks=NODE)(ForwardForwardVirtual)
register_model("forwardgnn_bp", paper=PAPER, tasks=NODE + LINK, defaults=TRAINING)(BackpropGNN)
register_model("forwardgnn_sf_link", paper=PAPER, tasks=LINK)(LinkSingleForward)
register_model("forwardgnn_ff_link", paper=PAPER, tasks=LINK)(LinkForwardForward)
register_model("forwardgnn_top2input_link", paper=PAPER, tasks=LINK)(LinkTopToInput)

__all__ = [
    "BackpropGNN",
    "ForwardForwardLabels",
    "ForwardForwardVirtual",
    "LinkForwardForward",
    "LinkSingleForward",
    "LinkTopToInput",
    "SingleForward",
    "SingleForwardTopToInput",
    "SingleForwardTopToLoss",
]
