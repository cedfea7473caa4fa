"""The folding search's moves on one node (flow/analysis/folding_search.py runs them): the folding
attributes of each block and their bounds, a sliding window's settings, one step more parallelism
(``raise_parallelism``, step 2 of the search) and the start (``start_folding``, step 1): every block at
its cheapest setting that meets the target cycles."""

from __future__ import annotations

import math

from qonnx.core.modelwrapper import ModelWrapper
from qonnx.custom_op.registry import getCustomOp

from flow.analysis.cycles import block_cycles
from flow.analysis.folding_rules import equalize_join_folding
from flow.core.hw_graph import generic_op_type

# generic op -> (input-side attribute, output-side attribute, attribute bounding both)
FOLD_ATTRS = {
    "MVAU": ("SIMD", "PE", None),
    "ConvolutionInputGenerator": ("SIMD", "SIMD", "IFMChannels"),
    "Pool": ("PE", "PE", "Channels"),
    "Thresholding": ("PE", "PE", "NumChannels"),
    "FMPadding": ("SIMD", "SIMD", "NumChannels"),
    "DuplicateStreams": ("PE", "PE", "NumChannels"),
    "GlobalAccPool": ("PE", "PE", "NumChannels"),
    "StreamingMaxPool": ("PE", "PE", "NumChannels"),
    "ShiftbnnPool": ("PE", "PE", "Channels"),
    "ShiftbnnPosThreshold": ("PE", "PE", "NumChannels"),
}


def _divisors(n: int) -> list[int]:
    return [d for d in range(1, n + 1) if n % d == 0]


def fold_bound(inst, kind: str, attr: str) -> int:
    """The largest value folding attribute ``attr`` (PE or SIMD) of a ``kind`` node can take."""
    if kind == "MVAU":
        return inst.get_nodeattr("MW" if attr == "SIMD" else "MH")
    size = inst.get_nodeattr(FOLD_ATTRS[kind][2])
    return int(size if isinstance(size, int) else max(size))


def _pool_window(model: ModelWrapper, pool):
    """The sliding-window generator feeding a Pool (its SIMD must equal the Pool's PE)."""
    producer = model.find_producer(pool.input[0])
    ok = producer is not None and generic_op_type(producer.op_type) == "ConvolutionInputGenerator"
    return producer if ok else None


def _set(model: ModelWrapper, node, attr: str, value: int) -> None:
    getCustomOp(node).set_nodeattr(attr, value)
    if generic_op_type(node.op_type) == "Pool":
        window = _pool_window(model, node)
        if window is not None:
            getCustomOp(window).set_nodeattr("SIMD", value)


def window_options(inst) -> list[tuple[int, int]]:
    """A sliding window's settings (SIMD, parallel_window) in increasing parallelism: every SIMD dividing
    the channels, then the whole window per cycle (FINN: SIMD = channels, a K x K kernel > 1, not
    depthwise). A 1 x 1 kernel is already one pixel per cycle and never FINN's generator: it is our
    stream_subsample (any SIMD dividing the channels; flow/core/hw_graph.py ``is_subsample_window``).
    FINN's parallel generator sizes its loop counters by ``log2(windows - 2)`` (finn-plus 1.6
    ``prepare_codegen_parallel``), which fails for a map with one or two windows: those keep the serial
    generator (the same cycles, one or two windows)."""
    channels = inst.get_nodeattr("IFMChannels")
    options = [(d, 0) for d in _divisors(channels)]
    k_h, k_w = inst.get_nodeattr("ConvKernelDim")
    out_h, out_w = inst.get_nodeattr("OFMDim")
    parallel = "parallel_window" in inst.get_nodeattr_types() and out_h * out_w > 2
    if k_h * k_w > 1 and not inst.get_nodeattr("depthwise") and parallel and _generates(inst, parallel=True):
        options.append((channels, 1))
        if not _generates(inst, parallel=False):
            return options[-1:]  # FINN's own advice in its assertion: parallel_window=1
    return options


def _generates(inst, parallel: bool) -> bool:
    """Whether FINN's generator can make this window with ``parallel_window`` set to ``parallel`` at
    SIMD = channels (the check does not depend on SIMD otherwise), as its ``generate_hdl`` does it: the
    style ``select_impl_style()`` picks for that setting (it asserts on a SIMD the style cannot take),
    then that style's ``prepare_codegen_*``. The style is not always the one asked for: FINN picks
    "parallel" for every 1 x 1 kernel. The parallel style sizes its loop counters by logarithms of the
    window counts, which fail on some small maps. The serial one's circular buffer must hold the
    address jump to the next output row; a 1 x k kernel whose columns no window reads at the end of
    each row (as many as the column stride minus one, e.g. 1 x 2, stride 3, on 7 columns) jumps further
    (``H increment > buffer size``; row strides of such kernels are rewritten before, see
    flow/compiler/transforms/row_strides.py). An op without FINN's generator (HLS) counts as generating."""
    if not hasattr(inst, "select_impl_style"):
        return True
    saved = _window_option(inst)
    _set_window(inst, (inst.get_nodeattr("IFMChannels"), int(parallel)))
    try:
        style = inst.select_impl_style()
        getattr(inst, "prepare_codegen_parallel" if style == "parallel" else "prepare_codegen_default")()
        return True
    except (AssertionError, ValueError):
        return False
    finally:
        _set_window(inst, saved)


def _set_window(inst, option: tuple[int, int]) -> None:
    inst.set_nodeattr("SIMD", option[0])
    inst.set_nodeattr("parallel_window", option[1])


def _window_option(inst) -> tuple[int, int]:
    return inst.get_nodeattr("SIMD"), int(inst.get_nodeattr("parallel_window"))


