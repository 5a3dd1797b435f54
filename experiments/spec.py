"""Sweep specs: which parameters to vary, over what ranges, with which design.

A spec is a TOML file (``configs/sweeps/*.toml``)::

    [sweep]
    name = "smoke"                      # default: the file's stem
    config = "../baseline_2019.toml"    # base scenario; relative to the spec, else the cwd
    design = "grid"                     # grid | lhs | saltelli
    samples = 64                        # lhs: points; saltelli: base N (a power of 2)
    replications = 2                    # seeds per design point
    seed = 2019                         # the one source of randomness of the sweep
    second_order = false                # saltelli only
    chunk_size = 20                     # runs per result chunk (default: from the size and workers)

    [parameters.us_pressure_weight]     # one table per varied parameter
    low = 0.0
    high = 1.5
    levels = 4                          # grid: evenly spaced levels in [low, high] ...
    # values = [0.1, 0.35, 1.0]         # ... or explicit values (grid only)

    [fixed]                             # optional overrides applied to every run
    n_citizens = 500

    [cast]                              # optional: another cast (model/cast.py; else the config's)
    actors = ["agents.seoul:Seoul", "agents.tokyo:Tokyo", "mypkg.actors:Manila"]
    move_order = [["manila"], ["tokyo"], ["seoul"]]

Parameters are not redeclared here: names, types and bounds come from the registry of
the cast the sweep runs (``model.parameters.registry(actors)``: the central
``PARAMETERS`` and the parameters its actors declare; the cast is the spec's ``[cast]``,
else the base config's, else the default cast), so a spec can only vary what the model
declares ``sweepable`` and only within its declared bounds. An actor's parameter is
varied as ``[parameters.patroller.patrol_cost]`` and fixed as ``patroller.patrol_cost =
1.0`` in ``[fixed]`` (or ``[fixed.patroller]``); a run's row holds its value in the
column ``patroller.patrol_cost``. Every problem is reported as
a ``ConfigError`` naming the file and the key before anything runs.
"""

from __future__ import annotations

import hashlib
import json
import math
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from experiments.designs import DESIGNS, Design
from model.cast import CAST_KEYS as CAST
from model.cast import cast_classes, parse_cast
from model.config import (
    data_dir,
    first_comment,
    list_scenarios,
    load_config,
    read_toml,
    resolve_path,
)
from model.parameters import (
    PARAMETERS,
    ConfigError,
    Param,
    check_consistency,
    defaults,
    registry,
    reject_unknown,
    suggest,
)
from model.vocabulary import check_shocks

SWEEP_KEYS = (
    "name",
    "description",
    "config",
    "design",
    "samples",
    "replications",
    "seed",
    "second_order",
    "chunk_size",
)
PARAM_KEYS = ("low", "high", "levels", "values")
TABLES = ("sweep", "parameters", "fixed", "cast")
REPO = Path(__file__).resolve().parents[1]
MAX_RUNS = 10_000_000
MAX_LEVELS = 10_000
"""Grid levels per parameter, and the largest 'samples', are bounded before any array is
built; the whole design is bounded by MAX_RUNS."""


