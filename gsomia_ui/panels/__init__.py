"""The page's panels: ``controls`` (the sidebar), ``run`` (status, network, series,
countdown, timeline), ``months`` (decisions by month), ``ensemble`` (seeds and the fitted
posterior), ``compare`` (two settings), ``sweeps`` (a sweep's report) and ``exports``."""
