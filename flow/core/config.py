"""One build configuration, the state its steps hand on, and the backend protocol.

FINN's builder has one ``DataflowBuildConfig`` and steps ``step_x(model, cfg) -> model``; ours has one
frozen ``BuildConfig`` (what the user asked for, never changed by a step) and every step, compile and
build alike, is ``step_x(state, cfg) -> None``: it reads ``cfg``, reads and writes ``state`` (the graph
and what the steps produce), and the pipeline saves ``state.model`` after the steps that name a file.

The backend (``cfg.backend``) is an object, not a string: the steps call its methods and never branch
on its name (hls4ml's ``Backend`` registry; ours is ``flow/backends``).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from flow.core.boards import Board


class Backend(Protocol):
    """What a build needs of a backend (flow/backends): the steps after the folded graph."""

    name: str
    summary: str  # one line for --help

    def check(self, cfg: BuildConfig) -> None:
        """Fail before any work when the backend cannot run here (e.g. Vivado missing)."""

    def folding_attributes(self, board: Board) -> dict[str, tuple | None] | None:
        """What a folding JSON may set: attribute -> its allowed values (None: any the node takes);
        None: every attribute of the node. An attribute the backend does not read is refused, not ignored."""

    def fold(self, state: BuildState, cfg: BuildConfig) -> None:
        """Set PE/SIMD of ``state.model`` when no folding JSON is given (``state.search``: the result)."""

    def check_fit(self, state: BuildState, cfg: BuildConfig) -> None:
        """Fail (warn with ``cfg.allow_oversize``) when the folded design is modelled over the board."""

    def parameter_graph(self, model, part: str):
        """The graph whose weights and thresholds the backend stores on chip (the memory check counts
        them there), e.g. the RTL backend's threshold tables as multiply-add parameters."""

    def generate(self, state: BuildState, cfg: BuildConfig) -> None:
        """The hardware description of the folded graph (``state.design``)."""

    def simulate(self, state: BuildState, cfg: BuildConfig) -> None:
        """Simulate the design on the verification images (``state.rtlsim``)."""

    def synthesize(self, state: BuildState, cfg: BuildConfig) -> None:
        """Resource counts of the design (``state.synth``)."""

    def bitstream(self, state: BuildState, cfg: BuildConfig) -> None:
        """The bitstream, where the vendor tool is installed (``state.bitstream``)."""


@dataclass(frozen=True)
class BuildConfig:
    """Every option of one build; steps read it, none changes it."""

    board: Board
    backend: Backend
    workdir: Path | None = None  # where the build writes (a temporary folder beside ``output``)
    output: Path | None = None  # where the finished build is moved (the user's --output)
    model: str | None = None  # a registered model (brevitas_models/registry.py)
    checkpoint: Path | None = None  # its trained weights (flow/train.py)
    onnx: Path | None = None  # or a user's QONNX file
    model_kwargs: dict | None = None  # constructor arguments of an untrained --model
    shift: float | None = None  # override every binary activation's threshold shift t
    folding: Path | None = None  # FINN folding JSON; else the backend's folding for target_fps
    target_fps: float | None = None  # img/s the folding aims at; inf: the fastest that fits; None: the default
    allow_oversize: bool = False  # build a design modelled over the board's resources (a warning, not an error)
    runtime_weights: bool = False  # every MVAU's weights load at run time (else only where BRAM runs out)
    verify_images: int = 1000  # images verified at every stage
    dataset: str | None = None  # verification images and labels (flow/data names)
    data_dir: Path | None = None  # where the data set's files are (--data-dir)
    image_size: int | None = None  # the size an image folder is read at (--image-size)
    require_bitstream: bool = False  # fail when no bitstream could be built
    rtlsim: bool = True  # simulate the generated design on the verification images
    synth: bool = False  # synthesize it for resource counts (yosys for the RTL backend)

    @property
    def model_dir(self) -> Path:
        return self.workdir / "model"

    @property
    def report_dir(self) -> Path:
        return self.workdir / "report"


@dataclass
class BuildState:
    """What the steps produce and hand on (artefacts, never options)."""

    model: Any = None  # the graph the steps transform (QONNX -> ... -> folded FINN graph)
    parent: Any = None  # the dataflow parent graph (software prefix + partition node)
    net: Any = None  # flow/compiler/network.py Network: the Brevitas model or the user's ONNX
    qonnx: Any = None  # the exported QONNX graph (verification reference)
    search: Any = None  # the folding search's result (flow/analysis/folding_search.py)
    oversize: str | None = None  # the warning of a design modelled over the board (--allow-oversize)
    graphs: dict[str, Any] = field(default_factory=dict)  # named graphs for verification
    images: Any = None  # verification images and labels
    labels: Any = None
    source: str = "random"  # where the verification images come from
    source_note: str = ""  # the same in words, with the reason
    verification: Any = None  # flow/compiler/verify.py Verification
    inputs: Any = None  # accelerator inputs (after the software prefix)
    design: Any = None  # what the backend generated
    rtlsim: dict | None = None
    synth: dict | None = None
    bitstream: dict | None = None
    summary: dict | None = None
    shift_override: dict | None = None  # --shift on a trained checkpoint: the accuracy it costs
    record: dict = field(default_factory=dict)  # the current step's progress record
    steps: list[dict] = field(default_factory=list)  # every progress record so far (summary.json)
    warnings: list[str] = field(default_factory=list)  # warning/note lines the build printed (summary.json)


Step = Callable[[BuildState, BuildConfig], None]


def finn_quietly(log_path: Path):
    """FINN prints progress chatter to stdout and warnings through logging: send both to a log."""
    stack = contextlib.ExitStack()
    stream = stack.enter_context(open(log_path, "a"))
    stack.enter_context(contextlib.redirect_stdout(stream))
    handler = logging.StreamHandler(stream)
    root = logging.getLogger()
    root.addHandler(handler)
    stack.callback(root.removeHandler, handler)
    return stack
