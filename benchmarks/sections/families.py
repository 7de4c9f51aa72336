"""families: every model family x every sampler, at each size (and the device lane's grid)."""

from __future__ import annotations

import statistics
from pathlib import Path

import cases
from runner import Runner, cpu_env, device_env, mcmc_settings
from tables import (
    NUTPIE,
    families_in,
    field,
    fmt,
    fmt_rows,
    markdown_table,
    num,
    ok,
    pyplot,
    records_table,
    samplers_in,
    sizes_in,
    status,
)

TITLE = "Model families x samplers (CPU)"
PLOT = "families_ess_per_s.png"


def run(runner: Runner, args, *, lane: str = "cpu") -> tuple[list, dict]:
    sizes = args.sizes or (["tiny"] if args.quick else ["small", "medium"])
    samplers = args.samplers or list(cases.SAMPLERS)
    if lane == "gpu":
        sizes = args.sizes or (["tiny"] if args.quick else ["medium"])
        samplers = [s for s in samplers if s in cases.JAX_SAMPLERS] or list(cases.JAX_SAMPLERS)
    env = cpu_env() if lane == "cpu" else device_env()
    mc = mcmc_settings(args)
    records, not_run = [], []
    for size in sizes:
        for family in args.families or cases.FAMILIES:
            for sampler in samplers:
                task = {
                    "kind": "family",
                    "family": family,
                    "size": size,
                    "sampler": sampler,
                    "seed": args.seed,
                    "data_seed": args.seed,
                    "lane": lane,
                    **mc,
                }
                key = f"{family}/{size}/{sampler}"
                rec = runner.run(lane if lane == "gpu" else "families", key, task, env=env)
                if rec.get("status") == "not run":
                    not_run.append(key)
                    continue
                records.append({"key": key, **task, **rec})
    settings = {
        "sizes": {s: cases.SIZES[s].to_dict() for s in sizes},
        "samplers": samplers,
        "families": list(args.families or cases.FAMILIES),
        "seed": args.seed,
        "not_run": not_run,
        **mc,
    }
    return records, settings


# ----------------------------------------------------------------------------------------
# summary
# ----------------------------------------------------------------------------------------


def sampler_medians(records: list[dict], size: str) -> dict[str, dict]:
    """Median ESS/s across families per sampler at ``size`` (a failed fit counts as 0)."""
    out = {}
    for sampler in samplers_in(records):
        vals, n_ok = [], 0
        for r in records:
            if r.get("size") != size or r.get("sampler") != sampler:
                continue
            v = num(r.get("ess_per_s")) if ok(r) else None
            n_ok += v is not None
            vals.append(v if v is not None else 0.0)
        if vals:
            out[sampler] = {
                "median_ess_per_s": statistics.median(vals),
                "families": len(vals),
                "failed": len(vals) - n_ok,
            }
    return out


def fastest(records: list[dict]) -> dict | None:
    sizes = sizes_in(records)
    if not sizes:
        return None
    # the largest size among those with the most samplers measured: a size measured with only
    # some samplers cannot rank them all
    n_samplers = {s: len(samplers_in([r for r in records if r.get("size") == s])) for s in sizes}
    size = max(sizes, key=lambda s: (n_samplers[s], sizes.index(s)))
    med = sampler_medians(records, size)
    if not med:
        return None
    best = max(med, key=lambda s: med[s]["median_ess_per_s"])
    ranked = sorted(med, key=lambda s: -med[s]["median_ess_per_s"])
    default = cases.DEFAULT_SAMPLER
    return {
        "size": size,
        "fastest": best,
        "median_ess_per_s": med,
        "ranking": ranked,
        "default": default,
        "default_rank": ranked.index(default) + 1 if default in ranked else None,
    }


def summarize(doc: dict) -> dict:
    fam = [r for r in doc.get("records", []) if r.get("kind", "family") == "family"]
    return {"fastest": fastest([r for r in fam if r.get("size")])}


def fastest_line(f: dict | None) -> str:
    if not f:
        return "No family results yet."
    med = f["median_ess_per_s"]
    best = f["fastest"]
    default = f["default"]
    line = (
        f"Fastest sampler by median ESS/s across families ({f['size']} size): **{best}** "
        f"({med[best]['median_ess_per_s']:.1f} ESS/s). "
    )
    if default not in med:
        return line + f"The package default ({default}) was not measured."
    if best == default:
        return line + (
            f"The package default ({default}) is the fastest: the table supports it "
            f"(next: {f['ranking'][1] if len(f['ranking']) > 1 else '–'})."
        )
    return line + (
        f"The package default ({default}, {med[default]['median_ess_per_s']:.1f} ESS/s) ranks "
        f"{f['default_rank']} of {len(med)}: the table contradicts the default."
    )


def headline(doc: dict) -> list[str]:
    return [fastest_line(doc.get("summary", {}).get("fastest"))]


# ----------------------------------------------------------------------------------------
# Markdown and plot
# ----------------------------------------------------------------------------------------


