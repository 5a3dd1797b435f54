"""Regenerate the generated tables of README.md (between <!-- name:start/end --> markers).

    .venv/bin/python scripts/readme_tables.py [parameters] [calibration] [counterfactuals] [fit]

With no argument, all four. The calibration and counterfactual tables run 100 seeds per
config on all cores (about a minute each on two cores); the fit block is the committed
fit's report (``results/fit/report.md``: parameters and posterior predictive).
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from experiments.calibration import DEFAULT_TIMELINE, calibrate, read_timeline, run_seeds  # noqa: E402
from experiments.cli import parameter_table  # noqa: E402
from model.config import load_config  # noqa: E402

COUNTERFACTUALS = (
    "no_us_pressure",
    "no_trade_curbs",
    "high_missile_threat",
    "low_audience_cost",
    "china_pull",
)
SEEDS = range(100)
FIT = REPO / "results" / "fit"


def replace_block(text: str, name: str, body: str) -> str:
    """Put ``body`` between the ``name`` markers of ``text``."""
    pattern = re.compile(rf"(<!-- {name}:start -->\n).*?(<!-- {name}:end -->)", re.S)
    if not pattern.search(text):
        raise SystemExit(f"README.md has no <!-- {name}:start/end --> markers")
    return pattern.sub(lambda m: m.group(1) + body.rstrip("\n") + "\n" + m.group(2), text)


def counterfactual_table(workers: int) -> str:
    """Outcome shares of the baseline and each counterfactual config."""
    lines = [
        "| config | changes | renewed | early reversal | last-minute suspension "
        "| terminated | pending |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name in ("baseline_2019", *COUNTERFACTUALS):
        path = REPO / "configs" / f"{name}.toml"
        changes = ", ".join(
            f"`{k}` = {v}"
            for k, v in load_config(path).items()
            if k not in ("name", "start", "end", "pact_state", "signing_date", "exogenous")
        )
        c = calibrate(run_seeds(path, SEEDS, workers=workers), read_timeline(DEFAULT_TIMELINE))
        o = c.outcomes
        shares = [
            o["renewed"],
            o["early_reversal"],
            o["last_minute_suspension"],
            o["terminated"],
            o["pending"],
        ]
        lines.append(
            f"| `{name}` | {changes or 'defaults'} | "
            + " | ".join(f"{s:.0%}" for s in shares)
            + " |"
        )
    return "\n".join(lines)


def fit_block(fit_dir: Path = FIT) -> str:
    """The committed fit's parameter table and posterior predictive, from its report
    (headings one level down, links into ``results/fit/``)."""
    report = (fit_dir / "report.md").read_text()
    keep = []
    for section in report.split("\n## ")[1:]:
        title, _, body = section.partition("\n")
        body = "\n".join(ln for ln in body.splitlines() if not ln.startswith("!["))
        keep.append(f"#### {title}\n{body.strip()}\n")
    text = "\n".join(keep)
    rel = fit_dir.relative_to(REPO).as_posix()
    for name in ("pairs.png", "fitted.toml"):
        text = text.replace(f"]({name})", f"]({rel}/{name})")
    return text


def main(which: list[str]) -> None:
    """Rewrite the requested blocks of README.md."""
    which = which or ["parameters", "calibration", "counterfactuals", "fit"]
    workers = os.cpu_count() or 1
    readme = REPO / "README.md"
    text = readme.read_text()
    if "parameters" in which:
        text = replace_block(text, "parameters", parameter_table())
    if "calibration" in which:
        runs = run_seeds(REPO / "configs" / "baseline_2019.toml", SEEDS, workers=workers)
        text = replace_block(
            text, "calibration", calibrate(runs, read_timeline(DEFAULT_TIMELINE)).to_markdown()
        )
    if "counterfactuals" in which:
        text = replace_block(text, "counterfactuals", counterfactual_table(workers))
    if "fit" in which:
        text = replace_block(text, "fit", fit_block())
    readme.write_text(text)


if __name__ == "__main__":
    main(sys.argv[1:])
