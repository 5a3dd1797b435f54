"""Benchmarks of gsomia: what one run and a sweep cost, and how the cost grows.

``python -m benchmarks [--quick | --full] [--out results/bench/latest.json]`` (``make bench``)
measures, in one process run so that ratios are fair on a noisy machine:

1. ``run``: one baseline-2019 run from config load to outcome, and the cost of a monthly
   step split (from a cProfile profile) into decisions/game solving, opinion dynamics,
   data collection, explanations and the rest;
2. ``throughput``: runs/s of the smoke sweep and of the 2,000-run design
   (``configs/sweeps/bench_2000.toml``) through the sweep runner on 1 worker and on all
   cores, and the same grid through ``mesa.batch_run``;
3. ``overhead``: the sweep runner on 1 worker against a bare Python loop over the same runs;
4. ``memory``: peak RSS (the process tree: parent and workers) of a 20,000-run sweep
   against ``mesa.batch_run``;
5. ``scaling``: run time against months simulated and against the number of citizens,
   with fitted log-log exponents;
6. ``ui``: the browser page: first render, one step, a 50-seed ensemble (benchmarks/ui.py);
7. ``fit``: ``gsomia fit`` of the shipped small targets: wall time, simulations/s and model
   runs/s, and one particle of ``evidence_2019`` (benchmarks/fit.py).

Every measurement is a median over repeated runs with min and max. Nothing here asserts
on speed: the targets of the issue are reported as met or missed, never enforced.
"""

SCHEMA = 1
"""Version of the layout of results/bench/latest.json."""

FIGURES = ("run", "throughput", "overhead", "memory", "scaling", "ui", "fit")
"""The figures, in the order they run and print."""
