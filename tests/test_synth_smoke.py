"""One tiny yosys point of the synthesis benchmark (the full table: python bench/synth_mvau.py)."""

import pytest

pytestmark = pytest.mark.slow


def test_mvau_synth_smoke(tmp_path):
    from bench.synth_mvau import finn_estimates, synth_point

    r = synth_point(64, 16, 4, 16, tmp_path)
    r.update(finn_estimates(64, 16, 4, 16))
    assert r["lut"] > 0 and r["ff"] > 0
    assert r["lut"] + r["lutram_luts"] < r["finn_lut_est"], r
    # the one yosys runner reports the critical path of the kept hierarchy, flattened
    assert 1 <= r["depth"]["critical_path_lut_levels"] <= r["depth"]["max_lut_levels"]
