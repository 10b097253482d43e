"""One number formatter per locale, with an explicit format per kind of KPI.

ru: "20 222 ₽", "1,68 %", "+4,4 п.п.", "3,1 млн ₽", dates dd.mm.yyyy; en: "₽20,222", "+$0.60", "1.68%",
"+4.4 pp", "$3.1M". Money below 10 units keeps its cents; counts take the right plural form.
Missing or non-finite numbers print as an em dash, never as NaN.
"""

from __future__ import annotations

import math
import re
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

# An abbreviation that ends a sentence ("усл. ед.", "п.п.") lends it its full stop.
DOUBLE_STOP = re.compile(r"(?<!\.)\.\.(?!\.)")


@lru_cache(maxsize=4)
def load_strings(language: str) -> dict[str, Any]:
    """The locale file for a language as nested dicts."""
    with open(LOCALE_DIR / f"{language}.toml", "rb") as fh:
        return tomllib.load(fh)


def _finite(x: float | None) -> TypeGuard[float]:
    return x is not None and isinstance(x, (int, float)) and math.isfinite(x)


def nest_parentheses(text: str) -> str:
    """Parentheses inside parentheses turned into brackets, as style guides in both languages ask:
    "(клиенты Новосибирска (вне кампании))" -> "(клиенты Новосибирска [вне кампании])". Unbalanced text (a
    smiley, a list "1)") is left as it is."""
    if text.count("(") < 2:
        return text
    out, depth = [], 0
    for ch in text:
        if ch == "(":
            out.append("(" if depth == 0 else "[")
            depth += 1
        elif ch == ")":
            if depth == 0:
                return text
            depth -= 1
            out.append(")" if depth == 0 else "]")
        else:
            out.append(ch)
    return "".join(out) if depth == 0 else text


