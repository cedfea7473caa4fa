"""What every command-line tool of shiftbnn shares: the error contract and the argument types.

The contract (``run_cli``), the same for build, train, sweep, throughput, results_summary,
build_bitstream and the benchmarks that build (bench/resnet_hw.py, compile_time.py, bireal_vs_xnor.py,
fuzz_networks.py) (the board driver keeps its own copy: it must run without this repository):

- bad input (an argument, a file, a folder): one ``error: ...`` line on stderr, exit status 2, before
  any work where the input can be checked up front (``Parser`` turns argparse's usage dump into that
  line; the types below check ranges and finiteness);
- Ctrl-C (SIGINT) / SIGTERM: ``error: interrupted`` / ``error: terminated``, exit 130 / 143; the tools'
  ``finally`` blocks remove their temporary folders on the way out (SIGTERM raises ``Terminated``);
- anything else is a bug: ``error: internal: ...`` with the traceback written to a log file whose path
  the line gives, exit 1; never a bare traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import signal
import sys
import tempfile
import threading
import time
import traceback
import warnings
from collections.abc import Callable
from pathlib import Path

EXIT_INTERNAL, EXIT_USAGE, EXIT_SIGINT, EXIT_SIGTERM = 1, 2, 130, 143
# Upper bounds of the counts of parallel work: beyond them a typo (--jobs 1000) would start a thousand
# processes or threads and exhaust the machine instead of failing in one line.
MAX_THREADS = 1024  # torch CPU threads
MAX_WORKERS = 128  # data-loading processes
MAX_JOBS = 256  # training processes side by side (flow/sweep.py)
MAX_SEED = 2**32 - 1  # the epoch's generator is seeded with seed * 100003 + epoch: a 64-bit integer


class UsageError(ValueError):
    """Bad input the user can fix; the message is the one line shown."""


class Terminated(BaseException):
    """SIGTERM, raised in the main thread so that ``finally`` blocks and temp-folder clean-up run."""


class HelpFormatter(argparse.HelpFormatter):
    """``--help`` that shows every option's default and marks the required ones."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if text == argparse.SUPPRESS:
            return text
        if action.required:
            return f"{text} (required)".strip()
        if not action.option_strings or "default" in text:
            return text
        default = action.default
        if isinstance(action, argparse.BooleanOptionalAction):
            shown = action.option_strings[0 if default else 1]  # --progress / --no-progress
        elif default is None or default is False or default == [] or default is argparse.SUPPRESS:
            return text
        elif isinstance(default, list):
            shown = " ".join(self._value(v) for v in default)
        else:
            shown = self._value(default)
        return f"{text} (default: {shown.replace('%', '%%')})".strip()

    @staticmethod
    def _value(value) -> str:
        return f"{value:g}" if isinstance(value, float) else str(value)


class Parser(argparse.ArgumentParser):
    """argparse with the contract's error line: ``error: argument --x: ...`` instead of a usage dump,
    and a ``--help`` that shows defaults and required options."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("formatter_class", HelpFormatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str):
        raise UsageError(f"{message} (see --help)")


class DeprecatedAlias(argparse.Action):
    """An old spelling of an option (``add_argument("--control", action=DeprecatedAlias, new="--shift-as-bn-bias",
    dest=...)``): hidden from ``--help``, still accepted where a recorded command uses it, with a note on
    stderr. ``flag=True``: it takes no value and stores True."""

    def __init__(self, option_strings, dest, new: str, flag: bool = False, **kwargs):
        if flag:
            kwargs.update(nargs=0, default=kwargs.get("default", argparse.SUPPRESS))
        super().__init__(option_strings, dest, help=argparse.SUPPRESS, **kwargs)
        self.new, self.flag = new, flag

    def __call__(self, parser, namespace, values, option_string=None):
        print(f"note: {option_string} is an old spelling of {self.new}", file=sys.stderr)
        setattr(namespace, self.dest, True if self.flag else values)


def print_output(path) -> None:
    """The last line of a tool that wrote a folder, on stdout: ``output: PATH``."""
    print(f"output: {path}", flush=True)


# ---------------------------------------------------------------------------------- argument types
def _type_error(text: str):
    return argparse.ArgumentTypeError(text)


def finite_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise _type_error(f"want a number, got {text!r}") from None
    if not math.isfinite(value):
        raise _type_error(f"want a finite number, got {text!r}")
    return value


def positive_float(text: str) -> float:
    value = finite_float(text)
    if value <= 0:
        raise _type_error(f"want a number > 0, got {text!r}")
    return value


def nonnegative_float(text: str) -> float:
    value = finite_float(text)
    if value < 0:
        raise _type_error(f"want a number >= 0, got {text!r}")
    return value


def int_in(low: int, high: int | None = None) -> Callable[[str], int]:
    """An integer type checked against ``[low, high]`` (``high`` None: no upper bound)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise _type_error(f"want an integer, got {text!r}") from None
        if value < low or (high is not None and value > high):
            span = f">= {low}" if high is None else f"between {low} and {high}"
            raise _type_error(f"want an integer {span}, got {value}")
        return value

    parse.__name__ = "integer"
    return parse


