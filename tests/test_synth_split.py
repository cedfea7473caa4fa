"""Out-of-context synthesis (flow/rtl_backend/synth_split.py): each block of the top mapped by its own
yosys process gives the one-process run's blocks, instances and non-LUT cells; LUTs within ABC's noise."""

import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

RTLIL = """attribute \\blackbox 1
module \\LUT6_2
  wire input 1 \\I0
end
attribute \\keep_hierarchy 1
module \\lane$top.u_a.g[0].u
  cell \\LUT6_2 \\l
  end
end
attribute \\keep_hierarchy 1
module \\blk$top.u_a
  cell \\lane$top.u_a.g[0].u \\u0
  end
  cell \\lane$top.u_a.g[0].u \\u1
  end
  cell $and $auto$1
  end
end
module \\top
  cell \\blk$top.u_a \\u_a
  end
  cell \\blk$top.u_a \\u_b
  end
  cell \\LUT6_2 \\glue
  end
end
"""


@pytest.mark.fast
def test_each_distinct_block_is_cut_out_with_what_it_instantiates(tmp_path):
    from flow.rtl_backend.synth_split import closure, parse_modules, write_blocks

    modules, black_boxes = parse_modules(RTLIL)
    assert black_boxes == {"\\LUT6_2"}
    assert sorted(closure("\\blk$top.u_a", modules)) == ["\\LUT6_2", "\\blk$top.u_a", "\\lane$top.u_a.g[0].u"]
    (tmp_path / "design.il").write_text(RTLIL)
    blocks = write_blocks(tmp_path / "design.il", "top", tmp_path / "blocks")
    # one block (two instances); the primitive the top instantiates itself stays glue
    assert [(b["name"], b["instances"]) for b in blocks] == [("blk$top.u_a", 2)]
    text = (tmp_path / "blocks" / blocks[0]["file"]).read_text()
    assert text.count("\nend\n") + text.startswith("end\n") == 3 and "module \\top" not in text


@pytest.mark.fast
def test_a_design_without_its_top_is_a_synthesis_error_naming_the_log(tmp_path):
    from flow.rtl_backend.synth import SynthError
    from flow.rtl_backend.synth_split import write_blocks

    (tmp_path / "design.il").write_text(RTLIL)
    with pytest.raises(SynthError, match=r"no module other_top; log: .*yosys\.log"):
        write_blocks(tmp_path / "design.il", "other_top", tmp_path / "blocks")


@pytest.mark.fast
def test_only_large_tops_go_out_of_context(tmp_path):
    from flow.rtl_backend.synth_design import OUT_OF_CONTEXT_INSTANCES, top_instances

    top = tmp_path / "shiftbnn_top.sv"
    plain = "".join(f"  fifo u_f{i} (\n  );\n" for i in range(7))
    with_parameters = "".join(f"  pool #(\n    .K (3)\n  ) u_p{i} (\n  );\n" for i in range(4))
    top.write_text("module shiftbnn_top;\n" + plain + with_parameters + "endmodule\n")
    assert top_instances(top) == 11 < OUT_OF_CONTEXT_INSTANCES
    assert top_instances(tmp_path / "missing.sv") == 0


BLOCKS = {
    # name: SystemVerilog of a block with ports clk, a[15:0], y[15:0] (the parameter P varies it)
    "cnt": "always_ff @(posedge clk) y <= y + a[P-1:0];",
    "mul": "always_ff @(posedge clk) y <= a[7:0] * (a[15:8] + P);",
    "rom": "logic [15:0] m [0:1023];\n"  # 1,024 words: block RAM
    "  initial for (int i = 0; i < 1024; i++) m[i] = 16'((i * 40503 + P) ^ (i >> 3));\n"
    "  always_ff @(posedge clk) y <= m[a[9:0]];",
    "lanes": "logic [3:0] p;\n  for (genvar g = 0; g < 4; g++) begin : gl\n"
    "    lane #(.P(P + g)) u (.a(a), .y(p[g]));\n  end\n  always_ff @(posedge clk) y <= {12'(a), p};",
}
LANE = "(* keep_hierarchy *) module lane #(parameter int P = 1) (input logic [15:0] a, output logic y);\n" \
       "  assign y = ^(a & 16'(P * 2654435761));\nendmodule\n"  # fmt: skip


def generated_top(chain: list[tuple[str, int]]) -> str:
    """A top chaining the blocks in order (y of one is a of the next); equal (kind, P) repeat a block."""
    mods = [LANE]
    for kind, body in BLOCKS.items():
        mods.append(f"module {kind} #(parameter int P = 4) (input logic clk, input logic [15:0] a, "
                    f"output logic [15:0] y);\n  {body}\nendmodule\n")  # fmt: skip
    wires = "".join(f"  logic [15:0] w{i};\n" for i in range(len(chain) + 1))
    insts = "".join(f"  {k} #(.P({p})) u_{i} (.clk(clk), .a(w{i}), .y(w{i + 1}));\n" for i, (k, p) in enumerate(chain))
    top = (f"module shiftbnn_top (input logic clk, input logic [15:0] d, output logic [15:0] q);\n{wires}"
           f"  assign w0 = d;\n  assign q = w{len(chain)};\n{insts}endmodule\n")  # fmt: skip
    return "".join(mods) + top


@pytest.mark.slow
@settings(max_examples=3, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**16))
def test_out_of_context_blocks_sum_to_the_one_process_run(tmp_path_factory, seed, monkeypatch):
    from flow.core.boards import get_board
    from flow.rtl_backend import synth, synth_design
    from flow.rtl_backend.synth import synth_module
    from flow.rtl_backend.synth_design import synthesize

    rng = random.Random(seed)
    chain = [(rng.choice(list(BLOCKS)), rng.choice([3, 5])) for _ in range(rng.randint(3, 5))]
    chain.append(chain[0])  # an identical block: one module, two instances, in both runs
    rtl = tmp_path_factory.mktemp("rtl")
    (rtl / "top.sv").write_text(generated_top(chain))
    (rtl / "filelist.f").write_text("top.sv\n")
    whole = synth_module("shiftbnn_top", ["top.sv"], rtl.parent / "whole", family="xcup", cwd=rtl, flatten=False)
    monkeypatch.setattr(synth_design, "OUT_OF_CONTEXT_INSTANCES", -1)  # this small top goes out of context
    split = synthesize(rtl, get_board("ZCU104"), rtl.parent / "split", per_block=True)
    assert split["out_of_context"] and "uram" in split["utilization_pct"]
    assert {n: b["instances"] for n, b in split["blocks"].items()} == {
        n: b["instances"] for n, b in whole["blocks"].items()
    }
    for key in ("ff", "bram36", "uram", "dsp", "carry"):
        assert split[key] == whole[key], (key, chain)
    # ABC's LUT mapping depends on what else is in the process (docs/resnet_hw.md section 8)
    assert abs(split["lut"] - whole["lut"]) <= max(4, 0.05 * whole["lut"]), (split["lut"], whole["lut"], chain)
    assert split["depth"]["critical_path_block"] in split["blocks"]
    assert synth.kept_blocks(rtl.parent / "split") == split["blocks"]  # the per-block table's source
    slowest = [b["critical_path_ns"] for b in split["depth"]["slowest_blocks"]]
    assert slowest == sorted(slowest, reverse=True) and slowest[0] == split["depth"]["critical_path_ns"]
    # per module kind: every block's cells times its instances (the generated top has no glue logic)
    for key in ("lut", "ff", "dsp"):
        assert sum(m[key] for m in split["by_module"].values()) == split[key], key
