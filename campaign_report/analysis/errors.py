"""User-facing errors: one clean line each, exit status 2 (bugs keep their traceback)."""

from __future__ import annotations


class UserError(Exception):
    """Bad config or bad input: the message is shown as one line, without a traceback."""

    exit_code = 2


class ConfigError(UserError):
    """A key in config.toml is missing, unknown or has a wrong value."""


class InputError(UserError):
    """A data file cannot be used; the message names the file, column, row and value."""

    def __init__(self, file: str, problem: str, column: str | None = None,
                 row: int | None = None, value: object = None) -> None:
        parts = [str(file)]
        if column is not None:
            parts.append(f"column '{column}'")
        if row is not None:
            parts.append(f"row {row}")
        where = ", ".join(parts)
        shown = "" if value is None else f": {str(value)[:80]!r}"
        super().__init__(f"{where}: {problem}{shown}")
        self.file, self.column, self.row, self.value = file, column, row, value
