"""The generated tables of the documentation pages (between ``<!-- NAME:start/end -->``).

    .venv/bin/python scripts/docs_tables.py [NAME ...]          # rewrite the blocks
    .venv/bin/python scripts/docs_tables.py --check [NAME ...]  # exit 1 naming stale ones

With no NAME, every block. Each block is the output of a command (``BLOCKS``: page,
command, cost). ``make docs`` checks the quick ones on every build (a stale one fails it,
docs/_ext/gsomia_docs.py); the tests check all of them, the slow ones (100 seeds per
scenario, about a minute on two cores) under ``-m slow`` (tests/test_docs.py,
tests/test_calibration.py).
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "scripts")]

from experiments.calibration import DEFAULT_TIMELINE, calibrate, read_timeline, run_seeds  # noqa: E402
from experiments.cli import format_decision, format_timeline, parameter_table  # noqa: E402
from model.config import load_config  # noqa: E402
from model.parameters import TREATY_KEYS  # noqa: E402

DOCS = REPO / "docs"
COUNTERFACTUALS = (
    "no_us_pressure",
    "no_trade_curbs",
    "high_missile_threat",
    "low_audience_cost",
    "china_pull",
)
SEEDS = range(100)
FIT = REPO / "results" / "fit"
FIXED_KEYS = ("name", "start", "end", "pact_state", "signing_date", "exogenous")
"""A scenario's keys the counterfactual table does not list as changes (with its treaty's)."""
EXPLAINED = ("2019-07", "2019-11")
"""The months of Seoul's decisions the payoffs page shows (seed 0 of the baseline)."""


def workers() -> int:
    return os.cpu_count() or 1


def calibration_table() -> str:
    """``gsomia calibrate --seeds 100``: the baseline's 2019 events and outcomes."""
    runs = run_seeds(REPO / "configs" / "baseline_2019.toml", SEEDS, workers=workers())
    return calibrate(runs, read_timeline(DEFAULT_TIMELINE)).to_markdown()


def counterfactual_table() -> str:
    """Outcome shares of the baseline and each counterfactual config, seeds 0-99."""
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
            if k not in (*FIXED_KEYS, *TREATY_KEYS)
        )
        c = calibrate(run_seeds(path, SEEDS, workers=workers()), read_timeline(DEFAULT_TIMELINE))
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
    (headings one level down, links into ``results/fit/`` from the page, figures left to
    the page)."""
    report = (fit_dir / "report.md").read_text()
    keep = []
    for section in report.split("\n## ")[1:]:
        title, _, body = section.partition("\n")
        body = "\n".join(ln for ln in body.splitlines() if not ln.startswith("!["))
        keep.append(f"### {title}\n{body.strip()}\n")
    text = "\n".join(keep)
    rel = os.path.relpath(fit_dir, DOCS / Path(BLOCKS["fit"].page).parent)
    for name in ("pairs.png", "fitted.toml"):
        text = text.replace(f"]({name})", f"]({Path(rel, name).as_posix()})")
    return text


def baseline_seed_0():  # noqa: ANN201 (a GSOMIAModel; model is imported late)
    """Seed 0 of the 2019 baseline, run: what ``make demo`` runs."""
    from model import GSOMIAModel

    m = GSOMIAModel.from_config("baseline_2019", rng=0)
    m.run()
    return m


def demo_block() -> str:
    """``gsomia run --seed 0`` (``make demo``): the dated timeline and outcome."""
    return "```\n" + format_timeline(baseline_seed_0()) + "\n```"


def explain_block() -> str:
    """``gsomia run --seed 0 --explain seoul``: Seoul's decisions in the months of
    ``EXPLAINED``, the three options of highest expected utility each."""
    shown = [d for d in baseline_seed_0().explain("seoul") if f"{d.date:%Y-%m}" in EXPLAINED]
    tables = ["\n".join(format_decision(d).splitlines()[:5]) for d in shown]
    return "```\n" + "\n\n".join(tables) + "\n```"


def mutation_table() -> str:
    """The score per module of ``make mutate`` (``scripts/mutation_report.py``'s table of
    ``results/mutation/summary.json``, as in ``results/mutation/README.md``)."""
    import json

    import mutation_report

    summary = json.loads((REPO / "results" / "mutation" / "summary.json").read_text())
    lines = mutation_report.markdown(summary).splitlines()
    start = next(i for i, ln in enumerate(lines) if ln.startswith("|"))
    end = next((i for i in range(start, len(lines)) if not lines[i].startswith("|")), len(lines))
    return "\n".join(lines[start:end])


@dataclass(frozen=True)
class Block:
    """A generated block: where it is, what makes it, whether a docs build can afford it."""

    page: str
    make: Callable[[], str]
    command: str
    quick: bool


BLOCKS: dict[str, Block] = {
    "demo": Block("getting-started.md", demo_block, "gsomia run --seed 0", True),
    "parameters": Block("parameters.md", parameter_table, "gsomia params", True),
    "fit": Block("calibration.md", fit_block, "results/fit/report.md", True),
    "explain": Block("model/payoffs.md", explain_block, "gsomia run --explain seoul", True),
    "mutation": Block("testing.md", mutation_table, "make mutate", True),
    "calibration": Block("calibration.md", calibration_table, "gsomia calibrate", False),
    "counterfactuals": Block(
        "calibration.md", counterfactual_table, "gsomia calibrate --config", False
    ),
}


def pattern(name: str) -> re.Pattern[str]:
    return re.compile(rf"(<!-- {name}:start -->\n)(.*?)(<!-- {name}:end -->)", re.S)


def read_block(name: str) -> str:
    """The block ``name`` as its page holds it (stripped); its page must hold one start
    and one end marker (a stray one would leave text that looks generated unchecked)."""
    page = DOCS / BLOCKS[name].page
    text = page.read_text()
    counts = [text.count(f"<!-- {name}:{end} -->") for end in ("start", "end")]
    m = pattern(name).search(text)
    if not m or counts != [1, 1]:
        raise SystemExit(
            f"docs/{BLOCKS[name].page} must hold one <!-- {name}:start --> and one "
            f"<!-- {name}:end --> marker (found {counts[0]} and {counts[1]})"
        )
    return m.group(2).strip()


def stale(name: str) -> str | None:
    """Why the block ``name`` is stale (None when it is its command's output)."""
    if read_block(name) == BLOCKS[name].make().strip():
        return None
    return (
        f"docs/{BLOCKS[name].page}: the generated block '{name}' is not the output of "
        f"`{BLOCKS[name].command}`; run: python scripts/docs_tables.py {name}"
    )


def write_block(name: str) -> None:
    """Put the block's command output between its markers."""
    page = DOCS / BLOCKS[name].page
    body = BLOCKS[name].make().rstrip("\n")
    text = pattern(name).sub(lambda m: m.group(1) + body + "\n" + m.group(3), page.read_text())
    page.write_text(text)


def main(argv: list[str]) -> int:
    """Rewrite (or with --check, check) the named blocks, or all of them."""
    check = "--check" in argv
    names = [a for a in argv if a != "--check"] or list(BLOCKS)
    unknown = [n for n in names if n not in BLOCKS]
    if unknown:
        print(f"error: unknown block {unknown[0]!r}; allowed: {', '.join(BLOCKS)}", file=sys.stderr)
        return 2
    if check:
        problems = [p for p in map(stale, names) if p]
        for p in problems:
            print(p, file=sys.stderr)
        return 1 if problems else 0
    for name in names:
        read_block(name)  # markers first, before any long run
    for name in names:
        write_block(name)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
