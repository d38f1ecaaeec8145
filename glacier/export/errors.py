"""What the exporter raises and warns.

::

    ExportError (GlacierError, ValueError)   a notebook that cannot be exported
    └── ExportDriftError                     ``check=True``: the module is stale; ``.diff`` says how
    ExportWarning (UserWarning)              the export worked but something needs a look
    └── CredentialWarning                    a literal in the notebook looks like a secret
"""

from __future__ import annotations

from glacier.errors import GlacierError

__all__ = ["ExportError", "ExportDriftError", "ExportWarning", "CredentialWarning"]


class ExportError(GlacierError, ValueError):
    """A notebook that cannot be exported (bad JSON, a cell that does not parse, no pipeline ...)."""


class ExportDriftError(ExportError):
    """The module on disk is not what the notebook exports today.

    ``diff`` is a unified diff from the module on disk to the fresh export.
    """

    def __init__(self, message: str, diff: str) -> None:
        super().__init__(message)
        self.diff = diff


class ExportWarning(UserWarning):
    """The export succeeded, but something in the notebook needs a look."""


class CredentialWarning(ExportWarning):
    """A literal in the notebook looks like a credential (the warning never repeats it)."""
