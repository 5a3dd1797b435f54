"""Mutation score per module from mutmut's results, written to results/mutation/.

``make mutate`` runs mutmut (config: ``[tool.mutmut]`` in pyproject.toml) on the mutants
named by ``--patterns`` below, then this script reads mutmut's result files
(``mutants/**/*.py.meta``) and writes:

- ``results/mutation/summary.json``: per module, mutants killed / survived / timed out /
  not covered, the score, and each survivor (name and diff, or the reason it is judged
  equivalent);
- ``results/mutation/README.md``: the same as a table, for people.

Score = killed (timeouts count as killed) / (all mutants checked - equivalent survivors).
Survivors judged equivalent (no test can tell them apart from the original) are listed in
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
merge; the analysis statistics (not its plots and report text)."""

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


def summarise() -> dict:
    """Counts and survivors per module from mutmut's result files."""
    from experiments.analysis import wilson

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
        killed = counts.get("killed", 0) + counts.get("timeout", 0)
        denominator = checked - n_equiv
        low, high = wilson(killed, denominator)
        modules[module] = {
            "file": path,
            "mutants": drawn["of"] if drawn else len(mine),
            "sample": {"seed": drawn["seed"], "size": drawn["size"]} if drawn else None,
            "checked": checked,
            "counts": counts,
            "equivalent": n_equiv,
            "score": None if not checked else round(killed / max(1, denominator), 4),
            "interval_95": None if not checked else [round(low, 4), round(high, 4)],
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


def markdown(summary: dict) -> str:
    """The summary as a README page."""
    lines = [
        "# Mutation testing",
        "",
        "Written by `make mutate` (mutmut against the fast suite; see docs/testing.md,",
        '"Mutation testing"). Score = killed / (checked - equivalent survivors); timeouts',
        "count as killed. Not checked: the run did not reach them. A module with a sample",
        "(`make mutate MUTATE_SAMPLE=N`) is scored on N mutants drawn uniformly from all of",
        "its mutants; the 95% interval (Wilson) says how far the module's score may lie from",
        "the sample's.",
        "",
        f"Generated {summary['generated']}.",
        "",
        "| module | file | mutants | sample | checked | killed | timeout | survived | no tests "
        "| equivalent | score | 95% interval | measured |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for module, m in summary["modules"].items():
        c = m["counts"]
        score = "not measured" if m["score"] is None else f"{m['score']:.1%}"
        ci = m.get("interval_95")
        interval = f"{ci[0]:.1%} – {ci[1]:.1%}" if ci else ""
        drawn = m.get("sample")
        sampled = f"{drawn['size']} (seed {drawn['seed']})" if drawn else "all"
        lines.append(
            f"| {module} | `{m['file']}` | {m['mutants']} | {sampled} | {m['checked']} | "
            f"{c.get('killed', 0)} | {c.get('timeout', 0)} | {c.get('survived', 0)} | "
            f"{c.get('no tests', 0)} | {m['equivalent']} | {score} | {interval} | "
            f"{m.get('measured', '') if m['checked'] else ''} |"
        )
    for module, m in summary["modules"].items():
        if not m["survivors"]:
            continue
        lines += ["", f"## Survivors: {module}", ""]
        for s in m["survivors"]:
            why = f" — equivalent: {s['equivalent']}" if s["equivalent"] else ""
            lines += [f"- `{s['mutant']}` ({s['status']}){why}", "", "```diff", s["diff"], "```"]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """``--patterns [MODULE...]`` prints mutant name patterns; otherwise writes the report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patterns", nargs="*", metavar="MODULE", default=None)
    parser.add_argument(
        "--sample", type=int, default=None, metavar="N", help="with --patterns: N mutants a module"
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of --sample's draw")
    args = parser.parse_args(argv)
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
        score = "not measured" if m["score"] is None else f"{m['score']:.1%}"
        print(f"{module}: {score} ({m['checked']} of {m['mutants']} mutants checked)")
    print(f"wrote {OUT / 'summary.json'} and {OUT / 'README.md'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
