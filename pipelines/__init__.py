"""impact-pipeline: confidential yearly exports in, published yearly impact statistics out.

Layers, each importing only those below it (the import-linter contract in pyproject.toml):
core (the facts: settings, the raw contract, seeds, SQL model files), tables (one spec per
published table), the stages — accepting (ingest, the raw rules), proving (the Pandera schemas,
the second computation, the shared cells), public_copy (suppression and its audit) — and demo
(synthetic exports), publishing (the release's files), guards (every guard, declared once),
defs (Dagster, by stage), definitions (the code location), runner and reference_docs, cli."""

__version__ = "0.1.0"
