"""Record (or compare against) the golden runs that hold the model to its behaviour.

For every scenario in ``configs/*.toml`` and seeds 0..49: the outcome, the dated timeline,
the monthly series and every decision's option probabilities and expected utilities by
payoff component. A refactor must reproduce them (events and outcomes identical, numbers
within 1e-9; ``tests/test_golden.py``); a deliberate change of behaviour regenerates them
in a commit of its own that says why:

    .venv/bin/python tests/golden/record.py      # rewrites tests/golden/*.json.gz
"""

from __future__ import annotations

import gzip
import json
import math
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
GOLDEN = Path(__file__).resolve().parent
SEEDS = range(50)


def scenarios() -> list[Path]:
    """Every shipped scenario config."""
    return sorted((REPO / "configs").glob("*.toml"))


def record_run(config: Path, seed: int) -> dict[str, Any]:
    """Everything a run shows a researcher, as plain JSON values (floats unrounded)."""
    from model import GSOMIAModel

    m = GSOMIAModel.from_config(config, rng=seed)
    m.run()
    monthly = m.monthly().reset_index()
    return {
        "seed": seed,
        "outcome": m.outcome,
        "reversal_months_before_expiry": m.reversal_months_before_expiry,
        "timeline": [e.to_dict() for e in m.timeline],
        "monthly": {c: monthly[c].tolist() for c in monthly.columns},
        "decisions": [
            [
                d.date.isoformat(),
                d.actor,
                d.chosen,
                [
                    [
                        o.action,
                        o.probability,
                        [o.immediate[k] for k in sorted(o.immediate)],
                        [o.continuation[k] for k in sorted(o.continuation)],
                    ]
                    for o in d.options
                ],
            ]
            for d in m.decisions
        ],
    }


def path_for(config: Path) -> Path:
    """Where the golden record of ``config`` lives."""
    return GOLDEN / f"{config.stem}.json.gz"


def load(config: Path) -> list[dict[str, Any]]:
    """The golden runs of ``config``."""
    with gzip.open(path_for(config), "rt", encoding="utf-8") as f:
        return json.load(f)


def differences(expected: Any, actual: Any, tol: float = 1e-9, where: str = "") -> list[str]:
    """Places where ``actual`` departs from ``expected``: strings and structure exactly,
    numbers within ``tol`` (absolute, or relative for large magnitudes)."""
    if isinstance(expected, dict) and isinstance(actual, dict):
        if expected.keys() != actual.keys():
            return [f"{where}: keys {sorted(expected)} != {sorted(actual)}"]
        out: list[str] = []
        for k in expected:
            out += differences(expected[k], actual[k], tol, f"{where}.{k}")
        return out
    if isinstance(expected, list) and isinstance(actual, list):
        if len(expected) != len(actual):
            return [f"{where}: length {len(expected)} != {len(actual)}"]
        out = []
        for i, (e, a) in enumerate(zip(expected, actual, strict=True)):
            out += differences(e, a, tol, f"{where}[{i}]")
        return out
    num = (int, float)
    if (
        isinstance(expected, num)
        and isinstance(actual, num)
        and not isinstance(expected, bool)
        and not isinstance(actual, bool)
    ):
        if math.isnan(expected) and math.isnan(actual):
            return []
        if abs(expected - actual) <= tol * max(1.0, abs(expected)):
            return []
        return [f"{where}: {expected!r} != {actual!r}"]
    if expected != actual or type(expected) is not type(actual):
        return [f"{where}: {expected!r} != {actual!r}"]
    return []


def main() -> int:
    """Rewrite every golden file."""
    for config in scenarios():
        runs = [record_run(config, s) for s in SEEDS]
        with gzip.open(path_for(config), "wt", encoding="utf-8", compresslevel=9) as f:
            json.dump(runs, f, separators=(",", ":"))
        print(f"{path_for(config).relative_to(REPO)}: {len(runs)} runs", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
