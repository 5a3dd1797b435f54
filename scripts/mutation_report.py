"""Mutation score per module from mutmut's results, written to results/mutation/.

``make mutate`` runs mutmut (config: ``[tool.mutmut]`` in pyproject.toml) in two passes on
the mutants named by ``--patterns`` below:

1. the behavioural pass (``GSOMIA_MUTATION_TESTS=behavioural``: tests/conftest.py leaves
   out the tests marked ``recorded``, the comparisons with the golden runs and other
   committed outputs of the model); ``--record-behavioural`` then keeps each mutant's
   result of this pass in ``mutants/behavioural.json``;
2. the mutants the behavioural tests did not kill (``--survivors``) again, with every test.

Then this script reads mutmut's result files (``mutants/**/*.py.meta``) and writes:

- ``results/mutation/summary.json``: per module, mutants killed / survived / timed out /
  not covered, the two scores, each survivor (name and diff, or the reason it is judged
  equivalent) and each mutant only a recorded-output test killed;
- ``results/mutation/README.md``: the same as a table, for people.

Score = killed (timeouts count as killed) / (all mutants checked - equivalent survivors),
with every test; the behavioural score counts only the kills of the behavioural pass
(what still catches a bug once the golden runs are regenerated). Survivors judged
equivalent (no test can tell them apart from the original) are listed in
``results/mutation/equivalent.toml`` with one line on why.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import subprocess
import sys
import tomllib
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

OUT = REPO / "results" / "mutation"
EQUIVALENT = OUT / "equivalent.toml"
MUTMUT = Path(sys.executable).with_name("mutmut")


def _fns(module: str, *names: str) -> list[str]:
    return [f"{module}.x_{n}*" for n in names]


SCOPES: dict[str, tuple[str, list[str]]] = {
    "calendar": ("model/calendar.py", ["model.calendar.*"]),
    "outcome": ("model/outcome.py", ["model.outcome.*"]),
    "opinion": ("model/opinion.py", ["model.opinion.*"]),
    "seeding": (
        "model/model.py",
        [*_fns("model.model", "_seed_from"), "model.model.xǁGSOMIAModelǁ__init__*"],
    ),
    "runner": (
        "experiments/runner.py",
        _fns("experiments.runner", "run_seed", "run_chunk", "run_sweep", "_run_locked"),
    ),
    "storage": (
        "experiments/storage.py",
        _fns(
            "experiments.storage",
            "default_chunk_size",
            "chunk_path",
            "expected_ids",
            "is_temp_file",
            "remove_temp_files",
            "done_chunks",
            "merge_chunks",
            "_read_chunk",
        ),
    ),
    "analysis": (
        "experiments/analysis.py",
        _fns(
            "experiments.analysis",
            "wilson",
            "outcome_shares",
            "reversal_timing",
            "base_values",
            "near_base",
            "bins_for",
            "_cells",
            "marginals",
            "phase_maps",
            "sobol_indices",
            "prim_trajectory_builtin",
            "prim_box",
        ),
    ),
    "fit_score": ("experiments/fit_score.py", ["experiments.fit_score.*"]),
    "targets": ("experiments/targets.py", ["experiments.targets.*"]),
    "ensemble": (
        "experiments/ensemble.py",
        [
            *_fns(
                "experiments.ensemble",
                "run_batch",
                "batches",
                "run_batches",
                "_clean",
                "outcome_shares",
                "design_effect",
                "clustered_shares",
                "newcombe_paired",
                "share_differences",
                "reversal_histogram",
                "load_posterior",
                "posterior_work",
                "posterior_ensemble",
            ),
            "experiments.ensemble.xǁPosteriorǁ*",
            "experiments.ensemble.xǁPosteriorEnsembleǁ*",
        ],
    ),
    "ui_ensembles": ("gsomia_ui/ensembles.py", ["gsomia_ui.ensembles.*"]),
    "seoul": ("agents/seoul.py", ["agents.seoul.*"]),
    "tokyo": ("agents/tokyo.py", ["agents.tokyo.*"]),
    "washington": ("agents/washington.py", ["agents.washington.*"]),
    "beijing": ("agents/beijing.py", ["agents.beijing.*"]),
    "game": ("model/game.py", ["model.game.*"]),
    "lookahead": ("model/lookahead.py", ["model.lookahead.*"]),
}
"""Module -> (file, mutant name patterns), quick modules first: the whole of calendar,
outcome classification, opinion, payoffs and decisions; the seeding in model/model.py
(``_seed_from`` and the constructor); the sweep runner's seeding, chunking, resume and
merge; the analysis statistics (not its plots and report text); the fit's scoring and
targets; the ensembles' runs and statistics (experiments/ensemble.py, not the markdown of
``gsomia calibrate --posterior``) and the UI's ensemble views (gsomia_ui/ensembles.py)."""

