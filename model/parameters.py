"""Every model parameter, declared once: name, type, bounds, default, unit and source.

The registry is the single place the constructor, the TOML configs, the sweep specs, the
UI sliders and the docs' parameter table read from (EMA Workbench style: declare
parameters once, with type and bounds). A config key is the constructor keyword of the
same name.

Utilities are in *utility points per month* ("u/month"): one point is the monthly value,
to Seoul, of the pact's intelligence at baseline North Korean threat with full trust. The
defaults are calibrated so that the 2019 baseline reproduces the observed sequence (see
docs/calibration.md); the "source" column says what each default rests on.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from model.calendar import (
    ANNUAL_MAX_NOTICE_DAYS,
    MAX_NOTICE_DAYS,
    NOTICE_DAYS,
    RENEWAL,
    RENEWALS,
)

DATE_MIN = date(1900, 1, 1)
DATE_MAX = date(2100, 12, 31)
"""Every date parameter lies in [DATE_MIN, DATE_MAX]: the model's calendar is modern
history, and the bound keeps month arithmetic and the lookahead finite."""
MAX_HORIZON_MONTHS = 120
"""At most this many months from 'start' to 'end' (the 2019 baseline spans 15): a run
costs time and memory in proportion, and no scenario needs more than a decade."""
SEED_ALLOWED = "a non-negative integer seed, a numpy Generator or SeedSequence, or None"

PACT_STATES = ("negotiating", "active", "notice_pending", "suspended", "terminated")


class ConfigError(ValueError):
    """Bad input: an unknown key, a wrong type or an out-of-range value.

    The message names the source (file or "constructor"), the key, the value and what is
    allowed; command-line tools turn it into exit status 2.
    """


@dataclass(frozen=True)
class Param:
    """One declared parameter."""

    name: str
    kind: type  # float, int, str, date or bool
    default: Any
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] | None = None
    unit: str = ""
    meaning: str = ""
    source: str = ""
    group: str = "parameters"  # TOML table the key lives in: "parameters", "scenario", "treaty"
    sweepable: bool = True

    def allowed(self) -> str:
        """Human-readable description of the allowed values."""
        if self.choices is not None:
            return "one of " + ", ".join(repr(c) for c in self.choices)
        if self.kind is date:
            return (
                f"a date written YYYY-MM-DD, from {DATE_MIN.isoformat()} to {DATE_MAX.isoformat()}"
            )
        if self.kind is bool:
            return "true or false"
        kind = {float: "a number", int: "an integer", str: "a string"}[self.kind]
        if self.low is not None and self.high is not None:
            return f"{kind} in [{_fmt(self.low)}, {_fmt(self.high)}]"
        if self.low is not None:
            return f"{kind} >= {_fmt(self.low)}"
        return kind

    def coerce(self, value: Any, source: str) -> Any:
        """Return ``value`` converted to this parameter's type, or raise ConfigError."""

        def bad(why: str = "") -> ConfigError:
            extra = f" ({why})" if why else ""
            return ConfigError(
                f"{source}: invalid value {value!r} for '{self.name}'{extra}; "
                f"allowed: {self.allowed()}"
            )

        if self.kind is bool:
            if isinstance(value, bool):
                return value
            raise bad()
        if self.kind is date:
            if isinstance(value, datetime):  # also pandas.Timestamp, TOML date-times
                raise bad("a date-time, not a date; write YYYY-MM-DD or pass .date()")
            if isinstance(value, str):
                try:
                    value = date.fromisoformat(value)
                except ValueError as exc:
                    raise bad("not a date") from exc
            if not isinstance(value, date):
                raise bad("wrong type")
            if not DATE_MIN <= value <= DATE_MAX:
                raise bad("out of range")
            return value
        if self.kind is str:
            if not isinstance(value, str):
                raise bad()
            if self.choices is not None and value not in self.choices:
                raise bad()
            return value
        # numbers: booleans are not numbers here, strings that look like numbers are not
        # accepted either (TOML types must be right).
        if isinstance(value, bool) or not isinstance(value, int | float):
            if getattr(value, "ndim", None) == 0 and hasattr(value, "item"):  # numpy scalar
                value = value.item()
            else:
                raise bad("wrong type")
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise bad("wrong type")
        if self.kind is int:
            if isinstance(value, float):
                if not value.is_integer():
                    raise bad("not an integer")
                value = int(value)
        else:
            value = float(value)
            if not math.isfinite(value):
                raise bad("not finite")
        if (self.low is not None and value < self.low) or (
            self.high is not None and value > self.high
        ):
            raise bad("out of range")
        return value


def _fmt(x: float) -> str:
    return f"{x:g}"


