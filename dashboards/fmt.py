"""Number formatting shared in spirit with assets/site.js (fmt): Latvian uses a decimal comma and a space
before %, English a decimal point; suppressed values print as the symbol 'c', missing as '–'."""
from __future__ import annotations

import math

DECIMALS = {"percent": 1, "points": 2, "ratio": 1, "lessons": 1, "km": 1, "eur": 0, "count": 0}


def fmt_value(value, unit: str, lang: str = "lv", flag: str | None = None) -> str:
    """A value for display. With a flag: the symbol alone when the value is withheld (public edition), the value
    followed by the symbol when it is present (internal edition)."""
    missing = value is None or (isinstance(value, float) and math.isnan(value))
    if flag:
        return flag if missing else f"{fmt_value(value, unit, lang)} {flag}"
    if missing:
        return "–"
    d = DECIMALS.get(unit, 2)
    text = f"{value:,.{d}f}"  # 12,345.6
    if lang == "lv":
        text = text.replace(",", "\u00a0").replace(".", ",")  # 12 345,6
    if unit == "percent":
        return text + ("\u00a0%" if lang == "lv" else "%")
    if unit == "eur":
        return text + "\u00a0€" if lang == "lv" else "€" + text
    return text


def school_year_label(year: int) -> str:
    """2024 -> '2024/25'."""
    return f"{year}/{(year + 1) % 100:02d}"
