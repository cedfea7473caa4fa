"""The report pages without a browser: build summaries and sweep results drawn from a grammar
(tests/report_cases.py), any block count, keys missing as older or newer builds leave them."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest
from PIL import Image

from flow.builder.report_blocks import write_breakdown_png
from flow.builder.report_html import KNOWN, render, write_report_html
from flow.builder.report_sections import fit, timing
from flow.core.capture import capture_warnings
from flow.core.html import NA
from flow.experiments.sweep_report import mean_interval
from flow.experiments.sweep_report import render as render_sweep
from tests.report_cases import full_summary, random_results, random_summary, well_formed

pytestmark = pytest.mark.fast


def test_any_summary_renders_a_well_formed_page(tmp_path):
    """60 generated summaries (80 % with keys removed or blanked): a page every time, tags nest, user
    text (model names, warnings) is escaped, missing keys read n/a, unknown keys are listed."""
    rng = np.random.default_rng(29)
    for case in range(60):
        summary = random_summary(rng)
        page = render(summary, tmp_path)
        assert not well_formed(page), (case, well_formed(page)[:3])
        assert "<script" not in page.lower() and "http://" not in page.replace("http://www.w3.org/2000/svg", "")
        assert NA in page or case % 5  # a damaged summary shows n/a somewhere
        for key in set(summary) - KNOWN:
            assert key in page  # "Other recorded data"


def test_every_block_gets_a_readable_row(tmp_path):
    """48 blocks: one label per block in each per-block chart, rows of constant height, the chart only
    grows downwards; the bottleneck is named in red."""
    rng = np.random.default_rng(48)
    heights = {}
    for n in (12, 48):
        summary = full_summary(rng, n_blocks=n)
        summary["target"] = {**(summary["target"] or {}), "bottleneck": summary["blocks"][5]["name"]}
        section = render(summary, tmp_path)
        charts = re.findall(r"<svg[^>]*aria-label=\"(?:Cycles|LUT|BRAM36) per (?:frame per )?block\".*?</svg>",
                            section, re.S)  # fmt: skip
        assert len(charts) >= 2
        for chart in charts:
            for block in summary["blocks"]:
                assert f">{block['name']}<" in chart
        width, height = (float(v) for v in re.search(r'viewBox="0 0 (\S+) (\S+)"', charts[0]).groups())
        heights[n] = height
        assert width == 980
        assert f"{summary['blocks'][5]['name']}: " in charts[0] and "◀ bottleneck" in charts[0]
    assert heights[48] - heights[12] == pytest.approx((48 - 12) * (heights[48] - heights[12]) / 36)
    assert heights[48] > 3.5 * heights[12] - 300


@pytest.mark.parametrize("n", [5, 48])
def test_breakdown_png_grows_with_blocks_not_sideways(tmp_path, n):
    summary = full_summary(np.random.default_rng(n), n_blocks=n)
    width, height = Image.open(write_breakdown_png(tmp_path, summary)).size
    assert width == 1300 and height >= 24 * n  # 0.24 in (24 px) per block row at 100 dpi


def test_breakdown_png_from_finn_estimates_alone(tmp_path):
    """A summary without ``blocks`` (an older build): the rows come from FINN's per-layer estimates."""
    (tmp_path / "estimate_layer_cycles.json").write_text('{"MVAU_hls_0": 896, "LabelSelect_hls_0": 10}')
    (tmp_path / "estimate_layer_resources.json").write_text(
        '{"MVAU_hls_0": {"LUT": 100, "BRAM_18K": 2}, "LabelSelect_hls_0": {"LUT": 5}, "total": {"LUT": 105}}'
    )
    path = write_breakdown_png(tmp_path, {"model": "m", "board": "Pynq-Z2", "rtlsim": {"cycles_per_frame": 896.0}})
    assert Image.open(path).size[0] == 1300


def _summary(**over):
    s = full_summary(np.random.default_rng(0), n_blocks=3)
    s.update(board="Pynq-Z2", backend="rtl", **over)
    return s


def test_does_not_fit_banner_names_the_deciding_source(tmp_path):
    """yosys decides when it ran; else our cost model (RTL backend); FINN's estimate over the part alone
    only warns: it models FINN's HLS layers, not our RTL."""
    target = {"cost_model": {"lut": 63919, "bram36": 20.0, "fits": False, "budget_fraction": 0.85}}
    over = fit(_summary(synth=None, target=target))
    assert over["bad"] and over["primary"] == "our cost model"
    assert "DOES NOT FIT xc7z020clg400-1: our cost model LUT 63,919 = 120.1 % of 53,200" in over["banner"]
    yosys = {"lut": 43000, "ff": 50000, "bram36": 90.0, "dsp": 0}
    ok = fit(_summary(synth=yosys, target=target, estimate={"lut": 90000, "bram36": 10}))
    assert not ok["bad"] and ok["primary"] == "yosys" and 'class="banner warn"' in ok["banner"]
    assert "FINN estimate: LUT 169.2 %" in ok["banner"] and "our cost model: LUT 120.1 %" in ok["banner"]
    page = render(_summary(synth={**yosys, "bram36": 150.0}, target=target), tmp_path)
    assert "DOES NOT FIT xc7z020clg400-1: yosys BRAM36 150 = 107.1 % of 140" in page
    fits = fit(_summary(synth=yosys, target={"cost_model": {"lut": 40000, "fits": True}}, estimate={"lut": 9}))
    assert not fits["bad"] and 'class="banner ok"' in fits["banner"] and "LUT 80.8 %" in fits["banner"]


