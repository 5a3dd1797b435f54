"""gsomia: an agent-based, game-theoretic model of the 2019 GSOMIA crisis, on Mesa.

>>> from model import GSOMIAModel
>>> m = GSOMIAModel.from_config("configs/baseline_2019.toml", rng=1)
>>> m.run()  # doctest: +SKIP
'last_minute_suspension'
"""

from model.config import load_config
from model.model import GSOMIAModel
from model.outcome import OUTCOMES, Event
from model.parameters import HEADLINE, PARAMETERS, ConfigError
from model.version import __version__

__all__ = [
    "HEADLINE",
    "OUTCOMES",
    "PARAMETERS",
    "ConfigError",
    "Event",
    "GSOMIAModel",
    "__version__",
    "load_config",
]
