#!/usr/bin/env python
"""Benchmark suite of empathy_models: ``make bench`` (and ``make bench-peers``).

Sections (``--only``; default: all but ``gpu``)
------------------------------------------------
families
    Every model family at a small and a medium size with every sampler backend: wall time
    (compilation and sampling apart and together), min bulk and tail ESS over the reported
    parameters, ESS per second, divergences, max R-hat.
scaling
    The 3-level variance partition from 2,000 to 1,000,000 rows, marginalized vs full:
    reading the CSV, validating, fitting and summarizing, timed together, with peak memory.
peers
    The same model on the same data with statsmodels MixedLM (REML point estimate) and, with
    ``--peers``, lme4 and brms through ``Rscript``; the ratio of ESS/s to brms per sampler.
big
    The 1,000,000-row target of issue 8 (4 chains x 1,000 draws, min bulk ESS >= 400, within
    20 s wall including loading and compilation, under 4 GB, faster than lme4 in the same run),
    repeated, with lme4 run on the same file when R is installed.
gpu
    (``--device-lane``) the JAX samplers for every family at the medium size and on the
    1M-row variance partition, on whatever device JAX finds; writes ``gpu.json``.

Every measurement runs in its own process (``worker.py``) with a time limit. Finished
measurements are cached in ``<out>/.cache`` (keyed by the task and a digest of the package's
and the suite's code), so an interrupted run resumes where it stopped; ``--fresh`` measures
everything again. Each section writes ``<out>/<section>.json``; ``<out>/README.md`` and the
PNG plots are rebuilt from all section files (``report.py``), so sections can be run
separately. The sections are ``sections/*.py``; this file parses the command line.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import sys
import time
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import cases  # noqa: E402
import report  # noqa: E402
from provenance import machine_info, versions  # noqa: E402
from runner import Runner, now, write_section  # noqa: E402
from sections import DEFAULT_SECTIONS, SECTIONS  # noqa: E402


def parse_list(text: str | None, allowed=None, kind=str) -> list | None:
    if text is None:
        return None
    items = [kind(x.strip()) for x in text.split(",") if x.strip()]
    if allowed is not None:
        bad = [x for x in items if x not in allowed]
        if bad:
            raise SystemExit(f"error: unknown {bad}; choose among {', '.join(map(str, allowed))}")
    return items


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter
    )
    p.add_argument("--out", type=Path, default=HERE / "results", help="results folder")
    p.add_argument(
        "--only",
        help=f"comma-separated sections among {', '.join(SECTIONS)} (default: all but gpu)",
    )
    p.add_argument("--peers", action="store_true", help="also run lme4 and brms via Rscript")
    p.add_argument("--quick", action="store_true", help="tiny sizes and draws (smoke test)")
    p.add_argument(
        "--device-lane",
        action="store_true",
        help="run the JAX samplers on JAX's default device (the gpu section) and nothing else",
    )
    p.add_argument("--families", help=f"comma-separated, among {', '.join(cases.FAMILIES)}")
    p.add_argument("--samplers", help=f"comma-separated, among {', '.join(cases.SAMPLERS)}")
    p.add_argument("--sizes", help="families section sizes, among " + ", ".join(cases.SIZES))
    p.add_argument(
        "--rows", help="scaling rows, among " + ", ".join(map(str, cases.SCALING_DESIGNS))
    )
    p.add_argument("--seed", type=int, default=1, help="data and sampler seed (default 1)")
    p.add_argument("--draws", type=int, default=1000)
    p.add_argument("--tune", type=int, default=1000)
    p.add_argument("--chains", type=int, default=4)
    p.add_argument("--timeout", type=float, default=1800, help="seconds per measurement")
    p.add_argument("--fresh", action="store_true", help="ignore cached measurements")
    p.add_argument(
        "--cached-only",
        action="store_true",
        help="measure nothing: rebuild the families section from cached measurements (those\n"
        "of the same task and code); cells without one are listed as not run",
    )
    p.add_argument("--full-max-rows", type=int, default=200_000, help="largest full-form fit")
    p.add_argument("--statsmodels-max-rows", type=int, default=200_000)
    p.add_argument("--scaling-sampler", default=cases.DEFAULT_SAMPLER, choices=list(cases.SAMPLERS))
    p.add_argument("--peer-rows", help="rows of the peer comparison (default 40000)")
    p.add_argument("--brms-rows", help="rows brms is run on (default: the peer rows)")
    p.add_argument("--big-repeats", type=int, default=3, help="repeats of the 1M-row fit")
    p.add_argument("--quiet", action="store_true")
    return p


def parse_args(argv: list[str] | None) -> tuple[argparse.Namespace, list[str]]:
    """The parsed options (lists split and checked) and the sections to run."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.device_lane:
        sections = ["gpu"]
    elif args.only:
        sections = parse_list(args.only, SECTIONS)
    else:
        sections = list(DEFAULT_SECTIONS)
    if args.cached_only and set(sections) - {"families", "gpu"}:
        parser.error("--cached-only rebuilds the families (or gpu) section only")
    args.families = parse_list(args.families, cases.FAMILIES)
    args.samplers = parse_list(args.samplers, cases.SAMPLERS)
    args.sizes = parse_list(args.sizes, cases.SIZES)
    args.rows = parse_list(args.rows, cases.SCALING_DESIGNS, int)
    args.peer_rows = parse_list(args.peer_rows, cases.SCALING_DESIGNS, int)
    args.brms_rows = parse_list(args.brms_rows, cases.SCALING_DESIGNS, int)
    args.brms_mcmc = {"chains": 2, "draws": 1000, "tune": 1000}
    return args, sections


def main(argv: list[str] | None = None) -> int:
    args, sections = parse_args(argv)
    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    run_id = _dt.datetime.now(_dt.UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + uuid.uuid4().hex[:6]
    runner = Runner(
        out,
        fresh=args.fresh,
        timeout=args.timeout,
        run_id=run_id,
        quiet=args.quiet,
        cached_only=args.cached_only,
    )
    meta = {
        "run_id": run_id,
        "mode": "quick" if args.quick else "full",
        "argv": sys.argv[1:] if argv is None else list(argv),
        "started": now(),
        "machine": machine_info(),
        "versions": versions(),
        "code_digest": runner.digest,
        "seed": args.seed,
    }
    for name in sections:
        section = SECTIONS[name]
        runner.say(f"== {name}")
        t0 = time.perf_counter()
        records, settings = section.run(runner, args)
        meta["finished"] = now()
        meta.setdefault("section_s", {})[name] = time.perf_counter() - t0
        doc = write_section(out, name, records, settings, meta, section.summarize)
        for line in section.headline(doc):
            runner.say(line)
    report.write_all(out)
    runner.say(f"results in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