STATUS = {1: "killed", 3: "killed", 0: "survived", 5: "no tests", 33: "no tests"}
STATUS |= {36: "timeout", 24: "timeout", -24: "timeout", 152: "timeout", 255: "timeout"}


def patterns(modules: list[str] | None = None) -> list[str]:
    """Mutant name patterns of the chosen modules (all when None)."""
    chosen = SCOPES if not modules else {m: SCOPES[m] for m in modules}
    return [p for _, pats in chosen.values() for p in pats]


def generate_mutants() -> None:
    """Write mutmut's mutants (``mutants/``) without running any test, as the first step of
    ``mutmut run`` does: incremental, only the files changed since the last generation, so
    a sample is drawn from the current code. Uses mutmut's own generation functions
    (mutmut >= 3.8, the dev extra)."""
    import contextlib
    import os

    try:
        from mutmut.__main__ import create_mutants
        from mutmut.utils.file_utils import copy_also_copy_files, copy_src_dir
    except ImportError as exc:
        msg = f"--sample needs mutmut 3.8 or later ({exc}); pip install -e '.[dev]'"
        raise SystemExit(msg) from None

    # mutmut's paths are relative to the project; its progress lines go to stderr, as
    # stdout carries the mutant names to `mutmut run` (make mutate)
    with contextlib.chdir(REPO), contextlib.redirect_stdout(sys.stderr):
        os.makedirs("mutants", exist_ok=True)
        copy_src_dir()
        copy_also_copy_files()
        create_mutants(os.cpu_count() or 1)


def exit_codes(module: str) -> dict[str, int | None]:
    """Every mutant of ``module`` in mutmut's generated files (file order) with its exit
    code (None: not run yet); empty when ``mutants/`` lacks the module's file."""
    path, pats = SCOPES[module]
    meta = REPO / "mutants" / (path + ".meta")
    codes = json.loads(meta.read_text())["exit_code_by_key"] if meta.exists() else {}
    return {k: v for k, v in codes.items() if any(fnmatch.fnmatch(k, p) for p in pats)}


def sample(modules: list[str], size: int, seed: int) -> list[str]:
    """``size`` mutants drawn uniformly without replacement from each module (all of a
    smaller module), seeded, so the score of the sample estimates the module's score
    (random mutant sampling: Wong & Mathur 1995; Gopinath et al. 2015). Records the draw in
    ``mutants/sample.json`` for the report."""
    import numpy as np

    chosen = modules or list(SCOPES)
    generate_mutants()  # incremental: regenerates the files changed since the last run
    rng = np.random.default_rng(seed)
    record = REPO / "mutants" / "sample.json"
    draws = json.loads(record.read_text()) if record.exists() else {}
    picked: list[str] = []
    for module in chosen:
        names = list(exit_codes(module))
        k = min(size, len(names))
        drawn = sorted(names[i] for i in rng.choice(len(names), size=k, replace=False))
        draws[module] = {"seed": seed, "size": size, "of": len(names), "names": drawn}
        picked += drawn
    record.write_text(json.dumps(draws, indent=1, ensure_ascii=False) + "\n")
    return picked


