"""The one error a handler raises on purpose."""

from __future__ import annotations


class JobError(Exception):
    """Raised by a handler to fail its job with a message meant for the user who submitted it.

    Args:
        message: what the job's ``error.message`` shows.
        retryable: whether another attempt could succeed (a bad prompt will not; a flaky download might).
            Default ``True``.
        type: the error's class as users see it in the job's ``error.type``. Default ``"JobError"``.
    """

    def __init__(self, message: str, *, retryable: bool = True, type: str = "JobError") -> None:
        super().__init__(message)
        self.message = message
        self.retryable = retryable
        self.type = type

    def __repr__(self) -> str:
        return f"JobError({self.message!r}, retryable={self.retryable}, type={self.type!r})"


class ProtocolFailure(Exception):
    """An attempt's end that the protocol names (``ValidationError``, ``InputUnavailable``, ...): the worker turns it
    into an ApplicationError of that type."""

    def __init__(self, message: str, type: str, *, retryable: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.type = type
        self.retryable = retryable
