"""User-facing errors: one clean line each, exit status 2 (bugs keep their traceback)."""

from __future__ import annotations

MAX_SHOWN_VALUE = 80  # characters of an offending value an error line shows


class UserError(Exception):
    """Bad config or bad input: the message is shown as one line, without a traceback."""

    exit_code = 2


class ConfigError(UserError):
    """A key in the config file is missing, unknown or has a wrong value.

    The problem is said once, without the file; the file the user actually ran ("october.toml", not
    always "config.toml") is put in front where the config is known (`in_file`).
    """

    def __init__(self, problem: str, file: str | None = None) -> None:
        self.problem, self.file = problem, file
        super().__init__(f"{file or 'config'}: {problem}")

    def in_file(self, file: str) -> ConfigError:
        """The same error naming `file`, unless it names one already."""
        return self if self.file is not None else ConfigError(self.problem, file)


def shown_value(value: object) -> str:
    """An offending value as an error line shows it: quoted, at most MAX_SHOWN_VALUE characters, control
    characters escaped (a value is evidence, not a place to print a file's content)."""
    text = str(value)
    cut = text[:MAX_SHOWN_VALUE]
    return repr(cut) + ("…" if len(text) > MAX_SHOWN_VALUE else "")


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
        shown = "" if value is None else f": {shown_value(value)}"
        super().__init__(f"{where}: {problem}{shown}")
        self.file, self.column, self.row, self.value = file, column, row, value