def status_of(code: int | None) -> str:
    """mutmut's exit code of a mutant as a status word."""
    if code is None:
        return "not checked"
    return STATUS.get(code, "suspicious")


def diff_of(name: str) -> str:
    """The mutant's diff, as ``mutmut show`` prints it."""
    res = subprocess.run(
        [str(MUTMUT), "show", name], cwd=REPO, capture_output=True, text=True, check=False
    )
    lines = [ln for ln in res.stdout.splitlines() if ln.startswith(("+", "-"))]
    return "\n".join(ln for ln in lines if not ln.startswith(("+++", "---")))


KILLED = ("killed", "timeout")
NO_COVERING_TEST = 33
"""mutmut's code for a mutant no test reaches: a second pass cannot kill it."""


def behavioural_file() -> Path:
    """Where ``--record-behavioural`` keeps the behavioural pass's results."""
    return REPO / "mutants" / "behavioural.json"


def behavioural_results() -> dict[str, int]:
    """Mutant name -> exit code in its last behavioural pass."""
    path = behavioural_file()
    return json.loads(path.read_text()) if path.exists() else {}


def named(pats: list[str]) -> dict[str, int | None]:
    """Every mutant of the listed modules that ``pats`` (names or globs, as ``mutmut run``
    takes them) names, with its current exit code."""
    out: dict[str, int | None] = {}
    for module in SCOPES:
        for name, code in exit_codes(module).items():
            if any(fnmatch.fnmatch(name, p) for p in pats):
                out[name] = code
    return out


def record_behavioural(pats: list[str]) -> int:
    """Keep the current results of the mutants ``pats`` names as their behavioural results
    (``make mutate`` calls this right after the behavioural pass); returns how many."""
    results = {name: code for name, code in named(pats).items() if code is not None}
    path = behavioural_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    kept = behavioural_results() | results
    path.write_text(json.dumps(kept, indent=1, ensure_ascii=False, sort_keys=True) + "\n")
    return len(results)


def behavioural_survivors(pats: list[str]) -> list[str]:
    """The mutants ``pats`` names that the behavioural pass did not kill, except those no
    test reaches: the second pass runs them with every test."""
    kept = behavioural_results()
    return [
        name
        for name in named(pats)
        if name in kept and status_of(kept[name]) not in KILLED and kept[name] != NO_COVERING_TEST
    ]


def _score(killed: int, checked: int, equivalent: int) -> tuple[float | None, list | None]:
    """killed / (checked - equivalent) and its 95% Wilson interval (None: nothing checked)."""
    from experiments.analysis import wilson

    if not checked:
        return None, None
    low, high = wilson(killed, checked - equivalent)
    return round(killed / max(1, checked - equivalent), 4), [round(low, 4), round(high, 4)]


def _behavioural(mine: dict[str, int | None], equivalent: dict[str, str]) -> dict | None:
    """The behavioural score of a module's mutants (those with a behavioural result), and
    the mutants only a recorded-output test killed; None when none has a result."""
    kept = behavioural_results()
    have = {name: kept[name] for name in mine if name in kept}
    if not have:
        return None
    killed = sum(status_of(code) in KILLED for code in have.values())
    alive = [name for name, code in have.items() if status_of(code) not in KILLED]
    n_equiv = sum(1 for name in alive if equivalent.get(name))
    score, interval = _score(killed, len(have), n_equiv)
    only_recorded = sorted(name for name in alive if status_of(mine[name]) in KILLED)
    return {
        "checked": len(have),
        "killed": killed,
        "equivalent": n_equiv,
        "score": score,
        "interval_95": interval,
        "killed_only_by_recorded": [{"mutant": n, "diff": diff_of(n)} for n in only_recorded],
    }


