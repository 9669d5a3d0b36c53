"""How an attempt that did not finish ends: the failure it reports, or its cancel (protocol sections 5 and 10)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta
from typing import Any, NoReturn

from temporalio import activity
from temporalio.exceptions import ApplicationError

from .context import AttemptState
from .errors import JobError, ProtocolFailure
from .heartbeats import HeartbeatSchedule
from .job_log import AttemptLog
from .protocol import SIGNAL_TIMEOUT_S, FailureTypes


def to_application_error(err: Exception, details: dict[str, Any]) -> ApplicationError:
    """A handler's error as the attempt's failure: a ``JobError`` says whether to retry; details ride along."""
    if isinstance(err, ApplicationError):
        if err.details:
            return err
        return ApplicationError(err.message, details, type=err.type, non_retryable=err.non_retryable)
    if isinstance(err, ProtocolFailure):
        return ApplicationError(err.message, details, type=err.type, non_retryable=not err.retryable)
    if isinstance(err, JobError):
        return ApplicationError(err.message, details, type=err.type, non_retryable=not err.retryable)
    return ApplicationError(str(err) or type(err).__name__, details, type=type(err).__name__ or "Error")


async def end_aborted_attempt(
    err: BaseException,
    *,
    attempt: int,
    details: dict[str, Any],
    state: AttemptState,
    beats: HeartbeatSchedule,
    log: AttemptLog,
    on_confirmed: Callable[[], None],
) -> NoReturn:
    """Ends an attempt that was cancelled or drained, whatever the handler raised on the way out.

    A drain carries the attempt's number and checkpoint, so that the workflow schedules the job again from there
    without counting the attempt. A cancel the server asked for is confirmed here with the attempt's facts and last
    progress (the SDK would confirm it with no details), and the SDK is told the activity completes asynchronously;
    if the confirmation fails, the SDK confirms it as before.
    """
    why = activity.cancellation_details()
    log.line("attempt ended: " + ("the worker shut down (a drain)" if why and why.worker_shutdown else "cancelled"))
    if why is not None and why.worker_shutdown:
        drained: dict[str, Any] = {**details, "attempt": attempt}
        if state.has_checkpoint:
            drained["checkpoint"] = state.checkpoint
        raise ApplicationError(
            "the worker shut down (a drain) before the job finished; the job runs again without using an attempt",
            drained,
            type=FailureTypes.worker_shutdown,
        ) from None
    if why is not None and why.cancel_requested:
        beats.flush()
        progress = state.details()["progress"]
        # The log is written before the end is reported, as on every other way out.
        await log.close()
        if await _confirm_cancel(activity.info().task_token, {**details, "progress": progress}):
            on_confirmed()
            activity.raise_complete_async()
    if isinstance(err, asyncio.CancelledError):
        raise err
    raise asyncio.CancelledError() from err


async def _confirm_cancel(task_token: bytes, details: dict[str, Any]) -> bool:
    """Confirms the cancel the server asked for, with ``details``; False when it could not (no client)."""
    try:
        client = activity.client()
    except RuntimeError:
        return False
    report = client.get_async_activity_handle(task_token=task_token).report_cancellation(
        details, rpc_timeout=timedelta(seconds=SIGNAL_TIMEOUT_S)
    )
    try:
        # Shielded: a second cancel of this task must not cut the confirmation short.
        await asyncio.shield(report)
    except Exception as err:
        activity.logger.warning(f"could not confirm the cancel with its details: {err}")
        return False
    return True