P = Param
HAND = "Hand-set when the model was built; not fitted."
PARAMETERS: dict[str, Param] = {
    p.name: p
    for p in [
        # ---- scenario -----------------------------------------------------------------
        P(
            "name",
            str,
            "baseline_2019",
            group="scenario",
            sweepable=False,
            meaning="Scenario name, carried into outputs.",
        ),
        P(
            "start",
            date,
            date(2018, 10, 1),
            group="scenario",
            sweepable=False,
            meaning="First simulated month (its first day).",
            source="After the Supreme Court ruling of 2018-10-30.",
        ),
        P(
            "end",
            date,
            date(2019, 12, 31),
            group="scenario",
            sweepable=False,
            meaning="Last simulated month (any day in it).",
        ),
        P(
            "pact_state",
            str,
            "active",
            choices=PACT_STATES,
            group="scenario",
            sweepable=False,
            meaning="State of the pact when the scenario starts.",
        ),
        P(
            "signing_date",
            date,
            date(2016, 11, 23),
            group="scenario",
            sweepable=False,
            meaning="Signing date; its month/day is the yearly anniversary. In state "
            "'negotiating' it is the scheduled signing date.",
            source="GSOMIA signed and effective 2016-11-23.",
        ),
        P(
            "notice_date",
            date,
            date(2019, 8, 23),
            group="scenario",
            sweepable=False,
            meaning="Day the standing notice was delivered (used when the scenario starts in "
            "'notice_pending' or 'suspended').",
        ),
        P(
            "suspension_date",
            date,
            date(2019, 11, 22),
            group="scenario",
            sweepable=False,
            meaning="Day the standing notice was suspended (used when the scenario starts in "
            "'suspended').",
            source="Seoul suspended the expiry on 2019-11-22.",
        ),
        P(
            "initial_curb_level",
            int,
            0,
            0,
            2,
            group="scenario",
            sweepable=False,
            unit="level",
            meaning="Tokyo's export curbs at start: 0 none, 1 targeted controls, "
            "2 plus white-list removal.",
        ),
        P(
            "initial_wto",
            str,
            "none",
            choices=("none", "active", "suspended"),
            group="scenario",
            sweepable=False,
            meaning="Seoul's WTO complaint at start.",
        ),
        # ---- the treaty's rules ([treaty]; model/calendar.py) ---------------------------
        P(
            "notice_days",
            int,
            NOTICE_DAYS,
            1,
            MAX_NOTICE_DAYS,
            group="treaty",
            sweepable=False,
            unit="days",
            meaning="Days a termination notice must precede the instant it ends the pact: "
            "the renewal instant (midnight at the start of the anniversary) of an annual "
            "treaty, or, without renewal, the notice's day plus this many days.",
            source="GSOMIA Art. 21: notice at least 90 days before the end of the one-year "
            "period (DOMAIN.md, 'The pact').",
        ),
        P(
            "renewal",
            str,
            RENEWAL,
            choices=RENEWALS,
            group="treaty",
            sweepable=False,
            meaning="'annual': renews on each anniversary of signing unless notice was given "
            "(the notice ends it at that anniversary); 'none': never renews, a notice ends it "
            "'notice_days' after its day.",
            source="GSOMIA renews automatically every year on Nov 23 (DOMAIN.md, 'The pact').",
        ),
        # ---- the nine headline parameters ----------------------------------------------
        P(
            "us_pressure_weight",
            float,
            0.506,
            0.0,
            3.0,
            unit="u/month per pressure level",
            meaning="Seoul's alliance cost of defying Washington per unit of pressure (0..1, plus "
            "the baseline displeasure) while its stance defies the US: full with a notice "
            "pending or the pact terminated, a quarter when suspended.",
            source="Fitted: posterior mean of `gsomia fit evidence_2019 --seed 0` "
            "(results/fit/report.md), to 3 significant figures; 90% interval 0.234 - 0.892.",
        ),
        P(
            "audience_cost",
            float,
            6.87,
            0.0,
            10.0,
            unit="u (one-off)",
            meaning="Domestic cost of backing down from a public commitment, times the share "
            "of the public favouring termination (Fearon 1994).",
            source="Fitted: posterior mean of `gsomia fit evidence_2019 --seed 0` "
            "(results/fit/report.md), to 3 significant figures; 90% interval 4.11 - 9.8.",
        ),
        P(
            "trade_damage",
            float,
            1.0,
            0.0,
            5.0,
            unit="u/month at full curbs",
            meaning="Economic damage of Tokyo's export curbs at full level (targeted controls "
            "+ white-list removal); split by each side's exposure.",
            source="Chip/display makers' dependence on three Japanese materials (2019).",
        ),
        P(
            "security_value",
            float,
            1.0,
            0.0,
            5.0,
            unit="u/month",
            meaning="Monthly value of the pact's intelligence over the TISA fallback, at "
            "threat 1 and full trust (Seoul; Tokyo and Washington scale it by their weights).",
            source="Unit of account.",
        ),
        P(
            "china_influence",
            float,
            0.15,
            0.0,
            3.0,
            unit="u/month",
            meaning="Beijing's inducement to Seoul for distancing from the triangle, and "
            "Beijing's gain from a weakened triangle.",
            source="Hand-set, not fitted (tuned by hand to the 2019 sequence): "
            "Beijing's inducement can tip Seoul only when the other forces are "
            "close (Beijing called the pact part of US containment).",
        ),
        P(
            "japan_resolve",
            float,
            1.0,
            0.0,
            3.0,
            unit="u/month per grievance unit",
            meaning="Tokyo's domestic reward for a hard line on the forced-labour dispute "
            "(applied to its curbs), and its cost of backing down.",
            source="Unit of account for Tokyo's hardline reward (with grievance_growth and "
            "japan_exposure it times the July 2019 curbs).",
        ),
        P(
            "rationality",
            float,
            60.0,
            0.0,
            100.0,
            unit="1/u",
            meaning="Logit precision lambda of all decisions (0 = uniform random, large = "
            "best response); McKelvey & Palfrey 1995.",
            source="Hand-set (tuned to the 2019 sequence before beliefs were consistent); "
            "not fitted: left out of `gsomia fit evidence_2019` (a first fit of 15 "
            "parameters left it unidentified; configs/targets/evidence_2019.toml).",
        ),
        P(
            "opinion_sensitivity",
            float,
            1.0,
            0.0,
            5.0,
            unit="x",
            meaning="Scale of how strongly events (curbs, notice, US pressure, missile "
            "launches, talks) move Korean opinion each month.",
            source="Hand-set (tuned to the 2019 sequence before beliefs were consistent); "
            "not fitted: left out of `gsomia fit evidence_2019` (a first fit of 15 "
            "parameters left it unidentified; configs/targets/evidence_2019.toml).",
        ),
        P(
            "nk_threat",
            float,
            1.0,
            0.0,
            4.0,
            unit="x baseline",
            meaning="North Korean threat level multiplying the security value of the pact.",
            source="Baseline 2019 (repeated short-range launches).",
        ),
        # ---- further payoff weights ----------------------------------------------------
        P(
            "tisa_fallback",
            float,
            0.4,
            0.0,
            1.0,
            unit="share",
            meaning="Share of the pact's intelligence still available through TISA (Dec 2014) "
            "if the pact lapses; security payoffs use (1 - tisa_fallback).",
            source="TISA routes North-Korea information via the US; assumption.",
        ),
        P(
            "trust_loss",
            float,
            0.65,
            0.0,
            1.0,
            unit="share per curb level",
            meaning="How much Seoul's trust in sharing with Tokyo (and so its value of the "
            "pact) falls at full curbs: the 'grave change' argument of 2019-08-22.",
            source="Seoul's NSC statement, 2019-08-22.",
        ),
        P(
            "opinion_weight",
            float,
            0.706,
            0.0,
            5.0,
            unit="u/month",
            meaning="Seoul's approval gain from a hard stance when the public leans toward "
            "termination (and loss when it leans against); Putnam 1988 two-level game.",
            source="Fitted: posterior mean of `gsomia fit evidence_2019 --seed 0` "
            "(results/fit/report.md), to 3 significant figures; 90% interval 0.422 - 1.13.",
        ),
        P(
            "suspension_face",
            float,
            0.5,
            0.0,
            1.0,
            unit="share",
            meaning="Audience cost of a conditional suspension relative to a full rescission "
            "(the notice is held, not withdrawn).",
            source="Seoul stressed it 'could terminate at any moment' (2019-11-22).",
        ),
        P(
            "face_saving",
            float,
            0.7,
            0.0,
            1.0,
            unit="share",
            meaning="Reduction of Seoul's audience cost when the reversal is a symmetric "
            "pause: Tokyo offers talks and Seoul suspends its WTO complaint the same month.",
            source="Hand-set (tuned to the 2019 sequence before beliefs were consistent); "
            "not fitted: left out of `gsomia fit evidence_2019` (a first fit of 15 "
            "parameters left it unidentified; configs/targets/evidence_2019.toml).",
        ),
        P(
            "korea_exposure",
            float,
            1.0,
            0.0,
            2.0,
            unit="share of trade_damage",
            meaning="Seoul's share of the curbs' damage (scales the Seoul-Tokyo edge's trade "
            "dependence).",
            source="Korean chip makers' reliance on Japanese materials.",
        ),
        P(
            "japan_exposure",
            float,
            0.82,
            0.0,
            2.0,
            unit="share of trade_damage",
            meaning="Tokyo's share of the curbs' damage (lost exports).",
            source="Hand-set (tuned to the 2019 sequence before beliefs were consistent); "
            "not fitted: left out of `gsomia fit evidence_2019` (a first fit of 15 "
            "parameters left it unidentified; configs/targets/evidence_2019.toml).",
        ),
        P(
            "boycott_damage",
            float,
            0.471,
            0.0,
            3.0,
            unit="u/month at full boycott",
            meaning="Damage to Tokyo of the Korean consumer boycott (share of citizens "
            "boycotting, while curbs stand).",
            source="Fitted: posterior mean of `gsomia fit evidence_2019 --seed 0` "
            "(results/fit/report.md), to 3 significant figures; 90% interval 0.252 - 0.854.",
        ),
        P(
            "wto_cost",
            float,
            0.25,
            0.0,
            3.0,
            unit="u (one-off)",
            meaning="Seoul's cost of filing a WTO complaint (litigation, diplomatic capital).",
            source="Assumption.",
        ),
        P(
            "wto_pressure",
            float,
            0.1,
            0.0,
            3.0,
            unit="u/month",
            meaning="Tokyo's cost of a standing WTO complaint against its curbs (legal and "
            "reputational risk).",
            source="Hand-set, not fitted (tuned by hand to the 2019 sequence): "
            "below the cost of talks, so Tokyo offers talks to save the pact, "
            "not merely to stop the WTO case.",
        ),
        P(
            "talks_cost",
            float,
            0.2,
            0.0,
            3.0,
            unit="u/month per grievance unit",
            meaning="Tokyo's domestic cost of ongoing working-level talks, times resolve and "
            "grievance (talks look soft).",
            source="Hand-set (tuned to the 2019 sequence before beliefs were consistent); "
            "not fitted: left out of `gsomia fit evidence_2019` (a first fit of 15 "
            "parameters left it unidentified; configs/targets/evidence_2019.toml).",
        ),
        P(
            "lift_face",
            float,
            8.0,
            0.0,
            20.0,
            unit="months of hardline reward",
            meaning="Tokyo's one-off cost of lifting its curbs, in months of the hardline "
            "reward it gives up.",
            source="Hand-set, not fitted (tuned by hand to the 2019 sequence): "
            "lifting the curbs stays off the table through 2019, as it did.",
        ),
        P(
            "grievance_initial",
            float,
            0.0,
            0.0,
            5.0,
            unit="grievance units",
            meaning="Tokyo's grievance over the forced-labour ruling at scenario start.",
            source="The ruling itself (2018-10-30) adds 0.2 through the config's exogenous event.",
        ),
        P(
            "grievance_growth",
            float,
            0.125,
            0.0,
            1.0,
            unit="grievance units/month",
            meaning="Monthly growth of Tokyo's grievance while the ruling is enforced (asset "
            "seizures advance); a trend no government's move changes.",
            source="Fitted: posterior mean of `gsomia fit evidence_2019 --seed 0` "
            "(results/fit/report.md), to 3 significant figures; 90% interval 0.103 - 0.154.",
        ),
        P(
            "tokyo_security_weight",
            float,
            0.5,
            0.0,
            3.0,
            unit="x security_value",
            meaning="Tokyo's value of the pact relative to Seoul's.",
            source="Hand-set, not fitted (tuned by hand to the 2019 sequence): "
            "Tokyo wanted to keep GSOMIA but not at the price of its curbs "
            "(DOMAIN.md).",
        ),
        P(
            "us_security_weight",
            float,
            1.5,
            0.0,
            5.0,
            unit="x security_value",
            meaning="Washington's value of the pact ('foundational' to trilateral security).",
            source="Congress resolution, 2019-11-21.",
        ),
        P(
            "us_pressure_cost",
            float,
            1.8,
            0.0,
            5.0,
            unit="u/month at full pressure",
            meaning="Washington's cost of pressing Seoul (credibility, friction).",
            source="Fitted: posterior mean of `gsomia fit evidence_2019 --seed 0` "
            "(results/fit/report.md), to 3 significant figures; 90% interval 0.72 - 2.87.",
        ),
        P(
            "us_tokyo_pressure_cost",
            float,
            1.5,
            0.0,
            10.0,
            unit="u/month at full pressure",
            meaning="Washington's cost of pressing Tokyo on trade.",
            source="Washington avoided visibly pressing Tokyo (DOMAIN.md).",
        ),
        P(
            "tokyo_pressure_sensitivity",
            float,
            1.0,
            0.0,
            3.0,
            unit="x us_pressure_weight",
            meaning="How much US pressure on Tokyo costs Tokyo per curb level.",
            source="Assumption.",
        ),
        P(
            "us_baseline_displeasure",
            float,
            0.2,
            0.0,
            2.0,
            unit="pressure units",
            meaning="Alliance cost Seoul bears for defiance even without active pressure "
            "(lasting damage if the pact lapses).",
            source="Assumption.",
        ),
        P(
            "inducement_cost",
            float,
            0.3,
            0.0,
            3.0,
            unit="u/month",
            meaning="Beijing's cost of a full inducement (rhetoric costs a fifth).",
            source="Hand-set, not fitted (tuned by hand to the 2019 sequence): "
            "Beijing does not spend on inducements when Seoul is not defiant.",
        ),
        # ---- dynamics --------------------------------------------------------------------
        P(
            "discount",
            float,
            0.95,
            0.5,
            1.0,
            unit="per month",
            meaning="Monthly discount factor of the governments' lookahead.",
        ),
        P(
            "terminal_months",
            float,
            12.0,
            0.0,
            60.0,
            unit="months",
            meaning="Months of the resulting state's payoff valued after the next deadline "
            "(the horizon of the backward induction).",
        ),
        P(
            "lookahead_months",
            int,
            12,
            1,
            24,
            unit="months",
            meaning="Maximum months of backward induction (to the next deadline).",
        ),
        P(
            "postpone_months",
            int,
            3,
            1,
            24,
            unit="months",
            meaning="How far a postponed signing moves (state 'negotiating').",
        ),
        P(
            "n_citizens",
            int,
            2000,
            10,
            1_000_000,
            unit="citizens",
            meaning="Size of the Korean public on its social graph.",
            sweepable=False,
        ),
        P(
            "citizen_degree",
            int,
            8,
            2,
            100,
            unit="neighbours",
            meaning="Mean number of neighbours of a citizen (Watts-Strogatz small world).",
        ),
        P(
            "initial_opinion",
            float,
            0.458,
            0.0,
            1.0,
            unit="share",
            meaning="Mean initial support for a hard line (scrapping the pact).",
            source="Fitted: posterior mean of `gsomia fit evidence_2019 --seed 0` "
            "(results/fit/report.md), to 3 significant figures; 90% interval 0.312 - 0.566.",
        ),
        P(
            "opinion_conformity",
            float,
            0.2,
            0.0,
            1.0,
            unit="share",
            meaning="Weight of neighbours' opinion in a citizen's monthly update "
            "(Friedkin & Johnsen 1990); the rest is the citizen's predisposition.",
            source="Hand-set, not fitted (tuned by hand to the 2019 sequence): "
            "opinion reacts within a month to the curbs (boycott started in "
            "July 2019).",
        ),
        P(
            "opinion_noise",
            float,
            0.02,
            0.0,
            0.5,
            unit="opinion units",
            meaning="Standard deviation of idiosyncratic monthly opinion shocks.",
        ),
        P(
            "undecided_band",
            float,
            0.05,
            0.0,
            0.5,
            unit="opinion units",
            meaning="Half-width of the band around 0.5 in which a polled citizen is undecided "
            "(neither for ending nor for keeping the pact).",
            source="Hand-set (tuned to the 2019 sequence before beliefs were consistent); "
            "not fitted: left out of `gsomia fit evidence_2019` (a first fit of 15 "
            "parameters left it unidentified; configs/targets/evidence_2019.toml).",
        ),
        P(
            "boycott_threshold",
            float,
            0.65,
            0.0,
            1.0,
            unit="opinion",
            meaning="Opinion above which a citizen boycotts Japanese goods while curbs stand.",
            source="Assumption: the committed third of the public boycotted (July-Aug 2019).",
        ),
        P(
            "nk_launch_rate",
            float,
            0.7,
            0.0,
            10.0,
            unit="launch events/month",
            meaning="Poisson rate of North Korean missile-launch events.",
            source="2019: launches in May, Jul, Aug, Oct, Nov.",
        ),
        P(
            "nk_launch_effect",
            float,
            0.15,
            0.0,
            2.0,
            unit="threat per launch",
            meaning="Rise of the threat multiplier per recent launch.",
        ),
        P(
            "nk_memory",
            float,
            0.5,
            0.0,
            0.99,
            unit="per month",
            meaning="Share of the previous month's launch effect that persists.",
        ),
        # ---- behavioural constants that used to live in the modules -----------------
        P(
            "suspended_defiance",
            float,
            0.25,
            0.0,
            1.0,
            unit="share",
            meaning="Seoul's defiance of Washington while its notice is suspended, as a share "
            "of a standing notice's (alliance cost, Beijing's gain).",
            source="Washington welcomed the 2019-11-22 suspension as a climb-down. " + HAND,
        ),
        P(
            "suspended_hardness",
            float,
            0.5,
            0.0,
            1.0,
            unit="share",
            meaning="Seoul's hardness toward Tokyo while its notice is suspended, as a share of "
            "a standing notice's (approval when the public leans to termination).",
            source="Seoul said it 'could terminate at any moment' (2019-11-22). " + HAND,
        ),
        P(
            "wto_hardness",
            float,
            0.3,
            0.0,
            1.0,
            unit="share",
            meaning="Hardness a standing WTO complaint adds to Seoul's stance.",
            source=HAND,
        ),
        P(
            "paused_wto_hardness",
            float,
            0.15,
            0.0,
            1.0,
            unit="share",
            meaning="Hardness a paused WTO complaint adds (it can resume).",
            source=HAND,
        ),
        P(
            "talks_prospect",
            float,
            0.15,
            0.0,
            1.0,
            unit="share",
            meaning="Share of the curbs' damage to Seoul that running talks are expected to "
            "recover.",
            source="Seoul would reconsider only if Tokyo retracted the curbs (Aug 2019). " + HAND,
        ),
        P(
            "wto_pause_face",
            float,
            0.1,
            0.0,
            1.0,
            unit="share of audience_cost",
            meaning="Seoul's audience cost of pausing its WTO complaint: a small step back on "
            "trade, far cheaper than one on the pact.",
            source=HAND,
        ),
        P(
            "postpone_cost",
            float,
            0.1,
            0.0,
            5.0,
            unit="u (one-off)",
            meaning="Seoul's cost of postponing a scheduled signing.",
            source="2012: the signing was postponed an hour before it. " + HAND,
        ),
        P(
            "notice_tension",
            float,
            0.05,
            0.0,
            1.0,
            unit="trust",
            meaning="Strain on Seoul's trust in Tokyo while a termination notice stands or is "
            "held in abeyance (Tokyo's protest, 2019-08-23).",
            source=HAND,
        ),
        P(
            "rhetoric_strength",
            float,
            0.3,
            0.0,
            1.0,
            unit="share of china_influence",
            meaning="Pull of Beijing's rhetoric on Seoul, as a share of an inducement's.",
            source=HAND,
        ),
        P(
            "rhetoric_cost",
            float,
            0.2,
            0.0,
            1.0,
            unit="share of inducement_cost",
            meaning="Beijing's cost of rhetoric, as a share of an inducement's.",
            source=HAND,
        ),
        P(
            "supply_diversification",
            float,
            0.1,
            0.0,
            0.5,
            unit="share of dependence",
            meaning="Share of Korea's dependence on Japanese materials that its firms replace "
            "while curbs stand.",
            source="The localisation drive that followed July 2019. " + HAND,
        ),
        P(
            "talks_relief",
            float,
            0.1,
            0.0,
            0.5,
            unit="trust",
            meaning="Seoul's trust in Tokyo restored while working-level talks on the curbs run.",
            source=HAND,
        ),
        P(
            "talks_grievance_relief",
            float,
            0.0,
            0.0,
            1.0,
            unit="share of grievance",
            meaning="Share of Tokyo's grievance that stops weighing on its choices while talks "
            "on the curbs run (talks address the ruling's fallout).",
            source=HAND,
        ),
        P(
            "opinion_rewiring",
            float,
            0.1,
            0.0,
            1.0,
            unit="probability",
            meaning="Watts-Strogatz rewiring probability of the citizens' social graph: local "
            "ties with a few long ones.",
            source="Watts & Strogatz 1998. " + HAND,
        ),
        P(
            "predisposition_concentration",
            float,
            2.5,
            0.1,
            100.0,
            unit="Beta concentration",
            meaning="Concentration of citizens' predispositions around initial_opinion "
            "(2.5: a split public, sd about 0.26).",
            source=HAND,
        ),
        P(
            "curb_anger",
            float,
            0.282,
            0.0,
            1.0,
            unit="opinion per month",
            meaning="Monthly push toward a hard line while any curbs stand (the July 2019 "
            "boycott mood), before opinion_sensitivity.",
            source="Fitted: posterior mean of `gsomia fit evidence_2019 --seed 0` "
            "(results/fit/report.md), to 3 significant figures; 90% interval 0.0762 - 0.491.",
        ),
        P(
            "curb_escalation",
            float,
            0.02,
            0.0,
            1.0,
            unit="opinion per month",
            meaning="Extra monthly push per share of the full curbs (the August 2019 white-list "
            "removal).",
            source=HAND,
        ),
        P(
            "rally",
            float,
            0.01,
            0.0,
            1.0,
            unit="opinion per month",
            meaning="Monthly push while Seoul stands firm (notice pending or pact terminated): "
            "rally round the flag.",
            source="Hand-set (tuned to the 2019 sequence before beliefs were consistent); "
            "not fitted: left out of `gsomia fit evidence_2019` (a first fit of 15 "
            "parameters left it unidentified; configs/targets/evidence_2019.toml).",
        ),
        P(
            "talks_calm",
            float,
            0.05,
            0.0,
            1.0,
            unit="opinion per month",
            meaning="Monthly pull away from a hard line while working-level talks run.",
            source=HAND,
        ),
        P(
            "launch_fear",
            float,
            0.015,
            0.0,
            1.0,
            unit="opinion per launch",
            meaning="Monthly pull away from a hard line per unit of recent North Korean "
            "launches: a threat raises the pact's value.",
            source=HAND,
        ),
        P(
            "pressure_polarisation",
            float,
            0.06,
            0.0,
            1.0,
            unit="opinion at full pressure",
            meaning="At full US pressure, the push times (2 x predisposition - 1): alliance "
            "supporters move toward the pact, nationalists harden (rallies, Nov 2019).",
            source=HAND,
        ),
    ]
}
del HAND  # P stays: the short name actor modules declare their parameters with