@dataclass(frozen=True)
class Varied:
    """One varied parameter: its registry name and type, its range, grid levels/values."""

    name: str
    kind: type  # float or int
    low: float
    high: float
    levels: int | None = None
    values: tuple[float, ...] | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready description (stored in meta.json for the analysis)."""
        return {
            "name": self.name,
            "kind": self.kind.__name__,
            "low": self.low,
            "high": self.high,
            "levels": self.levels,
            "values": None if self.values is None else list(self.values),
        }


@dataclass(frozen=True)
class SweepSpec:
    """A validated sweep spec."""

    path: Path | None
    name: str
    config: Path
    design: str
    parameters: tuple[Varied, ...]
    replications: int
    seed: int
    samples: int | None = None
    second_order: bool = False
    fixed: dict[str, Any] = field(default_factory=dict)
    description: str = ""
    chunk_size: int | None = None
    text: str = ""
    cast: dict[str, Any] | None = None
    """The cast's constructor keywords: the spec's ``[cast]`` table, else its base config's
    (None: the default cast)."""

    def cast_kwargs(self) -> dict[str, Any]:
        """The constructor keywords of the spec's cast (empty for the default cast)."""
        return dict(self.cast or {})

    def base_params(self) -> dict[str, Any]:
        """The constructor keywords of every run before its design point: the base config
        (read with the spec's cast, whose actors' parameters it may set), the fixed
        overrides and the cast."""
        from model.cast import cast_classes

        classes = cast_classes(self.cast) if self.cast is not None else None
        base = {k: v for k, v in load_config(self.config, classes).items() if k not in CAST}
        return base | self.fixed | self.cast_kwargs()

    @property
    def actors(self) -> tuple[str, ...]:
        """The names of the cast's actors, in player order."""
        from experiments.cast import actor_names

        return actor_names(self.cast_kwargs())

    @property
    def names(self) -> tuple[str, ...]:
        """Names of the varied parameters, in spec order."""
        return tuple(p.name for p in self.parameters)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready description of everything that determines the runs."""
        return {
            "name": self.name,
            "description": self.description,
            "config": str(self.config),
            "design": self.design,
            "samples": self.samples,
            "replications": self.replications,
            "seed": self.seed,
            "second_order": self.second_order,
            "chunk_size": self.chunk_size,
            "parameters": [p.to_dict() for p in self.parameters],
            "fixed": {k: _jsonable(v) for k, v in self.fixed.items()},
        } | ({"cast": self.cast} if self.cast is not None else {})

    def fingerprint(self) -> str:
        """SHA-256 over the resolved spec and the base config's bytes (what a resume must
        match; the config's path may differ between machines, its content may not)."""
        d = self.to_dict()
        d.pop("config")
        d.pop("description")
        h = hashlib.sha256(json.dumps(d, sort_keys=True).encode())
        h.update(self.config.read_bytes())
        return h.hexdigest()


def _jsonable(v: Any) -> Any:
    return v.isoformat() if hasattr(v, "isoformat") else v


def _int_key(raw: Any, where: str, key: str, minimum: int) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int):
        raise ConfigError(f"{where}: invalid value {raw!r} for '{key}'; allowed: an integer")
    if raw < minimum:
        raise ConfigError(
            f"{where}: invalid value {raw!r} for '{key}'; allowed: an integer >= {minimum}"
        )
    return raw


def _number(raw: Any, where: str, key: str) -> float:
    if isinstance(raw, bool) or not isinstance(raw, int | float) or not math.isfinite(raw):
        raise ConfigError(f"{where}: invalid value {raw!r} for '{key}'; allowed: a number")
    return float(raw)


def list_specs() -> dict[str, tuple[Path, str]]:
    """The shipped sweep specs: name (file stem) -> (path, description)."""
    out = {}
    for path in sorted((data_dir() / "sweeps").glob("*.toml")):
        text = path.read_text(encoding="utf-8", errors="replace")
        try:
            description = tomllib.loads(text)["sweep"].get("description", "")
        except (tomllib.TOMLDecodeError, KeyError, AttributeError):
            description = ""
        out[path.stem] = (path, str(description or first_comment(text)))
    return out


def _resolve_config(raw: Any, spec_path: Path | None, source: str) -> Path:
    if not isinstance(raw, str) or not raw:
        raise ConfigError(
            f"{source}: invalid value {raw!r} for 'sweep.config'; allowed: a path to a "
            "scenario TOML or a shipped scenario's name"
        )
    p = Path(raw)
    shipped = list_scenarios()
    if len(p.parts) == 1 and p.suffix == "" and raw in shipped:
        return shipped[raw][0].resolve()
    candidates = [p] if p.is_absolute() else []
    if not p.is_absolute():
        if spec_path is not None:
            candidates.append(spec_path.parent / p)
        candidates += [Path.cwd() / p, REPO / p]
    for c in candidates:
        if c.is_file():
            return c.resolve()
    raise ConfigError(
        f"{source}: invalid value {raw!r} for 'sweep.config' (no such file; looked in "
        + ", ".join(str(c.parent) for c in candidates)
        + "); allowed: a path to a scenario TOML or a shipped scenario's name: "
        + ", ".join(shipped)
    )


