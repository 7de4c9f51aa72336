"""scaling: the 3-level variance partition from 2,000 to 1,000,000 rows, marginalized vs full.

:func:`scaling_fit` is also how the peers and big sections fit the package to the scaling
data: one cache namespace, so the same fit of the same data with the same code is measured
once per run.
"""

from __future__ import annotations

from pathlib import Path

import cases
from runner import Runner, cpu_env, mcmc_settings
from tables import field, fmt_rows, ok, pyplot, records_table, status

PLOT = "scaling.png"


def scaling_rows(args) -> list[int]:
    if args.rows:
        return args.rows
    return [600] if args.quick else [2_000, 10_000, 40_000, 200_000, 1_000_000]


def scaling_fit(runner: Runner, args, rows: int, marginalized: bool, sampler: str, **kw) -> dict:
    """Read + validate + fit + summarize the variance partition of the ``rows`` data set."""
    form = "marginalized" if marginalized else "full"
    base = {
        "kind": "scaling",
        "tool": "empathy_models",
        "rows": rows,
        "design": list(cases.SCALING_DESIGNS[rows]),
        "form": form,
        "marginalized": marginalized,
        "sampler": sampler,
        "seed": args.seed,
        **mcmc_settings(args),
    }
    csv = cases.write_scaling_csv(rows, args.seed, runner.cache / "data")
    key = f"variance/{rows}/{form}/{sampler}"
    rec = runner.run("scaling", key, {**base, "csv": str(csv)}, env=cpu_env(), **kw)
    return {**base, **rec}


def run(runner: Runner, args) -> tuple[list, dict]:
    records = []
    sampler = args.scaling_sampler
    for rows in scaling_rows(args):
        for marginalized in (True, False):
            form = "marginalized" if marginalized else "full"
            key = f"variance/{rows}/{form}"
            if not marginalized and rows > args.full_max_rows:
                reason = f"full form skipped above {args.full_max_rows} rows (--full-max-rows)"
                runner.say(f"  {key}: skipped ({reason})")
                records.append(
                    {
                        "key": key,
                        "tool": "empathy_models",
                        "rows": rows,
                        "design": list(cases.SCALING_DESIGNS[rows]),
                        "form": form,
                        "marginalized": False,
                        "sampler": sampler,
                        "status": "skipped",
                        "error": reason,
                    }
                )
                continue
            records.append({"key": key, **scaling_fit(runner, args, rows, marginalized, sampler)})
    settings = {
        "designs": {str(r): cases.SCALING_DESIGNS[r] for r in scaling_rows(args)},
        "design_order": "therapists x clients per therapist x sessions per client",
        "truth": cases.SCALING_TRUTH,
        "sampler": sampler,
        "full_max_rows": args.full_max_rows,
        "seed": args.seed,
        **mcmc_settings(args),
    }
    return records, settings


def summarize(doc: dict) -> dict:
    recs = doc.get("records", [])
    largest = max((r["rows"] for r in recs if ok(r) and r.get("marginalized")), default=None)
    return {"largest_marginalized": largest}


def headline(doc: dict) -> list[str]:
    return []


CELLS = [
    ("rows", lambda r: fmt_rows(r.get("rows"))),
    ("form", lambda r: r.get("form")),
    ("read s", field("read_s", 2)),
    ("compile s", field("compile_s")),
    ("sampling s", field("sample_s")),
    ("wall s", field("wall_s")),
    ("min bulk ESS", field("min_ess_bulk", 0)),
    ("ESS/s", field("ess_per_s")),
    ("peak RSS MB", field("peak_rss_mb", 0)),
    ("status", status),
]


def markdown(doc: dict) -> str:
    st = doc.get("settings", {})
    designs = ", ".join(
        f"{int(k):,} rows = {v[0]} x {v[1]} x {v[2]}" for k, v in st.get("designs", {}).items()
    )
    recs = sorted(doc["records"], key=lambda r: (r.get("rows", 0), not r.get("marginalized")))
    parts = [
        "## Scaling: 3-level variance partition, marginalized vs full",
        f"Sampler {st.get('sampler')}, {st.get('chains')} chains x {st.get('draws')} draws "
        f"after {st.get('tune')} tuning steps, seed {st.get('seed')}. Wall time covers reading "
        "the CSV, validating, fitting (compilation included) and summarizing, in a fresh process "
        f"per fit; peak RSS is that process's maximum resident memory. Data: {designs} "
        "(therapists x clients x sessions).",
        records_table(CELLS, recs),
        f"![scaling]({PLOT})",
    ]
    return "\n\n".join(parts)


def render(doc: dict, out: Path) -> list[str]:
    """The section's Markdown (its plot, shared with peers, is :func:`plot`)."""
    return [markdown(doc)]


def plot(scaling: dict | None, peers: dict | None, path: Path) -> None:
    """Wall time against rows: the package (both forms) and the peers."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7, 4.8))
    series = {}
    if scaling:
        for r in scaling["records"]:
            if ok(r):
                series.setdefault(f"empathy_models {r['form']}", []).append(
                    (r["rows"], r["wall_s"])
                )
    if peers:
        for r in peers["records"]:
            if ok(r) and r.get("tool") in ("lme4", "statsmodels", "brms"):
                label = r["tool"] + (" (REML)" if r["tool"] != "brms" else " 2x1000")
                series.setdefault(label, []).append((r["rows"], r["wall_s"]))
    if not series:
        plt.close(fig)
        return
    styles = {"empathy_models marginalized": "o-", "empathy_models full": "s--"}
    for label, pts in series.items():
        pts = sorted(pts)
        ax.plot([p[0] for p in pts], [p[1] for p in pts], styles.get(label, "^:"), label=label)
    ax.axhline(20, color="grey", lw=0.8, ls=":")
    ax.text(
        0.01,
        20,
        " 20 s target (1M rows)",
        color="grey",
        fontsize=8,
        va="bottom",
        transform=ax.get_yaxis_transform(),
    )
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("rows (sessions)")
    ax.set_ylabel("wall s (read + validate + fit + summary)")
    ax.set_title("3-level variance partition")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
