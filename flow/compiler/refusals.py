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
    "position-offset": (
        "an offset that depends on the position (a bias that a zero-padded average pool sums fewer times at the "
        "border, or the border correction of a zero-padded binary conv) and no threshold after it takes it: none "
        "follows, or a multi-level quantizer follows and the offset is no integer or half per position",
        "follow the pool or the padded conv with a binary activation (BatchNorm + sign) before anything else, drop "
        "the bias in front of the padded pool (bias=False in the conv), or pad without zeros (padding=0 in the "
        "pool; for a binary conv, pad its +-1 map with -1)",
    ),
    "dilation": (
        "a dilated pooling window (the RTL pool walks contiguous windows)",
        "use dilation=1 for pools",
    ),
}


# The name a node had in the exported network (torch's module path, e.g. '/body/body.2/pool/AveragePool'),
# kept in the node's metadata: the cleanup renumbers the names (qonnx GiveUniqueNodeNames), and a refusal
# should name the layer the user wrote.
ORIGIN_KEY = "shiftbnn.origin"


class Refusal(BuildError):
    """A network (or one of its nodes) with no exact integer hardware; see the module docstring.
    ``layer``: the user's name of the node, or of the nearest node before it (``layer_of``)."""

    def __init__(self, node: str, reason: str, detail: str = "", layer: str = ""):
        what, fix = REASONS[reason]
        self.node, self.reason = node, reason
        extra = f" ({detail})" if detail else ""
        where = f" ({layer})" if layer else ""
        super().__init__(f"node {node!r}{where}: {what}{extra}; fix in Brevitas: {fix}")


def refusal(model, node, reason: str, detail: str = "") -> Refusal:
    """The Refusal of ``node`` of ``model``, naming the user's layer where the graph still knows it."""
    return Refusal(node.name, reason, detail, layer_of(model, node))


def stamp_origins(model) -> None:
    """Record each node's name as exported (before any cleanup renames it); a node stamped already keeps
    its first name."""
    for node in model.graph.node:
        if node.name and _origin(node) is None:
            _stamp(node, node.name)


def _stamp(node, origin: str) -> None:
    entry = node.metadata_props.add()
    entry.key, entry.value = ORIGIN_KEY, origin


def origins_by_tensor(model) -> dict[str, str]:
    """The origin of each tensor's producer, where that producer has one (before a transformation)."""
    return {out: origin for node in model.graph.node if (origin := _origin(node)) is not None for out in node.output}


def carry_origins(model, before: dict[str, str]) -> None:
    """After a transformation (``before``: ``origins_by_tensor`` of the graph it got): FINN's and qonnx's
    transformations make new nodes without metadata, but a node that replaces others keeps their output for
    the consumers. So a node without an origin that produces a tensor an exported node produced takes its
    origin, and then every new node whose consumers all took one origin takes it too (the rest of the
    replacing chain: a lowered conv's Transpose, Im2Col and MatMul before the Transpose that took it).

    Linear in the graph's edges, whatever the node order: a worklist walks upstream from the nodes that
    took an origin; a node without one counts its consumers that have not taken one yet and is decided
    when the count reaches zero (each producer-consumer pair is visited once from each side)."""
    nodes = list(model.graph.node)
    users, makers = _neighbours(nodes)
    taken: dict[int, str] = {}
    for i, node in enumerate(nodes):
        origin = next((before[t] for t in node.output if t in before), None)
        if origin is not None and _origin(node) is None:
            _stamp(node, origin)
            taken[i] = origin
    waiting = {i: len(users[i]) for i, node in enumerate(nodes) if users[i] and _origin(node) is None}
    work = list(taken)
    while work:  # upstream along the new chains
        for maker in makers[work.pop()]:
            if maker not in waiting:
                continue
            waiting[maker] -= 1
            if waiting[maker] == 0:
                del waiting[maker]
                origins = {taken[user] for user in users[maker]}  # every consumer took one: it counted down
                if len(origins) == 1:
                    taken[maker] = origins.pop()
                    _stamp(nodes[maker], taken[maker])
                    work.append(maker)


def _neighbours(nodes) -> tuple[list[set[int]], list[set[int]]]:
    """(consumers, producers) of each node, as sets of indices into ``nodes``."""
    made_by: dict[str, list[int]] = {}
    for i, node in enumerate(nodes):
        for tensor in node.output:
            made_by.setdefault(tensor, []).append(i)
    users: list[set[int]] = [set() for _ in nodes]
    makers: list[set[int]] = [set() for _ in nodes]
    for i, node in enumerate(nodes):
        for tensor in node.input:
            for maker in made_by.get(tensor, ()):
                users[maker].add(i)
                makers[i].add(maker)
    return users, makers


def transform_carrying_origins(model, transformation):
    """``model.transform(transformation)`` with the origins carried to the nodes it makes (``carry_origins``)."""
    before = origins_by_tensor(model)
    model = model.transform(transformation)
    carry_origins(model, before)
    return model


def layer_of(model, node) -> str:
    """'layer X' when ``node`` is one the user exported, else 'after layer X' for the nearest exported node
    upstream (a node the compiler made, e.g. a folded BatchNorm), else ''."""
    own = _origin(node)
    if own is not None:
        return f"layer {own!r}" if own != node.name else ""
    seen, frontier = set(), [node]
    while frontier:  # breadth first over producers: the nearest origin
        nxt = []
        for n in frontier:
            for tensor in n.input:
                producer = model.find_producer(tensor)
                if producer is None or id(producer) in seen:
                    continue
                seen.add(id(producer))
                if _origin(producer) is not None:
                    return f"after layer {_origin(producer)!r}"
                nxt.append(producer)
        frontier = nxt
    return ""


def _origin(node) -> str | None:
    return next((e.value for e in node.metadata_props if e.key == ORIGIN_KEY), None)


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
            raise refusal(model, node, "add-scales", f"operand scaled by {scaled[0].name!r}")
