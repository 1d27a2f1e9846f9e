"""What every local event source mapping shares: a daemon thread that polls until stopped."""

from __future__ import annotations

import logging
import threading
from abc import ABC, abstractmethod

from blogpub_local.delivery import InFlight

_log = logging.getLogger("blogpub.local")
MAX_BACKOFF_SECONDS = 2.0


class Poller(ABC):
    """Polls its source on a daemon thread, counting each poll as in flight for the idle check.

    A poll that delivered nothing is followed by ``poll_interval_seconds`` of rest (cut short
    by ``stop``); one that delivered is followed at once by the next. A poll that fails (the
    endpoint answers 500, say) is logged and tried again after a growing rest, as Lambda's
    event source mappings keep polling: the thread never dies of it.
    """

    def __init__(self, *, thread_name: str, poll_interval_seconds: float) -> None:
        self.in_flight = InFlight()
        self.poll_interval_seconds = poll_interval_seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=thread_name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)

    def has_pending(self) -> bool:
        """Whether a poll is under way or the source holds something to deliver."""
        return bool(self.in_flight.count) or self._source_has_pending()

    def _loop(self) -> None:
        failures = 0
        while not self._stop.is_set():
            try:
                with self.in_flight:
                    delivered = self._poll_once()
            except Exception:
                failures += 1
                _log.warning("%s: poll failed; polling again", self._thread.name, exc_info=True)
                rest = min(self.poll_interval_seconds * 2**failures, MAX_BACKOFF_SECONDS)
                self._stop.wait(rest)
                continue
            failures = 0
            if not delivered:
                self._stop.wait(self.poll_interval_seconds)

    @abstractmethod
    def _source_has_pending(self) -> bool:
        """Whether the source holds something not yet delivered (a fresh look)."""

    @abstractmethod
    def _poll_once(self) -> bool:
        """Deliver one batch, if there is one; whether there was."""
