"""The console logger of the code location: Dagster's lines without stack traces.

A run's problems are listed at its end, one line each (pipelines/runner.py); a product error's
trace goes to a log file, not the console.
"""

from __future__ import annotations

import logging
import sys

import dagster as dg


class _WithoutTraces(logging.Filter):
    """Keep a Dagster event's line, drop the error and stack trace that Dagster appends to it
    after a blank line: the run's summary names every problem, a product error's trace is in
    its log file."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "\n\n" in message:
            record.msg, record.args = message.split("\n\n", 1)[0], ()
        return True


@dg.logger(
    config_schema={"log_level": dg.Field(str, is_required=False, default_value="INFO")},
    description="Dagster's console lines on stderr, without stack traces.",
)
def console_without_traces(init_context: dg.InitLoggerContext) -> logging.Logger:
    logger = logging.Logger("dagster", level=init_context.logger_config["log_level"].upper())
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s - dagster - %(levelname)s - %(message)s"))
    handler.addFilter(_WithoutTraces())
    logger.addHandler(handler)
    return logger
