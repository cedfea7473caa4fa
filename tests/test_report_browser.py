"""The report pages in a real browser (headless Chromium, flow/core/browser.py): they load without a
console error, show the key numbers, and leave a full-page screenshot in the test's output
(``tmp_path``; the path is printed and recorded as a junit property). Skipped, with the reason, where
Chromium or chromedriver is not installed (``make test`` installs both where it can)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from flow.builder.report_html import write_report_html
from flow.core.browser import BrowserUnavailable, find_tools, render
from flow.experiments.sweep_report import write_sweep_report
from tests.report_cases import full_summary, random_results

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def browser():
    try:
        return find_tools()
    except BrowserUnavailable as exc:
        pytest.skip(str(exc))


def _shot(result, path: Path, record_property) -> None:
    assert result.errors == [], result.console
    width, height = Image.open(path).size
    assert width == 1280 and height > 600
    record_property("screenshot", str(path))
    print(f"screenshot: {path} ({width} x {height})")


def _links_resolve(page: Path) -> list[str]:
    hrefs = re.findall(r'href="([^"#][^"]*)"', page.read_text())
    return [h for h in hrefs if not (page.parent / h).exists()]


def test_default_build_report_in_chromium(browser, default_build, tmp_path, record_property):
    """`make build`'s page: loads cleanly, shows what summary.json says, every link points at a file."""
    summary = json.loads((default_build / "report" / "summary.json").read_text())
    page = default_build / "report" / "report.html"
    result = render(page, tmp_path / "report_default.png")
    _shot(result, tmp_path / "report_default.png", record_property)
    images = summary["verification"]["images"]
    text = result.text
    assert f"{images:,}/{images:,}" in text and "bit-exact" in text
    assert f"{summary['rtlsim']['fps']:,.0f} img/s" in text
    assert f"{summary['rtlsim']['cycles_per_frame']:,.0f} cycles/frame" in text
    assert f"{summary['target']['cost_model']['lut']:,}" in text and f"{summary['estimate']['lut']:,}" in text
    # the verdict card (our cost model; a FINN HLS estimate over the part only adds a warning banner)
    assert re.search(r"fits the part\s+yes\s+xc7z020clg400-1", text) and "53,200" in text
    assert all(b["name"] in text for b in summary["blocks"]) and summary["target"]["bottleneck"] in text
    assert {s["name"] for s in summary["steps"]} <= set(re.findall(r"[a-z_]+", text))
    assert not _links_resolve(page)


def test_generated_pages_in_chromium(browser, tmp_path, record_property):
    """A 48-block design that does not fit, and a sweep: every block and setting named, the banner shown."""
    summary = full_summary(np.random.default_rng(7), n_blocks=48)
    summary.update(board="Pynq-Z2", synth={"lut": 63919, "ff": 70000, "bram36": 90.0, "dsp": 0})
    build = tmp_path / "build"
    (build / "report").mkdir(parents=True)
    page = write_report_html(build, summary)
    result = render(page, tmp_path / "report_48_blocks.png")
    _shot(result, tmp_path / "report_48_blocks.png", record_property)
    assert "DOES NOT FIT xc7z020clg400-1: yosys LUT 63,919 = 120.1 % of 53,200" in result.text
    assert all(b["name"] in result.text for b in summary["blocks"])
    results = random_results(np.random.default_rng(3))
    (tmp_path / "sweep").mkdir()
    sweep = write_sweep_report(tmp_path / "sweep", results)
    result = render(sweep, tmp_path / "sweep.png")
    _shot(result, tmp_path / "sweep.png", record_property)
    assert all(g["label"] in result.text for g in results.get("summary") or [] if isinstance(g.get("label"), str))
