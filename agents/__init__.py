"""Mesa agents of the GSOMIA model: the four governments and the Korean public."""

from agents.government import Beijing, Government, Seoul, Tokyo, Washington
from agents.public import KoreanPublic

__all__ = ["Beijing", "Government", "KoreanPublic", "Seoul", "Tokyo", "Washington"]