SCENARIO_KEYS = tuple(k for k, p in PARAMETERS.items() if p.group == "scenario")
TREATY_KEYS = tuple(k for k, p in PARAMETERS.items() if p.group == "treaty")
MODEL_KEYS = tuple(k for k, p in PARAMETERS.items() if p.group == "parameters")
HEADLINE = (
    "us_pressure_weight",
    "audience_cost",
    "trade_damage",
    "security_value",
    "china_influence",
    "japan_resolve",
    "rationality",
    "opinion_sensitivity",
    "nk_threat",
)


def defaults(registry: Mapping[str, Param] | None = None) -> dict[str, Any]:
    """A fresh dict of every parameter's default (of ``registry``; default: the central
    one, ``PARAMETERS``)."""
    return {k: p.default for k, p in (PARAMETERS if registry is None else registry).items()}


def actor_parameters(actors: Sequence[Any] = ()) -> dict[str, Param]:
    """The parameters the actor classes ``actors`` declare (their ``parameters`` class
    attribute, a tuple of ``Param``), by name.

    An actor's parameter is named ``<actor>.<name>``: its actor's name (``cls.actor``), a
    dot and a Python identifier (``pyongyang.launch_cost``). It lives in ``[parameters]``
    (in TOML, the sub-table ``[parameters.<actor>]``), and the model reads it as
    ``p.<actor>.<name>``. ConfigError for a declaration that is not a ``Param``, a name
    that is a central parameter's or outside its actor's namespace, a namespace that is a
    central parameter's name, a name declared twice, or a default outside its own range.
    """
    out: dict[str, Param] = {}
    for cls in actors:
        declared = getattr(cls, "parameters", ())
        if not declared:
            continue
        actor = getattr(cls, "actor", cls.__name__)
        where = f"actor {cls.__module__}:{cls.__qualname__}"
        allowed = f"'{actor}.<name>' (the actor's name, a dot, a Python identifier)"
        if not isinstance(declared, tuple | list):
            raise ConfigError(
                f"{where}: invalid value {declared!r} for 'parameters'; allowed: a tuple of "
                "Param (model.parameters.Param)"
            )
        if actor in PARAMETERS:
            raise ConfigError(
                f"{where}: actor name {actor!r} collides with the central parameter "
                f"'{actor}', so its parameters' namespace would too; allowed: an actor "
                "name that is not a central parameter's"
            )
        for p in declared:
            if not isinstance(p, Param):
                raise ConfigError(
                    f"{where}: invalid parameter declaration {p!r}; allowed: a Param "
                    "(model.parameters.Param)"
                )
            if p.name in PARAMETERS:
                raise ConfigError(
                    f"{where}: parameter '{p.name}' collides with the central parameter "
                    f"of that name; allowed: {allowed}"
                )
            head, dot, tail = p.name.partition(".")
            if head != actor or not dot or not tail.isidentifier():
                raise ConfigError(f"{where}: invalid parameter name {p.name!r}; allowed: {allowed}")
            if p.name in out:
                raise ConfigError(
                    f"{where}: parameter '{p.name}' is declared twice; allowed: each name once"
                )
            if p.group != "parameters":
                raise ConfigError(
                    f"{where}: invalid group {p.group!r} for '{p.name}'; allowed: "
                    "'parameters' (an actor's parameters live in [parameters.<actor>])"
                )
            p.coerce(p.default, f"{where}: default of")
            out[p.name] = p
    return out


