"""Markdown tables, headline lines and PNG plots from the section JSON files."""

from __future__ import annotations

import json
import math
import statistics
from pathlib import Path

import cases

SECTION_ORDER = ("families", "scaling", "peers", "big", "gpu")
NUTPIE = ("nutpie-numba", "nutpie-jax")


# ----------------------------------------------------------------------------------------
# helpers
# ----------------------------------------------------------------------------------------


def _num(x) -> float | None:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def fmt(x, digits: int = 1) -> str:
    v = _num(x)
    if v is None:
        return "–"
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    return f"{v:.{digits}f}"


def fmt_rows(n) -> str:
    v = _num(n)
    return "–" if v is None else f"{int(v):,}"


def _ok(r: dict) -> bool:
    return r.get("status") == "ok"


def _status(r: dict) -> str:
    s = r.get("status", "?")
    if s == "ok":
        return "ok"
    err = str(r.get("error", "")).replace("|", "/").replace("\n", " ")
    return f"{s}: {err[:80]}"


def table(headers: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _sizes_in(records: list[dict]) -> list[str]:
    order = list(cases.SIZES)
    found = {r.get("size") for r in records}
    return [s for s in order if s in found]


def _samplers_in(records: list[dict]) -> list[str]:
    order = list(cases.SAMPLERS)
    found = {r.get("sampler") for r in records}
    return [s for s in order if s in found]


def _families_in(records: list[dict]) -> list[str]:
    found = {r.get("family") for r in records}
    return [f for f in cases.FAMILIES if f in found]


def _compile(r: dict) -> str:
    # PyMC's own NUTS and the JAX samplers called through PyMC compile inside pm.sample
    if r.get("sampler") in NUTPIE:
        return fmt(r.get("compile_s"))
    return "(in sampling)"


# ----------------------------------------------------------------------------------------
# summaries
# ----------------------------------------------------------------------------------------


def sampler_medians(records: list[dict], size: str) -> dict[str, dict]:
    """Median ESS/s across families per sampler at ``size`` (a failed fit counts as 0)."""
    out = {}
    for sampler in _samplers_in(records):
        vals, ok = [], 0
        for r in records:
            if r.get("size") != size or r.get("sampler") != sampler:
                continue
            v = _num(r.get("ess_per_s")) if _ok(r) else None
            ok += v is not None
            vals.append(v if v is not None else 0.0)
        if vals:
            out[sampler] = {
                "median_ess_per_s": statistics.median(vals),
                "families": len(vals),
                "failed": len(vals) - ok,
            }
    return out


def fastest(records: list[dict]) -> dict | None:
    sizes = _sizes_in(records)
    if not sizes:
        return None
    # the largest size among those with the most samplers measured: a size measured with only
    # some samplers cannot rank them all
    n_samplers = {s: len(_samplers_in([r for r in records if r.get("size") == s])) for s in sizes}
    size = max(sizes, key=lambda s: (n_samplers[s], sizes.index(s)))
    med = sampler_medians(records, size)
    if not med:
        return None
    best = max(med, key=lambda s: med[s]["median_ess_per_s"])
    ranked = sorted(med, key=lambda s: -med[s]["median_ess_per_s"])
    return {
        "size": size,
        "fastest": best,
        "median_ess_per_s": med,
        "ranking": ranked,
        "default": cases.DEFAULT_SAMPLER,
        "default_rank": ranked.index(cases.DEFAULT_SAMPLER) + 1
        if cases.DEFAULT_SAMPLER in ranked
        else None,
    }


def brms_ratios(records: list[dict]) -> list[dict]:
    """ESS/s of each empathy_models sampler over brms's, per data size."""
    out = []
    brms = {r["rows"]: r for r in records if r.get("tool") == "brms" and _ok(r)}
    for r in records:
        if r.get("tool") != "empathy_models" or not _ok(r) or r.get("rows") not in brms:
            continue
        b = brms[r["rows"]]
        be, pe = _num(b.get("ess_per_s")), _num(r.get("ess_per_s"))
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


def big_checks(doc: dict) -> dict:
    recs = [r for r in doc.get("records", []) if r.get("tool") == "empathy_models" and _ok(r)]
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
    lme4 = [r for r in doc.get("records", []) if r.get("tool") == "lme4" and _ok(r)]
    if lme4:
        out["lme4_wall_s"] = lme4[0]["wall_s"]
        out["checks"]["faster than lme4 (same run)"] = wall < lme4[0]["wall_s"]
    return out


def summarize(section: str, doc: dict) -> dict:
    recs = doc.get("records", [])
    if section in ("families", "gpu"):
        fam = [r for r in recs if r.get("kind", "family") == "family" and r.get("size")]
        return {"fastest": fastest(fam)}
    if section == "peers":
        return {"brms_ratios": brms_ratios(recs)}
    if section == "big":
        return big_checks(doc)
    if section == "scaling":
        return {
            "largest_marginalized": max(
                (r["rows"] for r in recs if _ok(r) and r.get("marginalized")), default=None
            )
        }
    return {}


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


def headline(section: str, doc: dict) -> list[str]:
    s = doc.get("summary", {})
    if section in ("families", "gpu"):
        return [fastest_line(s.get("fastest"))]
    if section == "peers":
        lines = []
        for r in s.get("brms_ratios", []):
            lines.append(
                f"ESS/s ratio to brms, {r['rows']:,} rows, {r['sampler']} ({r['form']}): "
                f"{r['ratio']:.0f}x ({r['ess_per_s']:.1f} vs {r['brms_ess_per_s']:.2f} ESS/s)"
            )
        return lines or ["no brms result (run with --peers)"]
    if section == "big" and s:
        checks = ", ".join(f"{k}: {'yes' if v else 'NO'}" for k, v in s["checks"].items())
        return [
            f"{s['rows']:,} rows: median wall {s['median_wall_s']:.1f} s over {s['repeats']} "
            f"repeats, min bulk ESS {s['min_ess_bulk']:.0f}, peak RSS {s['max_peak_rss_mb']:.0f} MB; "
            + checks
        ]
    return []


# ----------------------------------------------------------------------------------------
# Markdown
# ----------------------------------------------------------------------------------------


def md_families(doc: dict, title: str) -> str:
    recs = [r for r in doc["records"] if r.get("size")]
    parts = [f"## {title}"]
    if doc["section"] == "gpu":
        dev = doc.get("settings", {}).get("device", {})
        parts.append(
            f"JAX backend: `{dev.get('jax_backend')}`, devices: "
            f"`{', '.join(dev.get('jax_devices') or [])}` "
            f"({', '.join(k for k in dev.get('device_kind') or [] if k)})."
        )
    st = doc.get("settings", {})
    parts.append(
        f"{st.get('chains')} chains x {st.get('draws')} draws after {st.get('tune')} tuning "
        f"steps, seed {st.get('seed')}. ESS/s = min bulk ESS over the reported parameters / wall "
        "time of the whole `fit` call (validation, model building, compilation, sampling, "
        "post-processing). Sizes: "
        + "; ".join(
            f"{k}: {v['n_therapists']} therapists x {v['clients_per_therapist']} clients x "
            f"{v['sessions_per_client']} sessions ({v['moments_per_session']} moments per "
            f"session for the circuit), {v['meta_studies']} studies for the meta-analysis"
            for k, v in st.get("sizes", {}).items()
        )
        + "."
    )
    for size in _sizes_in(recs):
        rs = [r for r in recs if r.get("size") == size]
        fams, samplers = _families_in(rs), _samplers_in(rs)
        by = {(r.get("family"), r.get("sampler")): r for r in rs}
        parts.append(f"### ESS per second, {size} size")
        rows = []
        for fam in fams:
            row = [fam]
            for s in samplers:
                r = by.get((fam, s))
                row.append(fmt(r.get("ess_per_s")) if r and _ok(r) else (r or {}).get("status", ""))
            rows.append(row)
        med = sampler_medians(rs, size)
        rows.append(
            ["**median**"]
            + [f"**{fmt(med.get(s, {}).get('median_ess_per_s'))}**" for s in samplers]
        )
        parts.append(table(["family"] + samplers, rows))
        parts.append(f"### All numbers, {size} size")
        rows = []
        for fam in fams:
            for s in samplers:
                r = by.get((fam, s))
                if r is None:
                    continue
                rows.append(
                    [
                        fam,
                        s,
                        fmt_rows(r.get("rows")),
                        _compile(r) if _ok(r) else "–",
                        fmt(r.get("sample_s")),
                        fmt(r.get("wall_s")),
                        fmt(r.get("min_ess_bulk"), 0),
                        fmt(r.get("min_ess_tail"), 0),
                        fmt(r.get("ess_per_s")),
                        str(r.get("divergences", "–")) if _ok(r) else "–",
                        fmt(r.get("max_rhat"), 3),
                        _status(r),
                    ]
                )
        parts.append(
            table(
                [
                    "family",
                    "sampler",
                    "rows",
                    "compile s",
                    "sampling s",
                    "wall s",
                    "min bulk ESS",
                    "min tail ESS",
                    "ESS/s",
                    "divergences",
                    "max R-hat",
                    "status",
                ],
                rows,
            )
        )
    extra = [r for r in doc["records"] if r.get("family") == "variance-scaling"]
    if extra:
        parts.append("### Variance partition, scaling data (read + validate + fit + summary)")
        rows = [
            [
                fmt_rows(r.get("rows")),
                r.get("sampler"),
                fmt(r.get("wall_s")),
                fmt(r.get("min_ess_bulk"), 0),
                fmt(r.get("ess_per_s")),
                fmt(r.get("peak_rss_mb"), 0),
                _status(r),
            ]
            for r in extra
        ]
        parts.append(
            table(
                ["rows", "sampler", "wall s", "min bulk ESS", "ESS/s", "peak RSS MB", "status"],
                rows,
            )
        )
    not_run = st.get("not_run") or []
    if not_run:
        parts.append(
            f"Not measured ({len(not_run)} cells, no cached measurement): "
            + ", ".join(f"`{k}`" for k in not_run)
            + "."
        )
    parts.append(fastest_line(doc.get("summary", {}).get("fastest")))
    return "\n\n".join(parts)


def md_scaling(doc: dict) -> str:
    st = doc.get("settings", {})
    parts = [
        "## Scaling: 3-level variance partition, marginalized vs full",
        f"Sampler {st.get('sampler')}, {st.get('chains')} chains x {st.get('draws')} draws "
        f"after {st.get('tune')} tuning steps, seed {st.get('seed')}. Wall time covers reading "
        "the CSV, validating, fitting (compilation included) and summarizing, in a fresh process "
        "per fit; peak RSS is that process's maximum resident memory. Data: "
        + ", ".join(
            f"{int(k):,} rows = {v[0]} x {v[1]} x {v[2]}" for k, v in st.get("designs", {}).items()
        )
        + " (therapists x clients x sessions).",
    ]
    rows = []
    recs = sorted(doc["records"], key=lambda r: (r.get("rows", 0), not r.get("marginalized")))
    for r in recs:
        rows.append(
            [
                fmt_rows(r.get("rows")),
                r.get("form"),
                fmt(r.get("read_s"), 2),
                fmt(r.get("compile_s")),
                fmt(r.get("sample_s")),
                fmt(r.get("wall_s")),
                fmt(r.get("min_ess_bulk"), 0),
                fmt(r.get("ess_per_s")),
                fmt(r.get("peak_rss_mb"), 0),
                _status(r),
            ]
        )
    parts.append(
        table(
            [
                "rows",
                "form",
                "read s",
                "compile s",
                "sampling s",
                "wall s",
                "min bulk ESS",
                "ESS/s",
                "peak RSS MB",
                "status",
            ],
            rows,
        )
    )
    parts.append("![scaling](scaling.png)")
    return "\n\n".join(parts)


def md_peers(doc: dict) -> str:
    parts = [
        "## Peers: same model, same data",
        "3-level random intercepts (therapist, client; session = residual). empathy_models: "
        "wall time of reading + validating + fitting + summarizing. statsmodels MixedLM and lme4: "
        "REML point estimates (reading the CSV included). brms: wall time of reading, compiling "
        "(apart) and sampling, with ESS from the `posterior` package over the same parameters "
        "(Intercept, three SDs, three shares).",
    ]
    rows = []
    recs = sorted(
        doc["records"],
        key=lambda r: (
            r.get("rows", 0),
            ["empathy_models", "brms", "lme4", "statsmodels"].index(r.get("tool", "statsmodels"))
            if r.get("tool") in ("empathy_models", "brms", "lme4", "statsmodels")
            else 9,
        ),
    )
    ratios = {
        (r["rows"], r["sampler"], r["form"]): r["ratio"]
        for r in doc["summary"].get("brms_ratios", [])
    }
    for r in recs:
        tool = r.get("tool")
        est = r.get("estimates") or {}
        label = tool if tool != "empathy_models" else f"empathy_models {r.get('sampler')}"
        mc = (
            f"{r.get('chains')}x{r.get('draws')}"
            if tool in ("empathy_models", "brms")
            else "point estimate"
        )
        ratio = ratios.get((r.get("rows"), r.get("sampler"), r.get("form")))
        rows.append(
            [
                fmt_rows(r.get("rows")),
                label,
                r.get("form", ""),
                mc,
                fmt(r.get("compile_s")) if tool in ("brms",) or r.get("sampler") in NUTPIE else "–",
                fmt(r.get("wall_s"), 2),
                fmt(r.get("min_ess_bulk"), 0),
                fmt(r.get("ess_per_s"), 2),
                f"{ratio:,.0f}x" if ratio else "–",
                fmt(est.get("sd_therapist"), 3),
                fmt(est.get("sd_client"), 3),
                fmt(est.get("sigma"), 3),
                _status(r),
            ]
        )
    parts.append(
        table(
            [
                "rows",
                "tool",
                "form",
                "draws",
                "compile s",
                "wall s",
                "min bulk ESS",
                "ESS/s",
                "ESS/s vs brms",
                "sd therapist",
                "sd client",
                "sigma",
                "status",
            ],
            rows,
        )
    )
    parts.append(f"True values: {json.dumps(cases.SCALING_TRUTH)}.")
    parts.extend(f"* {line}" for line in headline("peers", doc))
    return "\n\n".join(parts)


def md_big(doc: dict) -> str:
    s = doc.get("summary", {})
    st = doc.get("settings", {})
    parts = [
        "## The 1M-row target (issue 8)",
        f"{fmt_rows(st.get('rows'))} rows ({' x '.join(map(str, st.get('design', [])))} therapists x "
        f"clients x sessions), default sampler, {st.get('chains')} chains x {st.get('draws')} draws, "
        f"{st.get('repeats')} repeats in fresh processes; wall = read CSV + validate + fit + summary.",
    ]
    rows = []
    for r in doc["records"]:
        rows.append(
            [
                r.get("tool"),
                str(r.get("repeat", "")),
                fmt(r.get("read_s"), 2),
                fmt(r.get("compile_s")),
                fmt(r.get("sample_s")),
                fmt(r.get("wall_s")),
                fmt(r.get("min_ess_bulk"), 0),
                fmt(r.get("peak_rss_mb"), 0),
                _status(r),
            ]
        )
    parts.append(
        table(
            [
                "tool",
                "repeat",
                "read s",
                "compile s",
                "sampling s",
                "wall s",
                "min bulk ESS",
                "peak RSS MB",
                "status",
            ],
            rows,
        )
    )
    if s.get("checks"):
        parts.append(
            "\n".join(f"* {k}: {'**met**' if v else '**not met**'}" for k, v in s["checks"].items())
        )
    return "\n\n".join(parts)


# ----------------------------------------------------------------------------------------
# Plots
# ----------------------------------------------------------------------------------------


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_families(doc: dict, path: Path) -> None:
    import numpy as np

    plt = _plt()
    recs = [r for r in doc["records"] if r.get("size")]
    sizes = _sizes_in(recs)
    if not sizes:
        return
    fig, axes = plt.subplots(len(sizes), 1, figsize=(10, 3.6 * len(sizes)), squeeze=False)
    for ax, size in zip(axes[:, 0], sizes, strict=True):
        rs = [r for r in recs if r.get("size") == size]
        fams, samplers = _families_in(rs), _samplers_in(rs)
        by = {(r.get("family"), r.get("sampler")): r for r in rs}
        width = 0.8 / max(len(samplers), 1)
        x = np.arange(len(fams))
        for i, s in enumerate(samplers):
            vals = []
            for f in fams:
                r = by.get((f, s))
                v = _num(r.get("ess_per_s")) if r and _ok(r) else None
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


def plot_scaling(scaling: dict | None, peers: dict | None, path: Path) -> None:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(7, 4.8))
    series = {}
    if scaling:
        for r in scaling["records"]:
            if _ok(r):
                series.setdefault(f"empathy_models {r['form']}", []).append(
                    (r["rows"], r["wall_s"])
                )
    if peers:
        for r in peers["records"]:
            if _ok(r) and r.get("tool") in ("lme4", "statsmodels", "brms"):
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


