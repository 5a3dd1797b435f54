"""Record pygambit's logit QRE of the games tests/test_games.py compares with gambit, in
tests/data/gambit_qre.json, so that the default suite needs no pygambit (a source build of
minutes on most platforms). Needs the gambit extra::

    pip install -e '.[gambit]'
    python tests/gambit_record.py

Run it again when ``gambit_cases()`` changes; ``test_gambit_record_is_gambits_answer``
(run wherever pygambit is installed) checks the record against the live solver."""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from test_games import GAMBIT_RECORD, gambit_cases, gambit_qre


def record() -> dict:
    """Every case's payoffs, lambdas and gambit's strategies at each lambda."""
    import pygambit

    cases = {}
    for name, (pays, lams, _) in gambit_cases().items():
        cases[name] = {
            "payoffs": [p.tolist() for p in pays],
            "lambdas": list(lams),
            "strategies": [[s.tolist() for s in prof] for prof in gambit_qre(pays, lams)],
        }
    return {
        "solver": "pygambit.qre.logit_solve_lambda",
        "pygambit": pygambit.__version__,
        "cases": cases,
    }


def main() -> int:
    """Write the record; exit 2 without pygambit."""
    try:
        data = record()
    except ImportError:
        print(
            "gambit_record: pygambit is not installed; pip install -e '.[gambit]'", file=sys.stderr
        )
        return 2
    GAMBIT_RECORD.write_text(json.dumps(data, indent=1) + "\n")
    print(f"wrote {GAMBIT_RECORD} ({len(data['cases'])} games, pygambit {data['pygambit']})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