def test_verification_rows_follow_the_keys_whatever_the_reference(tmp_path):
    """``<reference>_vs_<stage>`` keys, whichever reference (QONNX for an --onnx build) and stages."""
    summary = _summary()
    summary["verification"] = {"images": 10, "reference": "qonnx", "qonnx_vs_streamlined": 10, "qonnx_vs_finn": 9,
                               "qonnx_vs_rtl": None, "first_mismatch": {"qonnx_vs_finn": 4}}  # fmt: skip
    page = render(summary, tmp_path)
    assert "<td>streamlined</td><td>qonnx</td>" in page and "9/10" in page and "not run" in page
    assert "verification qonnx_vs_finn: first differing image #4" in page


def test_report_page_written_atomically_beside_summary(tmp_path):
    (tmp_path / "report").mkdir()
    (tmp_path / "rtl").mkdir()
    (tmp_path / "rtl" / "shiftbnn_top.sv").write_text("module m; endmodule")
    path = write_report_html(tmp_path, _summary())
    assert path == tmp_path / "report" / "report.html"
    page = path.read_text()
    assert 'href="../rtl/shiftbnn_top.sv"' in page and 'href="../rtl/"' in page
    assert [p.name for p in (tmp_path / "report").iterdir()] == ["report.html"]


def test_capture_keeps_warning_lines_and_passes_everything_on(capsys, monkeypatch):
    import sys

    shown = []
    monkeypatch.setattr(warnings, "showwarning", lambda message, *args, **kwargs: shown.append(str(message)))
    with capture_warnings() as found:
        print("progress line", file=sys.stderr)
        print("warning: all 10 verification images get label 3", file=sys.stderr)
        sys.stderr.write("note: --shifts lists t=0 more than once; it runs once\npartial")
        sys.stderr.write(" line\n")
        with warnings.catch_warnings():
            warnings.simplefilter("always")
            warnings.warn("a user-visible warning", UserWarning, stacklevel=1)
        print("warning: all 10 verification images get label 3", file=sys.stderr)  # once only
    err = capsys.readouterr().err
    assert "progress line" in err and "partial line" in err and shown == ["a user-visible warning"]
    assert found == ["warning: all 10 verification images get label 3",
                     "note: --shifts lists t=0 more than once; it runs once",
                     "warning: UserWarning: a user-visible warning"]  # fmt: skip


def test_any_sweep_renders_a_well_formed_page(tmp_path):
    rng = np.random.default_rng(31)
    for case in range(60):
        results = random_results(rng)
        page = render_sweep(results, tmp_path)
        assert not well_formed(page), (case, well_formed(page)[:3])
        for g in results.get("summary") or []:
            if isinstance(g.get("label"), str):
                assert f">{g['label']}<" in page


def test_sweep_page_intervals_and_verdicts(tmp_path):
    results = random_results(np.random.default_rng(1))
    results["comparisons"] = [
        {"a": "t=0.8", "b": "t=0", "difference": 0.02, "paired_ci95": [0.01, 0.03], "paired_excludes_zero": True},
        {"a": "t=0.3", "b": "t=0", "difference": 0.001, "note": "need >= 2 seeds per setting for an interval"},
    ]
    page = render_sweep(results, tmp_path)
    assert "t=0.8 beats t=0 by +2.00 pp (paired 95 % CI)" in page and "need &gt;= 2 seeds" in page
    lo, hi = mean_interval([0.80, 0.82, 0.84])
    assert lo == pytest.approx(0.82 - 4.302653 * 0.02 / 3**0.5, abs=1e-6) and hi > 0.84
    assert mean_interval([0.8]) == (None, None)


def test_failed_build_keeps_a_page_saying_why(tmp_path):
    """A build that fails but keeps its folder (an RTL mismatch, a failed synthesis): its page leads
    with the error, and lists the steps that ran and the warnings."""
    from flow.backends import get_backend
    from flow.builder.build_steps import write_failure_page
    from flow.core.boards import get_board
    from flow.core.config import BuildConfig, BuildState

    cfg = BuildConfig(board=get_board("Pynq-Z2"), backend=get_backend("rtl"), workdir=tmp_path, model="xnor_mlp")
    steps = [{"name": "verify", "seconds": 2.0, "status": "ok"}, {"name": "rtlsim", "seconds": 3.0, "status": "failed"}]
    state = BuildState(steps=steps, warnings=["warning: all 10 verification images get label 3"])
    (tmp_path / "report").mkdir()
    write_failure_page(state, cfg, "RTL simulation: 9/10 images equal to the reference (first mismatch #4)")
    page = (tmp_path / "report" / "report.html").read_text()
    assert "BUILD FAILED: RTL simulation: 9/10 images equal" in page and "step rtlsim failed" in page
    assert "all 10 verification images get label 3" in page and not well_formed(page)


def test_timing_section_lists_the_critical_path_cell_by_cell():
    steps = [
        {"ns": 0.45, "cell": "q", "net": "u_fold.wa_q[3]", "type": "FDRE", "at": "mvau_fold.sv:80"},
        {"ns": 1.0, "cell": "a", "net": "fetch<&>", "type": "LUT6", "pin": "I2", "at": "$abc$1"},
    ]
    depth = {"critical_path_ns": 1.0, "critical_path_lut_levels": 1, "critical_path": steps, "slowest_paths": []}
    html = timing({"synth": {"depth": depth}})
    rows = re.findall(r"<tr>(.*?)</tr>", html.split("<thead>", 1)[1])
    assert len(rows) == 3 and "u_fold.wa_q[3]" in rows[1] and "I2" in rows[2] and "fetch&lt;&amp;&gt;" in rows[2]
    assert "slowest paths" not in html
