"""agreement: the crossed rating model at 70,000 ratings, against lme4 on the same file.

70,000 ratings of 1,000 targets by 3,000 raters (each target rated by 70 raters drawn at
random, each rater rating about 23 targets): crossed random effects that cannot be collapsed
level by level. The package's full posterior (default sampler, 4 chains x 1,000 draws; wall
= read CSV + validate + fit + summary, compilation included) against lme4's REML point
estimate of ``rating ~ 1 + (1 | target) + (1 | rater)`` (wall = read CSV + fit) in the same
run (measured before and after the package's fits; their mean is the reference). Target:
within 3x lme4's wall time, minimum bulk ESS >= 400.
"""

from __future__ import annotations

import math
from pathlib import Path

import cases
from provenance import r_peers_available
from runner import Runner, cpu_env, mcmc_settings
from tables import field, fmt_rows, num, ok, records_table, status

#: Issue 'who rates empathy': the full posterior within 3x lme4's REML wall time.
TARGETS = {"ratio_to_lme4": 3.0, "min_ess_bulk": 400.0}
#: Samplers measured (the default first; the headline uses it).
SAMPLERS = (cases.DEFAULT_SAMPLER, "nutpie-jax")


def _lme4(runner: Runner, rows: int, csv, rep: int, quick: bool) -> dict:
    key = f"lme4/{rows}/rep{rep}"
    base = {"kind": "rscript", "tool": "lme4", "rows": rows, "form": "REML", "repeat": rep}
    if not r_peers_available(("lme4",)).get("lme4"):
        why = "lme4 not installed (make bench-peers installs it)"
        return {"key": key, **base, "status": "skipped", "error": why}
    task = {**base, "script": "lme4_crossed.R", "csv": str(csv), "args": ["rating"]}
    return {"key": key, **base, **runner.run("agreement", key, task, force=not quick)}


def run(runner: Runner, args) -> tuple[list, dict]:
    """lme4 before and after the package's fits (the summary uses their mean), so that both
    tools meet the same machine load on average."""
    rows = 600 if args.quick else 70_000
    csv = cases.write_agreement_csv(rows, args.seed, runner.cache / "data")
    truth = cases.agreement_truth(rows, args.seed)
    records = [_lme4(runner, rows, csv, 1, args.quick)]
    samplers = [s for s in (args.samplers or SAMPLERS) if s in cases.SAMPLERS]
    for sampler in samplers:
        base = {
            "kind": "agreement",
            "tool": "empathy_models",
            "rows": rows,
            "design": list(cases.AGREEMENT_DESIGNS[rows]),
            "sampler": sampler,
            "seed": args.seed,
            **mcmc_settings(args),
        }
        key = f"empathy_models/{rows}/{sampler}"
        rec = runner.run(
            "agreement", key, {**base, "csv": str(csv)}, env=cpu_env(), force=not args.quick
        )
        records.append({"key": key, **base, **rec})
    records.append(_lme4(runner, rows, csv, 2, args.quick))
    settings = {
        "rows": rows,
        "design": cases.AGREEMENT_DESIGNS[rows],
        "truth": truth,
        "targets": TARGETS,
        "seed": args.seed,
        **mcmc_settings(args),
    }
    return records, settings


