"""The model's version: the one place it is written (pyproject.toml reads it).

It moves with every change of behaviour, i.e. every change that regenerates the golden runs
(``tests/golden/record.py`` refuses to record changed runs under an unchanged version), and
each version has its section in CHANGELOG.md. Runs, sweeps and fits record it.
"""

__version__ = "0.5.0"
