"""User-facing errors.

A `KitError` is a mistake the user can fix (missing data, bad parameter, malformed file).
The CLI, run_all.sh and the notebooks print it as one clear message without a traceback;
anything else is a bug and keeps its traceback.
"""
from __future__ import annotations


class KitError(Exception):
    """An error caused by the user's input, with what was expected and how to fix it."""

    def __init__(self, what: str, *, where: str | None = None, fix: str | None = None):
        self.what, self.where, self.fix = what, where, fix
        super().__init__(self.message())

    def message(self) -> str:
        lines = [self.what]
        if self.where:
            lines.append(f"  looked in: {self.where}")
        if self.fix:
            lines.append(f"  how to fix: {self.fix}")
        return "\n".join(lines)

    def _render_traceback_(self) -> list[str]:
        # IPython/Jupyter (and so papermill) show this instead of a traceback: a notebook
        # parameter mistake reads as one message, like on the command line
        return [f"{type(self).__name__}: {self.message()}"]


class DataNotFound(KitError):
    """A data file or folder the kit needs is not where it looked."""


class BadData(KitError):
    """A data file exists but its content is not what the kit expects."""


class BadParameter(KitError):
    """A parameter (CLI flag, notebook parameter, API argument) has an invalid value."""
