"""The sandbox's one error of its own: it could not start or could not be reached."""

from __future__ import annotations

from cscor_tools.errors import CscorError


class SandboxError(CscorError):
    """The sandbox could not start, or its server stopped answering."""
