"""The bitstream step without Vivado: skipped with the reason, and an error under --require-bitstream."""

import pytest

from flow.build import main
from flow.compiler import finn_env

pytestmark = pytest.mark.slow


@pytest.mark.skipif(finn_env.vivado_available(), reason="checks the behaviour without Vivado")
def test_require_bitstream_without_vivado_fails_cleanly(tmp_path, capsys):
    out = tmp_path / "o"
    code = main(
        [
            "--board",
            "Pynq-Z2",
            "--model",
            "xnor_mlp",
            "--model-kwargs",
            '{"hidden": [16]}',
            "--verify-images",
            "3",
            "--require-bitstream",
            "--output",
            str(out),
        ]
    )
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert code == 2
    assert err.startswith("error: --require-bitstream") and "XILINX_VIVADO" in err
    assert not out.exists() and list(tmp_path.iterdir()) == []
