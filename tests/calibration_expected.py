"""Write tests/data/calibration_expected.toml: the 2019 baseline's shares over many seeds.

The calibration test (tests/test_calibration.py) checks the shares of a smaller set of
seeds against these values within their binomial error, so a recalibration that changes
behaviour shows as a failing test while a mere change of random draws does not. After a
deliberate change of the model's behaviour, regenerate the file and commit it:

    .venv/bin/python tests/calibration_expected.py --seeds 1000 --workers 2

(about three minutes on 2 cores).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "tests" / "data" / "calibration_expected.toml"
CONFIG = "configs/baseline_2019.toml"


def main(argv: list[str] | None = None) -> int:
    """Run the seeds and write the TOML file."""
    sys.path.insert(0, str(REPO))
    from experiments.calibration import DEFAULT_TIMELINE, calibrate, read_timeline, run_seeds

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    runs = run_seeds(REPO / CONFIG, range(args.seeds), workers=args.workers)
    table = calibrate(runs, read_timeline(DEFAULT_TIMELINE))
    n = len(runs)
    whole = round(table.whole_sequence * n)
    lines = [
        "# The 2019 baseline's shares over many seeds, checked by tests/test_calibration.py.",
        "# Regenerate (only after a deliberate change of behaviour):",
        f"#   .venv/bin/python tests/calibration_expected.py --seeds {n} --workers 2",
        f'config = "{CONFIG}"',
        f"seeds = {n}  # seeds 0..{n - 1}",
        f"whole_sequence = {whole}  # runs reproducing the whole 2019 sequence",
        f"without_washington = {round(table.without_washington * n)}  # the same without "
        "Washington's steps",
        "",
        "[outcomes]  # runs per outcome",
    ]
    lines += [f"{k} = {round(v * n)}" for k, v in table.outcomes.items()]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines) + "\n")
    print(f"wrote {args.out}: whole sequence {whole}/{n}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
