"""The CyberTipline export's rules as SQL audits: one file per rule,
``sql/audits/cybertipline_reports_<rule>.sql``, each selecting the ``report_id`` of the offending
rows (the SQLMesh audit idiom). One runner counts them and names five report_ids; code lists come
from the seeds. The ``export_contract`` check of ``raw_cybertipline_reports`` calls it
(pipelines/defs/accepting/export_contract.py).

GX 1.24's SQL datasource cannot run on DuckDB here: duckdb-engine returns no rows once GX has
closed the connection it queried through, so the Parquet export is checked in DuckDB directly."""

import re

import duckdb

from pipelines.accepting.gx_suites import RuleOutcome, seed_codes
from pipelines.core.config import SQL_DIR
from pipelines.core.contract import MAX_EXAMPLES, RawExport
from pipelines.core.seeds import countries

AUDITS_DIR = SQL_DIR / "audits"
AUDIT_HEADER = re.compile(r"^-- (column|rule): (.+)$", re.MULTILINE)


def _seed_codes(name: str) -> list[str]:
    return countries()["code"].to_list() if name == "countries" else list(seed_codes(name))


def audits(export: RawExport) -> list[tuple[str, str, str]]:
    """(column, rule, sql) of every audit file of the export, by file name: a file
    ``sql/audits/<export>_<rule>.sql`` whose first lines say ``-- column:`` and ``-- rule:``."""
    found = []
    for path in sorted(AUDITS_DIR.glob(f"{export.name}_*.sql")):
        text = path.read_text(encoding="utf-8")
        header = dict(AUDIT_HEADER.findall(text))
        if {"column", "rule"} <= header.keys():
            found.append((header["column"], header["rule"], text))
    return found


def _rule_text(rule: str, year: int) -> str:
    """An audit's rule in words: ``{year}`` and ``{codes:<seed>}`` filled in."""
    for name in ("reporter_types", "incident_types"):
        rule = rule.replace(f"{{codes:{name}}}", ", ".join(_seed_codes(name)))
    return rule.replace("{year}", str(year))


def run_audits(con: duckdb.DuckDBPyConnection, export: RawExport, year: int) -> list[RuleOutcome]:
    """Run every audit of the export: count the rows each selects and name five report_ids.
    The offending rows are computed once (``MATERIALIZED``), not once for the count and again
    for the examples: about 3 s less at ten times the 2020 export (benchmarks/README.md)."""
    for name in ("reporter_types", "incident_types", "countries"):
        con.sql(
            f"CREATE OR REPLACE TEMP TABLE seed_{name} AS SELECT unnest($codes::VARCHAR[]) AS code",
            params={"codes": _seed_codes(name)},
        )
    outcomes = []
    for column, rule, sql in audits(export):
        common = {"file": export.file_name, "column": column, "rule": _rule_text(rule, year)}
        try:
            bad_rows, examples = con.sql(
                f"""
                WITH offending AS MATERIALIZED ({sql.strip().rstrip(";")})
                SELECT
                    (SELECT count(*) FROM offending),
                    (SELECT coalesce(list(report_id ORDER BY report_id), [])
                     FROM (SELECT DISTINCT report_id FROM offending WHERE report_id IS NOT NULL
                           ORDER BY report_id LIMIT {MAX_EXAMPLES}))
                """
            ).fetchall()[0]
        except duckdb.Error as error:  # its message may quote a value: only its kind is kept
            outcomes.append(RuleOutcome(**common, error=type(error).__name__))
            continue
        outcomes.append(
            RuleOutcome(
                **common,
                bad_rows=int(bad_rows),
                examples=tuple(int(e) for e in examples),
                example_label="report_id",
            )
        )
    return outcomes
