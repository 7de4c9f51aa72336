"""The report of the shipped study's alliance variance partition, as committed to docs/.

Fits the variance partition of alliance on ``data/simulated_study/sessions.csv`` (therapist,
client and session levels; 40 therapists x 6 clients x 10 sessions) with posterior predictive
draws, saves the result and writes its report: ``report_example.html`` (one self-contained
file) and, when Debian's ``chromium`` is installed, ``report_example.png``, a screenshot of the
report's top rendered by the headless browser.

Usage::

    python examples/report.py --out docs                 # the committed example (4 x 1000 draws)
    python examples/report.py --fast --out /tmp/report   # seconds, for CI
"""

from __future__ import annotations

import argparse
import contextlib
import shutil
import subprocess
import warnings
from pathlib import Path

import empathy_models as em

ROOT = Path(__file__).resolve().parents[1]
DATA = Path("data") / "simulated_study" / "sessions.csv"


def screenshot(html: Path, png: Path, width: int = 1200, height: int = 1500) -> Path | None:
    """The top of ``html`` as rendered by headless chromium (``None`` without chromium)."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        return None
    subprocess.run(
        [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            f"--screenshot={png}",
            f"--window-size={width},{height}",
            html.resolve().as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    from PIL import Image

    img = Image.open(png).convert("RGB").quantize(colors=256)
    img.save(png, optimize=True)
    return png


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path("report_output"))
    ap.add_argument("--fast", action="store_true", help="tiny settings for CI")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    draws, tune, chains = (150, 150, 2) if args.fast else (1000, 1000, 4)
    spec = em.VariancePartition(measure="alliance", levels=("therapist", "client"), bounds=(1, 7))
    # a path relative to the repository root, so the report's command line is portable
    with warnings.catch_warnings(), contextlib.chdir(ROOT):
        warnings.simplefilter("ignore" if args.fast else "default")
        result = em.fit(
            spec,
            str(DATA),
            draws=draws,
            tune=tune,
            chains=chains,
            seed=args.seed,
            posterior_predictive=True,
        )
    result.save(args.out / "report_example.nc")
    html = em.write_report(result, args.out / "report_example.html")
    png = screenshot(html, args.out / "report_example.png")
    print(f"wrote {html} ({html.stat().st_size / 1e3:.0f} kB)")
    if png is not None:
        print(f"wrote {png} ({png.stat().st_size / 1e3:.0f} kB)")
    print(em.shares_table(result).to_string(index=False))
    print(em.prior_sensitivity(result).to_string())


if __name__ == "__main__":
    main()
