"""peers: the same model on the same data with statsmodels, lme4 and brms.

On the peer data (40,000 rows) the package runs with every sampler (marginalized) and with
the default sampler in the full form, brms's parameterization; statsmodels MixedLM on every
scaling size up to ``--statsmodels-max-rows``; with ``--peers`` lme4 and brms via ``Rscript``.
"""

from __future__ import annotations

from pathlib import Path

import cases
from provenance import r_peers_available
from runner import Runner, cpu_env, mcmc_settings
from tables import NUTPIE, field, fmt, fmt_rows, num, ok, records_table, status

from empathy_models import _io

from .scaling import scaling_fit, scaling_rows

TOOL_ORDER = ("empathy_models", "brms", "lme4", "statsmodels")


def _skip(key: str, base: dict, why: str) -> dict:
    return {"key": key, **base, "status": "skipped", "error": why}


def run(runner: Runner, args) -> tuple[list, dict]:
    mc = mcmc_settings(args)
    data_dir = runner.cache / "data"
    peer_rows = args.peer_rows or ([600] if args.quick else [40_000])
    records = []
    samplers = args.samplers or list(cases.SAMPLERS)
    brms_rows = (args.brms_rows or peer_rows) if args.peers else []
    for rows in sorted(set(peer_rows) | set(brms_rows)):
        for sampler in samplers:
            for marginalized in (True, False) if sampler == cases.DEFAULT_SAMPLER else (True,):
                rec = scaling_fit(runner, args, rows, marginalized, sampler)
                records.append({"key": f"empathy_models/{rows}/{sampler}/{rec['form']}", **rec})
    sm_rows = sorted(set(peer_rows) | set(scaling_rows(args)))
    for rows in sm_rows:
        key = f"statsmodels/{rows}"
        base = {"kind": "statsmodels", "tool": "statsmodels", "rows": rows, "form": "REML"}
        base["design"] = list(cases.SCALING_DESIGNS[rows])
        if rows > args.statsmodels_max_rows:
            reason = f"skipped above {args.statsmodels_max_rows} rows (--statsmodels-max-rows)"
            runner.say(f"  {key}: {reason}")
            records.append(_skip(key, base, reason))
            continue
        csv = cases.write_scaling_csv(rows, args.seed, data_dir)
        rec = runner.run("peers", key, {**base, "csv": str(csv)}, env=cpu_env())
        records.append({"key": key, **base, **rec})
    have = r_peers_available() if args.peers else {}
    if args.peers:
        for rows in sm_rows:
            key = f"lme4/{rows}"
            base = {"kind": "rscript", "tool": "lme4", "rows": rows, "form": "REML"}
            base["design"] = list(cases.SCALING_DESIGNS[rows])
            if not have.get("lme4"):
                records.append(_skip(key, base, "no lme4"))
                continue
            csv = cases.write_scaling_csv(rows, args.seed, data_dir)
            task = {**base, "script": "lme4_fit.R", "csv": str(csv), "args": []}
            records.append({"key": key, **base, **runner.run("peers", key, task)})
        bmc = {"chains": 2, "draws": 100, "tune": 100} if args.quick else args.brms_mcmc
        for rows in brms_rows:
            key = f"brms/{rows}"
            base = {"kind": "rscript", "tool": "brms", "rows": rows, "form": "full", **bmc}
            base["design"] = list(cases.SCALING_DESIGNS[rows])
            if not have.get("brms"):
                records.append(_skip(key, base, "no brms"))
                continue
            csv = cases.write_scaling_csv(rows, args.seed, data_dir)
            r_args = [bmc["chains"], bmc["draws"], bmc["tune"], args.seed]
            task = {**base, "script": "brms_fit.R", "csv": str(csv), "args": r_args}
            rec = runner.run("peers", key, task, timeout=max(args.timeout, 3600))
            records.append({"key": key, **base, **rec})
    settings = {
        "peer_rows": peer_rows,
        "designs": {str(r): cases.SCALING_DESIGNS[r] for r in sm_rows},
        "samplers": samplers,
        "statsmodels_max_rows": args.statsmodels_max_rows,
        "r_peers": have,
        "brms_mcmc": args.brms_mcmc,
        "seed": args.seed,
        **mc,
    }
    return records, settings


