from __future__ import annotations

import os
import shutil
import stat
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from reasoneval.layers.base import LayerResult, Metric
from reasoneval.report import (
    render_html,
    svg_bar_chart,
    svg_histogram,
    svg_interval_chart,
    write_report,
)
from reasonkit.artifacts import atomic_write_text

EVIL = "<script>alert('pwned')</script>"


def _report() -> dict[str, Any]:
    return {
        "schema_version": 1,
        "model": {"checkpoint": f"ckpt/{EVIL}", "base_model": None},
        "tokenizer": {"name": "tok"},
        "backend": "hf",
        "dataset": {"name": "data.jsonl", "split": "test", "n_problems": 2, "sha256": "ab"},
        "sampling": {"n": 1, "temperature": 0.0, "stop": ["<|im_end|>"]},
        "seed": 0,
        "git_revision": None,
        "command": ["reasoneval", "run", "x"],
        "gates": [{"description": f"accuracy>=0.5 {EVIL}", "passed": False}],
    }


def _rows() -> list[dict[str, Any]]:
    return [
        {
            "id": "q/0",
            "variant": "original",
            "sample_index": 0,
            "response": f"Sure. {EVIL}",
            "extracted": None,
            "gold": "3",
            "finish_reason": "stop",
            "correct": False,
        },
        {
            "id": f"q/{EVIL}",
            "variant": "original",
            "sample_index": 0,
            "response": "#### 3",
            "extracted": "3",
            "gold": "3",
            "finish_reason": "stop",
            "correct": True,
        },
    ]


def _result() -> LayerResult:
    metrics = {"accuracy": Metric(0.5, 0.1, 0.9, n=2), f"odd<{EVIL}>": Metric(0.1)}
    return LayerResult("accuracy", metrics, html=svg_bar_chart([(EVIL, 3)], title=EVIL))


def test_html_escapes_model_output_dataset_text_and_names() -> None:
    page = render_html(_report(), [_result()], _rows())
    assert "<script" not in page
    assert page.count("&lt;script&gt;alert(&#x27;pwned&#x27;)&lt;/script&gt;") >= 5
    assert "Sure. &lt;script&gt;" in page  # the incorrect sample is shown, escaped
    assert "#### 3" not in page  # correct samples are not listed as examples
    assert "http" not in page.replace("http://www.w3.org/2000/svg", "")  # nothing external


def test_svg_helpers_emit_well_formed_svg_with_the_data() -> None:
    bars = svg_bar_chart([("strict", 7), ("none", 2)], title="t")
    interval = svg_interval_chart([("accuracy", 0.5, 0.3, 0.7), ("nan", float("nan"), None, None)])
    hist = svg_histogram({"correct": [1, 2, 2, 9], "incorrect": [5]}, bins=4)
    for svg in (bars, interval, hist):
        ET.fromstring(svg)  # parses as XML
    assert ">7<" in bars and ">2<" in bars
    assert "0.500" in interval
    ns = "{http://www.w3.org/2000/svg}"
    rects = [r for r in ET.fromstring(hist).iter(f"{ns}rect") if r.get("opacity") == "0.8"]
    # bins of width 2 over [1, 9]: correct fills bin 0 three times and bin 3 once, incorrect bin 2
    heights = sorted(float(r.get("height", 0)) for r in rects)
    assert len(heights) == 3 and heights[0] == heights[1] == pytest.approx(heights[2] / 3)
    assert "correct (4)" in hist and "incorrect (1)" in hist


def test_atomic_write_leaves_no_temporary_and_a_readable_file(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "report.json"
    atomic_write_text(target, "{}")
    atomic_write_text(target, '{"a": 1}')
    assert target.read_text() == '{"a": 1}'
    assert os.listdir(target.parent) == ["report.json"]
    assert target.stat().st_mode & stat.S_IRGRP  # not mkstemp's 0600


@pytest.mark.slow
def test_report_renders_in_headless_chromium(tmp_path: Path) -> None:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.skip("chromium is not installed (apt-get install chromium)")
    write_report(tmp_path, _report(), [_result()], _rows())
    proc = subprocess.run(
        [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={tmp_path / 'profile'}",
            "--dump-dom",
            (tmp_path / "report.html").as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    dom = proc.stdout
    assert proc.returncode == 0 and "</html>" in dom, proc.stderr[-1000:]
    assert dom.count("<svg") == 1 and "<script" not in dom
    assert "Incorrect examples" in dom and "&lt;script&gt;" in dom
