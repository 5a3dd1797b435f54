"""The browser UI of gsomia (Solara), and its panels as components for Mesa's SolaraViz.

The page (``app.py`` at the repository root is the entry point Solara serves):

- ``serving``: serving offline (assets, telemetry, the checks that call home);
- ``inputs``: numbers, labels and the parameters' controls (kinds, steps, parsing);
- ``scenarios``: the scenario configs, the settings a page's controls make, ScenarioModel;
- ``view``: an immutable snapshot of a run (``RunView``) and the calendar as the page says it;
- ``state``: one browser session's model and the operations on it;
- ``ensembles``: the page's ensembles (seeds, the fitted posterior, two settings compared)
  on ``experiments.ensemble``;
- ``figures``, ``tables``, ``exports``: what the panels draw, print and download;
- ``panels/``: controls, run, months, ensemble, compare, sweep results, exports;
- ``page``: the page;
- ``components``: the panels as components for ``mesa.visualization.SolaraViz``, and
  ``viz``: a SolaraViz page built from them (``gsomia ui --mesa``).

The model package never imports this one.
"""
