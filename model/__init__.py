"""gsomia: an agent-based, game-theoretic model of the 2019 GSOMIA crisis, on Mesa.

>>> from model import GSOMIAModel
>>> m = GSOMIAModel.from_config("configs/baseline_2019.toml", rng=1)
>>> m.run()  # doctest: +SKIP
'last_minute_suspension'
"""

from typing import Any

from model.config import load_config
from model.outcome import OUTCOMES, Event
from model.parameters import HEADLINE, PARAMETERS, ConfigError


def __getattr__(name: str) -> Any:
    """Load ``GSOMIAModel`` on first use, so ``import agents`` works on its own (the
    agents import ``model.actions``; the model imports the agents)."""
    if name == "GSOMIAModel":
        from model.model import GSOMIAModel

        return GSOMIAModel
    raise AttributeError(f"module 'model' has no attribute {name!r}")


__all__ = [
    "HEADLINE",
    "OUTCOMES",
    "PARAMETERS",
    "ConfigError",
    "Event",
    "GSOMIAModel",
    "load_config",
]