def summarise() -> dict:
    """Counts, both scores and survivors per module from mutmut's result files."""
    equivalent = tomllib.loads(EQUIVALENT.read_text()) if EQUIVALENT.exists() else {}
    record = REPO / "mutants" / "sample.json"
    samples = json.loads(record.read_text()) if record.exists() else {}
    now = datetime.now(UTC).isoformat(timespec="seconds")
    modules = {}
    for module, (path, _) in SCOPES.items():
        mine = exit_codes(module)
        drawn = samples.get(module)
        if drawn:  # a sampled module is scored on its sample alone (unbiased)
            in_sample = set(drawn["names"])
            mine = {k: v for k, v in mine.items() if k in in_sample}
        counts: dict[str, int] = {}
        for code in mine.values():
            counts[status_of(code)] = counts.get(status_of(code), 0) + 1
        checked = sum(n for s, n in counts.items() if s != "not checked")
        survivors = []
        for name, code in sorted(mine.items()):
            if status_of(code) in ("survived", "no tests", "suspicious"):
                survivors.append(
                    {
                        "mutant": name,
                        "status": status_of(code),
                        "equivalent": equivalent.get(name),
                        "diff": diff_of(name),
                    }
                )
        n_equiv = sum(1 for s in survivors if s["equivalent"])
        killed = sum(counts.get(s, 0) for s in KILLED)
        score, interval = _score(killed, checked, n_equiv)
        modules[module] = {
            "file": path,
            "mutants": drawn["of"] if drawn else len(mine),
            "sample": {"seed": drawn["seed"], "size": drawn["size"]} if drawn else None,
            "checked": checked,
            "counts": counts,
            "equivalent": n_equiv,
            "score": score,
            "interval_95": interval,
            "behavioural": _behavioural(mine, equivalent),
            "survivors": survivors,
            "measured": now,
        }
    return {"generated": now, "modules": _keep_earlier(modules)}


def _keep_earlier(modules: dict) -> dict:
    """Modules this mutants/ folder has no results for keep the results of the summary
    already written (with the date they were measured), so a run of some modules does
    not erase the others' scores."""
    old_file = OUT / "summary.json"
    old = json.loads(old_file.read_text()) if old_file.exists() else {"modules": {}}
    for module, m in modules.items():
        before = old["modules"].get(module)
        if not m["checked"] and before and before.get("checked"):
            modules[module] = before | {"measured": before.get("measured", old.get("generated"))}
    return modules


def _pct(score: float | None, interval: list | None) -> tuple[str, str]:
    """A score and its interval as table cells."""
    if score is None:
        return "not measured", ""
    return f"{score:.1%}", (f"{interval[0]:.1%} – {interval[1]:.1%}" if interval else "")


