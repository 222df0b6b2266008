"""The Dagster definitions, by stage like the package: accepting/ (the raw assets and their
``export_contract``), proving/ (seeds, staging and published model assets and their checks),
public_copy/ (``public_use_tables`` and ``disclosure_audit``), publishing/ (``release``); beside
them what every stage uses: partitions, resources, the check specs from the guard registry
(checks), how a failed check refuses the year (gate), the job, schedule, sensors, alerts and the
console logger. Each asset and check is a thin shell over the layers below;
``pipelines.definitions`` assembles them into the code location."""