def _flatten(table: dict[str, Any], leaf: Callable[[str, Any], bool]) -> dict[str, Any]:
    """``table`` with an actor's sub-table (``[parameters.patroller.patrol_cost]``, or
    ``patroller.patrol_cost = 1.0`` in ``[fixed]``, read by TOML as nested tables) turned
    into dotted names (``patroller.patrol_cost``); ``leaf(key, value)``: whether a table
    value is one parameter's entry rather than an actor's sub-table."""
    out: dict[str, Any] = {}
    for key, value in table.items():
        if isinstance(value, dict) and value and not leaf(key, value):
            out |= {f"{key}.{k}": v for k, v in value.items()}
        else:
            out[key] = value
    return out


def _own(known: dict[str, Param]) -> str:
    """' or one its cast declares (a.x, ...)' for a cast that declares parameters."""
    own = [k for k in known if k not in PARAMETERS]
    return f" or one its cast declares ({', '.join(own)})" if own else ""


def _is_range(key: str, body: dict[str, Any]) -> bool:
    """A ``[parameters.NAME]`` table's body (some key of a range, or not all tables)."""
    return bool(set(body) & set(PARAM_KEYS)) or not all(isinstance(v, dict) for v in body.values())


def _varied(
    name: str,
    body: Any,
    design: Design,
    source: str,
    known: dict[str, Param] = PARAMETERS,
) -> Varied:
    where = f"{source}: [parameters.{name}]"
    param = known.get(name)
    sweepable = [k for k, p in known.items() if p.sweepable and p.kind in (int, float)]
    if param is None:
        raise ConfigError(
            f"{source}: unknown parameter 'parameters.{name}'{suggest(name, sweepable)}; "
            "allowed: a sweepable model parameter (" + ", ".join(sweepable) + ")"
        )
    if not param.sweepable or param.kind not in (int, float):
        raise ConfigError(
            f"{source}: parameter 'parameters.{name}' is not sweepable; allowed: "
            + ", ".join(sweepable)
        )
    if not isinstance(body, dict):
        raise ConfigError(
            f"{source}: invalid value {body!r} for 'parameters.{name}'; allowed: a table "
            "with keys " + ", ".join(PARAM_KEYS)
        )
    reject_unknown(body, PARAM_KEYS, where, prefix=f"parameters.{name}.", show_value=False)
    key = f"parameters.{name}"
    if "values" in body:
        if not design.grid_axes:
            raise ConfigError(
                f"{where}: key '{key}.values' is only allowed with design 'grid' (this "
                f"spec's design is {design.name!r}); give 'low' and 'high'"
            )
        if "levels" in body or "low" in body or "high" in body:
            raise ConfigError(
                f"{where}: '{key}.values' excludes 'low', 'high' and 'levels'; give one or "
                "the other"
            )
        raw = body["values"]
        if not isinstance(raw, list) or not raw:
            raise ConfigError(
                f"{where}: invalid value {raw!r} for '{key}.values' (empty range); allowed: "
                "a non-empty list of numbers"
            )
        values = tuple(param.coerce(v, f"{where} '{key}.values'") for v in raw)
        if len(set(values)) != len(values):
            raise ConfigError(
                f"{where}: invalid value {raw!r} for '{key}.values' (repeated value); "
                "allowed: distinct numbers"
            )
        return Varied(name, param.kind, float(min(values)), float(max(values)), None, values)
    for k in ("low", "high"):
        if k not in body:
            raise ConfigError(f"{where}: missing key '{key}.{k}'")
    low = _number(body["low"], where, f"{key}.low")
    high = _number(body["high"], where, f"{key}.high")
    for k, v in (("low", low), ("high", high)):
        if (param.low is not None and v < param.low) or (param.high is not None and v > param.high):
            raise ConfigError(
                f"{where}: invalid value {v:g} for '{key}.{k}' (outside the model's bounds); "
                f"allowed: {param.allowed()}"
            )
    if low > high:
        raise ConfigError(
            f"{where}: invalid range for '{key}': low {low:g} > high {high:g} (inverted "
            "range); allowed: low < high"
        )
    if low == high:
        raise ConfigError(
            f"{where}: invalid range for '{key}': low = high = {low:g} (empty range); "
            "allowed: low < high (to hold a parameter constant, put it in [fixed])"
        )
    if param.kind is int and math.floor(high) < math.ceil(low):
        raise ConfigError(
            f"{where}: invalid range for '{key}': no integer in [{low:g}, {high:g}] (empty range)"
        )
    levels = None
    if design.grid_axes:
        if "levels" not in body:
            raise ConfigError(
                f"{where}: missing key '{key}.levels' (design 'grid' needs 'levels' or 'values')"
            )
        levels = _int_key(body["levels"], where, f"{key}.levels", 2)
        if levels > MAX_LEVELS:
            raise ConfigError(
                f"{where}: invalid value {levels} for '{key}.levels'; allowed: an integer "
                f"from 2 to {MAX_LEVELS}"
            )
    elif "levels" in body:
        raise ConfigError(
            f"{where}: key '{key}.levels' is only allowed with design 'grid' (this spec's "
            f"design is {design.name!r})"
        )
    return Varied(name, param.kind, low, high, levels, None)