def output_path(text: str) -> Path:
    """An output path: not empty (``--output ""`` would otherwise mean the current folder)."""
    if not text.strip():
        raise _type_error("want a path, got an empty one")
    return Path(text)


def parse_shift(text: str) -> float | list[float]:
    """``"0.3"`` -> 0.3; ``"0.3,0,0"`` -> one value per binary layer. Every value finite."""
    try:
        values = [float(v) for v in text.split(",")]
    except ValueError:
        raise _type_error(f"want a number or a comma list of numbers (one t per binary layer), got {text!r}") from None
    if not all(math.isfinite(v) for v in values):
        raise _type_error(f"a shift must be a finite number, got {text!r}")
    return values[0] if len(values) == 1 else values


def parse_ints(text: str) -> list[int]:
    """A comma list of positive integers (layer widths)."""
    try:
        values = [int(v) for v in text.split(",")]
    except ValueError:
        raise _type_error(f"want a comma list of integers, got {text!r}") from None
    if not values or min(values) < 1:
        raise _type_error(f"want positive integers, got {text!r}")
    return values


def json_object(text: str) -> dict:
    """A JSON object (``--model-kwargs '{"width": 0.5}'``); strict (numbers finite), depth-limited."""
    from flow.core.inputs import InputError, parse_json

    try:
        value = parse_json(text, "this")
    except InputError as exc:
        raise _type_error(str(exc).removeprefix("this is ")) from None
    if not isinstance(value, dict):
        raise _type_error(f"want a JSON object {{...}}, got {text[:40]!r}")
    return value


def json_object_text(text: str) -> str:
    """``json_object``'s check, keeping the text: for a tool that passes it on to another (a benchmark that
    runs flow/build.py) and records it as given."""
    json_object(text)
    return text


def device_name(text: str) -> str:
    """``auto``, ``cpu``, ``cuda`` or ``cuda:N``; cuda only where torch sees a GPU."""
    if text not in ("auto", "cpu", "cuda") and not (text.startswith("cuda:") and text[5:].isdigit()):
        raise _type_error(f"want auto, cpu, cuda or cuda:N, got {text!r}")
    if text.startswith("cuda"):
        import torch

        if not torch.cuda.is_available():
            raise _type_error(f"{text}: torch sees no CUDA GPU on this machine (use cpu or auto)")
        index = int(text[5:]) if ":" in text else 0
        if index >= torch.cuda.device_count():
            raise _type_error(f"{text}: only {torch.cuda.device_count()} GPU(s) present")
    return text


def check_model_kwargs(name: str, kwargs: dict, flag: str = "--model-kwargs") -> None:
    """Build the model once with ``kwargs``: an unknown key or a bad value is a one-line error now,
    not a TypeError (or a negative tensor size) after the data loaded."""
    from brevitas_models.registry import build_model

    try:
        build_model(name, **kwargs)
    except Exception as exc:  # any failure to construct it is the arguments' (TypeError, ValueError, ...)
        raise UsageError(f"{flag}: {name} cannot be built with {json.dumps(kwargs)} ({first_line(exc)})") from None