def raise_parallelism(model: ModelWrapper, node, side: str) -> bool:
    """One step more parallelism on ``side`` ("in" or "out") of ``node``; False at the limit.
    An MVAU that cannot grow on the asked side grows on the other (its cycles fall either way)."""
    kind = generic_op_type(node.op_type)
    if kind not in FOLD_ATTRS:
        return False
    inst = getCustomOp(node)
    if kind == "ConvolutionInputGenerator" and _pool_window_of(model, node) is None:
        options = window_options(inst)
        index = options.index(_window_option(inst))
        if index + 1 < len(options):
            _set_window(inst, options[index + 1])
            return True
        return False
    attrs = FOLD_ATTRS[kind][:2]
    order = ([attrs[0], attrs[1]] if side == "in" else [attrs[1], attrs[0]]) if kind == "MVAU" else [attrs[0]]
    for attr in order:
        current = inst.get_nodeattr(attr)
        bigger = [d for d in _divisors(fold_bound(inst, kind, attr)) if d > current]
        if bigger:
            _set(model, node, attr, bigger[0])
            return True
    return False


def _pool_window_of(model: ModelWrapper, window):
    """The Pool a sliding window feeds (the pair is one fused max pool whose PE the Pool sets)."""
    consumers = model.find_consumers(window.output[0]) or []
    return next((c for c in consumers if generic_op_type(c.op_type) == "Pool"), None)


def _consumer_mvau(model: ModelWrapper, node):
    consumers = model.find_consumers(node.output[0]) or []
    return next((c for c in consumers if generic_op_type(c.op_type) == "MVAU"), None)


def _cheapest_mvau(inst, target_cycles: float, pe: int | None = None) -> None:
    """The (PE, SIMD) of least PE * SIMD (then the widest SIMD) whose cycles meet the target; with ``pe``
    given (a join's shared PE), the least SIMD at that PE."""
    mw, mh = inst.get_nodeattr("MW"), inst.get_nodeattr("MH")
    vectors = math.prod(inst.get_nodeattr("numInputVectors"))
    pes = [pe] if pe is not None else _divisors(mh)
    pairs = [(p * s, -s, p, s) for p in pes for s in _divisors(mw)]
    fitting = [c for c in pairs if vectors * (mw // c[3]) * (mh // c[2]) <= target_cycles]
    _, _, pe, simd = min(fitting) if fitting else max(pairs)
    inst.set_nodeattr("PE", pe)
    inst.set_nodeattr("SIMD", simd)


def _cheapest_window(inst, mvau_simd: int, target_cycles: float) -> None:
    """The first window setting whose cycles meet the target and whose beat width divides (or is a
    multiple of) the MVAU's SIMD (a width converter between them then moves one side's beat per cycle);
    else the fastest setting."""
    options = window_options(inst)
    for option in options:
        _set_window(inst, option)
        width = option[0] * (math.prod(inst.get_nodeattr("ConvKernelDim")) if option[1] else 1)
        aligned = mvau_simd % width == 0 or width % mvau_simd == 0
        if aligned and inst.get_exp_cycles() <= target_cycles:
            return
    _set_window(inst, options[-1])


def _cheapest_stream_block(model: ModelWrapper, node, kind: str, target_cycles: float) -> None:
    """The least parallelism dividing the input's beat width (lanes) whose cycles meet the target (a
    width converter in front then splits each input beat); else the input's full width. A block is
    never wider than it must be: a stem MVAU at PE 64 would otherwise make its re-quantizer, pool and
    every join after it 64 lanes wide at any target."""
    window = _pool_window(model, node) if kind == "Pool" else None
    producer = model.find_producer((window or node).input[0])
    width = getCustomOp(producer).get_folded_output_shape()[-1] if producer is not None else 1
    bound = fold_bound(getCustomOp(node), kind, FOLD_ATTRS[kind][0])
    options = [d for d in _divisors(bound) if width % d == 0]
    for value in options:
        _set(model, node, FOLD_ATTRS[kind][0], value)
        if all(block_cycles(model, n) <= target_cycles for n in (window, node) if n is not None):
            return
    _set(model, node, FOLD_ATTRS[kind][0], options[-1])


def start_folding(model: ModelWrapper, target_cycles: float) -> None:
    """Step 1 of the search (folding_search.py's docstring); step 2 raises what is then too slow."""
    mvaus = [n for n in model.graph.node if generic_op_type(n.op_type) == "MVAU"]
    for node in mvaus:
        _cheapest_mvau(getCustomOp(node), target_cycles)
    chosen = {n.name: getCustomOp(n).get_nodeattr("PE") for n in mvaus}
    equalize_join_folding(model)
    for node in mvaus:  # a join raised its PE: fewer SIMD lanes meet the target now
        inst = getCustomOp(node)
        if inst.get_nodeattr("PE") != chosen[node.name]:
            _cheapest_mvau(inst, target_cycles, pe=inst.get_nodeattr("PE"))
    for node in model.graph.node:
        kind = generic_op_type(node.op_type)
        if kind not in FOLD_ATTRS or kind == "MVAU":
            continue
        if kind == "ConvolutionInputGenerator" and _pool_window_of(model, node) is None:
            mvau = _consumer_mvau(model, node)
            simd = getCustomOp(mvau).get_nodeattr("SIMD") if mvau is not None else 1
            _cheapest_window(getCustomOp(node), simd, target_cycles)
        elif kind != "ConvolutionInputGenerator":  # a pool's window follows its Pool
            _cheapest_stream_block(model, node, kind, target_cycles)
    equalize_join_folding(model)