# ----------------------------------------------------------------------------------------
# Index
# ----------------------------------------------------------------------------------------


def _load(out: Path, section: str) -> dict | None:
    path = out / f"{section}.json"
    if not path.exists():
        return None
    try:
        return json.loads(path.read_text())
    except ValueError:
        return None


def write_all(out: Path) -> Path:
    """Rebuild ``README.md`` and the plots from every section file in ``out``."""
    docs = {s: _load(out, s) for s in SECTION_ORDER}
    parts = ["# empathy_models benchmark results"]
    parts.append(
        "Written by `benchmarks/run.py` (`make bench`, `make bench-peers`); see "
        "`docs/benchmarks.md` for what each number means. Each section keeps the results of "
        "its last run; the JSON files hold every record with machine, versions, seeds and sizes."
    )
    latest = None
    for s in SECTION_ORDER:
        d = docs[s]
        if d and d.get("runs"):
            latest = d["runs"].get(d.get("latest_run")) or latest
    if latest:
        m, v = latest["machine"], latest["versions"]
        parts.append(
            f"Machine: {m.get('cpu', '?')}, {m.get('cores')} cores, {m.get('ram_gb')} GB RAM, "
            f"{m.get('platform')}. Versions: "
            + ", ".join(f"{k} {val}" for k, val in v.items() if val)
            + "."
        )
    headlines = []
    f = docs["families"]
    if f:
        headlines.append(fastest_line(f.get("summary", {}).get("fastest")))
    if docs["big"]:
        headlines += headline("big", docs["big"])
    if docs["peers"]:
        headlines += [h for h in headline("peers", docs["peers"]) if "vs" in h][:6]
    if headlines:
        parts.append("\n".join(f"* {h}" for h in headlines))
    for s in SECTION_ORDER:
        d = docs[s]
        if not d:
            continue
        runs = d.get("runs", {})
        when = ", ".join(sorted({r.get("finished", r.get("started", "")) for r in runs.values()}))
        if s == "families":
            parts.append(md_families(d, "Model families x samplers (CPU)"))
            plot_families(d, out / "families_ess_per_s.png")
            parts.append("![ESS per second](families_ess_per_s.png)")
        elif s == "gpu":
            parts.append(md_families(d, "GPU lane: JAX samplers"))
            plot_families(d, out / "gpu_ess_per_s.png")
            parts.append("![GPU ESS per second](gpu_ess_per_s.png)")
        elif s == "scaling":
            parts.append(md_scaling(d))
        elif s == "peers":
            parts.append(md_peers(d))
        elif s == "big":
            parts.append(md_big(d))
        parts.append(f"<sub>{s}: mode {d.get('mode')}, measured {when}</sub>")
    if docs["scaling"] or docs["peers"]:
        plot_scaling(docs["scaling"], docs["peers"], out / "scaling.png")
        if not docs["scaling"]:
            parts.append("![scaling](scaling.png)")
    # the final line: which sampler the numbers favour
    if f:
        parts.append(fastest_line(f.get("summary", {}).get("fastest")))
    path = out / "README.md"
    path.write_text("\n\n".join(parts) + "\n")
    return path