def markdown(summary: dict) -> str:
    """The summary as a README page."""
    lines = [
        "# Mutation testing",
        "",
        "Written by `make mutate` (mutmut against the fast suite; see docs/testing.md,",
        '"Mutation testing"). Score = killed / (checked - equivalent survivors); timeouts',
        "count as killed. Not checked: the run did not reach them. **All tests**: the",
        "fast suite with the tests marked `recorded` (golden runs, committed calibration",
        "shares, the README's tables); **behavioural**: without them, the kills that still",
        "hold once the golden runs are regenerated. A module with a sample",
        "(`make mutate MUTATE_SAMPLE=N`) is scored on N mutants drawn uniformly from all of",
        "its mutants; the 95% interval (Wilson) says how far the module's score may lie from",
        "the sample's.",
        "",
        f"Generated {summary['generated']}.",
        "",
        "| module | file | mutants | sample | checked | killed | timeout | survived | no tests "
        "| equivalent | score, all tests | 95% interval | behavioural score | 95% interval "
        "| killed only by recorded | measured |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- "
        "| --- | --- |",
    ]
    for module, m in summary["modules"].items():
        c = m["counts"]
        score, interval = _pct(m["score"], m.get("interval_95"))
        b = m.get("behavioural")
        b_score, b_interval = _pct(b["score"], b["interval_95"]) if b else ("not measured", "")
        only = str(len(b["killed_only_by_recorded"])) if b else ""
        drawn = m.get("sample")
        sampled = f"{drawn['size']} (seed {drawn['seed']})" if drawn else "all"
        lines.append(
            f"| {module} | `{m['file']}` | {m['mutants']} | {sampled} | {m['checked']} | "
            f"{c.get('killed', 0)} | {c.get('timeout', 0)} | {c.get('survived', 0)} | "
            f"{c.get('no tests', 0)} | {m['equivalent']} | {score} | {interval} | "
            f"{b_score} | {b_interval} | {only} | "
            f"{m.get('measured', '') if m['checked'] else ''} |"
        )
    for module, m in summary["modules"].items():
        b = m.get("behavioural")
        if b and b["killed_only_by_recorded"]:
            lines += ["", f"## Killed only by recorded-output tests: {module}", ""]
            for s in b["killed_only_by_recorded"]:
                lines += [f"- `{s['mutant']}`", "", "```diff", s["diff"], "```"]
        if not m["survivors"]:
            continue
        lines += ["", f"## Survivors: {module}", ""]
        for s in m["survivors"]:
            why = f" — equivalent: {s['equivalent']}" if s["equivalent"] else ""
            lines += [f"- `{s['mutant']}` ({s['status']}){why}", "", "```diff", s["diff"], "```"]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """``--patterns [MODULE...]`` prints mutant name patterns; ``--record-behavioural``
    and ``--survivors`` serve ``make mutate``'s two passes; otherwise writes the report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patterns", nargs="*", metavar="MODULE", default=None)
    parser.add_argument(
        "--sample", type=int, default=None, metavar="N", help="with --patterns: N mutants a module"
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of --sample's draw")
    parser.add_argument(
        "--record-behavioural",
        nargs="+",
        metavar="MUTANT",
        help="keep these mutants' results (names or globs) as the behavioural pass's",
    )
    parser.add_argument(
        "--survivors",
        nargs="+",
        metavar="MUTANT",
        help="print those of these mutants the behavioural pass did not kill",
    )
    args = parser.parse_args(argv)
    if args.record_behavioural:
        n = record_behavioural(args.record_behavioural)
        print(f"kept the behavioural results of {n} mutants in {behavioural_file()}")
        return 0
    if args.survivors:
        print(" ".join(f"'{n}'" for n in behavioural_survivors(args.survivors)))
        return 0
    if args.patterns is not None:
        unknown = [m for m in args.patterns if m not in SCOPES]
        if unknown:
            print(f"unknown module {unknown}; allowed: {', '.join(SCOPES)}", file=sys.stderr)
            return 2
        if args.sample is not None and args.sample < 1:
            print(
                f"--sample: invalid value {args.sample}; allowed: an integer >= 1", file=sys.stderr
            )
            return 2
        if args.sample is not None:
            print(" ".join(f"'{n}'" for n in sample(args.patterns, args.sample, args.seed)))
        else:
            print(" ".join(f"'{p}'" for p in patterns(args.patterns)))
        return 0
    summary = summarise()
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "summary.json").write_text(json.dumps(summary, indent=1, ensure_ascii=False) + "\n")
    (OUT / "README.md").write_text(markdown(summary))
    for module, m in summary["modules"].items():
        score, _ = _pct(m["score"], None)
        b = m.get("behavioural")
        behavioural = _pct(b["score"], None)[0] if b else "not measured"
        print(
            f"{module}: {score} with every test, {behavioural} behavioural "
            f"({m['checked']} of {m['mutants']} mutants checked)"
        )
    print(f"wrote {OUT / 'summary.json'} and {OUT / 'README.md'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
