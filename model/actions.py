"""Actors, actions and pact states, with the codes the vectorised game uses.

Event names follow the ``event`` column of ``shared/timeline_2019.csv`` wherever the same
thing happens (e.g. ``targeted_export_controls``, ``termination_notice``,
``conditional_suspension``); names for things 2019 did not see (``lift_controls``,
``rescind_notice``, ``pact_terminated``...) follow the same style.
"""

from __future__ import annotations

from enum import IntEnum

ACTORS = ("seoul", "tokyo", "washington", "beijing")
"""Strategic governments, in the order of the payoff arrays' player axis."""
SEOUL, TOKYO, WASHINGTON, BEIJING = range(4)

COMPONENTS = ("security", "economic", "audience", "alliance", "china", "pressure_cost")
"""Payoff components every utility is broken into (README, "Payoffs")."""
SECURITY, ECONOMIC, AUDIENCE, ALLIANCE, CHINA, PRESSURE_COST = range(len(COMPONENTS))


class Pact(IntEnum):
    """Lifecycle of the pact (issue: negotiating -> active -> notice_pending ->
    suspended / terminated)."""

    NEGOTIATING = 0
    ACTIVE = 1
    NOTICE_PENDING = 2
    SUSPENDED = 3
    TERMINATED = 4

    @property
    def label(self) -> str:
        """The state's name as used in configs and outputs."""
        return self.name.lower()

    @classmethod
    def from_label(cls, label: str) -> Pact:
        """Inverse of ``label``."""
        return cls[label.upper()]


N_PACT = len(Pact)
N_CURB = 3  # 0 none, 1 targeted export controls, 2 + white-list removal

# Seoul moves last in the month (it answers Tokyo's move of the same month, as the
# 2019-08-22 notice answered the 2019-08-02 white-list removal).
SEOUL_ACTIONS = (
    "hold",
    "termination_notice",
    "conditional_suspension",
    "rescind_notice",
    "revive_notice",
    "wto_complaint",
    "wto_suspension",
    "conditional_suspension+wto_suspension",
    "sign",
    "postpone_signing",
    "abandon_signing",
)
(
    S_HOLD,
    S_NOTICE,
    S_SUSPEND,
    S_RESCIND,
    S_REVIVE,
    S_WTO,
    S_WTO_SUSPEND,
    S_PACKAGE,
    S_SIGN,
    S_POSTPONE,
    S_ABANDON,
) = range(len(SEOUL_ACTIONS))

TOKYO_ACTIONS = (
    "hold",
    "targeted_export_controls",
    "whitelist_removal",
    "lift_controls",
    "talks_offer",
)
T_HOLD, T_TARGETED, T_WHITELIST, T_LIFT, T_TALKS = range(len(TOKYO_ACTIONS))

PRESSURE_LEVELS = 4  # Washington's pressure on Seoul: 0 none .. 3 all-out
US_ACTIONS = tuple((ps, pt) for ps in range(PRESSURE_LEVELS) for pt in range(2))
"""Washington's (pressure on Seoul, pressure on Tokyo) levels."""
US_LABELS = tuple(f"pressure_seoul={ps},pressure_tokyo={pt}" for ps, pt in US_ACTIONS)

BEIJING_ACTIONS = ("none", "rhetoric", "inducement")
B_NONE, B_RHETORIC, B_INDUCEMENT = range(len(BEIJING_ACTIONS))
BEIJING_STRENGTH = (0.0, 0.3, 1.0)
"""Effect of Beijing's move on Seoul's payoff from distancing (share of china_influence)."""
BEIJING_COST = (0.0, 0.2, 1.0)
"""Cost of Beijing's move (share of inducement_cost)."""

US_PRESSURE_EVENTS = {1: "public_support", 2: "pressure_visit", 3: "congress_resolution"}
"""Events emitted when Washington first raises its pressure on Seoul to a level: a public
statement (2019-07-18), a senior visit (2019-11-15), the all-out campaign with a
Congressional resolution (2019-11-21)."""

WTO_SUSPENSION_FACE = 0.1
"""Audience cost of pausing the WTO complaint, as a share of ``audience_cost``: a small
step back on trade, far cheaper than one on the pact."""

POSTPONE_COST = 0.1
"""Seoul's one-off cost (u) of postponing a scheduled signing (2012: postponed an hour
before signing)."""
