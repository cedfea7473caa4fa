"""Networks with no exact integer hardware: refused in the first compile steps, before folding, RTL or any
simulation, with one line that names the node, the reason and the fix the user can make in Brevitas.

Each reason is a computation that integer streaming hardware cannot reproduce bit for bit (docs/compile_any.md
"Refused, and why"); everything else a binary network streamlines into is compiled. ``Refusal`` is a
``MappingError`` (exit status 2, one ``error:`` line); ``reason`` is the short key the fuzz benchmark
(bench/fuzz_networks.py) counts by.
"""

from __future__ import annotations

from flow.core.errors import BuildError

# key -> (what is wrong, the fix in Brevitas)
REASONS = {
    "channel-scale-logits": (
        "a per-channel float scale on the logits with no quantizer after it: the label depends on products "
        "of integers and arbitrary floats",
        "use a per-tensor weight scale in the classifier (e.g. weight_quant=SignedBinaryWeightPerTensorConst or "
        "scaling_per_output_channel=False) or quantize its output",
    ),
    "negative-scale-logits": (
        "a negative scale on the logits: the label is the smallest accumulator, the hardware selects the largest",
        "keep the classifier's output scale positive (a positive LogitScale / weight scale)",
    ),
    "float-bias-logits": (
        "a float bias on the logits that is no multiple of the accumulator's scale",
        "quantize the classifier's bias in the accumulator's scale (bias_quant=Int32Bias, with a quantized input) "
        "or drop it (bias=False)",
    ),
    "add-scales": (
        "an add of two streams with different scales: integer hardware adds the codes, not the scaled values",
        "quantize both operands of the add with one shared QuantIdentity (the same module, so the same scale)",
    ),
    "avg-divisor": (
        "an average pool whose divisor depends on the position (count_include_pad=False with padding, or a "
        "ceil-mode window over the padded border): no single integer threshold scale",
        "use count_include_pad=True, no padding, or ceil_mode=False",
    ),
    "pool-bias-padding": (
        "a bias before a zero-padded average pool: the border windows sum it fewer times, so the offset after "
        "the pool depends on the position and no per-channel threshold holds it (position-indexed thresholds "
        "for it are not built)",
        "drop the bias in front of the pool (bias=False in the conv: the BatchNorm after the pool has its own) "
        "or pool without padding",
    ),
    "dilation": (
        "a dilated pooling window (the RTL pool walks contiguous windows)",
        "use dilation=1 for pools",
    ),
}


class Refusal(BuildError):
    """A network (or one of its nodes) with no exact integer hardware; see the module docstring."""

    def __init__(self, node: str, reason: str, detail: str = ""):
        what, fix = REASONS[reason]
        self.node, self.reason = node, reason
        extra = f" ({detail})" if detail else ""
        super().__init__(f"node {node!r}: {what}{extra}; fix in Brevitas: {fix}")


def reason_of(message: str) -> str | None:
    """The REASONS key of a refusal's error line, else None (for the fuzz benchmark's table)."""
    for key, (what, _) in REASONS.items():
        if what in message:
            return key
    return None


def refuse_unscaled_adds(model) -> None:
    """After streamlining, an add of two streams is integer when both operands carried one scale (FINN's
    MoveMulPastJoinAdd moved it past the add); an operand that still comes from a Mul by a constant had a
    scale of its own: ``add-scales``."""
    for node in model.graph.node:
        if node.op_type != "Add" or any(model.get_initializer(i) is not None for i in node.input):
            continue
        producers = [model.find_producer(i) for i in node.input]
        scaled = [
            p
            for p in producers
            if p is not None and p.op_type == "Mul" and model.get_initializer(p.input[1]) is not None
        ]
        if scaled:
            raise Refusal(node.name, "add-scales", f"operand scaled by {scaled[0].name!r}")
