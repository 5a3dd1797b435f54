"""Write a committed fit's point estimate (the posterior mean) into the registry's defaults.

    .venv/bin/python scripts/apply_fit.py results/fit
    .venv/bin/python scripts/apply_fit.py results/fit --intervals-only

For every parameter the fit estimated, ``model/parameters.py`` gets the posterior mean
(``DIR/fitted.toml``) to 3 significant figures as its default (well inside the 90%
intervals; a UI slider then holds the default on its grid), and its source says which
fit produced it and the 90% credible interval (from ``DIR/posterior.parquet``, the
weighted particles of the last generation, with the report's quantile). Run it after
``gsomia fit``; then regenerate what depends on the defaults (the docs' tables, golden runs,
calibration counts).
With ``--intervals-only`` (a fit that has not converged) the defaults stay and each source
gains the fit's 90% interval.
"""

from __future__ import annotations

import argparse
import json
import sys
import tomllib
from pathlib import Path

import pandas as pd

from experiments.fit_report import weighted_quantile

REPO = Path(__file__).resolve().parents[1]
REGISTRY = REPO / "model" / "parameters.py"
HAND_TUNED = "Hand-set (tuned to the 2019 sequence before beliefs were consistent); fit"
"""How a source reads when the fit's point estimate is not adopted (``--intervals-only``)."""


def sig3(x: float) -> float:
    return float(f"{x:.3g}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("fit_dir", type=Path)
    parser.add_argument(
        "--intervals-only",
        action="store_true",
        help="keep the defaults; add the fit's 90%% interval to each source",
    )
    args = parser.parse_args(argv)
    fitted = tomllib.loads((args.fit_dir / "fitted.toml").read_text())["parameters"]
    post = pd.read_parquet(args.fit_dir / "posterior.parquet")
    last = post[post["generation"] == post["generation"].max()]
    meta = json.loads((args.fit_dir / "fit.json").read_text())
    seed = meta.get("seed", 0)
    targets = meta["targets_name"]
    where = args.fit_dir.resolve()
    rel = where.relative_to(REPO) if where.is_relative_to(REPO) else where
    text = REGISTRY.read_text()
    for name, point in fitted.items():
        lo = weighted_quantile(last[name].to_numpy(), last["weight"].to_numpy(), 0.05)
        hi = weighted_quantile(last[name].to_numpy(), last["weight"].to_numpy(), 0.95)
        start = text.find(f'        P(\n            "{name}",\n')
        if start < 0:
            print(f"{name}: not found in {REGISTRY}", file=sys.stderr)
            return 2
        end = text.index("\n        ),\n", start)
        block = text[start:end]
        lines = block.split("\n")
        # line 0 "P(", 1 name, 2 kind, 3 default
        kind = lines[2].strip().rstrip(",")
        if not args.intervals_only:
            lines[3] = f"            {round(point) if kind == 'int' else sig3(point)!r},"
        # drop the old source (a string that may continue over several lines)
        out, skipping = [], False
        for ln in lines:
            if ln.lstrip().startswith("source="):
                skipping = not ln.rstrip().endswith(",")
                continue
            if skipping:
                skipping = not ln.rstrip().endswith(",")
                continue
            out.append(ln)
        command = f"gsomia fit {targets} --seed {seed}"
        interval = f"90% interval {sig3(lo)} - {sig3(hi)}"
        if args.intervals_only:
            out.append(f'            source="{HAND_TUNED} "')
            out.append(f'            "`{command}` ({rel}/report.md), not converged: "')
            out.append(f'            "{interval}.",')
        else:
            out.append(f'            source="Fitted: posterior mean of `{command}` "')
            out.append(f'            "({rel}/report.md), to 3 significant figures; {interval}.",')
        text = text[:start] + "\n".join(out) + text[end:]
    REGISTRY.write_text(text)
    what = "fit intervals" if args.intervals_only else "fitted defaults"
    print(f"wrote {len(fitted)} {what} into {REGISTRY.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
