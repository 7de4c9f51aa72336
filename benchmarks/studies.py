"""Regenerate the committed simulation-study results (SBC and power) with one command.

    python benchmarks/studies.py sbc --family all --sims 200
    python benchmarks/studies.py power --question share --therapists 10,20,40,80 --sims 200
    python benchmarks/studies.py report          # rebuild the README tables from the CSVs

Studies run on a 2-process Dask LocalCluster (``--workers``) or an existing scheduler
(``--scheduler tcp://...``). Per-replicate records go to ``--work`` (default
``benchmarks/.studies``, not committed); rerunning the same command resumes and never redoes
a finished replicate. Committed outputs:

* ``benchmarks/results/sbc/``: ``ranks_<family>.csv`` (one row per replicate x parameter),
  ``uniformity.csv`` (chi-square p and Holm-corrected p per parameter), ``summary.csv``
  (per family), ``ecdf_<family>.png`` (PIT ECDF-difference plots) and ``README.md``.
* ``benchmarks/results/power/``: ``<question>_replicates.csv``, ``<question>_power.csv``,
  ``<question>_power.png`` and ``README.md``.
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))

import cases  # noqa: E402

from empathy_models import _io  # noqa: E402

RESULTS = ROOT / "results"
WORK = ROOT / ".studies"
#: Cheapest first, so a study cut short still covers as many families as possible.
SBC_ORDER = (
    "variance",
    "meta",
    "form",
    "contributions",
    "raters",
    "agreement",
    "circuit",
    "moderation",
)
ALPHA = 0.01


def write_csv(table: pd.DataFrame, path: Path, float_format: str = "%.6g") -> None:
    _io.atomic_write(path, lambda tmp: table.to_csv(tmp, index=False, float_format=float_format))


def _plan(args):
    return cases.sampling_plan(args.draws, args.tune, args.chains)


def cmd_sbc(args) -> None:
    from empathy_models.studies.engine import make_client, replicate_timings
    from empathy_models.studies.sbc import plot_sbc, run_sbc

    fams = SBC_ORDER if args.family == "all" else tuple(args.family.split(","))
    out = RESULTS / "sbc"
    out.mkdir(parents=True, exist_ok=True)
    client = make_client(args.scheduler, args.workers)
    try:
        for fam in fams:
            t0 = time.perf_counter()
            table = run_sbc(
                fam, args.sims, seed=args.seed, out_dir=WORK / "sbc" / fam, plan=_plan(args),
                client=client, progress=not args.quiet,
            )  # fmt: skip
            write_csv(table, out / f"ranks_{fam}.csv")
            plot_sbc(table, fam, out / f"ecdf_{fam}.png")
            secs = replicate_timings(WORK / "sbc" / fam)
            print(
                f"{fam}: {table['replicate'].nunique()} replicates "
                f"({time.perf_counter() - t0:.0f} s; median {secs.median():.1f} s/replicate)",
                flush=True,
            )
            write_sbc_report(args)
    finally:
        cluster = getattr(client, "cluster", None)
        client.close()
        if cluster is not None:
            cluster.close()


def write_sbc_report(args=None) -> None:
    from empathy_models.studies.engine import replicate_timings
    from empathy_models.studies.sbc import family_summary, uniformity

    out = RESULTS / "sbc"
    tables = [pd.read_csv(f) for f in sorted(out.glob("ranks_*.csv"))]
    if not tables:
        return
    table = pd.concat(tables, ignore_index=True)
    uni = uniformity(table)
    summ = family_summary(table, alpha=ALPHA)
    order = {f: i for i, f in enumerate(SBC_ORDER)}
    summ = summ.sort_values("family", key=lambda s: s.map(order)).reset_index(drop=True)
    # Timings come from the per-replicate records; a family whose records are gone (another
    # checkout) keeps the timing of the previous report.
    secs = {}
    previous = out / "summary.csv"
    if previous.exists():
        old = pd.read_csv(previous)
        if "median_s_per_fit" in old:
            secs = dict(zip(old["family"], old["median_s_per_fit"], strict=True))
    plans = []
    for fam in summ["family"]:
        work = WORK / "sbc" / fam
        if (work / "study.json").exists():
            secs[fam] = float(replicate_timings(work).median())
            plans.append(_io.read_json(work / "study.json")["task"])
    summ["median_s_per_fit"] = summ["family"].map(secs)
    write_csv(uni, out / "uniformity.csv")
    write_csv(summ, out / "summary.csv")
    if not plans:
        return
    plan = plans[0]
    lines = [
        "# Simulation-based calibration of every model family",
        "",
        "Regenerate: `nice -n 19 python benchmarks/studies.py sbc --family all --sims 200` "
        "(resumes; per-replicate records in `benchmarks/.studies/sbc/`).",
        "",
        f"Each replicate draws the parameters from the family's default priors, simulates a small "
        f"data set from the model, fits it (nutpie, {plan['plan']['chains']} chains x "
        f"{plan['plan']['draws']} draws, {plan['plan']['tune']} tuning) and ranks the true value "
        f"among L = {plan['L']} thinned posterior draws. Uniformity: chi-square on 20 equal bins "
        f"of the ranks per parameter, Holm-corrected across the parameters of a family; a family "
        f"fails when a corrected p is below {ALPHA}. Data are simulated on the scale the priors "
        "are declared on and the families' standardization is switched off (see "
        "`docs/studies.md`). Designs: `empathy_models/studies/sbc.py`.",
        "",
        "| family | sims | failed fits | parameters | min Holm p | worst parameter | "
        "fits with divergences | median s/fit | result |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for _, r in summ.iterrows():
        lines.append(
            f"| {r['family']} | {r['sims']} | {r['failed']} | {r['parameters']} | "
            f"{r['min_p_holm']:.3f} | `{r['worst_parameter']}` | "
            f"{100 * r['share_with_divergences']:.0f}% | {r['median_s_per_fit']:.1f} | "
            f"{'pass' if r['pass'] else 'FAIL'} |"
        )
    lines += [
        "",
        "Per-parameter p-values: `uniformity.csv`; ranks: `ranks_<family>.csv`; ECDF-difference "
        "plots (ArviZ `plot_ecdf_pit`, simultaneous `pot_c` test): `ecdf_<family>.png`.",
        "",
        f"Machine: {platform.machine()}, {platform.python_version()}, 2 Dask worker processes "
        "with one thread each, run under `nice -n 19`.",
        "",
    ]
    _io.atomic_write(out / "README.md", "\n".join(lines))


def cmd_power(args) -> None:
    from empathy_models.studies.power import plot_power, power_table, run_power

    out = RESULTS / "power"
    out.mkdir(parents=True, exist_ok=True)
    table = run_power(
        args.question, therapists=args.therapists, clients=args.clients, sessions=args.sessions,
        sims=args.sims, out_dir=WORK / "power" / args.question, seed=args.seed, plan=_plan(args),
        true_share=args.true_share, scheduler=args.scheduler, workers=args.workers,
        progress=not args.quiet,
    )  # fmt: skip
    write_csv(table, out / f"{args.question}_replicates.csv")
    power = power_table(table)
    write_csv(power, out / f"{args.question}_power.csv", "%.4g")
    plot_power(power, out / f"{args.question}_power.png")
    write_power_report(args, power)
    print(power.to_string(index=False))


RULES = {
    "share": "P(share_therapist > 0.05 | data) > 0.95",
    "moderation": "pd(affect-sharing contrast MI - ERP) > 0.95 with the true sign",
    "optimum": "the form family reports an optimum (curvature, vertex in range, two lines; "
    "each > 0.95)",
}


def write_power_report(args, power: pd.DataFrame) -> None:
    out = RESULTS / "power"
    q = args.question
    lines = [
        f"# Power: {q}",
        "",
        f"Regenerate: `nice -n 19 python benchmarks/studies.py power --question {q} "
        f"--therapists {args.therapists} --clients {args.clients} --sessions {args.sessions} "
        f"--sims {args.sims}`",
        "",
        f"Data: `simulate_study` (client-rated session data, simulator defaults"
        f"{'' if args.true_share is None else f', true therapist share {args.true_share}'}). "
        f"Decision rule: {RULES[q]}. Fits: nutpie, {args.chains} chains x {args.draws} draws "
        f"({args.tune} tuning). Power with Wilson 95% intervals.",
        "",
        "| therapists | clients/therapist | sessions/client | sims | true value | power | 95% CI |",
        "|---|---|---|---|---|---|---|",
    ]
    for _, r in power.iterrows():
        lines.append(
            f"| {r['therapists']} | {r['clients']} | {r['sessions']} | {r['sims']} | "
            f"{r['truth']:.3f} | {r['power']:.2f} | {r['power_lo']:.2f}-{r['power_hi']:.2f} |"
        )
    lines += ["", f"Figure: `{q}_power.png`; per replicate: `{q}_replicates.csv`.", ""]
    _io.atomic_write(out / (f"README_{q}.md" if q != "share" else "README.md"), "\n".join(lines))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    for name in ("sbc", "power"):
        p = sub.add_parser(name)
        p.add_argument("--sims", type=int, default=200)
        p.add_argument("--seed", type=int, default=2026)
        p.add_argument("--workers", type=int, default=2)
        p.add_argument("--scheduler", default=None)
        p.add_argument("--draws", type=int, default=250)
        p.add_argument("--tune", type=int, default=300)
        p.add_argument("--chains", type=int, default=2)
        p.add_argument("--quiet", action="store_true")
        if name == "sbc":
            p.add_argument("--family", default="all")
        else:
            p.add_argument(
                "--question", default="share", choices=("share", "moderation", "optimum")
            )
            p.add_argument("--therapists", default="10,20,40,80")
            p.add_argument("--clients", default="4")
            p.add_argument("--sessions", default="5")
            p.add_argument("--true-share", type=float, default=None)
    sub.add_parser("report")
    args = ap.parse_args(argv)
    if args.cmd == "sbc":
        cmd_sbc(args)
    elif args.cmd == "power":
        cmd_power(args)
    else:
        write_sbc_report()
    return 0


if __name__ == "__main__":
    sys.exit(main())
