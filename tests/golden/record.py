"""Record (or compare against) the golden runs that hold the model to its behaviour.

For every scenario in ``configs/*.toml`` and seeds 0..49: the outcome, the dated timeline,
the monthly series and every decision's option probabilities and expected utilities by
payoff component. A refactor must reproduce them (events and outcomes identical, numbers
within 1e-9; ``tests/test_golden.py``); a deliberate change of behaviour regenerates them
in a commit of its own that says why, under a new version of the model:

    .venv/bin/python tests/golden/record.py      # rewrites tests/golden/*.json.gz

``manifest.json`` names the version the runs were recorded under and each file's SHA-256.
A change of behaviour moves the version (``model/version.py``, with its section in
CHANGELOG.md): this script refuses to record runs that differ from the recorded ones under
the version they were recorded with, and ``tests/test_version.py`` holds the manifest to
the current version and the files.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import math
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
GOLDEN = Path(__file__).resolve().parent
MANIFEST = GOLDEN / "manifest.json"
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


def file_digest(path: Path) -> str:
    """SHA-256 of a golden file's JSON (decompressed: gzip's header carries a time)."""
    with gzip.open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def read_manifest() -> dict[str, Any]:
    """The version the golden runs were recorded under and each file's digest."""
    return json.loads(MANIFEST.read_text()) if MANIFEST.exists() else {"version": None}


def refusal(recorded_version: str | None, version: str, changed: list[str]) -> str | None:
    """Why runs that differ from the recorded ones for the scenarios ``changed`` may not be
    recorded under ``version`` (None when they may)."""
    if not changed or recorded_version != version:
        return None
    return (
        f"the golden runs of {', '.join(changed)} changed, but the model's version is still "
        f"{version} (the version they were recorded under): a change of behaviour moves the "
        "version in model/version.py and adds its section to CHANGELOG.md; record again then"
    )


def main() -> int:
    """Record every scenario's golden runs; rewrite the files whose runs changed (and those
    of new scenarios), then the manifest. Nothing is written when runs changed under the
    version they were recorded with."""
    from model.version import __version__

    new: dict[Path, list[dict[str, Any]]] = {}
    changed: list[str] = []
    for config in scenarios():
        runs = [record_run(config, s) for s in SEEDS]
        if path_for(config).exists():
            if not differences(load(config), runs):
                continue  # the same behaviour: keep the file as recorded
            changed.append(config.stem)
        new[config] = runs
    why = refusal(read_manifest().get("version"), __version__, changed)
    if why:
        print(f"error: {why}", file=sys.stderr)
        return 1
    for config, runs in new.items():
        with gzip.open(path_for(config), "wt", encoding="utf-8", compresslevel=9) as f:
            json.dump(runs, f, separators=(",", ":"))
        print(f"{path_for(config).relative_to(REPO)}: {len(runs)} runs", file=sys.stderr)
    digests = {c.stem: file_digest(path_for(c)) for c in scenarios()}
    manifest = {"version": __version__, "files": digests}
    MANIFEST.write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
