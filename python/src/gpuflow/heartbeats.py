"""When an attempt heartbeats (protocol section 4), as the TS worker's ``HeartbeatSchedule`` does."""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Callable


class HeartbeatSchedule:
    """Every heartbeat that reaches the server is a billable action: changes go out at the job's progress
    freshness, a silent job renews its lease three times per lease, and a job that ends sooner sends none.

    The lease is renewed here, on the loop, not by the handler: a sync handler stuck in one long CUDA call runs in
    its thread while the loop keeps renewing, and a cancel (which reaches an activity only in a heartbeat's
    response) still gets through. Changes made together (progress, then a checkpoint) go out in one heartbeat.
    """

    def __init__(
        self,
        send: Callable[[], None],
        *,
        freshness_s: float,
        renew_s: float,
        loop: asyncio.AbstractEventLoop,
        context: contextvars.Context,
    ) -> None:
        self._send = send
        self._freshness_s = freshness_s
        self._renew_s = renew_s
        self._loop = loop
        self._context = context
        self._last_sent = -float("inf")
        self._pending: asyncio.TimerHandle | None = None
        self._renewal: asyncio.TimerHandle | None = None

    def start(self) -> None:
        """The first renewal, one renewal period from now."""
        self._renewal = self._loop.call_later(self._renew_s, self.now)

    def now(self) -> None:
        """Sends the details at once (on the loop's thread) and renews the lease from here."""
        self._pending = None
        self._last_sent = self._loop.time()
        self._send()
        if self._renewal is not None:
            self._renewal.cancel()
        self._renewal = self._loop.call_later(self._renew_s, self.now)

    def changed(self) -> None:
        """Something a view shows changed: it goes out within the freshness. Safe from any thread."""
        self._loop.call_soon_threadsafe(self._changed, context=self._context)

    def _changed(self) -> None:
        if self._pending is None:
            delay = max(0.0, self._last_sent + self._freshness_s - self._loop.time())
            self._pending = self._loop.call_later(delay, self.now)

    @property
    def has_pending(self) -> bool:
        """A change not sent yet."""
        return self._pending is not None

    def flush(self) -> None:
        """Sends a change not sent yet (a checkpoint the next attempt must find)."""
        if self._pending is not None:
            self.now()

    def stop(self) -> None:
        """No more heartbeats from this attempt."""
        for handle in (self._pending, self._renewal):
            if handle is not None:
                handle.cancel()
        self._pending = self._renewal = None