class Formatter:
    """Formats numbers, money, shares and dates for one locale."""

    def __init__(self, language: str, currency: str, names: dict[str, str] | None = None) -> None:
        self.language = language
        self.currency = currency
        # The config's business names for the data's own words (columns, values: [report.names]): a feature or
        # a value is said as the user calls it wherever it is printed.
        self.names = dict(names or {})
        self.strings = load_strings(language)
        fmt = self.strings["fmt"]
        self.decimal, self.thousands = fmt["decimal"], fmt["thousands"].replace(" ", NBSP)
        self._percent, self._pp, self._date, self._money = fmt["percent"], fmt["pp"], fmt["date"], fmt["money"]
        self._money_scaled = fmt["money_scaled"]
        (self._open, self._close), (self._inner_open, self._inner_close) = \
            fmt["quote"].split("{}"), fmt["quote_inner"].split("{}")

    def t(self, key: str, **values: Any) -> str:
        """A locale string by dotted key, filled with values; a quoted value that quotes something itself gets
        the inner kind of quotes («Рассылка „Весна“», “Big baskets: ‘Обувь’”), and a parenthesis inside a
        parenthesis becomes brackets. A value ending in an abbreviation's full stop ("усл. ед.") at the end of a
        sentence takes the sentence's own: one full stop, not two."""
        node: Any = self.strings
        for part in key.split("."):
            node = node[part]
        if not values:
            return str(node)
        return nest_parentheses(self.nest_quotes(DOUBLE_STOP.sub(".", str(node).format(**values))))

    def nest_quotes(self, text: str) -> str:
        """Quotation marks inside quotation marks turned into the inner kind, at any depth."""
        if text.count(self._open) < 2:
            return text
        out, depth = [], 0
        for ch in text:
            if ch == self._open:
                out.append(self._open if depth == 0 else self._inner_open)
                depth += 1
            elif ch == self._close and depth > 0:
                depth -= 1
                out.append(self._close if depth == 0 else self._inner_close)
            else:
                out.append(ch)
        return "".join(out)

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

    def quote(self, text: str) -> str:
        """Text in the language's quotation marks: «…» or “…”; quotes already inside it become the inner kind
        („…“ in Russian, ‘…’ in English), so a name that quotes a category does not close the outer quote."""
        return self.nest_quotes(self._open + text + self._close)

    def money_digits(self, *values: float | None) -> int:
        """Decimals for money shown together: cents when the smallest non-zero amount is below 10 units and none
        reaches 100 ($0.35 … $12.00); whole units once one does ("+5 ₽ … +1 552 ₽", not "+5,20 ₽ … +1 551,87 ₽")."""
        sizes = [abs(v) for v in values if _finite(v) and v != 0]
        return 2 if sizes and min(sizes) < 10 and max(sizes) < 100 else 0

    def money(self, x: float | None, digits: int | None = None, sign: bool = False) -> str:
        """An amount with its currency; the sign stands before the symbol ("+$0.60", "−1 200 ₽").

        Without `digits` the precision follows the magnitude (money_digits).
        """
        if not _finite(x):
            return DASH
        digits = self.money_digits(x) if digits is None else digits
        body = self._money.format(self.number(abs(x), digits), currency=self.currency).replace(" ", NBSP)
        shown_zero = not self.number(abs(x), digits).strip("0" + self.decimal + self.thousands)
        if x < 0 and not shown_zero:
            return "−" + body
        return ("+" + body) if sign and x > 0 and not shown_zero else body

    def money_range(self, low: float | None, high: float | None, sign: bool = True) -> str:
        """An interval of amounts at one precision: "+$0.35 … +$0.85"."""
        digits = self.money_digits(low, high)
        return f"{self.money(low, digits, sign)} … {self.money(high, digits, sign)}"

    def money_short(self, x: float | None, sign: bool = False, like: float | None = None) -> str:
        """Large amounts for headlines: "3,1 млн ₽", "$310K"; below ten thousand as money(). `like`: the amount
        whose scale to use (an interval's ends in the scale of its estimate: "+$11.6K (+$7.7K … +$16.0K)")."""
        if not _finite(x):
            return DASH
        size = abs(like) if like is not None and _finite(like) else abs(x)
        for scale, key in ((1e9, "billion"), (1e6, "million"), (1e4, "thousand")):
            if size >= scale:
                value = abs(x) / (scale if key != "thousand" else 1e3)
                digits = 1 if value < 100 else 0
                text = self._money_scaled.format(self.number(value, digits), unit=self.strings["fmt"][key],
                                                 currency=self.currency).replace(" ", NBSP)
                return ("−" if x < 0 else "+" if sign and x > 0 else "") + text
        return self.money(x, sign=sign)

    def plural(self, n: float | None, noun: str) -> str:
        """A count with its noun in the right form: "1 клиент", "2 353 клиента", "5 клиентов", "1 customer"."""
        forms = self.strings["plural"][noun]
        if not _finite(n):
            return f"{DASH} {forms[-1]}"
        k = abs(int(n))
        if self.language == "ru":
            if k % 10 == 1 and k % 100 != 11:
                form = forms[0]
            elif 2 <= k % 10 <= 4 and not 12 <= k % 100 <= 14:
                form = forms[1]
            else:
                form = forms[2]
        else:
            form = forms[0] if k == 1 else forms[1]
        return f"{self.integer(n)}{NBSP}{form}"

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
            return self.money(x)
        return self.number(x, 2)

    def metric_diff(self, metric: str, x: float | None) -> str:
        if metric == "conversion":
            return self.pp(x)
        if metric in ("average_check", "arpu"):
            return self.money(x, sign=True)
        return self.number(x, 3, sign=True)

    def metric_range(self, metric: str, low: float | None, high: float | None) -> str:
        """An interval of a difference in the metric's unit, one precision for both ends."""
        if metric in ("average_check", "arpu"):
            return self.money_range(low, high)
        return f"{self.metric_diff(metric, low)} … {self.metric_diff(metric, high)}"

    def percent_range(self, low: float | None, high: float | None, digits: int = 1) -> str:
        """An interval of relative changes: "+3,8 % … +61,5 %"."""
        return f"{self.percent(low, digits, sign=True)} … {self.percent(high, digits, sign=True)}"
