"""Errors of the operate layer; their root, BoxofficeError, lives in the contracts."""

from contracts.errors import BoxofficeError

__all__ = ["BoxofficeError", "ComponentError"]


class ComponentError(BoxofficeError):
    """A stack component failed to install, start or become healthy.

    The message names the component, its log file and the last lines of that log, so the
    user does not have to go looking.
    """

    def __init__(self, component: str, problem: str, *, log_file: str | None = None,
                 log_tail: str | None = None) -> None:
        self.component = component
        self.problem = problem
        self.log_file = log_file
        self.log_tail = log_tail
        text = f"{component}: {problem}"
        if log_file:
            text += f"\n  log: {log_file}"
        if log_tail:
            indented = "\n".join("    " + line for line in log_tail.splitlines())
            text += f"\n  last lines:\n{indented}"
        super().__init__(text)
