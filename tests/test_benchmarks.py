"""Smoke run of the benchmark suite: the code runs and writes what it promises.

Timings are never asserted: this checks that ``benchmarks/run.py --quick`` produces JSON
with the documented fields, the Markdown table and the PNG plots, not how fast anything is.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"


@pytest.fixture(scope="module")
def bench():
    sys.path.insert(0, str(BENCH))
    try:
        import run

        yield run
    finally:
        sys.path.remove(str(BENCH))


@pytest.fixture(scope="module")
def quick_results(bench, tmp_path_factory):
    out = tmp_path_factory.mktemp("bench")
    argv = [
        "--quick",
        "--quiet",
        "--out",
        str(out),
        "--only",
        "families,scaling,peers,big",
        "--families",
        "variance",
        "--samplers",
        "nutpie-numba",
        "--statsmodels-max-rows",
        "1000",
    ]
    assert bench.main(argv) == 0
    return out


def test_writes_every_section(quick_results):
    for name in (
        "families.json",
        "scaling.json",
        "peers.json",
        "big.json",
        "README.md",
        "families_ess_per_s.png",
        "scaling.png",
    ):
        path = quick_results / name
        assert path.exists(), name
        assert path.stat().st_size > 0, name
    assert (quick_results / "families_ess_per_s.png").read_bytes()[:4] == b"\x89PNG"


def test_provenance_recorded(quick_results):
    doc = json.loads((quick_results / "families.json").read_text())
    assert doc["mode"] == "quick"
    run = doc["runs"][doc["latest_run"]]
    for key in ("platform", "cpu", "cores", "ram_gb"):
        assert key in run["machine"]
    for pkg in ("python", "pymc", "pytensor", "nutpie", "arviz", "empathy_models"):
        assert pkg in run["versions"]
    assert run["seed"] == 1
    assert "tiny" in doc["settings"]["sizes"]


def test_family_record_fields(quick_results):
    doc = json.loads((quick_results / "families.json").read_text())
    (rec,) = doc["records"]
    assert rec["status"] == "ok", rec.get("error")
    assert rec["family"] == "variance" and rec["sampler"] == "nutpie-numba"
    for key in (
        "compile_s",
        "sample_s",
        "wall_s",
        "min_ess_bulk",
        "min_ess_tail",
        "ess_per_s",
        "divergences",
        "max_rhat",
        "rows",
    ):
        assert key in rec, key
    assert "sd_therapist" in rec["ess_params"] and "share_therapist" in rec["ess_params"]
    assert rec["ess_per_s"] == pytest.approx(rec["min_ess_bulk"] / rec["wall_s"])
    assert doc["summary"]["fastest"]["fastest"] == "nutpie-numba"


def test_scaling_and_peers(quick_results):
    scaling = json.loads((quick_results / "scaling.json").read_text())
    forms = {r["form"]: r for r in scaling["records"]}
    assert set(forms) == {"marginalized", "full"}
    for rec in forms.values():
        assert rec["status"] == "ok", rec.get("error")
        assert rec["peak_rss_mb"] > 0 and rec["read_s"] >= 0 and "estimates" in rec
    peers = json.loads((quick_results / "peers.json").read_text())
    tools = {r["tool"] for r in peers["records"]}
    assert {"empathy_models", "statsmodels"} <= tools
    sm = next(r for r in peers["records"] if r["tool"] == "statsmodels")
    assert sm["status"] == "ok", sm.get("error")
    assert set(sm["estimates"]) >= {"sd_therapist", "sd_client", "sigma"}
    big = json.loads((quick_results / "big.json").read_text())
    assert "checks" in big["summary"]


def test_markdown_names_the_fastest_sampler(quick_results):
    text = (quick_results / "README.md").read_text()
    assert "| family |" in text
    last = text.strip().splitlines()[-1]
    assert last.startswith("Fastest sampler by median ESS/s")


def test_rerun_merges_and_resumes(bench, quick_results):
    """A second run of one section reuses the cache and keeps the other sections."""
    before = json.loads((quick_results / "peers.json").read_text())
    argv = ["--quick", "--quiet", "--out", str(quick_results), "--only", "scaling"]
    argv += ["--samplers", "nutpie-numba"]
    assert bench.main(argv) == 0
    scaling = json.loads((quick_results / "scaling.json").read_text())
    assert all(r.get("cached") for r in scaling["records"])
    assert json.loads((quick_results / "peers.json").read_text()) == before


def test_unknown_section_is_an_error(bench):
    with pytest.raises(SystemExit):
        bench.main(["--only", "nonsense"])


def test_cached_only_reuses_measurements_and_lists_the_rest(bench, quick_results, tmp_path):
    """Rebuilding from the cache measures nothing: the cached cell comes back unchanged and a
    cell never measured is listed as not run (not counted as a failure)."""
    out = tmp_path / "copy"  # the other tests read quick_results: leave it as it is
    shutil.copytree(quick_results, out)
    before = json.loads((out / "families.json").read_text())["records"][0]
    argv = ["--quick", "--quiet", "--out", str(out), "--only", "families"]
    argv += ["--families", "variance,meta", "--samplers", "nutpie-numba", "--cached-only"]
    assert bench.main(argv) == 0
    doc = json.loads((out / "families.json").read_text())
    (rec,) = doc["records"]
    assert rec["cached"] and rec["wall_s"] == before["wall_s"]
    assert doc["settings"]["not_run"] == ["meta/tiny/nutpie-numba"]
    assert "`meta/tiny/nutpie-numba`" in (out / "README.md").read_text()
    with pytest.raises(SystemExit):
        bench.main(["--cached-only", "--only", "scaling", "--out", str(out)])
