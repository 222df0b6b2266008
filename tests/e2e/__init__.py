"""The real Dagster definitions: a year's job, sensors, schedule, the CLI, the UI and the pages in Chromium."""
