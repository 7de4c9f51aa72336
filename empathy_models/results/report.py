"""A self-contained Markdown or HTML report of one fitted result."""

from __future__ import annotations

import html
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from empathy_models.results.result import Result  # noqa: E402


def markdown_table(frame: pd.DataFrame, digits: int = 3) -> str:
    """Render a DataFrame as a GitHub Markdown table (index as the first column)."""
    cols = [frame.index.name or ""] + [str(c) for c in frame.columns]
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for idx, row in frame.iterrows():
        cells = [str(idx)] + [_fmt(v, digits) for v in row.to_numpy()]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _fmt(v, digits: int) -> str:
    if isinstance(v, float | np.floating):
        if not np.isfinite(v):
            return str(v)
        return (
            f"{v:.{digits}g}" if abs(v) >= 1e4 or (v != 0 and abs(v) < 1e-3) else f"{v:.{digits}f}"
        )
    return str(v)


def forest_figure(result: Result, path: Path, ci_prob: float = 0.9) -> Path | None:
    """Posterior medians and equal-tailed intervals of the scalar reported quantities."""
    post = result.posterior
    names = [n for n in result.reported if n in post and post[n].ndim == 2]
    if not names:
        return None
    lo_q, hi_q = (1 - ci_prob) / 2, 1 - (1 - ci_prob) / 2
    med = [float(post[n].median()) for n in names]
    lo = [float(post[n].quantile(lo_q)) for n in names]
    hi = [float(post[n].quantile(hi_q)) for n in names]
    fig, ax = plt.subplots(figsize=(6, 0.35 * len(names) + 1.2))
    y = np.arange(len(names))[::-1]
    ax.hlines(y, lo, hi, color="C0", lw=2)
    ax.plot(med, y, "o", color="C0")
    ax.set_yticks(y, names)
    ax.axvline(0, color="0.7", lw=0.8)
    ax.set_xlabel(f"posterior median and {ci_prob:.0%} interval")
    ax.set_title(f"{result.family}: reported quantities")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def write_report(result: Result, path: str | Path, ci_prob: float = 0.9) -> Path:
    """Write a report (``.md`` or ``.html`` by suffix) with the model, data, diagnostics,
    the summary table, stored probabilities and a forest figure beside it.

    Returns the report's path; the figure is written next to it as ``<stem>_forest.png``.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig = forest_figure(result, path.with_name(f"{path.stem}_forest.png"), ci_prob)
    table = result.summary(ci_prob=ci_prob)
    probs = result.probabilities
    sections = [
        ("Model", json.dumps(result.config, indent=1, default=str)),
        ("Column mapping", json.dumps(result.roles, indent=1, default=str)),
        ("Data", json.dumps(result.data_summary, indent=1, default=str)),
        ("Sampler", json.dumps(result.sampler, indent=1, default=str)),
        ("Timing (s)", json.dumps(result.timing, indent=1, default=str)),
        ("Diagnostics", json.dumps(result.diagnostics, indent=1, default=str)),
    ]
    title = f"empathy_models report: {result.family} (version {result.version})"
    if path.suffix.lower() in (".html", ".htm"):
        body = [f"<h1>{html.escape(title)}</h1>", "<h2>Posterior summary</h2>"]
        body.append(table.to_html(float_format=lambda v: f"{v:.3f}"))
        if probs:
            body.append("<h2>Probabilities</h2><ul>")
            body += [f"<li>{html.escape(k)}: {v:.3f}</li>" for k, v in probs.items()]
            body.append("</ul>")
        if fig is not None:
            body.append(f'<h2>Figure</h2><img src="{fig.name}" alt="forest plot">')
        for head, text in sections:
            body.append(f"<h2>{head}</h2><pre>{html.escape(text)}</pre>")
        path.write_text("<!doctype html><html><body>\n" + "\n".join(body) + "\n</body></html>\n")
        return path
    lines = [f"# {title}", "", "## Posterior summary", "", markdown_table(table), ""]
    if probs:
        lines += ["## Probabilities", ""] + [f"* {k}: {v:.3f}" for k, v in probs.items()] + [""]
    if fig is not None:
        lines += ["## Figure", "", f"![forest plot]({fig.name})", ""]
    for head, text in sections:
        lines += [f"## {head}", "", "```json", text, "```", ""]
    path.write_text("\n".join(lines))
    return path
