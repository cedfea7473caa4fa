"""FINN's own MVAU node with bnn_mvau's attributes: the second reference for bnn_mvau (FINN's Python
``execute_node``, and its analytical LUT/BRAM estimates for the synthesis benchmark)."""

import os
import tempfile


def binary_mvau_op(op_type: str, domain: str, mw: int, mh: int, pe: int, simd: int, noact: int = 0, n: int = 1):
    """FINN's XNOR-popcount MVAU custom op (``MVAU`` or ``MVAU_hls``) for binary inputs and weights:
    thresholds to a binary output, or (``noact``) the raw UINT32 popcount."""
    os.environ.setdefault("FINN_BUILD_DIR", tempfile.gettempdir() + "/finn_build_hw")
    from onnx import helper
    from qonnx.custom_op.registry import getCustomOp

    node = helper.make_node(
        op_type,
        ["inp", "weights"] + ([] if noact else ["thresh"]),
        ["outp"],
        domain=domain,
        backend="fpgadataflow",
        MW=mw,
        MH=mh,
        SIMD=simd,
        PE=pe,
        inputDataType="BINARY",
        weightDataType="BINARY",
        outputDataType="UINT32" if noact else "BINARY",
        binaryXnorMode=1,
        noActivation=noact,
        ActVal=0,
        numInputVectors=[n],
    )
    return getCustomOp(node)
