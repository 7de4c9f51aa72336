"""The command line: end-to-end fit, summary, simulate, demo; usage errors exit 2 without traceback."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest
from conftest import nested_sessions

import empathy_models as em
from empathy_models.cli.main import main


def run(argv, capsys):
    with pytest.raises(SystemExit) as ei:
        main(argv)
    out = capsys.readouterr()
    return ei.value.code, out.out, out.err


@pytest.fixture
def csv(tmp_path):
    df, _ = nested_sessions(n_therapists=12, clients=3, sessions=4, seed=2)
    df = df.rename(columns={"therapist": "tid", "client": "pid", "session": "visit"})
    path = tmp_path / "sessions.csv"
    df.to_csv(path, index=False)
    return path


def test_fit_variance_end_to_end(csv, tmp_path, capsys):
    out = tmp_path / "fit.nc"
    summary_csv = tmp_path / "summary.csv"
    code, stdout, _ = run(
        [
            "fit", "variance", str(csv), "--measure", "alliance", "--therapist", "tid", "--client", "pid",
            "--session", "visit", "--covariate", "x", "--draws", "200", "--tune", "200", "--chains", "2",
            "--seed", "3", "--out", str(out), "--summary-csv", str(summary_csv),
        ],
        capsys,
    )  # fmt: skip
    assert code in (0, None)
    assert "share_therapist" in stdout and "P(share_therapist > 0.05)" in stdout
    table = pd.read_csv(summary_csv)
    assert table.columns[0] == "parameter"
    assert {"mean", "sd", "eti90_lb", "eti90_ub", "ess_bulk", "r_hat"} <= set(table.columns)
    assert list(table["parameter"]) == em.load_result(out).reported
    code, stdout, _ = run(["summary", str(out)], capsys)
    assert "share_client" in stdout
    for name in ("report.md", "report.html"):
        code, stdout, _ = run(["report", str(out), "--out", str(tmp_path / name)], capsys)
        text = (tmp_path / name).read_text()
        assert "share_therapist" in text and "rows_used" in text and "forest" in text
    assert (tmp_path / "report_forest.png").stat().st_size > 1000


def test_data_error_exits_2_with_message(csv, tmp_path, capsys):
    code, _, err = run(
        ["fit", "variance", str(csv), "--measure", "alliance", "--out", str(tmp_path / "x.nc")],
        capsys,
    )
    assert code == 2
    assert "column 'therapist'" in err and "Traceback" not in err


def test_bad_value_rows_named(csv, tmp_path, capsys):
    df = pd.read_csv(csv).astype({"alliance": object})
    df.loc[3, "alliance"] = "n/a?"
    df.to_csv(csv, index=False)
    code, _, err = run(
        ["fit", "variance", str(csv), "--measure", "alliance", "--therapist", "tid", "--client", "pid",
         "--session", "visit", "--out", str(tmp_path / "x.nc")],
        capsys,
    )  # fmt: skip
    assert code == 2 and "column 'alliance'" in err and "[3]" in err


def test_unknown_prior_and_sampler_exit_2(csv, tmp_path, capsys):
    base = [
        "fit",
        "variance",
        str(csv),
        "--measure",
        "alliance",
        "--therapist",
        "tid",
        "--client",
        "pid",
        "--session",
        "visit",
    ]
    code, _, err = run(
        [*base, "--priors", '{"sd_therapistt": {"dist": "HalfNormal", "kwargs": {"sigma": 1}}}'],
        capsys,
    )
    assert code == 2 and "did you mean 'sd_therapist'" in err
    code, _, err = run([*base, "--sampler", "stan"], capsys)
    assert code == 2 and "unknown sampler" in err


def test_simulate_writes_study(tmp_path, capsys):
    code, stdout, _ = run(
        [
            "simulate",
            "--out",
            str(tmp_path / "sim"),
            "--therapists",
            "5",
            "--clients",
            "2",
            "--sessions",
            "3",
            "--moments",
            "4",
        ],
        capsys,
    )
    assert code in (0, None)
    assert (tmp_path / "sim" / "sessions.csv").exists() and (
        tmp_path / "sim" / "truth.json"
    ).exists()


def test_console_script_no_traceback(tmp_path):
    """The installed entry point: a missing file exits 2 with one line on stderr."""
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "empathy_models.cli.main",
            "fit",
            "variance",
            str(tmp_path / "nope.csv"),
            "--measure",
            "y",
        ],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2
    assert "not found" in proc.stderr and "Traceback" not in proc.stderr


def test_demo_runs_fast(tmp_path, capsys):
    code, stdout, _ = run(
        [
            "demo",
            "--out",
            str(tmp_path / "demo"),
            "--draws",
            "100",
            "--tune",
            "100",
            "--chains",
            "1",
        ],
        capsys,
    )
    assert code in (0, None)
    shares = pd.read_csv(tmp_path / "demo" / "shares.csv")
    assert set(shares["measure"]) == {
        "alliance",
        "affect_sharing",
        "mentalizing",
        "empathic_concern",
    }
    assert (tmp_path / "demo" / "shares.png").stat().st_size > 10_000
