"""The ``gsomia`` command: run a scenario, run and analyse sweeps, serve the browser UI.

Bad input (an unknown key, a wrong type, an out-of-range value, a malformed spec) stops
with exit status 2 and one message on stderr naming the file, the key, the value and what
is allowed; nothing is written.
"""

from __future__ import annotations

import argparse
import json
import sys
import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from experiments.atomic import write_text_atomic
from model.parameters import ConfigError

REPO = Path(__file__).resolve().parents[1]
DEFAULT_CONFIG = REPO / "configs" / "baseline_2019.toml"
EXIT_BAD_INPUT = 2


def _parse_set(items: Sequence[str]) -> dict[str, Any]:
    """``KEY=VALUE`` overrides, VALUE read as a TOML value (``3``, ``0.5``, ``"x"``,
    ``2019-01-01``)."""
    out: dict[str, Any] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--set: invalid value {item!r}; allowed: KEY=VALUE")
        try:
            out[key.strip()] = tomllib.loads(f"v = {raw.strip()}")["v"]
        except tomllib.TOMLDecodeError:
            out[key.strip()] = raw.strip()  # a bare word: let the key's own check judge it
    return out


def format_timeline(model: Any) -> str:
    """The dated timeline and outcome as text."""
    lines = [f"{model.name}: seed {model.seed}, {model.start:%Y-%m} to {model.end:%Y-%m}"]
    for e in sorted(model.timeline, key=lambda e: e.date):
        tag = " (exogenous)" if e.extra.get("exogenous") else ""
        detail = f"  {e.detail}" if e.detail else ""
        lines.append(f"{e.date.isoformat()}  {e.actor:<11} {e.event}{tag}{detail}")
    months = model.reversal_months_before_expiry
    when = "" if months is None else f" ({months} months before expiry)"
    lines.append(f"outcome: {model.outcome}{when}")
    return "\n".join(lines)


def format_decision(decision: Any) -> str:
    """One decision as a table: each option's probability and expected utility, split
    into the payoff components (immediate + continuation)."""
    names = tuple(decision.options[0].immediate) if decision.options else ()
    head = f"{decision.date:%Y-%m} {decision.actor} chose {decision.chosen}"
    cols = "".join(f"{c[:9]:>10}" for c in names)
    lines = [head, f"  {'option':<40}{'prob':>6}{'EU':>8}{cols}"]
    for o in sorted(decision.options, key=lambda o: -o.expected_utility):
        comps = o.components()
        vals = "".join(f"{comps[c]:>10.2f}" for c in names)
        lines.append(f"  {o.action:<40}{o.probability:>6.2f}{o.expected_utility:>8.2f}{vals}")
    return "\n".join(lines)


def cmd_run(args: argparse.Namespace) -> int:
    """``gsomia run``: one run of a scenario."""
    from model import GSOMIAModel

    overrides = _parse_set(args.set)
    model = GSOMIAModel.from_config(args.config, rng=args.seed, **overrides)
    model.run()
    if args.out is not None:
        out = Path(args.out)
        df = model.monthly()
        write_text_atomic(out / "monthly.csv", df.to_csv())
        events = [e.to_dict() for e in model.timeline]
        write_text_atomic(out / "timeline.json", json.dumps(events, indent=1) + "\n")
        summary = model.to_dict(decisions=False)
        summary.pop("events")
        write_text_atomic(out / "outcome.json", json.dumps(summary, indent=1) + "\n")
        decisions = [d.to_dict() for d in model.decisions]
        write_text_atomic(out / "decisions.json", json.dumps(decisions) + "\n")
    if args.json:
        print(json.dumps(model.to_dict(decisions=True)))
    else:
        print(format_timeline(model))
        for actor in args.explain:
            for d in model.explain(actor):
                if d.chosen not in ("hold", "none", "pressure_seoul=0,pressure_tokyo=0"):
                    print()
                    print(format_decision(d))
        if args.out is not None:
            print(f"wrote {args.out}/monthly.csv, timeline.json, outcome.json, decisions.json")
    return 0


