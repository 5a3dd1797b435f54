"""Tokyo: export curbs, their lifting, and working-level talks.

Curbs climb one rung a month (targeted controls 2019-07-04, then the white-list removal
2019-08-02); lifting drops them all. Talks on the curbs are offered in exchange for a
pause of Seoul's WTO complaint against them (2019-11-22), so they need curbs and a
standing complaint. Tokyo's payoffs: the pact's intelligence, the curbs' cost to its own
economy and the Korean boycott, the WTO case, and a resolve that grows with its
grievance over the 2018 forced-labour ruling (and makes backing down costly).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from agents.government import Government
from agents.public import expected_public
from model.pact import N_CURB, WTO_ACTIVE, curb_damage_per_dependence, intelligence, strain

if TYPE_CHECKING:
    from model.game import Profiles
    from model.month import Realised

MOVES = ("hold", "targeted_export_controls", "whitelist_removal", "lift_controls", "talks_offer")
HOLD, TARGETED, WHITELIST, LIFT, TALKS = range(len(MOVES))


class Tokyo(Government):
    """Japan: export curbs, their lifting, and working-level talks."""

    actor = "tokyo"
    moves = MOVES
    events: ClassVar[Mapping[str, tuple[str, ...]]] = {"tokyo": MOVES[HOLD + 1 :]}
    state_vars: ClassVar[Mapping[str, int]] = {"curb": N_CURB, "talks": 2}
    components = ("security", "economic", "audience", "alliance")

    @classmethod
    def initial_state(cls, values: Mapping[str, Any]) -> dict[str, int]:
        """The scenario's curb level; no talks."""
        return {"curb": int(values["initial_curb_level"]), "talks": 0}

    @classmethod
    def feasible(cls, g: Profiles, move: np.ndarray) -> np.ndarray:
        """One rung a month up; lifting only curbs in force; talks only on curbs in force,
        against a standing WTO complaint, and not while talks already run."""
        curb, t = g.start["curb"], move
        ok = (t != TARGETED) | (curb == 0)
        ok = ok & ((t != WHITELIST) | (curb == 1))
        ok = ok & ((t != LIFT) | (curb > 0))
        talks_ok = (curb > 0) & (g.start["talks"] == 0) & (g.start["wto"] == WTO_ACTIVE)
        return ok & ((t != TALKS) | talks_ok)

    @classmethod
    def transition(cls, g: Profiles, move: np.ndarray) -> dict[str, np.ndarray]:
        """The curb level after the move; running talks end with the curbs."""
        curb, t = g.start["curb"], move
        curb_next = np.where(t == TARGETED, 1, np.where(t == WHITELIST, 2, curb))
        curb_next = np.where(t == LIFT, 0, curb_next)
        talks = (g.start["talks"] == 1) & (curb_next > 0)
        return {"curb": curb_next, "talks": talks.astype(np.int8)}

    @classmethod
    def signals(cls, g: Profiles, move: np.ndarray) -> dict[str, np.ndarray]:
        """A fresh offer of talks (Seoul may take it up this month)."""
        return {"talks_offered": move == TALKS}

    @classmethod
    def prepared(cls, g: Profiles, p: Any) -> dict[str, Any]:
        """The parts of its month that the profiles and parameters fix (``utility``
        adds the slow variables): its hardline reward, lifting and talking costs per
        unit of grievance, the curbs' damage per unit of trade dependence, the boycott's
        weight, the WTO case and Washington's pressure."""
        t = g.move("tokyo")
        curb = g.state["curb"]
        curb_share = curb / (N_CURB - 1)
        talks = g.state["talks"].astype(float)
        wto_standing = (g.state["wto"] == WTO_ACTIVE).astype(float)
        # while talks run, part of the grievance stops weighing on its choices
        resolve = p.japan_resolve * (1.0 - p.talks_grievance_relief * talks)
        lifting = (t == LIFT) * p.lift_face * g.start["curb"] / (N_CURB - 1)
        talking = p.talks_cost * (talks + (t == TALKS))
        return {
            "security_per_intelligence": p.tokyo_security_weight * g.signal("alive"),
            "economic_per_dependence": -p.japan_exposure * curb_damage_per_dependence(p, curb),
            # the boycott Tokyo expects under the curbs it keeps (July 2019)
            "economic_per_boycott": -p.boycott_damage * (curb > 0),
            "economic_fixed": -p.wto_pressure * wto_standing,
            "audience_per_grievance": resolve * (curb_share - lifting - talking),
            "alliance": -p.us_pressure_weight
            * p.tokyo_pressure_sensitivity
            * g.signal("pressure_tokyo")
            * curb_share,
        }

    @classmethod
    def utility(cls, g: Profiles, p: Any, env: Any) -> dict[str, Any]:
        """Tokyo's month (docs/model/payoffs.md)."""
        fixed = g.memo_params("tokyo.prepared", p, cls.prepared)
        _, _, boycott = expected_public(g, env)
        return {
            "security": intelligence(p, env) * fixed["security_per_intelligence"],
            "economic": env.trade_dependence * fixed["economic_per_dependence"]
            + boycott * fixed["economic_per_boycott"]
            + fixed["economic_fixed"],
            "audience": env.grievance * fixed["audience_per_grievance"],
            "alliance": fixed["alliance"],
        }

    # ---- acting --------------------------------------------------------------------------
    def apply(self, r: Realised) -> None:
        """Events of the move; a talks offer taken up is dated with Seoul's answer."""
        t = r.codes["tokyo"]
        if t == HOLD:
            return
        taken = bool(r.after["talks"]) and not r.before["talks"]
        day = r.day("seoul") if (t == TALKS and taken) else r.month
        detail = "" if t != TALKS or taken else "not taken up"
        self.model.emit(day, "tokyo", MOVES[t], detail)

    def stance(self) -> float:
        """The share of the full curbs in force."""
        return self.model.curb / (N_CURB - 1)

    def relations(self) -> dict[tuple[str, str], dict[str, float]]:
        """Seoul-Tokyo tension (history plus the curbs' blow to trust) and Korea's
        dependence on Japanese materials."""
        m = self.model
        tension = float(np.clip(strain(m.params, m.tension, int(m.pact), m.curb, m.talks), 0, 1))
        return {("seoul", "tokyo"): {"tension": tension, "trade_dependence": m.trade_dependence}}
