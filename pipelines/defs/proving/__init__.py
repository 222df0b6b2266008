"""Dagster, stage proving: the seeds and one asset per SQL model (groups ``staging`` and
``published``, assets) and the checks run in a published table's step: ``schema_and_totals``,
``second_computation``, ``shared_cells`` and, on the headline figures, the rules across years
(across_years), all over pipelines/proving/."""
