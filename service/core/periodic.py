"""A pass run again and again: the e-mail sender, the webhook sender and their kind.

`Periodic.run` repeats `step` every `interval` seconds until `stop`; a pass that raises is
logged and the next one comes all the same (a database hiccup must not end a sender). `start`
runs it in a daemon thread (inside `qujat serve`), `run` in the caller's (a `… worker` command).
"""

from __future__ import annotations

import logging
import threading

log = logging.getLogger(__name__)


class Periodic:
    name = "qujat-periodic"

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def step(self) -> None:
        """One pass; subclasses do their work here."""
        raise NotImplementedError

    def run(self) -> None:
        while not self._stop.is_set():
            try:
                self.step()
            except Exception:  # logged; the next pass comes all the same
                log.exception("%s: a pass failed", self.name)
            self._stop.wait(self.interval)

    def start(self) -> None:
        self._thread = threading.Thread(target=self.run, name=self.name, daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
