"""Numbers, labels and the parameters' controls: how a value is printed, which control
sets it, and how typed text becomes a value (never raising: bad text is reported)."""

from __future__ import annotations

import math
from datetime import date
from typing import Any

import numpy as np

from model import HEADLINE, PARAMETERS

ADVANCED = tuple(k for k in PARAMETERS if k not in HEADLINE and k != "name")
"""Every other settable parameter (the scenario name is the scenario picker's)."""
DATE_FORMAT = "YYYY-MM-DD"


def num(value: float | None, digits: int = 2) -> str:
    """``value`` with ``digits`` decimals; a value that rounds to zero prints unsigned
    ("0.00", never "-0.00"); None prints as an empty string."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    text = f"{value:.{digits}f}"
    return f"{0.0:.{digits}f}" if float(text) == 0 else text


def pct(value: float, digits: int = 0) -> str:
    """A share as a percentage ("47%"); NaN prints as an empty string."""
    return "" if math.isnan(value) else f"{num(100 * value, digits)}%"


def number(value: float) -> str:
    """A range bound or value as a reader writes it: whole numbers with thousands
    separators ("1,000,000", never "1e+06"), others in up to 6 significant digits."""
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{float(value):.6g}"


def action_label(action: str) -> str:
    """A move as a reader says it ("raise pressure + press tokyo", "conditional
    suspension")."""
    return action.replace("+", " + ").replace("_", " ")


def param_label(name: str) -> str:
    """A parameter name as a control label."""
    return name.replace("_", " ")


def format_value(name: str, value: Any) -> str:
    """A parameter value with its unit, e.g. ``0.35 u/month per pressure level``. Never
    raises: a value of the wrong type (text typed into a date field) prints as typed."""
    p = PARAMETERS[name]
    if isinstance(value, date):
        text = value.isoformat()
    elif isinstance(value, bool | str) or p.kind is str:
        text = str(value)
    elif isinstance(value, int | float | np.integer | np.floating):
        text = f"{int(value):,}" if p.kind is int else f"{float(value):g}"
    else:
        text = str(value)
    return f"{text} {p.unit}".strip()


def help_text(name: str) -> str:
    """A parameter's meaning, range and default, as the control's help line."""
    p = PARAMETERS[name]
    text = p.meaning
    if p.low is not None and p.high is not None:
        text += f" Range {number(p.low)}–{number(p.high)}."
    return f"{text} Default {format_value(name, p.default)}."


def parse_seed(value: Any, default: int) -> tuple[int, str | None]:
    """The seed typed in the UI as a non-negative int, or ``(default, message)`` when it
    is not one."""
    if isinstance(value, bool):
        n = None
    elif isinstance(value, int | np.integer) or (isinstance(value, float) and value.is_integer()):
        n = int(value)
    elif isinstance(value, str) and not value.strip():
        return default, f"No seed given: ran with seed {default}."
    elif isinstance(value, str):
        try:
            n = int(value.strip())
        except ValueError:
            n = None
    else:
        n = None
    if n is None or n < 0:
        return default, (
            f"Seed {value!r} is not a whole number ≥ 0: ran with seed {default} instead. "
            "Type digits, e.g. 42, then press Reset."
        )
    return n, None


def parse_date(name: str, text: str) -> tuple[date | None, str | None]:
    """A date typed into parameter ``name``'s field: ``(date, None)``, or ``(None,
    message)`` naming the parameter, the text and the format allowed."""
    try:
        return date.fromisoformat(str(text).strip()), None
    except ValueError:
        return None, (
            f"{name}: {str(text)!r} is not a date; allowed: {DATE_FORMAT}, e.g. 2019-11-22 "
            "(the value in use stays until then)"
        )


def parse_text(text: str) -> tuple[str, None]:
    """Text typed into a text field, as typed (nothing to check)."""
    return text, None


def parse_int(label: str, text: str) -> tuple[int | None, str | None]:
    """A whole number typed into the field ``label``: ``(n, None)``, or ``(None,
    message)`` naming the field and the text."""
    try:
        return int(str(text).strip()), None
    except ValueError:
        return None, f"{label}: {str(text)!r} is not a whole number; allowed: digits, e.g. 20"


def slider_step(name: str) -> float:
    """A slider step for a parameter: the coarsest of 1, 0.1, 0.05, 0.01, 0.005, 0.001
    giving at least 50 positions on which the default and the lower bound lie exactly."""
    p = PARAMETERS[name]
    low, high = float(p.low), float(p.high)
    for step in (1.0, 0.1, 0.05, 0.01, 0.005, 0.001):
        on_grid = all(abs(v / step - round(v / step)) < 1e-9 for v in (low, float(p.default)))
        if (high - low) / step >= 50 and on_grid:
            return step
    return (high - low) / 100


def control_kind(name: str) -> str:
    """How a parameter is set on the page: ``slider``, ``int`` (a number field, for
    integer ranges too wide to slide), ``select``, ``date`` or ``text``."""
    p = PARAMETERS[name]
    if p.choices is not None:
        return "select"
    if p.kind is date:
        return "date"
    if p.kind is str:
        return "text"
    if p.kind is int and p.high is not None and p.low is not None and p.high - p.low > 1000:
        return "int"
    return "slider"


def same(a: Any, b: Any) -> bool:
    """Whether two control values are equal (numbers up to rounding)."""
    if isinstance(a, int | float) and isinstance(b, int | float) and not isinstance(a, bool):
        return math.isclose(float(a), float(b), abs_tol=1e-12)
    return a == b