def registry(actors: Sequence[Any] = ()) -> dict[str, Param]:
    """The parameters of a model whose cast is ``actors`` (classes): the central ones
    (``PARAMETERS``) then those the actors declare (``actor_parameters``)."""
    extra = actor_parameters(actors)
    return PARAMETERS if not extra else PARAMETERS | extra


def suggest(key: str, known: list[str] | tuple[str, ...] | None = None) -> str:
    """' (did you mean 'x'?)' for a near miss, else ''."""
    pool = list(PARAMETERS if known is None else known)
    close = difflib.get_close_matches(key, pool, n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def reject_unknown(
    given: Mapping[str, Any],
    allowed: Sequence[str],
    where: str,
    *,
    kind: str = "key",
    prefix: str = "",
    scope: str = "",
    show_value: bool = True,
    hint: Callable[[str], str] | None = None,
) -> None:
    """The one "unknown key" check of every TOML table and keyword set (scenario configs,
    sweep specs, constructor keywords): ConfigError for the first key of ``given`` not in
    ``allowed``, naming it (as ``prefix`` + key), its value, the nearest allowed key and
    every allowed key (``in scope``); ``hint(key)`` may add a note (e.g. its right table)."""
    for key, value in given.items():
        if key in allowed:
            continue
        shown = f" (value {value!r})" if show_value else ""
        note = hint(str(key)) if hint is not None else ""
        in_scope = f" in {scope}" if scope else ""
        raise ConfigError(
            f"{where}: unknown {kind} '{prefix}{key}'{shown}{note}{suggest(str(key), allowed)}; "
            f"allowed {kind}s{in_scope}: " + ", ".join(allowed)
        )


def require_table(value: Any, where: str, name: str, keys: Sequence[str] = ()) -> Mapping[str, Any]:
    """``value`` if it is a TOML table; else ConfigError naming ``name``."""
    if not isinstance(value, Mapping):
        with_keys = f" with keys {', '.join(keys)}" if keys else ""
        raise ConfigError(
            f"{where}: invalid value {value!r} for '{name}'; allowed: a table{with_keys}"
        )
    return value


def validate(
    values: Mapping[str, Any],
    source: str = "constructor",
    registry: Mapping[str, Param] | None = None,
) -> dict[str, Any]:
    """Check keys, types and ranges against ``registry`` (default: the central one;
    ``registry(actors)`` adds a cast's own); return the coerced values (only those given).

    Raises ConfigError naming ``source``, the key, the value and what is allowed; a
    misspelt key gets the nearest known key suggested.
    """
    known = PARAMETERS if registry is None else registry
    reject_unknown(values, tuple(known), source, hint=actor_hint)
    return {key: known[key].coerce(value, source) for key, value in values.items()}


def actor_hint(key: str) -> str:
    """A note for an unknown dotted key: an actor's parameter, of an actor not in the cast."""
    if "." not in key:
        return ""
    return (
        " (no actor of the cast declares it: an actor's parameters are known only with its "
        "class in 'actors')"
    )


def check_seed(rng: Any, source: str = "constructor") -> Any:
    """The ``rng`` argument if Mesa can use it as the run's one source of randomness (an
    integer seed >= 0, a numpy Generator or SeedSequence, or None); else ConfigError."""
    import numpy as np

    if rng is None or isinstance(rng, np.random.Generator | np.random.SeedSequence):
        return rng
    if isinstance(rng, int | np.integer) and not isinstance(rng, bool | np.bool_):
        if rng < 0:
            raise ConfigError(f"{source}: invalid value {rng!r} for 'rng'; allowed: {SEED_ALLOWED}")
        return int(rng)
    raise ConfigError(
        f"{source}: invalid value {rng!r} for 'rng' (wrong type); allowed: {SEED_ALLOWED}"
    )


def horizon_months(start: date, end: date) -> int:
    """Calendar months from the month of ``start`` to the month of ``end``, both counted."""
    return (end.year - start.year) * 12 + end.month - start.month + 1


NOTICE_STATES = ("notice_pending", "suspended")
"""The pact states in which 'notice_date' (and, when suspended, 'suspension_date') apply."""
CROSS_FIELD_RULES = {
    "end": f"on or after 'start', at most {MAX_HORIZON_MONTHS} months after it",
    "citizen_degree": "even, below 'n_citizens'",
    "notice_date": "only with pact_state 'notice_pending' or 'suspended'",
    "suspension_date": "only with pact_state 'suspended'",
    "notice_days": f"at most {ANNUAL_MAX_NOTICE_DAYS} with renewal 'annual'",
}
"""What ``check_consistency`` requires beyond each parameter's own range (for the table)."""


def treaty_calendar(values: Mapping[str, Any], signing: date | None = None) -> Any:
    """The pact's calendar (``model.calendar.PactCalendar``) under the treaty rules of
    ``values``, signed on ``signing`` (default: ``values["signing_date"]``)."""
    from model.calendar import PactCalendar

    return PactCalendar(
        values["signing_date"] if signing is None else signing,
        notice_days=values.get("notice_days", NOTICE_DAYS),
        renewal=values.get("renewal", RENEWAL),
    )


def check_consistency(values: Mapping[str, Any], source: str = "constructor") -> None:
    """Cross-field checks a single parameter cannot express."""
    start, end = values["start"], values["end"]
    if end < start:
        raise ConfigError(
            f"{source}: invalid value {end.isoformat()!r} for 'end' (before start "
            f"{start.isoformat()}); allowed: a date on or after 'start'"
        )
    if horizon_months(start, end) > MAX_HORIZON_MONTHS:
        raise ConfigError(
            f"{source}: invalid value {end.isoformat()!r} for 'end' ("
            f"{horizon_months(start, end)} months after 'start' {start.isoformat()}); "
            f"allowed: at most {MAX_HORIZON_MONTHS} months from 'start' to 'end'"
        )
    n, k = values["n_citizens"], values["citizen_degree"]
    if k % 2 or k >= n:
        raise ConfigError(
            f"{source}: invalid value {k!r} for 'citizen_degree' (n_citizens is {n}); "
            "allowed: an even integer below 'n_citizens' (each citizen links to k/2 "
            "neighbours on either side of the Watts-Strogatz ring)"
        )
    if values["renewal"] == "annual" and values["notice_days"] > ANNUAL_MAX_NOTICE_DAYS:
        raise ConfigError(
            f"{source}: invalid value {values['notice_days']!r} for 'notice_days' (renewal "
            f"is 'annual'); allowed: an integer in [1, {ANNUAL_MAX_NOTICE_DAYS}] with renewal "
            f"'annual' (a notice must fit in one one-year period), up to {MAX_NOTICE_DAYS} "
            "with renewal 'none'"
        )
    state = values["pact_state"]
    for key in ("notice_date", "suspension_date"):
        applies = NOTICE_STATES if key == "notice_date" else ("suspended",)
        if state not in applies and values[key] != PARAMETERS[key].default:
            raise ConfigError(
                f"{source}: invalid value {values[key].isoformat()!r} for '{key}' (pact_state "
                f"is {state!r}, which ignores it); allowed: '{key}' only with pact_state "
                + " or ".join(repr(s) for s in applies)
            )
    if state in ("notice_pending", "suspended") and values["notice_date"] > start:
        raise ConfigError(
            f"{source}: invalid value {values['notice_date'].isoformat()!r} for "
            f"'notice_date'; allowed: a date before 'start' when pact_state is {state!r}"
        )
    if state == "negotiating" and values["signing_date"] < start:
        raise ConfigError(
            f"{source}: invalid value {values['signing_date'].isoformat()!r} for "
            "'signing_date'; allowed: a scheduled signing on or after 'start' "
            f"({start.isoformat()}) when pact_state is 'negotiating'"
        )
    if state == "notice_pending":
        lapse = treaty_calendar(values).lapse_date_for_notice(values["notice_date"])
        if lapse < start:
            raise ConfigError(
                f"{source}: invalid value {values['notice_date'].isoformat()!r} for "
                f"'notice_date' (that notice lapsed on {lapse.isoformat()}, before 'start'); "
                "allowed: a notice still standing at 'start'"
            )
    if state == "suspended" and not (values["notice_date"] <= values["suspension_date"] < start):
        raise ConfigError(
            f"{source}: invalid value {values['suspension_date'].isoformat()!r} for "
            "'suspension_date'; allowed: a date between 'notice_date' and 'start' when "
            "pact_state is 'suspended'"
        )
    if state != "negotiating" and values["signing_date"] > start:
        raise ConfigError(
            f"{source}: invalid value {values['signing_date'].isoformat()!r} for "
            f"'signing_date'; allowed: a date before 'start' unless pact_state is "
            "'negotiating'"
        )
