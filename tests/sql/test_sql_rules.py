"""One test per business rule of the SQL models, on a tiny hand-made export run through the SQL
models alone (tests/harness.py) and written as the release writes its tables."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from tests.exports import YearExports, case, report
from tests.harness import export_tables


def read(release: Path, table: str) -> list[dict[str, str]]:
    with (release / f"{table}.csv").open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def by_label(rows: list[dict[str, str]], column: str) -> dict[str, dict[str, str]]:
    return {row[column]: row for row in rows}


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("rules")
    exports = YearExports.small(2020)
    exports.cases = [
        # In the population.
        case("opened-and-resolved", "2020-03-01", "2020-03-05", "ERU", 15, "WH", "TX"),
        case("recovered-from-2019", "2019-11-01", "2020-01-10", "ERU", 16, "BL", "TX"),
        case("missing-dec31-found-jan2", "2020-12-31", "2021-01-02", "FA", 4, "HI", "CA"),
        case("still-open", "2020-05-01", "", "NFA", 12, "", "INTL"),
        case("resolved-on-dec31", "2020-12-31", "2020-12-31", "LIOM", "", "U", "PR"),
        # Not in the population.
        case("open-since-2019", "2019-06-01", "", "ERU", 15, "WH", "NY"),
        case("resolved-in-2019", "2019-05-01", "2019-07-01", "ERU", 15, "WH", "NY"),
        case("opened-2021", "2021-01-03", "", "ERU", 15, "WH", "NY"),
        case("open-through-2020", "2019-12-01", "2021-02-01", "ERU", 15, "WH", "NY"),
    ]
    # Age-group boundaries: one resolved 2020 case per age.
    for age in (0, 2, 3, 5, 6, 8, 9, 11, 12, 14, 17, 18, 20):
        exports.cases.append(
            case(f"age-{age}", "2020-07-01", "2020-07-02", "MYA" if age >= 18 else "ERU", age, "AS", "WA")
        )
    exports.reports = [
        report(1, esp_name="B Corp"),
        report(2, esp_name="A Corp"),
        report(3, esp_name="B Corp"),
        report(4, esp_name="A Corp"),
        report(5, esp_name="Acme Chat, Inc."),
        report(6, esp_name="Acme Chat, Inc."),
        report(7, esp_name="Acme Chat, Inc."),
        report(8, esp_name='The "Hub" Network'),
        report(9, "PUBLIC", None, "CHILD_SEX_TOURISM", "XK", images=0, videos=0, other=2),
    ]
    return export_tables(exports.write(root / "raw"), root / "tables")


def test_population_counts_cases_opened_in_year_and_recoveries_of_earlier_cases(release: Path) -> None:
    total = by_label(read(release, "missing_children_by_case_type"), "case_type")["Total"]
    # 5 population cases of the first block + 13 age cases; the 4 excluded ones are not counted.
    assert total["total"] == "18"


def test_status_is_as_of_december_31(release: Path) -> None:
    rows = by_label(read(release, "missing_children_by_case_type"), "case_type")
    assert rows["Family Abduction"]["active"] == "1"  # missing Dec 31, found Jan 2: Active
    assert rows["Nonfamily Abduction"]["active"] == "1"  # no resolved date: Active
    assert rows["Lost, Injured, or Otherwise Missing"]["resolved"] == "1"  # resolved on Dec 31
    assert rows["Endangered Runaway"]["resolved"] == str(2 + 11)
    assert rows["Total"]["active"] == "2"


def test_age_groups_take_their_boundaries_and_empty_age_is_unknown(release: Path) -> None:
    rows = by_label(read(release, "missing_children_by_age_and_race"), "age_group")
    expected_asian = {
        "Less than 1 to 2": "2",
        "3 to 5": "2",
        "6 to 8": "2",
        "9 to 11": "2",
        "12 to 14": "2",
        "15 to 17": "1",
        "18 to 20": "2",
        "Unknown": "0",
    }
    assert {label: rows[label]["asian"] for label in expected_asian} == expected_asian
    assert rows["Unknown"]["unknown"] == "1"  # empty age, race U


def test_empty_race_and_u_are_both_unknown(release: Path) -> None:
    total = by_label(read(release, "missing_children_by_age_and_race"), "age_group")["Total"]
    assert total["unknown"] == "2"


def test_every_state_is_listed_with_zeros_and_international_last(release: Path) -> None:
    rows = read(release, "missing_children_by_state")
    labels = [row["missing_state"] for row in rows]
    assert len(labels) == 52 + 2
    assert labels[-2:] == ["International", "Total"]
    assert labels[:52] == sorted(labels[:52])
    states = by_label(rows, "missing_state")
    assert states["Alabama"] == {
        "year": "2020",
        "missing_state": "Alabama",
        "active": "0",
        "resolved": "0",
        "total": "0",
    }
    assert states["International"]["active"] == "1"
    assert states["Puerto Rico"]["resolved"] == "1"
    assert states["New York"]["total"] == "0"  # only excluded cases there


def test_incident_types_and_agencies_without_records_show_zero_rows(release: Path) -> None:
    incidents = read(release, "cybertipline_reports_by_incident_type")
    assert len(incidents) == 9 and incidents[-1]["incident_type"] == "Total"
    assert by_label(incidents, "incident_type")["Child Sex Trafficking"]["reports"] == "0"
    agencies = by_label(read(release, "cvip_requests_by_agency"), "agency_type")
    assert agencies["Military"] == {
        "year": "2020",
        "agency_type": "Military",
        "requests": "0",
        "images": "0",
        "videos": "0",
    }


def test_esps_most_reports_first_ties_by_name(release: Path) -> None:
    rows = read(release, "cybertipline_reports_by_esp")
    assert [(r["esp_name"], r["reports"]) for r in rows] == [
        ("Acme Chat, Inc.", "3"),
        ("A Corp", "2"),
        ("B Corp", "2"),
        ('The "Hub" Network', "1"),
        ("Total", "8"),
    ]


def test_csv_quotes_names_with_commas_and_quotes(release: Path) -> None:
    text = (release / "cybertipline_reports_by_esp.csv").read_text(encoding="utf-8")
    assert '\n2020,"Acme Chat, Inc.",3\n' in text
    assert '\n2020,"The ""Hub"" Network",1\n' in text


def test_countries_by_name_then_no_country_then_total(release: Path) -> None:
    rows = read(release, "cybertipline_reports_by_country")
    assert [(r["country_code"], r["country"], r["reports"]) for r in rows] == [
        ("XK", "Kosovo", "1"),
        ("US", "United States", "8"),
        ("", "No Country Listed", "0"),
        ("", "Total", "9"),
    ]


def test_files_by_type_sum_the_report_counts(release: Path) -> None:
    rows = by_label(read(release, "cybertipline_files_by_type"), "file_type")
    assert [rows[k]["files"] for k in ("Images", "Videos", "Other", "Total")] == ["8", "0", "2", "10"]
