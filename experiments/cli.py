"""The ``gsomia`` command: run a scenario, run and analyse sweeps, serve the browser UI.

Every command runs inside one error boundary (``main``):

- 0: done;
- 1: an operating-system failure (disk full, permission, unreachable scheduler, a dead
  worker) or a sweep whose runs all failed: one line saying what failed and how to resume;
- 2: bad input (an unknown key, a wrong type, an out-of-range value, a malformed spec or
  result file): one message naming the file, the key, the value and what is allowed;
  nothing is written;
- 130: interrupted (Ctrl-C), 143: terminated (SIGTERM); finished work is kept.

No traceback unless ``--debug``.
"""

from __future__ import annotations

import argparse
import json
import sys
import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from experiments.atomic import check_out_dir, write_files_atomic
from experiments.boundary import EXIT_BAD_INPUT, guarded
from model.parameters import ConfigError
from model.version import __version__

DEFAULT_CONFIG = "baseline_2019"
"""The shipped scenario ``gsomia run`` and ``gsomia calibrate`` use without --config."""
NOT_PARAMETERS = {"rng": "--seed", "seed": "--seed"}
"""Keys ``--set`` refuses, with the option that sets them."""
__all__ = ["EXIT_BAD_INPUT", "build_parser", "main"]


def parse_set(items: Sequence[str]) -> dict[str, Any]:
    """``KEY=VALUE`` overrides, VALUE read as a TOML value (``3``, ``0.5``, ``"x"``,
    ``2019-01-01``)."""
    out: dict[str, Any] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--set: invalid value {item!r}; allowed: KEY=VALUE")
        if key.strip() in NOT_PARAMETERS:
            raise ConfigError(
                f"--set: invalid key {key.strip()!r} (the seed is not a parameter); allowed: "
                f"a model parameter (`gsomia params`); set the seed with "
                f"{NOT_PARAMETERS[key.strip()]}"
            )
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


def run_record(model: Any, decisions: bool) -> dict[str, Any]:
    """A finished run as one JSON-ready object, with the version of the model that made it
    (what ``--json`` prints and ``--out`` writes to outcome.json)."""
    return {**model.to_dict(decisions=decisions), "version": __version__}


def cmd_run(args: argparse.Namespace) -> int:
    """``gsomia run``: one run of a scenario. Everything is checked before the run, and
    ``--out`` gets its four files all or none."""
    from model import GSOMIAModel

    overrides = parse_set(args.set)
    model = GSOMIAModel.from_config(args.config, rng=args.seed, **overrides)
    for actor in args.explain:
        try:
            model.explain(actor)
        except ValueError as exc:
            raise ConfigError(f"--explain: invalid value {actor!r} ({exc})") from exc
    out = None if args.out is None else Path(args.out)
    if out is not None:
        check_out_dir(out)
    model.run()
    if out is not None:
        summary = run_record(model, decisions=False)
        summary.pop("events")
        events = [e.to_dict() for e in model.timeline]
        decisions = [d.to_dict() for d in model.decisions]
        write_files_atomic(
            out,
            {
                "monthly.csv": model.monthly().to_csv(),
                "timeline.json": json.dumps(events, indent=1) + "\n",
                "outcome.json": json.dumps(summary, indent=1) + "\n",
                "decisions.json": json.dumps(decisions) + "\n",
            },
        )
    if args.json:
        print(json.dumps(run_record(model, decisions=True)))
    else:
        print(format_timeline(model))
        for actor in args.explain:
            for d in model.explain(actor):
                if d.chosen not in ("hold", "none"):
                    print()
                    print(format_decision(d))
        if args.out is not None:
            print(f"wrote {args.out}/monthly.csv, timeline.json, outcome.json, decisions.json")
    return 0


