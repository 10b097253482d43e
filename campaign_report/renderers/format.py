"""One number formatter per locale, with an explicit format per kind of KPI.

ru: "20 222 ₽", "1,68 %", "+4,4 п.п.", dates dd.mm.yyyy; en: "₽20,222", "1.68%", "+4.4 pp".
Missing or non-finite numbers print as an em dash, never as NaN.
"""

from __future__ import annotations

import math
import sys
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeGuard

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10
    import tomli as tomllib

LOCALE_DIR = Path(__file__).resolve().parent.parent / "templates" / "locale"
NBSP = "\u00a0"
DASH = "—"


@lru_cache(maxsize=4)
def load_strings(language: str) -> dict[str, Any]:
    """The locale file for a language as nested dicts."""
    with open(LOCALE_DIR / f"{language}.toml", "rb") as fh:
        return tomllib.load(fh)


def _finite(x: float | None) -> TypeGuard[float]:
    return x is not None and isinstance(x, (int, float)) and math.isfinite(x)


class Formatter:
    """Formats numbers, money, shares and dates for one locale."""

    def __init__(self, language: str, currency: str) -> None:
        self.language = language
        self.currency = currency
        self.strings = load_strings(language)
        fmt = self.strings["fmt"]
        self.decimal, self.thousands = fmt["decimal"], fmt["thousands"].replace(" ", NBSP)
        self._percent, self._pp, self._date, self._money = fmt["percent"], fmt["pp"], fmt["date"], fmt["money"]

    def t(self, key: str, **values: Any) -> str:
        """A locale string by dotted key, filled with values."""
        node: Any = self.strings
        for part in key.split("."):
            node = node[part]
        return str(node).format(**values) if values else str(node)

    def number(self, x: float | None, digits: int = 0, sign: bool = False) -> str:
        if not _finite(x):
            return DASH
        text = f"{abs(x):,.{digits}f}".replace(",", "\x00").replace(".", self.decimal).replace("\x00",
                                                                                             self.thousands)
        if x < 0 and text.strip("0" + self.decimal + self.thousands):
            return "−" + text
        return ("+" + text) if sign and x > 0 else text

    def integer(self, x: float | None) -> str:
        return self.number(x, 0)

    def money(self, x: float | None, digits: int = 0, sign: bool = False) -> str:
        if not _finite(x):
            return DASH
        return self._money.format(self.number(x, digits, sign), currency=self.currency).replace(" ", NBSP)

    def percent(self, share: float | None, digits: int = 1, sign: bool = False) -> str:
        """A share (0.0168) as a percentage ("1,7 %")."""
        if not _finite(share):
            return DASH
        return self._percent.format(self.number(share * 100, digits, sign)).replace(" ", NBSP)

    def pp(self, diff: float | None, digits: int = 1) -> str:
        """A difference of shares in percentage points."""
        if not _finite(diff):
            return DASH
        return self._pp.format(self.number(diff * 100, digits, sign=True)).replace(" ", NBSP)

    def p_value(self, p: float | None) -> str:
        if not _finite(p):
            return DASH
        if p < 0.001:
            return "<" + NBSP + self.number(0.001, 3)
        return self.number(p, 3)

    def p_text(self, p: float | None) -> str:
        """"= 0,005" or "< 0,001": to follow a "p" in a sentence."""
        text = self.p_value(p)
        return text if text.startswith("<") else "=" + NBSP + text

    def date(self, value: str | date | None) -> str:
        if value in (None, "", "None"):
            return DASH
        d = value if isinstance(value, date) else datetime.fromisoformat(str(value)).date()
        return d.strftime(self._date)

    def metric_value(self, metric: str, x: float | None) -> str:
        """A KPI in its own unit: conversion as %, money metrics in currency, counts with 2 digits."""
        if metric == "conversion":
            return self.percent(x, 1)
        if metric in ("average_check", "arpu"):
            return self.money(x, 0)
        return self.number(x, 2)

    def metric_diff(self, metric: str, x: float | None) -> str:
        if metric == "conversion":
            return self.pp(x)
        if metric in ("average_check", "arpu"):
            return self.money(x, 0, sign=True)
        return self.number(x, 3, sign=True)