MAX_CHECKED_VALUES = 1000


def _values_taken(v: Varied) -> list[float | int]:
    """Values a varied parameter takes somewhere in the design (for the cross-field checks:
    each is checked with the base scenario): its grid values, else its bounds and, for an
    integer, every integer between them (up to MAX_CHECKED_VALUES)."""
    from experiments.designs import grid_values

    if v.values is not None or v.levels is not None:
        return grid_values(v)
    if v.kind is int:
        lo, hi = math.ceil(v.low), math.floor(v.high)
        return list(range(lo, min(hi, lo + MAX_CHECKED_VALUES) + 1))
    return [v.low, v.high]


def parse_spec(data: dict[str, Any], path: Path | None = None, text: str = "") -> SweepSpec:
    """Validate a spec already read from TOML; ``path`` names it in messages."""
    source = str(path) if path is not None else "spec"
    reject_unknown(data, TABLES, source, kind="table", show_value=False)
    sweep = data.get("sweep")
    if not isinstance(sweep, dict):
        raise ConfigError(f"{source}: missing table '[sweep]'")
    reject_unknown(sweep, SWEEP_KEYS, source, prefix="sweep.", scope="[sweep]", show_value=False)
    where = f"{source}: [sweep]"
    design_name = sweep.get("design", "grid")
    if not isinstance(design_name, str) or design_name not in DESIGNS:
        raise ConfigError(
            f"{where}: invalid value {design_name!r} for 'sweep.design'"
            f"{suggest(str(design_name), tuple(DESIGNS))}; allowed: one of " + ", ".join(DESIGNS)
        )
    design = DESIGNS[design_name]
    if "replications" not in sweep:
        raise ConfigError(f"{where}: missing key 'sweep.replications'")
    replications = _int_key(sweep["replications"], where, "sweep.replications", 1)
    seed = _int_key(sweep.get("seed", 0), where, "sweep.seed", 0)
    name = sweep.get("name", path.stem if path is not None else "sweep")
    if not isinstance(name, str) or not name:
        raise ConfigError(f"{where}: invalid value {name!r} for 'sweep.name'; allowed: a name")
    description = sweep.get("description", "")
    if not isinstance(description, str):
        raise ConfigError(f"{where}: invalid value {description!r} for 'sweep.description'")
    if "config" not in sweep:
        raise ConfigError(f"{where}: missing key 'sweep.config' (the base scenario TOML)")
    config = _resolve_config(sweep["config"], path, source)
    cast = None
    if "cast" in data:
        cast = parse_cast(data["cast"], source)
    # the base config with the spec's cast (else its own [cast], else the default cast)
    base = load_config(config, None if cast is None else cast_classes(cast))
    if cast is None and "actors" in base:
        cast = {k: base[k] for k in CAST if k in base}
    base = {k: v for k, v in base.items() if k not in CAST}
    # the parameters the sweep can vary or fix: the central ones and its cast's own
    known = PARAMETERS if cast is None else registry(cast_classes(cast))

    samples = None
    if not design.needs_samples:
        if "samples" in sweep:
            raise ConfigError(
                f"{where}: key 'sweep.samples' is not used by design {design.name!r} (its size "
                "is the product of the levels); remove it"
            )
    else:
        if "samples" not in sweep:
            raise ConfigError(f"{where}: missing key 'sweep.samples' (design {design.name!r})")
        samples = _int_key(sweep["samples"], where, "sweep.samples", 1)
        if samples > MAX_RUNS:
            raise ConfigError(
                f"{where}: invalid value {samples} for 'sweep.samples'; allowed: an integer "
                f"from 1 to {MAX_RUNS}"
            )
        design.check_samples(samples, where)
    second_order = sweep.get("second_order", False)
    if not isinstance(second_order, bool):
        raise ConfigError(
            f"{where}: invalid value {second_order!r} for 'sweep.second_order'; allowed: "
            "true or false"
        )
    if second_order and not design.second_order:
        names = [d.name for d in DESIGNS.values() if d.second_order]
        raise ConfigError(
            f"{where}: 'sweep.second_order' is only used by design " + " or ".join(map(repr, names))
        )
    chunk_size = None
    if "chunk_size" in sweep:
        chunk_size = _int_key(sweep["chunk_size"], where, "sweep.chunk_size", 1)

    body = data.get("parameters")
    if not isinstance(body, dict) or not body:
        raise ConfigError(
            f"{source}: missing table '[parameters.NAME]': a sweep varies at least one parameter"
        )
    body = _flatten(body, _is_range)
    varied = tuple(_varied(k, v, design, source, known) for k, v in body.items())
    if len(varied) < design.min_parameters:
        raise ConfigError(
            f"{source}: invalid value {design.name!r} for 'sweep.design' with {len(varied)} "
            f"varied parameter(s); allowed: design {design.name!r} with at least "
            f"{design.min_parameters} [parameters.NAME] tables"
        )

    fixed_raw = data.get("fixed", {})
    if not isinstance(fixed_raw, dict):
        raise ConfigError(f"{source}: 'fixed' must be a table")
    fixed: dict[str, Any] = {}
    for key, value in _flatten(fixed_raw, lambda k, _: k in known).items():
        param = known.get(key)
        if param is None:
            raise ConfigError(
                f"{source}: unknown key 'fixed.{key}'{suggest(key, tuple(known))}; allowed: a "
                "model parameter" + _own(known)
            )
        if key in body:
            raise ConfigError(
                f"{source}: key 'fixed.{key}' is also varied in [parameters.{key}]; give it once"
            )
        fixed[key] = param.coerce(value, f"{source}: [fixed]")
    values = defaults(known) | base | fixed
    check_consistency(values, source)
    check_shocks(values.get("exogenous", ()), values["start"], source, (cast or {}).get("actors"))
    for v in varied:
        for x in _values_taken(v):
            check_consistency(values | {v.name: x}, f"{source}: [parameters.{v.name}]")

    spec = SweepSpec(
        path=path,
        name=name,
        config=config,
        design=design.name,
        parameters=varied,
        replications=replications,
        seed=seed,
        samples=samples,
        second_order=second_order,
        fixed=fixed,
        description=description,
        chunk_size=chunk_size,
        text=text,
        cast=cast,
    )
    total = design.n_points(spec) * replications
    if total > MAX_RUNS:
        raise ConfigError(
            f"{source}: the spec asks for {total} runs; allowed: at most {MAX_RUNS} (fewer "
            "levels, samples or replications)"
        )
    return spec


def load_spec(path: str | Path) -> SweepSpec:
    """Read and validate a sweep spec TOML (a path, or a shipped spec's name such as
    ``smoke``); ConfigError naming the file and key."""
    path = resolve_path(path, "sweep spec", list_specs(), "spec")
    data, text = read_toml(path, "sweep spec")
    return parse_spec(data, path, text)
