"""results/report.py: the self-contained HTML report, its Markdown form, the reproduction
snippet, and a render in a real headless browser (skipped without chromium)."""

from __future__ import annotations

import base64
import os
import re
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

from empathy_models.results.report import (
    probability_words,
    reproduce_cli,
    reproduce_python,
    write_report,
)
from empathy_models.results.result import Result

SECTIONS = (
    "summary",
    "data",
    "model",
    "diagnostics",
    "ppc",
    "estimates",
    "family",
    "sensitivity",
    "provenance",
)


@pytest.fixture(scope="module")
def html_report(variance_result, tmp_path_factory):
    path = tmp_path_factory.mktemp("report") / "report.html"
    write_report(variance_result, path)
    return path


def test_html_has_every_section_in_order(html_report, variance_result):
    text = html_report.read_text(encoding="utf-8")
    positions = [text.index(f'<section id="{s}">') for s in SECTIONS]
    assert positions == sorted(positions)
    for heading in (
        "Rows dropped",
        "Groups per level",
        "Priors",
        "R-hat and effective sample sizes",
        "Posterior predictive check",
        "Posterior probabilities",
        "Shares of variance",
        "Power-scaling sensitivity",
        "Provenance and reproduction",
    ):
        assert heading in text or heading.lower() in text.lower(), heading
    ds = variance_result.data_summary
    assert f">{ds['rows_used']}<" in text and ">15<" in text  # rows used, therapists
    # each scale in its own table: SDs and shares never share one
    assert "standard deviations (alliance units)" in text
    assert "shares of variance (0 to 1)" in text
    assert "intercepts and means (alliance units)" in text
    for name in variance_result.config["options"]["priors"]:
        assert f">{name}<" in text
    assert "half-normal(sigma = 1)" in text


def test_html_is_self_contained(html_report):
    """Nothing outside the file is referenced: images are data URIs, links are anchors."""
    text = html_report.read_text(encoding="utf-8")
    srcs = re.findall(r'src="([^"]*)"', text)
    assert len(srcs) >= 8  # rank, PPC, PIT, forests, densities, shares, psense
    assert all(s.startswith("data:image/png;base64,") for s in srcs)
    for s in srcs:
        assert base64.b64decode(s.split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n"
    assert all(h.startswith("#") for h in re.findall(r'href="([^"]*)"', text))
    assert "<link" not in text and "<script" not in text and "url(" not in text
    assert list(html_report.parent.iterdir()) == [html_report]  # nothing written beside it


def test_markdown_writes_figures_beside(variance_result, tmp_path):
    path = write_report(variance_result, tmp_path / "r.md", ci_prob=0.8)
    text = path.read_text(encoding="utf-8")
    images = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text)
    assert len(images) >= 8
    for rel in images:
        assert (tmp_path / rel).stat().st_size > 1000
    assert "80% equal-tailed intervals" in text
    assert "| Intercept |" in text


def test_without_replicates_the_report_says_how_to_get_them(variance_result, tmp_path):
    tree = variance_result.idata.copy()
    del tree["posterior_predictive"]
    text = write_report(Result(tree), tmp_path / "r.html").read_text(encoding="utf-8")
    assert "posterior_predictive=True" in text
    assert "stores no replicated data" in text


def test_probability_words():
    assert probability_words("P(share_therapist > 0.05)") == "share_therapist is above 0.05"
    assert probability_words("P(mu < 0)") == "mu is below 0"
    assert "direction" in probability_words("pd(contrast[a, MI_minus_ERP])")
    assert "practical equivalence" in probability_words("P(contrast[a, b] in ROPE)")


def test_command_line_names_the_options(variance_result, variance_csv):
    cli = reproduce_cli(variance_result)
    words = cli.replace("\\\n", " ").split()
    assert words[:4] == ["empathy-models", "fit", "variance", str(variance_csv)]
    for flag, value in (("--measure", "alliance"), ("--covariates", "x"), ("--seed", "4")):
        assert words[words.index(flag) + 1] == value
    assert "--priors" not in words  # all priors at their defaults


def test_python_snippet_refits_the_same_posterior(variance_result, tmp_path):
    """Running the snippet the report prints reproduces the fit: same rows (digest) and the
    same draws (same seed, same machine)."""
    code = reproduce_python(variance_result).replace('em.write_report(result, "report.html")\n', "")
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        scope: dict = {}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            exec(compile(code, "snippet", "exec"), scope)  # noqa: S102
    finally:
        os.chdir(cwd)
    again = scope["result"]
    assert again.idata.attrs["data_digest"] == variance_result.idata.attrs["data_digest"]
    for name in ("Intercept", "share_therapist", "sigma"):
        np.testing.assert_array_equal(
            again.posterior[name].values, variance_result.posterior[name].values
        )


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")
def test_renders_in_headless_chromium(html_report, tmp_path):
    """Debian's chromium renders the page; the screenshot shows a page, not a blank."""
    from PIL import Image

    shot = tmp_path / "shot.png"
    proc = subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            f"--screenshot={shot}",
            "--window-size=1200,3000",
            html_report.resolve().as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert shot.exists(), proc.stderr[-2000:]
    img = np.asarray(Image.open(shot).convert("L"), dtype=float)
    assert img.shape == (3000, 1200)
    ink = img < 200
    assert ink.mean() > 0.02  # text, tables and figures, not an empty page
    assert ink[:150].mean() > 0.005  # the title and navigation at the top
    assert ink[:, 600:].any(axis=0).mean() > 0.3  # content across the page's width


def test_example_fast(tmp_path):
    """examples/report.py (the script behind docs/report_example.html) in its fast mode."""
    script = Path(__file__).resolve().parents[1] / "examples" / "report.py"
    proc = subprocess.run(
        [sys.executable, str(script), "--fast", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    html = (tmp_path / "report_example.html").read_text(encoding="utf-8")
    assert "data/simulated_study/sessions.csv" in html
    assert "2,400" in html  # rows used of the shipped study
    assert (tmp_path / "report_example.nc").exists()
