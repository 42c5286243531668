"""One application error type with stable codes; the API and the views turn it into one shape."""

from __future__ import annotations

from typing import Any

from django.utils.functional import Promise


class ApplicationError(Exception):
    """A domain rule refused an action. ``code`` is stable and documented; ``message`` is for people."""

    status = 400

    def __init__(self, code: str, message: str | Promise, *, details: Any = None, status: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message: Any = message  # a str or a lazy translation
        self.details = details
        if status is not None:
            self.status = status

    def as_dict(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": str(self.message), "details": self.details}}


class PermissionDenied(ApplicationError):
    status = 403

    def __init__(self, message: str | Promise = "You may not do this.", *, code: str = "permission_denied") -> None:
        super().__init__(code, message)