# ------------------------------------------------------------------------------- library chatter
def quiet_library_warnings() -> None:
    """Filter warnings our CLIs' users cannot act on (called by the CLIs only, not by library code).

    brevitas warns at import that the optional ``fast_hadamard_transform`` package is missing (used
    only by Hadamard quantizers, which shiftbnn does not use); torch/onnx export warnings repeat for
    every model and say nothing about the user's network."""
    for pattern in (".*fast_hadamard_transform.*", ".*TracerWarning.*", ".*Named tensors.*"):
        warnings.filterwarnings("ignore", message=pattern)
    for library in ("brevitas", "qonnx", "finn", "onnx", "onnxscript"):  # e.g. qonnx: "Assuming 4D input is NCHW"
        warnings.filterwarnings("ignore", category=UserWarning, module=f"{library}(\\.|$)")
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    # numpy's "divide by zero" inside FINN's streamlining: the NaN/inf it leads to is reported as an error
    warnings.filterwarnings("ignore", category=RuntimeWarning, module="finn(\\.|$)")
    with contextlib.suppress(Exception):
        from torch.jit import TracerWarning

        warnings.filterwarnings("ignore", category=TracerWarning)


# ---------------------------------------------------------------------------------- the contract
# the exception of a signal received inside signals_raise: library code with a bare ``except:`` can
# swallow the first raise, raise_if_signalled raises it again at the next step
_SIGNALLED: list[type[BaseException]] = []


def _raise_terminated(signum, frame):
    _SIGNALLED.append(Terminated)
    raise Terminated()


def _raise_interrupt(signum, frame):
    _SIGNALLED.append(KeyboardInterrupt)
    raise KeyboardInterrupt()


def raise_if_signalled() -> None:
    """Raise again a SIGINT / SIGTERM that was received but swallowed (called between build steps)."""
    if _SIGNALLED:
        raise _SIGNALLED[-1]()


@contextlib.contextmanager
def signals_raise():
    """While inside: SIGTERM raises ``Terminated`` and SIGINT ``KeyboardInterrupt`` in the main thread, and
    both are remembered for raise_if_signalled (elsewhere signals are left alone)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    _SIGNALLED.clear()
    previous = signal.signal(signal.SIGTERM, _raise_terminated), signal.signal(signal.SIGINT, _raise_interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous[0])
        signal.signal(signal.SIGINT, previous[1])
        _SIGNALLED.clear()


def internal_error_log(tool: str) -> Path:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    return Path(tempfile.gettempdir()) / f"shiftbnn-{tool}-{stamp}-{os.getpid()}.log"


def error(message: str) -> None:
    print(f"error: {message}", file=sys.stderr, flush=True)


def run_cli(body: Callable[[], int | None], tool: str, user_errors: Callable[[], tuple] | tuple = ()) -> int:
    """Run a CLI's ``body`` under the contract; returns the exit status. ``user_errors``: the exception
    types that mean bad input besides the core's own (UsageError, InputError for a file read,
    OutputError for the replace rule) (or a callable returning them, so a failing argument check need not
    import the libraries that define them)."""
    try:
        with signals_raise():
            return body() or 0
    except KeyboardInterrupt:
        error("interrupted (Ctrl-C); temporary files removed, finished outputs kept")
        return EXIT_SIGINT
    except Terminated:
        error("terminated (SIGTERM); temporary files removed, finished outputs kept")
        return EXIT_SIGTERM
    except Exception as exc:
        try:
            known = user_errors() if callable(user_errors) else user_errors
        except Exception:  # the libraries that define them do not import: report the original error
            known = ()
        from flow.core.files import OutputError
        from flow.core.inputs import InputError

        if isinstance(exc, (UsageError, InputError, OutputError, *known)):
            error(first_line(exc))
            return EXIT_USAGE
        log = internal_error_log(tool)  # a bug: the traceback goes to a log, the user gets one line
        try:
            log.write_text(traceback.format_exc())
            where = f"traceback in {log}"
        except OSError:
            where = "the traceback could not be written"
        error(f"internal: {type(exc).__name__}: {first_line(exc)} (a bug in shiftbnn; {where})")
        return EXIT_INTERNAL


def first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
