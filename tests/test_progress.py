"""The progress line of `impact run` (pipelines/runner.py ProgressLine): on a terminal, which step
of the year it is in and how long the year has taken, on one line that updates; on anything else,
nothing (what `impact run` prints to a pipe or a log is tested with the command, e.g.
tests/e2e/test_backfill.py: no line on stderr at all)."""

from __future__ import annotations

import io
import threading
from dataclasses import dataclass

import dagster as dg

from pipelines.runner import ProgressLine


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@dataclass
class Event:
    """What the line reads of a Dagster event."""

    step_key: str
    job_name: str
    event_type: dg.DagsterEventType = dg.DagsterEventType.STEP_START


def test_on_a_terminal_one_line_names_the_run_the_step_and_the_time() -> None:
    terminal = Terminal()
    line = ProgressLine(2020, 3, terminal)
    line.event(Event("raw_exports", "accept_exports"))
    line.event(Event("raw_exports", "accept_exports", dg.DagsterEventType.STEP_SUCCESS))  # not a step
    line.event(Event("seeds", "yearly_release"))
    line.close()
    shown = terminal.getvalue()
    assert "\n" not in shown  # one line, rewritten in place
    frames = [frame.strip() for frame in shown.split("\r") if frame.strip()]
    assert frames[0] == "2020: starting, 00:00"
    assert "2020: accepting its exports, raw_exports (step 1 of 3), 00:00" in frames
    assert frames[-1] == "2020: publishing it, seeds (step 2 of 3), 00:00"
    assert shown.endswith("\r")  # cleared when the year ends: the command's own lines follow
    assert not [t for t in threading.enumerate() if t.name == "progress"]


def test_elsewhere_nothing_is_written() -> None:
    log = io.StringIO()
    line = ProgressLine(2020, 3, log)
    line.event(Event("raw_exports", "accept_exports"))
    line.close()
    assert log.getvalue() == ""
