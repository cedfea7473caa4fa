"""Fixtures shared by tests/ (library-side helpers used by tests and benchmarks live in the packages,
e.g. brevitas_models/random_bn.py's randomize_batchnorm)."""

import pytest


@pytest.fixture(scope="session")
def default_build(tmp_path_factory):
    """`make build`'s output, built once per session: ``flow/build.py --board Pynq-Z2`` (the embedded
    default network, verification on 1,000 images and RTL simulation; ~2-3 min on 2 cores)."""
    from flow.build import main

    out = tmp_path_factory.mktemp("default") / "default-Pynq-Z2"
    assert main(["--board", "Pynq-Z2", "--output", str(out)]) == 0
    return out
