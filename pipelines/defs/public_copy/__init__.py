"""Dagster, stage public copy: the ``public_use_tables`` asset and its ``disclosure_audit``
check (assets), over pipelines/public_copy/."""
