"""`verilator --lint-only -Wall` on every hw/rtl/*.sv and *.v, over the corner parameter sets."""

import shutil
import subprocess
from pathlib import Path

import pytest

from hw.sources import COMMON_SOURCES, RTL_DEPENDENCIES, RTL_DIR

PARAMS = {
    "shiftbnn_pkg": [[]],
    "shiftbnn_assert_known": [[], ["-GWidth=3"]],
    "axis_skid": [[], ["-GDataWidth=1"]],
    "bnn_mvau": [
        [],
        ["-GMW=75", "-GSIMD=25", "-GPE=1", "-GMH=3"],
        ["-GMW=27", "-GSIMD=3", "-GXnorMode=0", "-GInputBits=8", "-GInputSigned=1", "-GNumThresholds=0"],
        ["-GMW=16", "-GSIMD=16", "-GMH=4", "-GPE=4", "-GNumThresholds=3", "-GOutBits=2"],
        ['-GWeightRamStyle="distributed"', "-GMW=32", "-GSIMD=16"],
        ['-GWeightRamStyle="auto"', "-GMH=4", "-GPE=4"],
        ["-GMW=2048", "-GSIMD=512", "-GMH=8", "-GPE=4"],  # PE*SIMD = 2048
        ['-GWeightRamStyle="distributed"', "-GMW=80", "-GSIMD=16", "-GMH=12", "-GPE=4"],
        [
            "-GMW=20",
            "-GSIMD=5",
            "-GMH=6",
            "-GPE=2",
            "-GXnorMode=0",
            "-GInputBits=5",
            "-GInputSigned=1",
            "-GNumThresholds=2",
            "-GOutBits=2",
            "-GLevelsPerStage=1",
        ],
        ["-GMW=64", "-GMH=128", "-GPE=1", "-GSIMD=64"],  # 128 folds: threshold ROM read synchronously
        ["-GMW=2304", "-GMH=16", "-GPE=1", "-GSIMD=128", "-GWeightOutReg=1", "-GLevelsPerStage=4"],  # deep weights
        ['-GWeightRamStyle="ultra"', "-GRuntimeWeights=1"],
        ['-GWeightRamStyle="distributed"', "-GRuntimeWeights=1", "-GMW=32", "-GSIMD=16"],
    ],
    "mvau_fold": [[], ["-GSF=1", "-GNF=3"], ["-GNF=1", "-GOperandStage=1"], ["-GSF=5", "-GNF=2", "-GOperandStage=1"]],
    "mvau_wmem": [
        [],
        ['-GStyle="logic"', "-GDepth=1"],
        ['-GStyle="ultra"', "-GDepth=100", "-GWidth=72"],
        ['-GStyle="ultra"', "-GDepth=100", "-GWidth=72", "-GRuntimeWrite=1"],
        ['-GStyle="distributed"', "-GDepth=3", "-GWidth=5", "-GRuntimeWrite=1"],
        ["-GDepth=1", "-GWidth=64", "-GRuntimeWrite=1"],
    ],
    "mvau_wload": [[], ["-GDepth=1", "-GWidth=1"], ["-GDepth=5", "-GWidth=100"]],
    "shiftbnn_lut6_2": [[], ["-GInit=64'h6996966996696996"]],
    "shiftbnn_carry4": [[], ["-GChained=1"]],
    "bnn_gpc": [[], ["-GInputs=3"], ["-GInputs=5"], ["-GInputs=6"]],
    "bnn_add3": [[], ["-GWidth=1"], ["-GWidth=13"]],
    "bnn_popcount": [
        [],
        ["-GN=1"],
        ["-GN=97", "-GGroupSize=1"],
        ["-GN=1024", "-GGroupSize=2", "-GLevelsPerStage=3"],
        ["-GN=27", "-GXnor=0", "-GInputBits=8"],
        ["-GN=5", "-GXnor=0", "-GInputBits=5", "-GInputSigned=1", "-GLevelsPerStage=2"],
    ],
    "int_mvau": [
        [],
        ["-GMW=16", "-GSIMD=16", "-GMH=4", "-GPE=4", "-GInputSigned=1", '-GRamStyle="ultra"'],
        ["-GMH=8", "-GPE=8", "-GWeightBits=2", "-GInputBits=1", '-GRamStyle="distributed"'],
        ['-GRamStyle="ultra"', "-GRuntimeWeights=1"],
    ],
    "bnn_pool": [
        [],
        [
            "-GElemBits=3",
            "-GSigned=1",
            "-GKH=3",
            "-GKW=3",
            "-GInH=6",
            "-GInW=6",
            "-GOutH=2",
            "-GOutW=2",
            "-GSH=3",
            "-GSW=3",
            "-GPE=1",
            "-GChannels=3",
            "-GMinMask=3'h5",
        ],
        [
            "-GInH=7",
            "-GInW=9",
            "-GKH=3",
            "-GKW=2",
            "-GSH=2",
            "-GSW=1",
            "-GPadT=1",
            "-GPadL=1",
            "-GOutH=4",
            "-GOutW=10",
            "-GSumMode=1",
            "-GBipolar=1",
            "-GOutBits=4",
        ],
        [
            "-GInH=5",
            "-GInW=3",
            "-GKH=5",
            "-GKW=3",
            "-GOutH=1",
            "-GOutW=1",
            "-GChannels=1",
            "-GPE=1",
            "-GSumMode=1",
            "-GElemBits=8",
            "-GSigned=1",
            "-GOutBits=12",
        ],
    ],
    "pos_threshold": [
        [],
        ["-GNumThresholds=3", "-GOutBits=3", "-GOutBias=-1", "-GPE=1", "-GChannels=3", "-GRowTop=0", "-GColRight=0"],
        ["-GNumThresholds=0", "-GAccScale=2", "-GOutBits=9", "-GInSigned=0"],
    ],
    "bnn_labelselect": [[], ["-GK=1", "-GLabels=1", "-GPE=1"], ["-GK=3", "-GPE=5", "-GSigned=0"]],
    "stream_dup": [[], ["-GWidth=1"]],
    "stream_dwc": [
        [],
        ["-GInBits=64", "-GOutBits=36"],
        ["-GInBits=1", "-GOutBits=576"],
        ["-GInBits=512", "-GOutBits=24"],
    ],
    "stream_reorder": [
        [],
        ["-GD0=1", "-GD3=1", "-GS3=0"],  # one element per frame
        ["-GElemBits=1", "-GD0=3", "-GD1=5", "-GD2=7", "-GD3=2", "-GS0=70", "-GS1=1", "-GS2=10", "-GS3=5"],
        ["-GElemBits=4", "-GD2=256", "-GD3=256", "-GS2=1", "-GS3=256"],  # 2 x 64 K elements: block RAM
    ],
    "stream_subsample": [
        [],
        ["-GSH=1", "-GSW=1", "-GOH=4", "-GOW=4"],  # keeps every pixel
        ["-GH=3", "-GW=1", "-GSH=3", "-GSW=1", "-GOH=1", "-GOW=1", "-GFolds=2"],  # generated net 11's window
        ["-GBeatBits=1", "-GFolds=3", "-GH=7", "-GW=5", "-GSH=3", "-GSW=2", "-GOH=2", "-GOW=3"],
    ],
    "stream_add": [
        [],
        ["-GPE=3", "-GABits=3", "-GASigned=0", "-GBBits=5", "-GOutBits=4", "-GOffset=-7", "-GOutMin=0", "-GOutMax=15"],
        ["-GPE=2", "-GOutBits=8", "-GOutMin=-128", "-GOutMax=127"],
    ],
    "stream_requant": [
        [],
        ["-GPE=3", "-GInBits=4", "-GInSigned=0", "-GOutBits=3", "-GOffset=-5", "-GOutMin=0", "-GOutMax=7"],
        # multiply-add-shift: one channel fold, one shift; several folds, per-channel shifts
        ["-GPE=2", "-GChannels=2", "-GInBits=13", "-GMulBits=17", "-GAddBits=31", "-GShift=15"],
        ["-GPE=3", "-GChannels=12", "-GInBits=22", "-GMulBits=27", "-GAddBits=46", "-GShift=30", "-GShiftBits=3"],
    ],
    "axis_tlast_gen": [[], ["-GDepth=2", "-GInBeatsPerImage=3", "-GOutBeatsPerImage=2"]],
    # needs a shiftbnn_top: the test's stand-in (3 input beats of 16 bits -> 2 output beats of 8)
    # (and with the run-time weight port, as build_bitstream.py packages it for a top with run-time weights)
    "shiftbnn_dma_top": [
        ["-GIN_WIDTH=16", "-GOUT_WIDTH=8", "-GIN_BEATS=3", "-GOUT_BEATS=2", "-GDEPTH=2"],
        ["-DSHIFTBNN_WEIGHT_PORT", "-GIN_WIDTH=16", "-GOUT_WIDTH=8", "-GIN_BEATS=3", "-GOUT_BEATS=2", "-GDEPTH=2"],
    ],
}


