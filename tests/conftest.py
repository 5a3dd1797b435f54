"""Test-session settings shared by every test file.

- Parallel runs (pytest-xdist, ``make test``): the browser tests share one server and one
  Chromium per module, so they are kept on one worker (``--dist loadgroup``).
- Mutation runs (``make mutate``, mutmut sets ``MUTANT_UNDER_TEST``): a mutant is killed by
  its first failing test, so the quick, focused test files run before the long model runs.
"""

from __future__ import annotations

import os

import pytest

# Quickest and most focused first; files not listed keep their place after these.
MUTATION_ORDER = (
    "test_calendar.py",
    "test_identities.py",
    "test_seeding.py",
    "test_payoffs.py",
    "test_analysis.py",
    "test_sweep.py",
    "test_agents.py",
    "test_model.py",
    "test_config.py",
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Group the browser tests on one xdist worker; order tests for mutation runs."""
    for item in items:
        if item.get_closest_marker("browser") is not None:
            item.add_marker(pytest.mark.xdist_group("browser"))
    if os.environ.get("MUTANT_UNDER_TEST"):

        def rank(item: pytest.Item) -> int:
            name = item.path.name
            return MUTATION_ORDER.index(name) if name in MUTATION_ORDER else len(MUTATION_ORDER)

        items.sort(key=rank)  # stable: each file keeps its own order
