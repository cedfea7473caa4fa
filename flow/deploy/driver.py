#!/usr/bin/env python3
"""shiftbnn board driver: run the accelerator in OUTPUT/deploy/ on a PYNQ board or in simulation.

Self-contained on purpose: it needs numpy (1.x on the PYNQ image is fine) and, on the board, pynq.
No onnx, torch or qonnx: everything it needs comes from ``top.json`` (the generated RTL top's
stream formats) and ``deploy.json`` (the model's input shape, bitstream and DMA names).

Backends, chosen automatically (``--backend`` or SHIFTBNN_BACKEND override):
  pynq  Overlay(<name>.bit) + AXI DMA: MM2S feeds the input stream, S2MM collects the labels. A design
        whose MVAUs load their weights at run time (deploy.json runtime_weights) first streams
        runtime_weights.bin through the weight DMA's MM2S into s_axis_wgt, once per bitstream load.
  sim   the Verilator model of the same RTL (``rtlsim/shiftbnn_sim`` of the build folder).
Both run the same packing code, so the sim backend checks what the board will receive bit for bit.

Stream format (FINN's): per image the input tensor in NHWC order, ``in_elems_per_beat`` elements per
beat, element 0 in the least significant bits, beats little endian, unused top bits zero.

    python driver.py                       # accuracy on test_images.npy + throughput
    python driver.py --backend sim --limit 100 --json
"""

from __future__ import annotations

import argparse
import errno
import json
import math
import os
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from pathlib import Path

import numpy as np

BACKENDS = ("auto", "pynq", "sim")
DMA_MAX_BYTES = (1 << 26) - 1  # AXI DMA buffer length register width 26 (set in the block design)


class DriverError(Exception):
    """A problem the user can fix (shape, dtype, missing file, no backend); one-line message."""


