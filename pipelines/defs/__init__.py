"""Layer 5, the Dagster definitions: partitions, resources, assets, checks, jobs, schedules.
Each asset and check is a thin shell over the layers below; ``pipelines.definitions`` assembles
them into the code location."""