def cmd_scenarios(args: argparse.Namespace) -> int:
    """``gsomia scenarios``: the shipped scenarios, sweep specs and target sets with their
    descriptions."""
    from experiments.spec import list_specs
    from experiments.targets import list_target_sets
    from model.config import list_scenarios

    print("scenarios (gsomia run --config NAME):")
    for name, (_path, text) in list_scenarios().items():
        print(f"  {name:<22} {text}")
    print("sweep specs (gsomia sweep NAME):")
    for name, (_path, text) in list_specs().items():
        print(f"  {name:<22} {text}")
    print("target sets (gsomia fit NAME --out DIR):")
    for name, (_path, text) in list_target_sets().items():
        print(f"  {name:<22} {text}")
    return 0


def parameter_table(actors: Sequence[Any] = ()) -> str:
    """The parameter table of docs/parameters.md, generated from the registry; with
    ``actors`` (classes or ``"module:Class"`` names), also the parameters they declare."""
    from model.model import resolve_actor
    from model.parameters import CROSS_FIELD_RULES, registry

    lines = [
        "| parameter | meaning | unit | range | default | source of the default |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    classes = []
    for spec in actors:
        try:
            cls = resolve_actor(spec)
        except ConfigError as exc:
            raise ConfigError(
                f"--actor: invalid value {spec!r} (cannot import it); allowed: 'module:Class' "
                "names of importable government classes (from the current directory too)"
            ) from exc
        if not isinstance(cls, type) or not isinstance(getattr(cls, "actor", None), str):
            raise ConfigError(
                f"--actor: invalid value {spec!r} (not an actor class); allowed: "
                "'module:Class' names of importable government classes"
            )
        classes.append(cls)
    for p in registry(classes).values():
        if p.choices is not None:
            rng = " / ".join(p.choices)
        elif p.low is not None and p.high is not None:
            rng = f"{p.low:g} – {p.high:g}"
        else:
            rng = p.allowed()
        if p.name in CROSS_FIELD_RULES:
            rng += f"; {CROSS_FIELD_RULES[p.name]}"
        default = p.default.isoformat() if hasattr(p.default, "isoformat") else p.default
        cells = [f"`{p.name}`", p.meaning, p.unit, rng, f"{default}", p.source]
        lines.append("| " + " | ".join(c.replace("|", "/") for c in cells) + " |")
    return "\n".join(lines)


def cmd_params(args: argparse.Namespace) -> int:
    """``gsomia params``: every parameter with meaning, unit, range, default and source
    (``--actor module:Class``, repeatable: with the parameters that actor declares)."""
    if args.actor and "" not in sys.path:  # an actor module of the current directory
        sys.path.insert(0, "")
    print(parameter_table(args.actor or ()))
    return 0


def _lazy(module: str, func: str) -> Any:
    def call(args: argparse.Namespace) -> int:
        import importlib

        return importlib.import_module(module).__getattribute__(func)(args)

    return call


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``gsomia``."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--debug",
        action="store_true",
        default=argparse.SUPPRESS,
        help="show the Python traceback of an error",
    )
    parser = argparse.ArgumentParser(
        prog="gsomia", description="The 2019 GSOMIA crisis as a Mesa model.", parents=[common]
    )
    parser.add_argument("--version", action="version", version=f"gsomia {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser(
        "run", help="run one scenario and print its dated timeline", parents=[common]
    )
    run.add_argument(
        "--config",
        default=DEFAULT_CONFIG,
        help="scenario: a shipped name (`gsomia scenarios`) or a TOML path",
    )
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

    sweep = sub.add_parser("sweep", help="run a parameter sweep from a spec", parents=[common])
    sweep.add_argument(
        "spec", help="sweep spec: a shipped name (`gsomia scenarios`) or a TOML path"
    )
    sweep.add_argument("--out", metavar="DIR", help="output directory")
    sweep.add_argument("--workers", type=int, default=None, help="processes (default: all)")
    sweep.add_argument("--backend", default="local", help="local or dask")
    sweep.add_argument("--scheduler", default=None, help="dask scheduler address")
    sweep.add_argument("--resume", action="store_true", help="finish an interrupted sweep")
    sweep.add_argument(
        "--yes",
        action="store_true",
        help="start a sweep estimated to take more than an hour without asking",
    )
    sweep.set_defaults(func=_lazy("experiments.runner", "cli_sweep"))

    analyze = sub.add_parser(
        "analyze", help="write report.md, figures and tables of a sweep", parents=[common]
    )
    analyze.add_argument("dir", help="a sweep's output directory")
    analyze.set_defaults(func=_lazy("experiments.analysis", "cli_analyze"))

    ui = sub.add_parser("ui", help="serve the browser UI (Solara)", parents=[common])
    ui.add_argument("--host", default="127.0.0.1")
    ui.add_argument("--port", type=int, default=8765)
    ui.add_argument(
        "--config",
        default=None,
        help="a scenario file (or shipped name) the page lists and opens first",
    )
    ui.add_argument(
        "--mesa", action="store_true", help="serve the panels in Mesa's SolaraViz instead"
    )
    ui.set_defaults(func=_lazy("experiments.serve", "cli_ui"))

    params = sub.add_parser("params", help="print the parameter table (markdown)", parents=[common])
    params.add_argument(
        "--actor",
        action="append",
        metavar="MODULE:CLASS",
        help="an actor class of the cast (repeatable): list the parameters it declares too",
    )
    params.set_defaults(func=cmd_params)

    scenarios = sub.add_parser(
        "scenarios",
        help="list the shipped scenarios, sweep specs and target sets",
        parents=[common],
    )
    scenarios.set_defaults(func=cmd_scenarios)

    fit = sub.add_parser(
        "fit", help="estimate parameters from a targets file (pyabc ABC-SMC)", parents=[common]
    )
    fit.add_argument("targets", help="targets: a shipped name (evidence_2019) or a TOML path")
    fit.add_argument("--out", metavar="DIR", required=True, help="output directory")
    fit.add_argument("--budget", type=int, default=None, help="at most N simulations")
    fit.add_argument("--workers", type=int, default=None, help="processes (default: all)")
    fit.add_argument("--backend", default="local", help="local or dask")
    fit.add_argument("--scheduler", default=None, help="dask scheduler address")
    fit.add_argument("--resume", action="store_true", help="continue an interrupted fit")
    fit.add_argument(
        "--repair",
        action="store_true",
        help="with --resume: restart a damaged history from its last whole generation",
    )
    fit.add_argument("--seed", type=int, default=0, help="the fit's seed (default 0)")
    fit.set_defaults(func=_lazy("experiments.fit", "cli_fit"))

    calibrate = sub.add_parser(
        "calibrate", help="score the 2019 baseline over many seeds", parents=[common]
    )
    calibrate.add_argument("--config", default=DEFAULT_CONFIG)
    calibrate.add_argument(
        "--seeds", type=int, default=None, help="seeds (default 100; per draw with --posterior)"
    )
    calibrate.add_argument("--workers", type=int, default=None)
    calibrate.add_argument(
        "--timeline",
        default=None,
        help="a timeline CSV (default: configs/timeline_2019.csv, scored by 2019's sequence; "
        "another is scored by the sequence of its modelled rows)",
    )
    calibrate.add_argument(
        "--cast",
        metavar="TOML",
        default=None,
        help="a TOML file whose [cast] table sets actors ('module:Class') and move_order",
    )
    calibrate.add_argument(
        "--posterior",
        metavar="DIR",
        default=None,
        help="a fit's --out folder: outcome shares over parameter draws from its posterior x "
        "seeds, next to the posterior mean over seeds (--seeds is then per draw, default 10)",
    )
    calibrate.add_argument(
        "--draws", type=int, default=50, help="with --posterior: parameter draws (default 50)"
    )
    calibrate.add_argument(
        "--seed", type=int, default=0, help="with --posterior: the draws' seed (default 0)"
    )
    calibrate.set_defaults(func=_lazy("experiments.calibration", "cli_calibrate"))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit status (see the module docstring)."""
    args = build_parser().parse_args(argv)
    return guarded(args.command, lambda: args.func(args), debug=getattr(args, "debug", False))


if __name__ == "__main__":
    sys.exit(main())