def _compile(r: dict) -> str:
    if not ok(r):
        return "–"
    # PyMC's own NUTS and the JAX samplers called through PyMC compile inside pm.sample
    return fmt(r.get("compile_s")) if r.get("sampler") in NUTPIE else "(in sampling)"


CELLS = [
    ("family", lambda r: r.get("family")),
    ("sampler", lambda r: r.get("sampler")),
    ("rows", lambda r: fmt_rows(r.get("rows"))),
    ("compile s", _compile),
    ("sampling s", field("sample_s")),
    ("wall s", field("wall_s")),
    ("min bulk ESS", field("min_ess_bulk", 0)),
    ("min tail ESS", field("min_ess_tail", 0)),
    ("ESS/s", field("ess_per_s")),
    ("divergences", lambda r: str(r.get("divergences", "–")) if ok(r) else "–"),
    ("max R-hat", field("max_rhat", 3)),
    ("status", status),
]


def _sizes_text(sizes: dict) -> str:
    return "; ".join(
        f"{k}: {v['n_therapists']} therapists x {v['clients_per_therapist']} clients x "
        f"{v['sessions_per_client']} sessions ({v['moments_per_session']} moments per "
        f"session for the circuit), {v['meta_studies']} studies for the meta-analysis"
        for k, v in sizes.items()
    )


def size_tables(recs: list[dict], size: str) -> list[str]:
    """The ESS/s grid (families x samplers, with medians) and every number, at one size."""
    rs = [r for r in recs if r.get("size") == size]
    fams, samplers = families_in(rs), samplers_in(rs)
    by = {(r.get("family"), r.get("sampler")): r for r in rs}
    grid = []
    for fam in fams:
        row = [fam]
        for s in samplers:
            r = by.get((fam, s))
            row.append(fmt(r.get("ess_per_s")) if r and ok(r) else (r or {}).get("status", ""))
        grid.append(row)
    med = sampler_medians(rs, size)
    grid.append(
        ["**median**"] + [f"**{fmt(med.get(s, {}).get('median_ess_per_s'))}**" for s in samplers]
    )
    cells = [by[(f, s)] for f in fams for s in samplers if (f, s) in by]
    return [
        f"### ESS per second, {size} size",
        markdown_table(["family"] + samplers, grid),
        f"### All numbers, {size} size",
        records_table(CELLS, cells),
    ]


def markdown(doc: dict, title: str = TITLE, lead=(), tail=()) -> str:
    """The section's Markdown; ``lead`` follows the title, ``tail`` the size tables."""
    recs = [r for r in doc["records"] if r.get("size")]
    st = doc.get("settings", {})
    parts = [f"## {title}", *lead]
    parts.append(
        f"{st.get('chains')} chains x {st.get('draws')} draws after {st.get('tune')} tuning "
        f"steps, seed {st.get('seed')}. ESS/s = min bulk ESS over the reported parameters / wall "
        "time of the whole `fit` call (validation, model building, compilation, sampling, "
        f"post-processing). Sizes: {_sizes_text(st.get('sizes', {}))}."
    )
    for size in sizes_in(recs):
        parts += size_tables(recs, size)
    parts += tail
    not_run = st.get("not_run") or []
    if not_run:
        parts.append(
            f"Not measured ({len(not_run)} cells, no cached measurement): "
            + ", ".join(f"`{k}`" for k in not_run)
            + "."
        )
    parts.append(fastest_line(doc.get("summary", {}).get("fastest")))
    return "\n\n".join(parts)


def plot(doc: dict, path: Path) -> None:
    import numpy as np

    recs = [r for r in doc["records"] if r.get("size")]
    sizes = sizes_in(recs)
    if not sizes:
        return
    plt = pyplot()
    fig, axes = plt.subplots(len(sizes), 1, figsize=(10, 3.6 * len(sizes)), squeeze=False)
    for ax, size in zip(axes[:, 0], sizes, strict=True):
        rs = [r for r in recs if r.get("size") == size]
        fams, samplers = families_in(rs), samplers_in(rs)
        by = {(r.get("family"), r.get("sampler")): r for r in rs}
        width = 0.8 / max(len(samplers), 1)
        x = np.arange(len(fams))
        for i, s in enumerate(samplers):
            vals = []
            for f in fams:
                r = by.get((f, s))
                v = num(r.get("ess_per_s")) if r and ok(r) else None
                vals.append(v if v and v > 0 else np.nan)
            ax.bar(x + (i - (len(samplers) - 1) / 2) * width, vals, width, label=s)
        ax.set_xticks(x, fams)
        ax.set_yscale("log")
        ax.set_ylabel("min bulk ESS / wall s")
        ax.set_title(f"ESS per second incl. compilation, {size} size")
        ax.grid(axis="y", alpha=0.3)
    axes[0, 0].legend(ncol=len(samplers), fontsize=8, loc="upper right")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def render(doc: dict, out: Path) -> list[str]:
    """The section's Markdown blocks for the results README; writes its plot."""
    plot(doc, out / PLOT)
    return [markdown(doc), f"![ESS per second]({PLOT})"]
