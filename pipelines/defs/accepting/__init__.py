"""Dagster, stage accepting: one asset per raw export (group ``raw``, assets) and its
``export_contract`` check (export_contract), both over pipelines/accepting/."""
