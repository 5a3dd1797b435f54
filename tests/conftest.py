"""Test-session settings shared by every test file.

- Parallel runs (pytest-xdist, ``make test``): the browser tests share one server and one
  Chromium (session fixtures from tests/browser_support.py), so they are kept on one
  worker (``--dist loadgroup``).
- Mutation runs (``make mutate``, mutmut sets ``MUTANT_UNDER_TEST``): a mutant is killed by
  its first failing test, so the quick, focused test files run before the long model runs;
  every test starts from empty lookahead caches (below); and with
  ``GSOMIA_MUTATION_TESTS=behavioural`` (make mutate's first pass) the tests marked
  ``recorded`` (comparisons with the golden runs and other committed outputs of the model)
  are left out, so the pass counts only the kills that hold once those are regenerated.
"""

from __future__ import annotations

import os

import pytest
from browser_support import browser, mesa_server, server, ui  # noqa: F401  (fixtures)
from hypothesis import settings

# Property tests check behaviour, not speed: no per-example deadline (a loaded machine
# made one example exceed hypothesis's default 200 ms).
settings.register_profile("gsomia", deadline=None)
settings.load_profile("gsomia")

# Test files closest to each mutated module run first; then the quickest files.
CLOSEST = {
    "model.calendar": ("test_calendar.py",),
    "model.outcome": ("test_model.py",),
    "model.opinion": ("test_agents.py", "test_seeding.py"),
    "model.model": ("test_seeding.py",),
    "agents.seoul": ("test_identities.py", "test_payoffs.py"),
    "agents.tokyo": ("test_identities.py", "test_payoffs.py"),
    "agents.washington": ("test_beliefs.py", "test_identities.py", "test_payoffs.py"),
    "agents.beijing": ("test_identities.py", "test_payoffs.py"),
    "model.game": ("test_identities.py", "test_golden.py"),
    "model.lookahead": ("test_identities.py", "test_golden.py"),
    "experiments.runner": ("test_sweep.py",),
    "experiments.storage": ("test_sweep.py",),
    "experiments.analysis": ("test_analysis.py",),
    "experiments.fit_score": ("test_targets.py",),
    "experiments.targets": ("test_targets.py",),
    "experiments.ensemble": ("test_ensemble.py",),
    "gsomia_ui.ensembles": ("test_app.py",),
}
QUICK_FIRST = (
    "test_calendar.py",
    "test_beliefs.py",
    "test_seeding.py",
    "test_identities.py",
    "test_agents.py",
    "test_model.py",
    "test_payoffs.py",
    "test_sweep.py",
    "test_analysis.py",
    "test_targets.py",
    "test_ensemble.py",
)
MUTATION_TESTS = "GSOMIA_MUTATION_TESTS"
"""Which tests a mutant's run uses: 'all' (the default) or 'behavioural' (without the
tests marked ``recorded``)."""
MUTATION_TEST_SETS = ("all", "behavioural")


def _mutant_under_test() -> str:
    """The mutant mutmut is testing in this process ('' outside a mutant's run). Read when
    needed: mutmut sets it in each forked child, after this file was imported."""
    mutant = os.environ.get("MUTANT_UNDER_TEST", "")
    return mutant if "__mutmut_" in mutant else ""


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Group the browser tests on one xdist worker; order (and in a behavioural pass,
    choose) the tests of a mutation run."""
    for item in items:
        if item.get_closest_marker("browser") is not None:
            item.add_marker(pytest.mark.xdist_group("browser"))
    mutant = _mutant_under_test()
    chosen = os.environ.get(MUTATION_TESTS) or "all"
    if chosen not in MUTATION_TEST_SETS:
        raise pytest.UsageError(
            f"{MUTATION_TESTS}: invalid value {chosen!r}; allowed: "
            + " or ".join(MUTATION_TEST_SETS)
        )
    if mutant and chosen == "behavioural":
        recorded = [item for item in items if item.get_closest_marker("recorded") is not None]
        if recorded:
            config.hook.pytest_deselected(items=recorded)
            items[:] = [item for item in items if item.get_closest_marker("recorded") is None]
    if mutant:
        module = mutant.split(".x", 1)[0]
        order = CLOSEST.get(module, ()) + QUICK_FIRST

        def rank(item: pytest.Item) -> int:
            name = item.path.name
            return order.index(name) if name in order else len(order)

        items.sort(key=rank)  # stable: each file keeps its own order


@pytest.fixture(autouse=True)
def _empty_lookahead_caches_under_mutation() -> None:
    """mutmut forks each mutant's tests from a process that already ran the clean suite,
    so the lookahead's process-wide caches (``model.lookahead``: menus, profiles, months
    and horizons) would still hold what the unmutated code built: a mutant of a
    government's ``feasible``, ``transition`` or ``signals`` would never run and would be
    reported as surviving (applied by hand, such a mutant fails tests/test_beliefs.py).
    Under mutation every test therefore starts from empty caches; ordinary runs keep
    them."""
    if _mutant_under_test():
        from model.lookahead import clear_caches

        clear_caches()
