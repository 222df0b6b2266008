"""Dagster, stage accepting."""