def _positive(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


MAX_JSON_DEPTH = 64  # the flow's limit (flow/core/inputs.py); deeper JSON overflows Python's parser


def _reject_constant(name: str):
    raise ValueError(f"{name} is not a finite number")


def _json_depth(value) -> int:
    depth, level = 0, [(value, 1)]
    while level:
        item, d = level.pop()
        if isinstance(item, (dict, list)):
            depth = max(depth, d)
            level.extend((v, d + 1) for v in (item.values() if isinstance(item, dict) else item))
    return depth


def read_json_object(path: Path) -> dict:
    """Strict JSON (no NaN), at most MAX_JSON_DEPTH deep, an object; from a regular file only."""
    try:
        data = json.loads(_read_regular(Path(path)).decode("utf-8"), parse_constant=_reject_constant)
    except RecursionError:
        raise DriverError(f"{path} is nested more than {MAX_JSON_DEPTH} levels deep") from None
    except (UnicodeDecodeError, ValueError) as exc:
        raise DriverError(f"{path} is not readable JSON ({type(exc).__name__})") from None
    if _json_depth(data) > MAX_JSON_DEPTH:
        raise DriverError(f"{path} is nested more than {MAX_JSON_DEPTH} levels deep")
    if not isinstance(data, dict):
        raise DriverError(f"{path} must hold a JSON object")
    return data


def _read_regular(path: Path) -> bytes:
    """The bytes of ``path`` if it is a regular file (a FIFO would block the driver forever)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError as exc:
        raise DriverError(f"{path}: cannot read it ({exc.strerror or type(exc).__name__})") from None
    with os.fdopen(fd, "rb") as fh:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise DriverError(f"{path} is not a regular file")
        os.set_blocking(fd, True)
        return fh.read()


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def sim_timeout(n_images: int, in_beats: int) -> float:
    """Wall-clock limit of one simulator run: 5 min plus 1 s and 1 ms per input beat per image, times
    SHIFTBNN_TIMEOUT_SCALE (same rule as the flow's flow/rtl_backend/sim.py)."""
    try:
        scale = float(os.environ.get("SHIFTBNN_TIMEOUT_SCALE", "1"))
    except ValueError:
        scale = float("nan")
    if not (scale > 0 and math.isfinite(scale)):
        raise DriverError("SHIFTBNN_TIMEOUT_SCALE must be a positive number")
    return (300.0 + n_images * (1.0 + 1e-3 * in_beats)) * scale


# ---------------------------------------------------------------------------------------------
# Datatypes and stream packing (pure numpy)
# ---------------------------------------------------------------------------------------------


def datatype_range(name: str) -> tuple[int, int, bool]:
    """(min, max, bipolar) of a FINN datatype name: UINTn, INTn, BINARY, BIPOLAR."""
    name = name.upper()
    if name == "BIPOLAR":
        return -1, 1, True
    if name == "BINARY":
        return 0, 1, False
    for prefix, signed in (("UINT", False), ("INT", True)):
        if name.startswith(prefix) and name[len(prefix) :].isdigit():
            bits = int(name[len(prefix) :])
            if signed:
                return -(1 << (bits - 1)), (1 << (bits - 1)) - 1, False
            return 0, (1 << bits) - 1, False
    raise DriverError(f"unsupported stream datatype {name!r} (want UINTn, INTn, BINARY or BIPOLAR)")


def pack_stream(elems: np.ndarray, elem_bits: int, per_beat: int, beat_bits: int, datatype: str) -> np.ndarray:
    """Pack integer elements (N, E) into beats: returns uint8 (N * E / per_beat, beat_bits / 8).

    Element i of a beat occupies bits [i*elem_bits, (i+1)*elem_bits); negative values are two's
    complement; a bipolar value is its bit (+1 -> 1, -1 -> 0); bits above per_beat*elem_bits are 0.
    """
    elems = np.asarray(elems)
    if elems.ndim != 2 or elems.shape[1] % per_beat:
        raise DriverError(f"cannot pack elements of shape {elems.shape} into beats of {per_beat}")
    if beat_bits % 8 or per_beat * elem_bits > beat_bits:
        raise DriverError(f"beat width {beat_bits} cannot hold {per_beat} x {elem_bits}-bit elements")
    _, _, bipolar = datatype_range(datatype)
    n_beats = elems.size // per_beat
    if elem_bits in (8, 16, 32) and not bipolar:  # byte-aligned fast path; astype wraps to two's complement
        words = elems.reshape(n_beats, per_beat).astype(
            f"<i{elem_bits // 8}" if elems.dtype.kind == "i" else f"<u{elem_bits // 8}"
        )
        raw = words.view(np.uint8).reshape(n_beats, -1)
    else:
        values = (elems > 0).astype(np.int64) if bipolar else elems.astype(np.int64)
        words = values.reshape(n_beats, per_beat) & ((1 << elem_bits) - 1)
        shifts = np.arange(elem_bits, dtype=np.int64)
        bits = ((words[:, :, None] >> shifts) & 1).astype(np.uint8).reshape(n_beats, -1)
        pad = (-bits.shape[1]) % 8
        if pad:
            bits = np.concatenate([bits, np.zeros((n_beats, pad), np.uint8)], axis=1)
        raw = np.packbits(bits, axis=1, bitorder="little")
    out = np.zeros((n_beats, beat_bits // 8), np.uint8)
    out[:, : raw.shape[1]] = raw
    return out


def unpack_stream(raw: np.ndarray, elem_bits: int, per_beat: int, datatype: str) -> np.ndarray:
    """Inverse of pack_stream: uint8 beats (B, beat_bytes) -> int64 elements (B * per_beat,)."""
    raw = np.ascontiguousarray(raw, dtype=np.uint8)
    bits = np.unpackbits(raw, axis=1, bitorder="little")[:, : per_beat * elem_bits]
    bits = bits.reshape(-1, per_beat, elem_bits).astype(np.int64)
    values = (bits << np.arange(elem_bits, dtype=np.int64)).sum(axis=2).reshape(-1)
    lo, _, bipolar = datatype_range(datatype)
    if bipolar:
        return np.where(values > 0, 1, -1).astype(np.int64)
    if lo < 0:
        values = np.where(values >= (1 << (elem_bits - 1)), values - (1 << elem_bits), values)
    return values


# ---------------------------------------------------------------------------------------------
# The deploy folder: top.json + deploy.json
# ---------------------------------------------------------------------------------------------


def _shape(value, path: Path, key: str) -> tuple:
    if not (isinstance(value, list) and value and all(_positive(v) for v in value)):
        raise DriverError(f"{path}: {key} must be a list of positive integers, got {value!r}")
    return tuple(value)


class Design:
    """Stream formats of the generated top (top.json) plus the deploy metadata (deploy.json)."""

    TOP_KEYS = (
        "in_width", "in_elem_bits", "in_elems_per_beat", "in_beats_per_image", "in_datatype", "in_shape_nhwc",
        "out_width", "out_elem_bits", "out_elems_per_beat", "out_beats_per_image", "out_datatype", "out_shape",
    )  # fmt: skip

    def __init__(self, deploy_dir: Path):
        self.dir = Path(deploy_dir)
        top_path = self.dir / "top.json"
        if not top_path.is_file():
            raise DriverError(f"{top_path} not found: is {self.dir} a shiftbnn deploy folder?")
        self.top = read_json_object(top_path)
        missing = [k for k in self.TOP_KEYS if k not in self.top]
        if missing:
            raise DriverError(f"{top_path} lacks {', '.join(missing)}")
        counts = [k for k in self.TOP_KEYS if k.endswith(("width", "bits", "beat", "image"))]
        bad = [k for k in counts if not _positive(self.top[k])]
        if bad:
            raise DriverError(f"{top_path}: {bad[0]} must be a positive integer, got {self.top[bad[0]]!r}")
        for key in ("in_datatype", "out_datatype"):
            if not isinstance(self.top[key], str):
                raise DriverError(f"{top_path}: {key} must be a datatype name, got {self.top[key]!r}")
            datatype_range(self.top[key])
        meta_path = self.dir / "deploy.json"
        self.meta = read_json_object(meta_path) if meta_path.is_file() else {}
        t = self.top
        self.nhwc = _shape(t["in_shape_nhwc"], top_path, "in_shape_nhwc")
        # the model's own input shape (e.g. NCHW from the ONNX graph); defaults to the stream's NHWC
        self.input_shape = _shape(self.meta.get("input_shape", list(self.nhwc)), meta_path, "input_shape")
        self.out_shape = _shape(t["out_shape"], top_path, "out_shape")
        clock = self.meta.get("clock_mhz", t.get("clock_mhz", 100.0))
        if not (_number(clock) and clock > 0):
            raise DriverError(f"{self.dir}: clock_mhz must be a positive number, got {clock!r}")
        self.clock_mhz = float(clock)
        for key in ("bitfile", "dma"):
            if key in self.meta and not (isinstance(self.meta[key], str) and self.meta[key]):
                raise DriverError(f"{meta_path}: {key} must be a name, got {self.meta[key]!r}")
        if int(np.prod(self.nhwc[1:])) != t["in_beats_per_image"] * t["in_elems_per_beat"]:
            raise DriverError(f"{top_path}: in_shape_nhwc {list(self.nhwc)} does not fill the input beats")
        if int(np.prod(self.out_shape[1:])) > t["out_beats_per_image"] * t["out_elems_per_beat"]:
            raise DriverError(f"{top_path}: out_shape {list(self.out_shape)} does not fit the output beats")
        if int(np.prod(self.input_shape[1:])) != int(np.prod(self.nhwc[1:])):
            raise DriverError(f"{meta_path}: input_shape {list(self.input_shape)} does not match in_shape_nhwc")
        if t["in_width"] % 8 or t["out_width"] % 8:
            raise DriverError(f"{top_path}: in_width and out_width must be whole bytes")
        self.in_bytes = t["in_width"] // 8
        self.out_bytes = t["out_width"] // 8

    def runtime_weights_file(self) -> Path | None:
        """runtime_weights.bin when the top loads weights at run time (top.json runtime_weights), else None."""
        if not self.top.get("runtime_weights"):
            return None
        spec = self.meta.get("runtime_weights")
        path = self.dir / (spec.get("file", "runtime_weights.bin") if isinstance(spec, dict) else "runtime_weights.bin")
        if not path.is_file():
            raise DriverError(f"{path} not found: the design loads its weights at run time (rebuild deploy/)")
        expected = sum(int(e["beats"]) for e in self.top["runtime_weights"])
        if path.stat().st_size != 4 * expected:
            raise DriverError(f"{path} holds {path.stat().st_size} bytes, the design takes {expected} 32-bit beats")
        return path

    @property
    def image_in_bytes(self) -> int:
        return self.top["in_beats_per_image"] * self.in_bytes

    @property
    def image_out_bytes(self) -> int:
        return self.top["out_beats_per_image"] * self.out_bytes

    def to_stream_layout(self, images: np.ndarray) -> np.ndarray:
        """(N, *input_shape[1:]) -> (N, *nhwc[1:]): the dataflow graph's software prefix."""
        n = images.shape[0]
        model, nhwc = self.input_shape, self.nhwc
        if len(model) == 4 and len(nhwc) == 4 and (model[2], model[3], model[1]) == nhwc[1:] and model != nhwc:
            images = images.transpose(0, 2, 3, 1)  # NCHW -> NHWC
        return np.ascontiguousarray(images).reshape(n, -1)

    def check_images(self, images) -> np.ndarray:
        """Validate shape, dtype and range; returns an integer array (N, *input_shape[1:])."""
        arr = np.asarray(images)
        want = self.input_shape[1:]
        if arr.shape == want:
            arr = arr[None]
        if arr.ndim != len(want) + 1 or arr.shape[1:] != want:
            raise DriverError(f"images must have shape (N, {', '.join(map(str, want))}); got {arr.shape}")
        if arr.shape[0] == 0:
            raise DriverError("no images given (N = 0)")
        dt = self.top["in_datatype"]
        lo, hi, bipolar = datatype_range(dt)
        if arr.dtype.kind == "f":
            if not np.all(np.isfinite(arr)) or np.any(arr != np.round(arr)):
                raise DriverError(f"images must hold integer values ({dt}); got non-integer floats")
        elif arr.dtype.kind not in "iub":
            raise DriverError(f"images must be an integer or float array; got dtype {arr.dtype}")
        if arr.dtype.kind in "fb":
            arr = arr.astype(np.int64)  # integer arrays stay as they are (no 8x copy of uint8 images)
        if bipolar:
            if not np.all((arr == 1) | (arr == -1)):
                raise DriverError("images must hold only -1 and +1 (BIPOLAR)")
        elif arr.min() < lo or arr.max() > hi:
            raise DriverError(f"image values must lie in [{lo}, {hi}] ({dt}); got [{arr.min()}, {arr.max()}]")
        return arr

    def pack_images(self, images) -> np.ndarray:
        """Images -> input stream bytes, shape (N * in_beats_per_image, in_width / 8), uint8."""
        t = self.top
        elems = self.to_stream_layout(self.check_images(images))
        return pack_stream(elems, t["in_elem_bits"], t["in_elems_per_beat"], t["in_width"], t["in_datatype"])

    def unpack_outputs(self, raw: np.ndarray, n: int) -> np.ndarray:
        """Output stream bytes -> (N, *out_shape[1:]) int64 (the top-K label indices)."""
        t = self.top
        raw = np.asarray(raw, dtype=np.uint8).reshape(-1, self.out_bytes)
        if raw.shape[0] != n * t["out_beats_per_image"]:
            raise DriverError(f"expected {n * t['out_beats_per_image']} output beats, got {raw.shape[0]}")
        values = unpack_stream(raw, t["out_elem_bits"], t["out_elems_per_beat"], t["out_datatype"])
        per_image = int(np.prod(self.out_shape[1:]))
        values = values.reshape(n, -1)[:, :per_image]  # padding elements of the last beat dropped
        return values.reshape((n, *self.out_shape[1:]))


# ---------------------------------------------------------------------------------------------
# Backends: each moves packed input bytes through the accelerator and returns output bytes
# ---------------------------------------------------------------------------------------------


class SimBackend:
    """The Verilator-built model of the RTL (rtlsim/shiftbnn_sim), run in the rtl/ folder."""

    name = "sim"

    def __init__(
        self, design: Design, binary: Path | None = None, rtl_dir: Path | None = None, timeout_s: float | None = None
    ):
        sim = design.meta.get("sim", {})
        if not isinstance(sim, dict) or not all(isinstance(sim.get(k, ""), str) for k in ("binary", "rtl_dir")):
            raise DriverError(f"{design.dir / 'deploy.json'}: 'sim' must be an object of paths")
        self.timeout_s = timeout_s
        self.design = design
        self.binary = Path(binary or design.dir / sim.get("binary", "../rtlsim/shiftbnn_sim")).resolve()
        self.rtl_dir = Path(rtl_dir or design.dir / sim.get("rtl_dir", "../rtl")).resolve()
        if not self.binary.is_file():
            raise DriverError(f"simulator not found: {self.binary} (build the design, or pass --sim)")
        if not os.access(self.binary, os.X_OK):
            raise DriverError(f"simulator {self.binary} is not executable (chmod +x, or pass --sim)")
        if not self.rtl_dir.is_dir():
            raise DriverError(f"RTL folder not found: {self.rtl_dir}")
        self.last_stats: dict = {}

    def run(self, packed: np.ndarray, n: int, extra_args: tuple = ()) -> np.ndarray:
        with tempfile.TemporaryDirectory(prefix="shiftbnn-sim-") as tmp:
            tmp = Path(tmp)
            packed.tofile(tmp / "in.bin")
            cmd = [str(self.binary), "--input", str(tmp / "in.bin"), "--output", str(tmp / "out.bin")]
            cmd += ["--images", str(n), "--stats", str(tmp / "stats.json"), *extra_args]
            weights = self.design.runtime_weights_file()
            if weights is not None:  # the simulated top loads its weights after reset, as the board does
                cmd += ["--weights", str(weights)]
            timeout = self.timeout_s or sim_timeout(n, self.design.top["in_beats_per_image"])
            code, out, err = run_with_timeout(cmd, self.rtl_dir, timeout)
            if code != 0:
                lines = (err or out).strip().splitlines()
                raise DriverError(f"simulator failed ({code}): {lines[-1] if lines else 'no output'}")
            stats, outputs = tmp / "stats.json", tmp / "out.bin"
            if not outputs.is_file():
                raise DriverError("simulator exited without writing its output")
            self.last_stats = read_json_object(stats) if stats.is_file() else {}
            return np.fromfile(outputs, dtype=np.uint8)

    def close(self):
        pass


def run_with_timeout(cmd: list, cwd: Path, timeout_s: float) -> tuple:
    """(exit code, stdout, stderr) of ``cmd``; its process group is killed on timeout or interrupt."""
    try:
        proc = subprocess.Popen(
            cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
        )
    except OSError as exc:
        raise DriverError(f"cannot start the simulator {cmd[0]}: {exc.strerror or exc}") from None
    try:
        out, err = proc.communicate(timeout=min(timeout_s, 1e8))  # ~1e18 s overflows the OS clock
    except BaseException as exc:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except OSError:
            proc.kill()
        proc.wait()
        if isinstance(exc, subprocess.TimeoutExpired):
            raise DriverError(
                f"simulator timed out after {timeout_s:.0f} s and was stopped "
                "(raise the limit with --sim-timeout or SHIFTBNN_TIMEOUT_SCALE)"
            ) from None
        raise
    return proc.returncode, out, err


class PynqBackend:
    """Overlay + AXI DMA on the board: one MM2S/S2MM transfer pair per batch (TLAST ends both)."""

    name = "pynq"

    def __init__(self, design: Design, bitfile: Path | None = None, download: bool = True):
        try:
            import pynq
        except ImportError:
            raise DriverError("the pynq backend needs the pynq package (PYNQ board image)") from None
        self.pynq = pynq
        self.design = design
        name = design.meta.get("bitfile", "shiftbnn.bit")
        self.bitfile = Path(bitfile or design.dir / name)
        if not self.bitfile.is_file():
            raise DriverError(f"bitstream not found: {self.bitfile} (built only where Vivado is installed)")
        if not self.bitfile.with_suffix(".hwh").is_file():
            raise DriverError(f"hardware handoff not found: {self.bitfile.with_suffix('.hwh')}")
        self.overlay = pynq.Overlay(str(self.bitfile), download=download)
        dma_name = design.meta.get("dma", "axi_dma_0")
        try:
            self.dma = getattr(self.overlay, dma_name)
        except AttributeError:
            raise DriverError(f"the overlay has no DMA named {dma_name!r}") from None
        self._buffers: dict = {}
        if design.runtime_weights_file() is not None:
            self.load_weights()

    def load_weights(self) -> None:
        """Stream runtime_weights.bin into the top's s_axis_wgt through the weight DMA's MM2S channel,
        in transfers of at most DMA_MAX_BYTES (the loaders only count beats, so the split is free)."""
        spec = self.design.meta["runtime_weights"]
        try:
            dma = getattr(self.overlay, spec.get("dma", "axi_dma_weights"))
        except AttributeError:
            raise DriverError(f"the overlay has no weight DMA named {spec.get('dma')!r}") from None
        beats = np.fromfile(self.design.runtime_weights_file(), dtype="<u4")
        step = DMA_MAX_BYTES // 4
        for start in range(0, beats.size, step):
            chunk = beats[start : start + step]
            buf = self.pynq.allocate(shape=(chunk.size,), dtype=np.uint32)
            buf[:] = chunk
            buf.flush()
            dma.sendchannel.transfer(buf)
            dma.sendchannel.wait()
            buf.freebuffer()

    def _buffers_for(self, n: int):
        if n not in self._buffers:
            d = self.design
            ibuf = self.pynq.allocate(shape=(n * d.top["in_beats_per_image"], d.in_bytes), dtype=np.uint8)
            obuf = self.pynq.allocate(shape=(n * d.top["out_beats_per_image"], d.out_bytes), dtype=np.uint8)
            self._buffers[n] = (ibuf, obuf)
        return self._buffers[n]

    def transfer(self, n: int) -> None:
        """One batch through the DMA, buffers already filled (timed by throughput_test)."""
        ibuf, obuf = self._buffers_for(n)
        self.dma.recvchannel.transfer(obuf)
        self.dma.sendchannel.transfer(ibuf)
        self.dma.sendchannel.wait()
        self.dma.recvchannel.wait()

    def run(self, packed: np.ndarray, n: int) -> np.ndarray:
        ibuf, obuf = self._buffers_for(n)
        ibuf[:] = packed
        ibuf.flush()
        self.transfer(n)
        obuf.invalidate()
        return np.array(obuf, dtype=np.uint8).reshape(-1)

    def close(self):
        for ibuf, obuf in self._buffers.values():
            ibuf.freebuffer()
            obuf.freebuffer()
        self._buffers.clear()


def pynq_device_present() -> bool:
    try:
        import pynq

        return len(pynq.Device.devices) > 0
    except Exception:  # no pynq, no XRT, "No Devices Found": all mean "not on a board"
        return False


def choose_backend(design: Design, backend: str = "auto", **kwargs):
    backend = os.environ.get("SHIFTBNN_BACKEND", backend) if backend == "auto" else backend
    if backend not in BACKENDS:
        raise DriverError(f"unknown backend {backend!r}; valid: {', '.join(BACKENDS)}")
    if backend == "auto":
        backend = "pynq" if pynq_device_present() else "sim"
    if backend == "pynq":
        return PynqBackend(design, bitfile=kwargs.get("bitfile"))
    return SimBackend(
        design, binary=kwargs.get("sim_binary"), rtl_dir=kwargs.get("rtl_dir"), timeout_s=kwargs.get("sim_timeout")
    )


# ---------------------------------------------------------------------------------------------
# The accelerator
# ---------------------------------------------------------------------------------------------


class Accelerator:
    """``Accelerator(deploy_dir).execute(images)`` -> top-K labels, on the board or in simulation."""

    def __init__(self, deploy_dir=None, backend: str = "auto", batch_size: int = 1000, **backend_kwargs):
        self.design = Design(Path(deploy_dir) if deploy_dir else Path(__file__).resolve().parent)
        if not _positive(batch_size):
            raise DriverError(f"batch_size must be a positive integer, got {batch_size!r}")
        per_image = max(self.design.image_in_bytes, self.design.image_out_bytes)
        self.batch_size = min(batch_size, DMA_MAX_BYTES // per_image)
        self.backend = choose_backend(self.design, backend, **backend_kwargs)

    @property
    def backend_name(self) -> str:
        return self.backend.name

    def execute(self, images) -> np.ndarray:
        """Images (N, *input_shape) of the input datatype -> outputs (N, *out_shape[1:]), int64."""
        images = self.design.check_images(images)
        outs = []
        for start in range(0, images.shape[0], self.batch_size):
            chunk = images[start : start + self.batch_size]
            raw = self.backend.run(self.design.pack_images(chunk), chunk.shape[0])
            outs.append(self.design.unpack_outputs(raw, chunk.shape[0]))
        return np.concatenate(outs)

    def predict(self, images) -> np.ndarray:
        """Top-1 label per image, shape (N,)."""
        out = self.execute(images)
        return out.reshape(out.shape[0], -1)[:, 0]

    def throughput_test(self, images=None, n: int = 1000) -> dict:
        """Images per second and latency. pynq: wall clock of the DMA transfers (batch of n, then
        1 image); sim: the cycle-accurate figures of the simulator at the design clock, plus the
        host's simulation speed. ``images`` defaults to n zero images."""
        d = self.design
        if not _positive(n):
            raise DriverError(f"throughput_test: n must be a positive integer, got {n!r}")
        n = min(n, self.batch_size)
        if images is None:
            images = np.zeros((n, *d.input_shape[1:]), np.int64) + datatype_range(d.top["in_datatype"])[0]
        images = d.check_images(images)[:n]
        n = images.shape[0]
        packed = d.pack_images(images)
        result = {"backend": self.backend.name, "images": n, "clock_mhz": d.clock_mhz}
        if isinstance(self.backend, PynqBackend):
            self.backend.run(packed, n)  # fill the buffers once; time the transfers only
            t0 = time.perf_counter()
            self.backend.transfer(n)
            runtime = time.perf_counter() - t0
            self.backend.run(packed[: d.top["in_beats_per_image"]], 1)
            t1 = time.perf_counter()
            self.backend.transfer(1)
            latency = time.perf_counter() - t1
            result.update(runtime_s=runtime, fps=n / runtime, latency_ms=latency * 1e3)
        else:
            t0 = time.perf_counter()
            self.backend.run(packed, n)
            wall = time.perf_counter() - t0
            st = self.backend.last_stats
            cpf, lat = st.get("cycles_per_frame"), st.get("latency_cycles")
            result.update(
                fps=d.clock_mhz * 1e6 / cpf if cpf else None,
                latency_ms=lat / (d.clock_mhz * 1e3) if lat else None,
                cycles_per_frame=cpf,
                latency_cycles=lat,
                cycles=st.get("cycles"),
                sim_wall_s=wall,
                sim_images_per_s=n / wall,
            )
        return result

    def close(self):
        self.backend.close()


# ---------------------------------------------------------------------------------------------
# CLI
# ---------------------------------------------------------------------------------------------


class UsageError(DriverError):
    """A bad command-line argument (the CLI's ``error:`` line, exit 2)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise UsageError(f"{message} (see --help)")


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"want a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"want a positive integer, got {value}")
    return value


def _positive_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"want a positive number of seconds, got {text!r}")
    return value


def _path(text: str) -> Path:
    """A path the OS can look up (whether or not it exists): a name too long for the file system or a NUL
    byte is bad input here, not an ``OSError`` deep inside the run."""
    try:
        os.stat(text)
    except ValueError:
        raise argparse.ArgumentTypeError("a path cannot contain a NUL byte") from None
    except OSError as exc:
        if exc.errno == errno.ENAMETOOLONG:
            raise argparse.ArgumentTypeError(f"file name too long: {text[:60]}...") from None
    return Path(text)


def parse_args(argv=None) -> argparse.Namespace:
    p = _Parser(description=__doc__.splitlines()[0])
    p.add_argument("--deploy", type=_path, default=Path(__file__).resolve().parent, help="deploy folder")
    p.add_argument("--backend", choices=BACKENDS, default="auto")
    p.add_argument("--images", type=_path, help="images .npy (default: the deploy folder's test_images.npy)")
    p.add_argument("--labels", type=_path, help="labels .npy for accuracy (default: test_labels.npy)")
    p.add_argument("--limit", type=_positive_int, help="use the first N images only")
    p.add_argument("--batch", type=_positive_int, default=1000, help="images per DMA transfer")
    p.add_argument("--output", type=_path, help="write the outputs (N, K) to this .npy")
    p.add_argument("--no-throughput", action="store_true", help="skip the throughput test")
    p.add_argument("--bitfile", type=_path, help="pynq: bitstream (default from deploy.json)")
    p.add_argument("--sim", type=_path, dest="sim_binary", help="sim: shiftbnn_sim binary")
    p.add_argument("--rtl-dir", type=_path, help="sim: the rtl/ folder the simulator runs in")
    p.add_argument("--sim-timeout", type=_positive_seconds, help="sim: seconds per simulator run (default scales)")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    return p.parse_args(argv)


def load_array(path: Path, what: str) -> np.ndarray:
    """An .npy of numbers (never a pickle: object arrays are refused), from a regular file."""
    if not Path(path).exists():
        raise DriverError(f"{what} not found: {path}")
    import io

    try:
        array = np.load(io.BytesIO(_read_regular(Path(path))), allow_pickle=False)
    except (OSError, ValueError, EOFError) as exc:
        raise DriverError(f"{path} is not a numeric .npy array ({str(exc).splitlines()[0][:80]})") from None
    if not isinstance(array, np.ndarray) or array.dtype.kind not in "biuf":
        raise DriverError(f"{path}: {what} must be a numeric array, got dtype {getattr(array, 'dtype', '?')}")
    return array


def check_labels(labels: np.ndarray, n: int, path) -> np.ndarray:
    """Labels for ``n`` images: a vector (or a column) of n finite, non-negative integers."""
    if labels.ndim > 2 or (labels.ndim == 2 and labels.shape[1] != 1) or labels.ndim == 0:
        raise DriverError(f"{path}: labels must have shape (N,) or (N, 1), got {labels.shape}")
    labels = labels.reshape(-1)
    if len(labels) != n:
        raise DriverError(f"{path} has {len(labels)} labels for {n} images")
    if labels.dtype.kind == "f" and not (np.all(np.isfinite(labels)) and np.all(labels == np.round(labels))):
        raise DriverError(f"{path}: labels must be whole numbers (found NaN/inf or fractions)")
    if labels.dtype.kind == "b" or (len(labels) and labels.min() < 0):
        raise DriverError(f"{path}: labels must be class indices >= 0")
    return labels.astype(np.int64)


def check_output_path(output: Path, reads: list) -> None:
    """The flow's replace rule, the part that applies on a board (flow/core/outputs.py): never a file
    this run reads, never a folder, never inside a .git folder."""
    target = Path(os.path.abspath(output))
    if str(output) == "" or target.is_dir():
        raise DriverError(f"--output {output} is a folder; give a .npy file path")
    if ".git" in target.parts:
        raise DriverError(f"--output {output} lies inside a .git folder")
    for item in reads:
        if item is not None and Path(item).exists() and target.exists() and os.path.samefile(item, target):
            raise DriverError(f"--output {output} is the input {item}; give another file")


def save_array(path: Path, array: np.ndarray) -> None:
    """np.save through a temporary file and a rename: never a half-written .npy."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as fh:
            np.save(fh, array)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def run(args: argparse.Namespace) -> dict:
    kwargs = {k: getattr(args, k) for k in ("bitfile", "sim_binary", "rtl_dir", "sim_timeout") if getattr(args, k)}
    images_path = args.images or args.deploy / "test_images.npy"
    labels_path = args.labels or (None if args.images else args.deploy / "test_labels.npy")
    if args.output is not None:
        reads = [images_path, labels_path, args.deploy / "top.json", args.deploy / "deploy.json", args.bitfile]
        check_output_path(args.output, [*reads, args.deploy / "expected_outputs.npy", args.sim_binary])
    acc = Accelerator(args.deploy, backend=args.backend, batch_size=args.batch, **kwargs)
    try:
        images = load_array(images_path, "images")[: args.limit]
        labels = None
        if labels_path is not None and (args.labels is not None or Path(labels_path).is_file()):
            raw = load_array(labels_path, "labels")
            if raw.ndim >= 1 and args.limit is not None:
                raw = raw[: args.limit]
            labels = check_labels(raw, len(images), labels_path)
        t0 = time.perf_counter()
        outputs = acc.execute(images)
        report = {"backend": acc.backend_name, "images": int(len(images)), "seconds": time.perf_counter() - t0}
        if args.output:
            save_array(args.output, outputs)
        if labels is not None:
            report["accuracy"] = float(np.mean(outputs.reshape(len(images), -1)[:, 0] == labels))
        expected_path = args.deploy / "expected_outputs.npy"
        if args.images is None and expected_path.is_file():
            expected = load_array(expected_path, "expected outputs")[: len(images)]
            report["equal_to_rtl_sim"] = int(np.all(expected == outputs, axis=1).sum())
        if not args.no_throughput:
            report["throughput"] = acc.throughput_test(images)
    finally:
        acc.close()
    return report


def print_report(report: dict) -> None:
    print(f"backend      {report['backend']}")
    print(f"images       {report['images']} in {report['seconds']:.3f} s")
    if "accuracy" in report:
        print(f"accuracy     {100 * report['accuracy']:.2f} %")
    if "equal_to_rtl_sim" in report:
        print(f"bit-exact    {report['equal_to_rtl_sim']}/{report['images']} outputs equal to the RTL simulation")
    tp = report.get("throughput")
    if tp and tp.get("fps"):
        where = "board wall clock" if tp["backend"] == "pynq" else f"cycle-accurate at {tp['clock_mhz']:g} MHz"
        print(f"throughput   {tp['fps']:.0f} img/s ({where})")
        if tp.get("latency_ms") is not None:
            print(f"latency      {1e3 * tp['latency_ms']:.2f} us")


# The error contract of shiftbnn's CLIs (flow/core/cli.py), copied: this file must run on the board alone.
class Terminated(BaseException):
    """SIGTERM, raised in the main thread so that clean-up (temporary folders, the simulator) runs."""


def _raise_terminated(signum, frame):
    raise Terminated()


def _error(message: str) -> None:
    print(f"error: {message}", file=sys.stderr, flush=True)


def main(argv=None) -> int:
    """One ``error:`` line and exit 2 for bad input; 130/143 on SIGINT/SIGTERM; ``error: internal``
    with the traceback in a log file for a bug."""
    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        args = parse_args(argv)
        report = run(args)
    except DriverError as exc:
        _error(str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__)
        return 2
    except KeyboardInterrupt:
        _error("interrupted (Ctrl-C)")
        return 130
    except Terminated:
        _error("terminated (SIGTERM)")
        return 143
    except Exception as exc:
        log = Path(tempfile.gettempdir()) / f"shiftbnn-driver-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}.log"
        try:
            log.write_text(traceback.format_exc())
        except OSError:
            log = "(not written)"
        _error(f"internal: {type(exc).__name__}: {str(exc).strip()[:200]} (a bug; traceback in {log})")
        return 1
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    if args.json:
        print(json.dumps(report))
    else:
        print_report(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
