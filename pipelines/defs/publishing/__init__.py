"""Dagster, stage publishing."""
