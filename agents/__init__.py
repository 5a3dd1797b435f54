"""Mesa agents of the GSOMIA model: the four governments (one module each) and the
Korean public."""

from agents.beijing import Beijing
from agents.government import Government
from agents.public import KoreanPublic
from agents.seoul import Seoul
from agents.tokyo import Tokyo
from agents.washington import Washington

__all__ = ["Beijing", "Government", "KoreanPublic", "Seoul", "Tokyo", "Washington"]
