"""Test-only failure points in the issuing flow, to prove that failures leave no trace.

Production code calls the hooks of a `Faults`; the default one does nothing. A real server
gets active ones only when the environment variable QUJAT_TESTING_FAULTS is set, to a JSON
object whose keys are hooks and whose values are regular expressions matched against the
decision_id being issued:

    fail_create        raise inside transaction A, after the number was taken (rolls back)
    exit_after_create  end the worker process (os._exit) right after transaction A commits
    fail_render        raise after transaction A, instead of rendering (leaves it pending)
    delay_render       sleep `delay_seconds` (default 1) before rendering

e.g. QUJAT_TESTING_FAULTS='{"fail_create": "^fail-", "delay_render": "^slow-",
"delay_seconds": 2}'. In-process tests subclass `Faults` instead.
"""

from __future__ import annotations

import json
import os
import re
import time
from dataclasses import dataclass


class InjectedFault(RuntimeError):
    """A failure a test asked for."""


class Faults:
    """The failure points; this base class is the production one and does nothing."""

    def inside_create(self, decision_id: str) -> None:
        """In transaction A, after the counter row was locked and the document inserted."""

    def after_create(self, decision_id: str) -> None:
        """After transaction A committed, before rendering."""

    def before_render(self, decision_id: str) -> None:
        """Just before the PDF is rendered (also when a pending document is completed)."""


NO_FAULTS = Faults()
_HOOKS = ("fail_create", "exit_after_create", "fail_render", "delay_render")


@dataclass(frozen=True, slots=True)
class ConfiguredFaults(Faults):
    fail_create: re.Pattern[str] | None = None
    exit_after_create: re.Pattern[str] | None = None
    fail_render: re.Pattern[str] | None = None
    delay_render: re.Pattern[str] | None = None
    delay_seconds: float = 1.0

    def inside_create(self, decision_id: str) -> None:
        if self.fail_create and self.fail_create.search(decision_id):
            raise InjectedFault(f"fail_create for {decision_id}")

    def after_create(self, decision_id: str) -> None:
        if self.exit_after_create and self.exit_after_create.search(decision_id):
            os._exit(70)

    def before_render(self, decision_id: str) -> None:
        if self.delay_render and self.delay_render.search(decision_id):
            time.sleep(self.delay_seconds)
        if self.fail_render and self.fail_render.search(decision_id):
            raise InjectedFault(f"fail_render for {decision_id}")


def parse_faults(text: str) -> Faults:
    """The faults QUJAT_TESTING_FAULTS describes (see the module's docstring)."""
    if not text.strip():
        return NO_FAULTS
    try:
        spec = json.loads(text)
    except ValueError as error:
        raise ValueError(f"QUJAT_TESTING_FAULTS is not JSON: {error}") from None
    if not isinstance(spec, dict):
        raise ValueError("QUJAT_TESTING_FAULTS must be a JSON object")
    unknown = set(spec) - {*_HOOKS, "delay_seconds"}
    if unknown:
        raise ValueError(f"QUJAT_TESTING_FAULTS: unknown hooks {sorted(unknown)}")
    patterns = {name: re.compile(str(spec[name])) for name in _HOOKS if name in spec}
    return ConfiguredFaults(**patterns, delay_seconds=float(spec.get("delay_seconds", 1.0)))