def parameter_table() -> str:
    """The README's parameter table, generated from the registry."""
    from model.parameters import PARAMETERS

    lines = [
        "| parameter | meaning | unit | range | default | source of the default |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for p in PARAMETERS.values():
        if p.choices is not None:
            rng = " / ".join(p.choices)
        elif p.low is not None and p.high is not None:
            rng = f"{p.low:g} – {p.high:g}"
        else:
            rng = p.allowed()
        default = p.default.isoformat() if hasattr(p.default, "isoformat") else p.default
        cells = [f"`{p.name}`", p.meaning, p.unit, rng, f"{default}", p.source]
        lines.append("| " + " | ".join(c.replace("|", "/") for c in cells) + " |")
    return "\n".join(lines)


def cmd_params(args: argparse.Namespace) -> int:
    """``gsomia params``: every parameter with meaning, unit, range, default and source."""
    print(parameter_table())
    return 0


def _lazy(module: str, func: str) -> Any:
    def call(args: argparse.Namespace) -> int:
        import importlib

        return importlib.import_module(module).__getattribute__(func)(args)

    return call


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``gsomia``."""
    parser = argparse.ArgumentParser(
        prog="gsomia", description="The 2019 GSOMIA crisis as a Mesa model."
    )
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run one scenario and print its dated timeline")
    run.add_argument("--config", default=str(DEFAULT_CONFIG), help="scenario TOML")
    run.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    run.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a parameter (repeatable)",
    )
    run.add_argument("--json", action="store_true", help="print one JSON object")
    run.add_argument(
        "--explain",
        action="append",
        default=[],
        metavar="ACTOR",
        help="also print why ACTOR (seoul, tokyo, washington, beijing) moved (repeatable)",
    )
    run.add_argument("--out", metavar="DIR", help="write timeline, monthly series, outcome")
    run.set_defaults(func=cmd_run)

    sweep = sub.add_parser("sweep", help="run a parameter sweep from a spec")
    sweep.add_argument("spec", help="sweep spec TOML (configs/sweeps/)")
    sweep.add_argument("--out", metavar="DIR", help="output directory")
    sweep.add_argument("--workers", type=int, default=None, help="processes (default: all)")
    sweep.add_argument("--backend", default="local", help="local or dask")
    sweep.add_argument("--scheduler", default=None, help="dask scheduler address")
    sweep.add_argument("--resume", action="store_true", help="finish an interrupted sweep")
    sweep.set_defaults(func=_lazy("experiments.runner", "cli_sweep"))

    analyze = sub.add_parser("analyze", help="write report.md, figures and tables of a sweep")
    analyze.add_argument("dir", help="a sweep's output directory")
    analyze.set_defaults(func=_lazy("experiments.analysis", "cli_analyze"))

    ui = sub.add_parser("ui", help="serve the browser UI (Solara)")
    ui.add_argument("--host", default="127.0.0.1")
    ui.add_argument("--port", type=int, default=8765)
    ui.set_defaults(func=_lazy("experiments.serve", "cli_ui"))

    params = sub.add_parser("params", help="print the parameter table (markdown)")
    params.set_defaults(func=cmd_params)

    calibrate = sub.add_parser("calibrate", help="score the 2019 baseline over many seeds")
    calibrate.add_argument("--config", default=str(DEFAULT_CONFIG))
    calibrate.add_argument("--seeds", type=int, default=100)
    calibrate.add_argument("--workers", type=int, default=None)
    calibrate.add_argument("--timeline", default=None, help="timeline_2019.csv")
    calibrate.set_defaults(func=_lazy("experiments.calibration", "cli_calibrate"))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit status."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except ConfigError as exc:
        print(f"gsomia: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT


if __name__ == "__main__":
    sys.exit(main())
