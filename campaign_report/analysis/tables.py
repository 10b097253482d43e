"""DataFrame and notebook views of the result dataclasses.

Every section result (experiment, segments, RFM, model, offers) mixes in `Tabular`: its tuple-of-
dataclass fields become DataFrames (`frames()`, `to_frame()`), its scalar fields a field/value table,
and Jupyter shows both as HTML. Views only: nothing here computes a statistic.
"""

from __future__ import annotations

import dataclasses
import html
from typing import Any, ClassVar

import pandas as pd

HTML_ROWS = 20


def _row(item: Any, prefix: str = "") -> dict[str, Any]:
    """A dataclass as one flat row: nested dataclasses become prefixed columns."""
    out: dict[str, Any] = {}
    for f in dataclasses.fields(item):
        value = getattr(item, f.name)
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            out.update(_row(value, f"{prefix}{f.name}_"))
        else:
            out[f"{prefix}{f.name}"] = value
    return out


def records_frame(items: tuple[Any, ...] | list[Any]) -> pd.DataFrame:
    """Rows of dataclasses as a DataFrame (one column per field)."""
    return pd.DataFrame([_row(i) for i in items])


def _is_table(value: Any) -> bool:
    return isinstance(value, tuple) and bool(value) and all(
        dataclasses.is_dataclass(v) and not isinstance(v, type) for v in value)


def _is_scalar(value: Any) -> bool:
    return value is None or isinstance(value, (str, int, float, bool))


def readable_cell(value: Any) -> Any:
    """A cell as a reader reads it: 4 significant digits, an interval as "low … high", a list joined, nothing
    missing shown as None, NaN or a Python tuple."""
    if value is None or (isinstance(value, float) and value != value):
        return "—"
    if isinstance(value, bool):
        return value
    if isinstance(value, float):
        return f"{value:,.4g}" if abs(value) < 1e6 else f"{value:,.0f}"
    if isinstance(value, tuple) and len(value) == 2 and all(isinstance(v, (int, float)) for v in value):
        return f"{readable_cell(float(value[0]))} … {readable_cell(float(value[1]))}"
    if isinstance(value, (tuple, list)):
        return ", ".join(str(readable_cell(v)) for v in value) or "—"
    if isinstance(value, dict):
        return ", ".join(f"{k}: {readable_cell(v)}" for k, v in value.items()) or "—"
    return value


class Tabular:
    """Mixin for frozen result dataclasses: `to_frame()`, `frames()` and an HTML view for notebooks."""

    PRIMARY: ClassVar[str] = ""

    def frames(self) -> dict[str, pd.DataFrame]:
        """Every table of this result by name, and `summary` (its scalar fields)."""
        out: dict[str, pd.DataFrame] = {}
        scalars = {}
        for f in dataclasses.fields(self):  # type: ignore[arg-type]
            value = getattr(self, f.name)
            if _is_table(value):
                out[f.name] = records_frame(value)
            elif dataclasses.is_dataclass(value) and not isinstance(value, type):
                scalars.update(_row(value, f"{f.name}_"))
            elif _is_scalar(value):
                scalars[f.name] = value
        out["summary"] = pd.DataFrame({"field": list(scalars), "value": list(scalars.values())})
        return out

    def to_frame(self, table: str | None = None) -> pd.DataFrame:
        """One table as a DataFrame: the main one by default, or any name from `frames()`."""
        frames = self.frames()
        name = table or self.PRIMARY or next(iter(frames))
        if name not in frames:
            raise KeyError(f"no table {name!r}; tables: {', '.join(frames)}")
        return frames[name]

    def _repr_html_(self) -> str:
        """A section on its own: its main table and scalar fields, cells readable (the whole Results displays as
        the documents' formatted view, see renderers/notebook.py)."""
        frames = self.frames()
        parts = [f"<h4>{html.escape(type(self).__name__)}</h4>"]
        primary = self.PRIMARY or next(iter(frames))
        for name in (primary, "summary"):
            if name in frames and not frames[name].empty:
                parts.append(f"<p><b>{html.escape(name)}</b></p>")
                parts.append(frames[name].head(HTML_ROWS).map(readable_cell).to_html(index=False, na_rep="—"))
        others = [n for n in frames if n not in (primary, "summary")]
        if others:
            parts.append("<p>more: " + ", ".join(f"<code>to_frame({html.escape(repr(n))})</code>"
                                                 for n in others) + "</p>")
        return "\n".join(parts)
