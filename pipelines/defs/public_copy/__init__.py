"""Dagster, stage public_copy."""
