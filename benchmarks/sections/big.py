"""big: the 1,000,000-row target of issue 8, repeated, with lme4 on the same file.

Targets: 4 chains x 1,000 draws, minimum bulk ESS >= 400, median wall within 20 s including
reading and compilation, peak memory under 4 GB, faster than lme4 in the same run.
"""

from __future__ import annotations

import math
import statistics
from pathlib import Path

import cases
from provenance import r_peers_available
from runner import Runner, mcmc_settings
from tables import field, fmt_rows, num, ok, records_table, status

from .scaling import scaling_fit

#: Issue 8's targets for the 1M-row fit.
TARGETS = {"wall_s": 20.0, "min_ess_bulk": 400.0, "peak_rss_mb": 4096.0}


def run(runner: Runner, args) -> tuple[list, dict]:
    rows = 600 if args.quick else 1_000_000
    repeats = 1 if args.quick else args.big_repeats
    records = []
    for rep in range(repeats):
        # in a full run every repeat is a new measurement (never served from the cache)
        rec = scaling_fit(runner, args, rows, True, cases.DEFAULT_SAMPLER, force=not args.quick)
        records.append({"key": f"empathy_models/{rows}/rep{rep + 1}", **rec, "repeat": rep + 1})
    key = f"lme4/{rows}"
    base = {"kind": "rscript", "tool": "lme4", "rows": rows, "form": "REML"}
    if r_peers_available(("lme4",)).get("lme4"):
        csv = cases.write_scaling_csv(rows, args.seed, runner.cache / "data")
        task = {**base, "script": "lme4_fit.R", "csv": str(csv), "args": []}
        rec = runner.run("big", key, task, force=True)
        records.append({"key": key, **base, **rec})
    else:
        why = "lme4 not installed (make bench-peers installs it)"
        records.append({"key": key, **base, "status": "skipped", "error": why})
    settings = {
        "rows": rows,
        "design": cases.SCALING_DESIGNS[rows],
        "repeats": repeats,
        "targets": TARGETS,
        "seed": args.seed,
        **mcmc_settings(args),
    }
    return records, settings


def summarize(doc: dict) -> dict:
    """Median wall, min ESS and max memory over the repeats, and whether each target is met."""
    keys = ("wall_s", "min_ess_bulk", "peak_rss_mb")
    recs = [
        r
        for r in doc.get("records", [])
        if r.get("tool") == "empathy_models"
        and ok(r)
        and all(num(r.get(k)) is not None for k in keys)
    ]
    if not recs:
        return {}
    targets = doc.get("settings", {}).get("targets", {})
    wall = statistics.median(r["wall_s"] for r in recs)
    ess = min(r["min_ess_bulk"] for r in recs)
    rss = max(r["peak_rss_mb"] for r in recs)
    out = {
        "rows": recs[0].get("rows"),
        "repeats": len(recs),
        "median_wall_s": wall,
        "min_ess_bulk": ess,
        "max_peak_rss_mb": rss,
        "checks": {
            f"wall <= {targets.get('wall_s')} s": wall <= targets.get("wall_s", math.inf),
            f"min bulk ESS >= {targets.get('min_ess_bulk')}": ess >= targets.get("min_ess_bulk", 0),
            f"peak RSS < {targets.get('peak_rss_mb')} MB": rss
            < targets.get("peak_rss_mb", math.inf),
        },
    }
    lme4 = [r for r in doc.get("records", []) if r.get("tool") == "lme4" and ok(r)]
    if lme4:
        out["lme4_wall_s"] = lme4[0]["wall_s"]
        out["checks"]["faster than lme4 (same run)"] = wall < lme4[0]["wall_s"]
    return out


def headline(doc: dict) -> list[str]:
    s = doc.get("summary", {})
    if not s:
        return []
    checks = ", ".join(f"{k}: {'yes' if v else 'NO'}" for k, v in s["checks"].items())
    return [
        f"{s['rows']:,} rows: median wall {s['median_wall_s']:.1f} s over {s['repeats']} "
        f"repeats, min bulk ESS {s['min_ess_bulk']:.0f}, peak RSS {s['max_peak_rss_mb']:.0f} MB; "
        + checks
    ]


CELLS = [
    ("tool", lambda r: r.get("tool")),
    ("repeat", lambda r: str(r.get("repeat", ""))),
    ("read s", field("read_s", 2)),
    ("compile s", field("compile_s")),
    ("sampling s", field("sample_s")),
    ("wall s", field("wall_s")),
    ("min bulk ESS", field("min_ess_bulk", 0)),
    ("peak RSS MB", field("peak_rss_mb", 0)),
    ("status", status),
]


def markdown(doc: dict) -> str:
    s = doc.get("summary", {})
    st = doc.get("settings", {})
    parts = [
        "## The 1M-row target (issue 8)",
        f"{fmt_rows(st.get('rows'))} rows ({' x '.join(map(str, st.get('design', [])))} therapists x "
        f"clients x sessions), default sampler, {st.get('chains')} chains x {st.get('draws')} draws, "
        f"{st.get('repeats')} repeats in fresh processes; wall = read CSV + validate + fit + summary.",
        records_table(CELLS, doc["records"]),
    ]
    if s.get("checks"):
        parts.append(
            "\n".join(f"* {k}: {'**met**' if v else '**not met**'}" for k, v in s["checks"].items())
        )
    return "\n\n".join(parts)


def render(doc: dict, out: Path) -> list[str]:
    return [markdown(doc)]
