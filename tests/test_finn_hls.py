"""--backend finn-hls (flow/vivado/finn_hls.py): FINN's build_dataflow on our folded graph. Here: the
config FINN gets, and the stop with FINN's own message without Vivado; the build itself is in
tests/test_build_bitstream.py (`vivado` marker)."""

import pytest

from flow.core.boards import get_board
from flow.vivado.finn_hls import FIRST_STEP, FinnHlsError, finn_hls_config, run_finn_hls

pytestmark = pytest.mark.fast


@pytest.mark.parametrize("name", ["Pynq-Z2", "ZCU104"])
def test_config_for_board(tmp_path, name):
    board = get_board(name)
    cfg = finn_hls_config(tmp_path, board)
    assert cfg.fpga_part == board.part and cfg.board == board.finn_board
    assert cfg.synth_clk_period_ns == pytest.approx(1000 / board.clock_mhz)
    assert cfg.steps[0] == FIRST_STEP and cfg.steps[-1] == "step_deployment_package"
    assert "step_synthesize_bitfile" in cfg.steps and "step_apply_folding_config" not in cfg.steps
    assert {o.value for o in cfg.generate_outputs} >= {"bitfile", "pynq_driver", "deployment_package"}
    assert cfg.output_dir == str(tmp_path / "finn_hls")


def test_without_vivado_stops_with_finns_message(tmp_path, monkeypatch):
    monkeypatch.delenv("XILINX_VIVADO", raising=False)
    with pytest.raises(FinnHlsError) as exc:
        run_finn_hls(tmp_path, get_board("Pynq-Z2"))
    msg = str(exc.value)
    assert "needs Vivado and Vitis HLS" in msg and "Environment variable XILINX_VIVADO must be set" in msg
    assert "\n" not in msg
    assert not (tmp_path / "finn_hls").exists()
    monkeypatch.setenv("XILINX_VIVADO", "")
    with pytest.raises(FinnHlsError, match="XILINX_VIVADO='' is not a folder"):
        run_finn_hls(tmp_path, get_board("Pynq-Z2"))


def test_default_folding_is_the_fastest_finn_estimate_that_fits(tmp_path):
    """Without --target-fps the FINN backend takes the fastest SetFolding target whose FINN estimate fits
    the board, and a target over the board stops with FINN's numbers."""
    from zoo_skeletons import load

    from flow.backends.finn_hls import FinnHlsBackend
    from flow.backends.finn_hls_folding import finn_cost, max_cycles
    from flow.builder.compile import compile_config
    from flow.core.config import BuildState
    from flow.core.errors import BuildError

    board = get_board("Pynq-Z2")
    state = BuildState(model=load("xnor_mlp"))
    FinnHlsBackend().fold(state, compile_config(board, tmp_path))
    assert finn_cost(state.model, board)["fits"] and max_cycles(state.model) < 1000
    big = BuildState(model=load("xnor_mlp"))
    cfg = compile_config(board, tmp_path, target_fps=5e6)
    FinnHlsBackend().fold(big, cfg)
    with pytest.raises(BuildError, match=r"FINN's design does not fit the Pynq-Z2 .* LUT"):
        FinnHlsBackend().check_fit(big, cfg)