def summarize(doc: dict) -> dict:
    """Wall times, the ratio to lme4 per sampler, min ESS, and whether the targets are met."""
    recs = [r for r in doc.get("records", []) if r.get("tool") == "empathy_models" and ok(r)]
    lme4 = [r for r in doc.get("records", []) if r.get("tool") == "lme4" and ok(r)]
    if not recs:
        return {}
    targets = doc.get("settings", {}).get("targets", TARGETS)
    out = {"rows": recs[0].get("rows"), "samplers": {}, "checks": {}}
    lme4_wall = sum(r["wall_s"] for r in lme4) / len(lme4) if lme4 else None
    if lme4_wall:
        out["lme4_wall_s"] = lme4_wall
    for r in recs:
        s = {"wall_s": r["wall_s"], "min_ess_bulk": r.get("min_ess_bulk")}
        if lme4_wall:
            s["ratio_to_lme4"] = r["wall_s"] / lme4_wall
        out["samplers"][r["sampler"]] = s
    head = out["samplers"].get(cases.DEFAULT_SAMPLER) or next(iter(out["samplers"].values()))
    ess = num(head.get("min_ess_bulk"))
    out["checks"][f"min bulk ESS >= {targets['min_ess_bulk']:g}"] = (
        ess is not None and ess >= targets["min_ess_bulk"]
    )
    if "ratio_to_lme4" in head:
        out["checks"][f"within {targets['ratio_to_lme4']:g}x lme4 (same run)"] = (
            head["ratio_to_lme4"] <= targets["ratio_to_lme4"]
        )
    return out


def headline(doc: dict) -> list[str]:
    s = doc.get("summary", {})
    if not s:
        return []
    parts = []
    for sampler, v in s["samplers"].items():
        ratio = f", {v['ratio_to_lme4']:.2f}x lme4" if "ratio_to_lme4" in v else ""
        parts.append(f"{sampler} {v['wall_s']:.1f} s{ratio}")
    lme4 = f"; lme4 REML {s['lme4_wall_s']:.1f} s" if "lme4_wall_s" in s else ""
    checks = ", ".join(f"{k}: {'yes' if v else 'NO'}" for k, v in s["checks"].items())
    return [
        f"crossed ratings, {fmt_rows(s['rows'])} rows: " + "; ".join(parts) + lme4 + "; " + checks
    ]


def _estimate(name: str):
    return lambda r: field(name, 3)(r.get("estimates", {}))


CELLS = [
    ("tool", lambda r: r.get("tool")),
    ("sampler", lambda r: r.get("sampler") or f"REML (run {r.get('repeat', 1)})"),
    ("read s", field("read_s", 2)),
    ("compile s", field("compile_s")),
    ("sampling s", field("sample_s")),
    ("wall s", field("wall_s")),
    ("min bulk ESS", field("min_ess_bulk", 0)),
    ("sd_target", _estimate("sd_target")),
    ("sd_rater", _estimate("sd_rater")),
    ("sigma", _estimate("sigma")),
    ("ICC(2,1)", _estimate("icc_agreement")),
    ("ICC(3,1)", _estimate("icc_consistency")),
    ("status", status),
]


def markdown(doc: dict) -> str:
    s = doc.get("summary", {})
    st = doc.get("settings", {})
    design = st.get("design", [None, None, None])
    truth = st.get("truth", {})
    parts = [
        "## Crossed ratings: rater agreement at 70,000 ratings vs lme4",
        f"{fmt_rows(st.get('rows'))} ratings: {fmt_rows(design[0])} targets, each rated by "
        f"{design[2]} of {fmt_rows(design[1])} raters; {st.get('chains')} chains x "
        f"{st.get('draws')} draws ({st.get('tune')} tuning). Wall = read CSV + validate + fit + "
        "summary (the package: compilation and the rater offsets' conditional draws included; "
        "lme4: read + `lmer`).",
        records_table(CELLS, doc["records"]),
    ]
    if truth:
        parts.append(
            "Truth: " + ", ".join(f"{k} {v:.3f}" for k, v in truth.items() if math.isfinite(v))
        )
    if s.get("checks"):
        lines = [f"* {k}: {'**met**' if v else '**not met**'}" for k, v in s["checks"].items()]
        for sampler, v in s.get("samplers", {}).items():
            if "ratio_to_lme4" in v:
                lines.append(f"* {sampler}: {v['ratio_to_lme4']:.2f}x lme4's wall time")
        parts.append("\n".join(lines))
    return "\n\n".join(parts)


def render(doc: dict, out: Path) -> list[str]:
    return [markdown(doc)]
