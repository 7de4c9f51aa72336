"""gpu (``--device-lane``): the JAX samplers on JAX's default device.

Every family at the medium size with nutpie-jax, numpyro and blackjax (the families grid on
the device), and the 1M-row variance partition with each of them; writes ``gpu.json`` with
the device JAX found. The CPU sections pin JAX to the CPU, so their numbers stay CPU numbers.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import cases
from runner import Runner, device_env, mcmc_settings
from tables import field, fmt_rows, records_table, status

from empathy_models import _io

from . import families

TITLE = "GPU lane: JAX samplers"
PLOT = "gpu_ess_per_s.png"
PROBE = (
    "import jax, json; print(json.dumps([jax.default_backend(), [str(d) for d in jax.devices()],"
    " [getattr(d, 'device_kind', '') for d in jax.devices()]]))"
)


def jax_device_probe() -> dict:
    """JAX's default backend and devices, asked in a fresh process with the device env."""
    proc = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, env=device_env()
    )
    try:
        backend, devices, kinds = _io.loads(proc.stdout.strip().splitlines()[-1])
        return {"jax_backend": backend, "jax_devices": devices, "device_kind": kinds}
    except (ValueError, IndexError):
        return {"jax_backend": None, "error": (proc.stderr or "")[-500:]}


def run(runner: Runner, args) -> tuple[list, dict]:
    records, settings = families.run(runner, args, lane="gpu")
    for r in records:
        r["section"] = "gpu"
    mc = mcmc_settings(args)
    rows = 600 if args.quick else 1_000_000
    csv = cases.write_scaling_csv(rows, args.seed, runner.cache / "data")
    samplers = [s for s in (args.samplers or cases.JAX_SAMPLERS) if s in cases.JAX_SAMPLERS]
    for sampler in samplers or cases.JAX_SAMPLERS:
        key = f"variance-scaling/{rows}/{sampler}"
        base = {
            "kind": "scaling",
            "family": "variance-scaling",
            "rows": rows,
            "form": "marginalized",
            "marginalized": True,
            "sampler": sampler,
            "seed": args.seed,
            "lane": "gpu",
            **mc,
        }
        rec = runner.run("gpu", key, {**base, "csv": str(csv)}, env=device_env())
        records.append({"key": key, **base, **rec})
    settings["device"] = jax_device_probe()
    settings["variance_scaling_rows"] = rows
    return records, settings


summarize = families.summarize
headline = families.headline

SCALING_CELLS = [
    ("rows", lambda r: fmt_rows(r.get("rows"))),
    ("sampler", lambda r: r.get("sampler")),
    ("wall s", field("wall_s")),
    ("min bulk ESS", field("min_ess_bulk", 0)),
    ("ESS/s", field("ess_per_s")),
    ("peak RSS MB", field("peak_rss_mb", 0)),
    ("status", status),
]


def markdown(doc: dict) -> str:
    dev = doc.get("settings", {}).get("device", {})
    lead = [
        f"JAX backend: `{dev.get('jax_backend')}`, devices: "
        f"`{', '.join(dev.get('jax_devices') or [])}` "
        f"({', '.join(k for k in dev.get('device_kind') or [] if k)})."
    ]
    tail = []
    scaling = [r for r in doc["records"] if r.get("family") == "variance-scaling"]
    if scaling:
        tail = [
            "### Variance partition, scaling data (read + validate + fit + summary)",
            records_table(SCALING_CELLS, scaling),
        ]
    return families.markdown(doc, TITLE, lead=lead, tail=tail)


def render(doc: dict, out: Path) -> list[str]:
    families.plot(doc, out / PLOT)
    return [markdown(doc), f"![GPU ESS per second]({PLOT})"]