def brms_ratios(records: list[dict]) -> list[dict]:
    """ESS/s of each empathy_models sampler over brms's, per data size."""
    out = []
    brms = {r["rows"]: r for r in records if r.get("tool") == "brms" and ok(r)}
    for r in records:
        if r.get("tool") != "empathy_models" or not ok(r) or r.get("rows") not in brms:
            continue
        be, pe = num(brms[r["rows"]].get("ess_per_s")), num(r.get("ess_per_s"))
        if be and pe is not None:
            out.append(
                {
                    "rows": r["rows"],
                    "sampler": r["sampler"],
                    "form": r.get("form"),
                    "ess_per_s": pe,
                    "brms_ess_per_s": be,
                    "ratio": pe / be,
                }
            )
    return out


def summarize(doc: dict) -> dict:
    return {"brms_ratios": brms_ratios(doc.get("records", []))}


def headline(doc: dict) -> list[str]:
    lines = [
        f"ESS/s ratio to brms, {r['rows']:,} rows, {r['sampler']} ({r['form']}): "
        f"{r['ratio']:.0f}x ({r['ess_per_s']:.1f} vs {r['brms_ess_per_s']:.2f} ESS/s)"
        for r in doc.get("summary", {}).get("brms_ratios", [])
    ]
    return lines or ["no brms result (run with --peers)"]


def _tool_rank(r: dict) -> int:
    tool = r.get("tool")
    return TOOL_ORDER.index(tool) if tool in TOOL_ORDER else 9


def markdown(doc: dict) -> str:
    ratios = {
        (r["rows"], r["sampler"], r["form"]): r["ratio"]
        for r in doc["summary"].get("brms_ratios", [])
    }

    def ratio(r: dict) -> str:
        v = ratios.get((r.get("rows"), r.get("sampler"), r.get("form")))
        return f"{v:,.0f}x" if v else "–"

    def sampled(r: dict) -> bool:
        return r.get("tool") in ("empathy_models", "brms")

    def compiled(r: dict) -> str:
        return (
            fmt(r.get("compile_s"))
            if r.get("tool") == "brms" or r.get("sampler") in NUTPIE
            else "–"
        )

    def estimate(name: str):
        return lambda r: fmt((r.get("estimates") or {}).get(name), 3)

    cells = [
        ("rows", lambda r: fmt_rows(r.get("rows"))),
        (
            "tool",
            lambda r: (
                r.get("tool")
                if r.get("tool") != "empathy_models"
                else f"empathy_models {r.get('sampler')}"
            ),
        ),
        ("form", lambda r: r.get("form", "")),
        (
            "draws",
            lambda r: f"{r.get('chains')}x{r.get('draws')}" if sampled(r) else "point estimate",
        ),
        ("compile s", compiled),
        ("wall s", field("wall_s", 2)),
        ("min bulk ESS", field("min_ess_bulk", 0)),
        ("ESS/s", field("ess_per_s", 2)),
        ("ESS/s vs brms", ratio),
        ("sd therapist", estimate("sd_therapist")),
        ("sd client", estimate("sd_client")),
        ("sigma", estimate("sigma")),
        ("status", status),
    ]
    recs = sorted(doc["records"], key=lambda r: (r.get("rows", 0), _tool_rank(r)))
    parts = [
        "## Peers: same model, same data",
        "3-level random intercepts (therapist, client; session = residual). empathy_models: "
        "wall time of reading + validating + fitting + summarizing. statsmodels MixedLM and lme4: "
        "REML point estimates (reading the CSV included). brms: wall time of reading, compiling "
        "(apart) and sampling, with ESS from the `posterior` package over the same parameters "
        "(Intercept, three SDs, three shares).",
        records_table(cells, recs),
        f"True values: {_io.dumps(cases.SCALING_TRUTH)}.",
    ]
    parts.extend(f"* {line}" for line in headline(doc))
    return "\n\n".join(parts)


def render(doc: dict, out: Path) -> list[str]:
    """The section's Markdown (its plot is the scaling section's)."""
    return [markdown(doc)]
