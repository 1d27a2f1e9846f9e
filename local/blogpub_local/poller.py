"""What every local event source mapping shares: a daemon thread that polls until stopped."""

from __future__ import annotations

import logging
import threading
from abc import ABC, abstractmethod

from blogpub_local.delivery import InFlight

_log = logging.getLogger("blogpub.local")
MAX_BACKOFF_SECONDS = 2.0
# An idle poller rests longer after each empty poll, up to this; a write through the stack's
# endpoint (a table write, an SQS send) wakes it at once, so only what no write announces
# (an SQS message whose visibility timeout ran out) waits up to this long.
IDLE_REST_CAP_SECONDS = 2.0


class Activity:
    """Announces writes through the local endpoint, so idle pollers sleep instead of polling.

    A generation counter, not a flag: a poller notes it before a poll and, when the poll finds
    nothing, waits for it to change, so a write made during the poll is never missed.
    """

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._generation = 0

    @property
    def generation(self) -> int:
        with self._changed:
            return self._generation

    def notify(self) -> None:
        with self._changed:
            self._generation += 1
            self._changed.notify_all()

    def wait(self, seen: int, timeout: float) -> bool:
        """Whether something was announced since ``seen`` (waiting up to ``timeout``)."""
        with self._changed:
            return self._changed.wait_for(lambda: self._generation != seen, timeout)


class Poller(ABC):
    """Polls its source on a daemon thread, counting each poll as in flight for the idle check.

    A poll that delivered is followed at once by the next. One that delivered nothing is
    followed by a rest that starts at ``poll_interval_seconds`` and doubles after each empty
    poll up to ``IDLE_REST_CAP_SECONDS``; ``activity`` (a write through the stack's endpoint)
    or ``stop`` ends it at once. A poll that fails (the endpoint answers 500, say) is logged
    and tried again after a growing rest, as Lambda's event source mappings keep polling: the
    thread never dies of it.
    """

    def __init__(
        self,
        *,
        thread_name: str,
        poll_interval_seconds: float,
        activity: Activity | None = None,
    ) -> None:
        self.in_flight = InFlight()
        self.poll_interval_seconds = poll_interval_seconds
        self.activity = activity or Activity()
        self.poll_count = 0  # how many polls ran (tests read it)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=thread_name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self.activity.notify()  # ends an idle rest now
        if self._thread.is_alive():
            self._thread.join(timeout=10)

    def has_pending(self) -> bool:
        """Whether a poll is under way or the source holds something to deliver."""
        return bool(self.in_flight.count) or self._source_has_pending()

    def _loop(self) -> None:
        failures = 0
        rest = self.poll_interval_seconds
        while not self._stop.is_set():
            seen = self.activity.generation
            try:
                with self.in_flight:
                    self.poll_count += 1
                    delivered = self._poll_once()
            except Exception:
                failures += 1
                _log.warning("%s: poll failed; polling again", self._thread.name, exc_info=True)
                backoff = min(self.poll_interval_seconds * 2**failures, MAX_BACKOFF_SECONDS)
                self._stop.wait(backoff)
                continue
            failures = 0
            if delivered or self.activity.wait(seen, rest):
                rest = self.poll_interval_seconds
            else:
                rest = min(rest * 2, IDLE_REST_CAP_SECONDS)

    @abstractmethod
    def _source_has_pending(self) -> bool:
        """Whether the source holds something not yet delivered (a fresh look)."""

    @abstractmethod
    def _poll_once(self) -> bool:
        """Deliver one batch, if there is one; whether there was."""
