"""bench/calibrate_cost.py's rows and errors on hand-made designs (no yosys)."""

import json

import pytest

from bench.calibrate_cost import errors, fit, mvau_rows
from flow.analysis.cost import coefficients

pytestmark = pytest.mark.fast


def point(mode: str, bits: int, lut: int) -> dict:
    return {"MW": 27, "MH": 64, "PE": 16, "SIMD": 27, "weights": "block", "mode": mode, "input_bits": bits,
            "lut": lut, "lutram_luts": 0, "bram18": 2}  # fmt: skip


def test_each_mvau_point_is_a_row_of_its_own_family(tmp_path):
    path = tmp_path / "mvau_synth.json"
    path.write_text(json.dumps({"points": [point("xnor", 1, 500), point("int8", 8, 4000)]}))
    xnor, int8 = mvau_rows(path)
    assert xnor["family"] == "mvau_xnor" and xnor["features"]["pe_simd"] == 16 * 27
    assert int8["family"] == "mvau_int" and int8["features"] == {"pe_simd_bits": 16 * 27 * 8, "pe": 16, "one": 1}
    assert "pe_simd" not in int8["features"]  # an integer lane never counts as XNOR bits


def design(name: str, lut_per_bit: float) -> dict:
    """A design of one XNOR MVAU block of 1,000 bits whose yosys count is ``lut_per_bit`` per bit."""
    row = {"family": "mvau_xnor", "features": {"pe_simd": 1000}, "mem_lut": 0.0, "bram36": 0.0}
    lut = round(lut_per_bit * 1000)
    return {"name": name, "build": name, "yosys_lut": lut, "yosys_bram36": 0, "model_blocks": [row],
            "blocks": [{**row, "yosys_lut": lut, "instances": 1}]}  # fmt: skip


def test_out_of_sample_never_sees_the_design_it_predicts():
    extra = [{"family": "mvau_xnor", "features": {"pe_simd": 1000}, "mem_lut": 0.0, "yosys_lut": 1000, "instances": 1}]
    (one,) = errors([design("a", 2.0)], extra)
    assert one["model_lut_out_of_sample"] == 1000  # the MVAU row alone: 1.0 per bit, not the design's 2.0
    assert 1000 < one["model_lut_in_sample"] < 2000
    two = errors([design("a", 2.0), design("b", 1.5)], [])
    assert [e["model_lut_out_of_sample"] for e in two] == [1500, 2000]  # each from the other design
    assert fit([], [])["window"] == coefficients()["families"]["window"]  # no rows: the coefficients in use
