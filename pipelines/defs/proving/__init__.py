"""Dagster, stage proving."""
