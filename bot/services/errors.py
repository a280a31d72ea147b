"""Refusals a use case can give; each carries the catalog key that explains it to the user."""

from __future__ import annotations


class ServiceError(Exception):
    def __init__(self, key: str, **kw: object) -> None:
        super().__init__(key)
        self.key = key
        self.kw = kw


class NotAllowed(ServiceError):
    def __init__(self) -> None:
        super().__init__("core.not_allowed")


class NotYourUnit(ServiceError):
    def __init__(self) -> None:
        super().__init__("core.not_your_unit")


class Stale(ServiceError):
    """A button or reference that no longer points at anything actionable (or never did)."""

    def __init__(self) -> None:
        super().__init__("core.stale_button")