FAKE_TOP = Path(__file__).resolve().parent.parent / "shiftbnn_dma_top" / "fake_shiftbnn_top.sv"
EXTRA = {"shiftbnn_dma_top": (str(FAKE_TOP), "axis_tlast_gen.sv"), **RTL_DEPENDENCIES}


def own_file(module: str) -> str:
    return next(p.name for p in (RTL_DIR / f"{module}.sv", RTL_DIR / f"{module}.v") if p.is_file())


@pytest.mark.fast
def test_every_rtl_file_has_lint_params():
    files = [*RTL_DIR.glob("*.sv"), *RTL_DIR.glob("*.v")]
    assert sorted(p.stem for p in files) == sorted(PARAMS)


@pytest.mark.sim
@pytest.mark.parametrize(
    "module,args",
    [(m, a) for m, sets in PARAMS.items() for a in sets],
    ids=[f"{m}-{i}" for m, sets in PARAMS.items() for i in range(len(sets))],
)
def test_lint_clean(module, args, tmp_path):
    verilator = shutil.which("verilator")
    if verilator is None:
        pytest.fail("verilator not on PATH (activate .venv)")
    if module == "stream_requant" and any(a.startswith("-GChannels=") for a in args):  # its parameter ROM
        (tmp_path / "p.hex").write_text("0\n")
        args = [*args, f'-GParamFile="{tmp_path}/p.hex"']
    if module in ("bnn_mvau", "int_mvau", "mvau_wmem"):  # the ROM init files must exist
        (tmp_path / "w.hex").write_text("0\n")
        (tmp_path / "t.hex").write_text("0\n")
        args = [*args, f'-G{"InitFile" if module == "mvau_wmem" else "WeightFile"}="{tmp_path}/w.hex"']
        args += [f'-GThresholdFile="{tmp_path}/t.hex"'] if module == "bnn_mvau" else []
    files = [str(RTL_DIR / f) for f in dict.fromkeys((*COMMON_SOURCES, *EXTRA.get(module, ()), own_file(module)))]
    res = subprocess.run(
        [verilator, "--lint-only", "-Wall", "--top-module", module, *args, *files], capture_output=True, text=True
    )
    assert res.returncode == 0 and "%Warning" not in res.stderr, res.stderr
