"""Dagster, stage publishing: the ``release`` asset and its gates (assets), over
pipelines/publishing/."""
