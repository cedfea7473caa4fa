"""One vocabulary across flow/train.py, flow/sweep.py and flow/build.py (issue 31): an option that two
tools share means the same there (type, choices, values), every visible option is explained and shows
its default, required options say so, and the old spellings are hidden but still accepted with a note."""

from __future__ import annotations

import argparse
import re

import pytest

from flow import build, sweep, train

pytestmark = pytest.mark.fast
PARSERS = {"train": train.build_parser, "sweep": sweep.build_parser, "build": build.build_parser}
# build's --model is optional beside --checkpoint/--onnx and checks the name itself (the same list, one line)
SAME_IDEA_OWN_CHECK = {"--model"}


def visible(parser: argparse.ArgumentParser) -> dict[str, argparse.Action]:
    """Every option string shown by --help, with its action."""
    return {
        option: action
        for action in parser._actions
        if action.help != argparse.SUPPRESS and not isinstance(action, argparse._HelpAction)
        for option in action.option_strings
    }


def shown_help(parser: argparse.ArgumentParser, action: argparse.Action) -> str:
    return parser._get_formatter()._get_help_string(action)


def meaning(action: argparse.Action) -> tuple:
    kind = getattr(action.type, "__qualname__", None)
    return action.dest, kind, tuple(action.choices or ()), action.nargs, type(action).__name__


@pytest.mark.parametrize("tool", list(PARSERS))
def test_every_option_is_explained_with_its_default(tool):
    parser = PARSERS[tool]()
    for option, action in visible(parser).items():
        text = shown_help(parser, action)
        assert text.strip(), f"{tool} {option} has no help"
        if action.required:
            assert text.endswith("(required)"), (tool, option, text)
        elif action.default not in (None, False, [], argparse.SUPPRESS):
            assert "default" in text, (tool, option, text)
    assert "(required" in shown_help(parser, visible(parser)["--output" if tool != "build" else "--board"])


def test_shared_options_mean_the_same_in_every_tool():
    options = {tool: visible(make()) for tool, make in PARSERS.items()}
    shared = 0
    for option in set().union(*options.values()) - SAME_IDEA_OWN_CHECK:
        having = {tool: opts[option] for tool, opts in options.items() if option in opts}
        if len(having) > 1:
            shared += 1
            assert len({meaning(a) for a in having.values()}) == 1, (option, {t: meaning(a) for t, a in having.items()})
    assert shared >= 20
    # the spellings the issue found split between the tools
    for option in ("--shift-mode", "--image-size", "--workers", "--learnable-shift", "--shift-as-bn-bias",
                   "--progress", "--no-progress", "--val-split", "--threads", "--device"):  # fmt: skip
        assert option in options["train"] and option in options["sweep"], option
    for option in ("--dataset", "--data-dir", "--image-size", "--model-kwargs", "--output", "--force"):
        assert all(option in opts for opts in options.values()), option


@pytest.mark.parametrize(
    ("tool", "old", "dest", "value"),
    [("sweep", "--control", "shift_as_bn_bias", True), ("sweep", "--learnable", "learnable_shift", True),
     ("build", "--model-args", "model_kwargs", {"hidden": [8]})],
)  # fmt: skip
def test_old_spellings_are_hidden_and_accepted_with_a_note(tool, old, dest, value, capsys):
    parser = PARSERS[tool]()
    assert old not in visible(parser) and not re.search(rf"{old}(?![\w-])", parser.format_help())
    argv = ["--model", "xnor_mlp", "--output", "o", old] + (['{"hidden": [8]}'] if old == "--model-args" else [])
    args = parser.parse_args(argv)
    assert getattr(args, dest) == value
    assert f"note: {old} is an old spelling of" in capsys.readouterr().err
