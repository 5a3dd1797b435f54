"""Property tests (hypothesis): generated scenario configs and sweep specs, valid and
broken. Each either runs or is refused with exit status 2 naming a key, and a refusal never
leaves partial output. Generated runs are kept cheap: short horizons, few citizens."""

from __future__ import annotations

import json
import tempfile
from datetime import date, datetime, timedelta
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from experiments.cli import main
from model.parameters import PARAMETERS

REPO = Path(__file__).resolve().parents[1]
BASELINE = REPO / "configs" / "baseline_2019.toml"
CHEAP = {"n_citizens": st.integers(10, 120), "lookahead_months": st.integers(1, 4)}
SETTINGS = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def toml_literal(v) -> str:
    if isinstance(v, datetime):
        return v.isoformat()
    if isinstance(v, date):
        return v.isoformat()
    if isinstance(v, list):
        return "[" + ", ".join(toml_literal(x) for x in v) + "]"
    return json.dumps(v)  # bool, int, float, str (TOML accepts JSON's forms of these)


def good_value(p):
    if p.name in CHEAP:
        return CHEAP[p.name]
    if p.choices is not None:
        return st.sampled_from(p.choices)
    if p.kind is bool:
        return st.booleans()
    if p.kind is int:
        return st.integers(int(p.low), int(p.high))
    if p.kind is float:
        return st.floats(p.low, p.high, allow_nan=False)
    if p.kind is date:
        return st.dates(date(2015, 1, 1), date(2021, 12, 31))
    return st.text(st.characters(min_codepoint=97, max_codepoint=122), min_size=1, max_size=8)


BAD_VALUES = st.one_of(
    st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=5),
    st.booleans(),
    st.integers(-(10**12), 10**12),
    st.floats(allow_nan=False, allow_infinity=False),
    st.dates(),
    st.datetimes(datetime(1, 1, 1), datetime(9999, 1, 1)),
    st.lists(st.integers(0, 3), max_size=3),
)


@st.composite
def scenario(draw):
    """(TOML text, keys in it): a near-baseline scenario with a few keys set well or badly,
    and maybe a misspelt key or table."""
    start = draw(st.dates(date(2018, 1, 1), date(2019, 10, 1)))
    end = start + timedelta(days=draw(st.integers(0, 80)))
    scen = {"start": start, "end": end}
    params = {"n_citizens": draw(CHEAP["n_citizens"]), "lookahead_months": 3}
    treaty: dict = {}
    names = draw(st.lists(st.sampled_from(sorted(PARAMETERS)), max_size=3, unique=True))
    for name in names:
        p = PARAMETERS[name]
        if name in ("start", "end"):
            continue
        value = draw(st.one_of(good_value(p), BAD_VALUES) if draw(st.booleans()) else good_value(p))
        {"scenario": scen, "treaty": treaty}.get(p.group, params)[name] = value
    tables = {"scenario": scen, "parameters": params} | ({"treaty": treaty} if treaty else {})
    if draw(st.integers(0, 5)) == 0:
        tables["parameters"][draw(st.sampled_from(["audiance_cost", "nk_treat", "xyz"]))] = 1.0
    if draw(st.integers(0, 8)) == 0:
        tables["senario"] = {"name": "x"}
    text = ""
    keys = []
    for table, body in tables.items():
        text += f"[{table}]\n"
        for k, v in body.items():
            text += f"{k} = {toml_literal(v)}\n"
            keys.append(k)
        keys.append(table)
    return text, keys


def _check(code: int, err: str, keys: list[str], out: Path, expect_files: list[str]) -> None:
    assert code in (0, 2), err
    assert "Traceback" not in err
    if code == 2:
        assert err.count("\n") == 1, err
        assert any(f"'{k}" in err or f"{k}." in err or f"[{k}" in err for k in keys), (keys, err)
        assert not out.exists()  # refused: nothing written
    else:
        assert sorted(p.name for p in out.iterdir()) == expect_files


@SETTINGS
@given(scenario())
def test_generated_scenarios_run_or_are_refused_naming_a_key(capsys, case):
    text, keys = case
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "s.toml"
        config.write_text(text)
        out = Path(tmp) / "out"
        code = main(["run", "--config", str(config), "--out", str(out)])
        _, err = capsys.readouterr()
        _check(
            code, err, keys, out, ["decisions.json", "monthly.csv", "outcome.json", "timeline.json"]
        )


SWEEPABLE = sorted(k for k, p in PARAMETERS.items() if p.sweepable and p.kind in (int, float))


@st.composite
def sweep_spec(draw):
    design = draw(st.sampled_from(["grid", "lhs", "saltelli", "grdi"]))
    names = draw(
        st.lists(st.sampled_from([*SWEEPABLE, "nk_treat"]), min_size=1, max_size=2, unique=True)
    )
    lines = [
        "[sweep]",
        f'config = "{BASELINE}"',
        f'design = "{design}"',
        f"replications = {draw(st.sampled_from([1, 2, 0, -1]))}",
        f"seed = {draw(st.integers(0, 2**32))}",
    ]
    if design != "grid" or draw(st.integers(0, 6)) == 0:
        lines.append(f"samples = {draw(st.sampled_from([2, 4, 3, 0]))}")
    for name in names:
        p = PARAMETERS.get(name)
        lo, hi = (p.low, p.high) if p is not None else (0.0, 1.0)
        a = draw(st.floats(lo - 1, hi + 1, allow_nan=False))
        b = draw(st.floats(lo - 1, hi + 1, allow_nan=False))
        lines += [f"[parameters.{name}]", f"low = {min(a, b)!r}", f"high = {max(a, b)!r}"]
        if design == "grid":
            lines.append(f"levels = {draw(st.sampled_from([2, 1, 10**19]))}")
    lines += [
        "[fixed]",
        f"n_citizens = {draw(CHEAP['n_citizens'])}",
        "lookahead_months = 2",
        "end = 2018-11-30",
    ]
    keys = ["sweep", "design", "replications", "samples", "levels", "low", "high", "parameters"]
    return "\n".join(lines) + "\n", [*keys, *names]


@SETTINGS
@given(sweep_spec())
def test_generated_sweep_specs_run_or_are_refused_naming_a_key(capsys, case):
    text, keys = case
    with tempfile.TemporaryDirectory() as tmp:
        spec = Path(tmp) / "s.toml"
        spec.write_text(text)
        out = Path(tmp) / "out"
        code = main(["sweep", str(spec), "--out", str(out), "--workers", "1"])
        _, err = capsys.readouterr()
        _check(code, err, keys, out, ["config.toml", "meta.json", "runs.parquet", "spec.toml"])
