"""The reference pages docs/tables/<table>.md and docs/guards.md are generated from the code and
kept current."""

from __future__ import annotations

from pipelines.guards import DECLARED, guards_of
from pipelines.reference_docs import DOCS_DIR, pages
from pipelines.tables import specs


def test_the_committed_pages_are_what_the_code_generates() -> None:
    docs = DOCS_DIR.parent
    stale = [
        name
        for name, text in pages().items()
        if not (docs / name).is_file() or (docs / name).read_text(encoding="utf-8") != text
    ]
    extra = sorted(p.name for p in DOCS_DIR.glob("*.md") if f"tables/{p.name}" not in pages())
    assert not stale and not extra, f"run `impact docs`: stale {stale}, no longer generated {extra}"


def test_every_table_has_a_page_naming_every_check_that_guards_it() -> None:
    generated = pages()
    assert set(generated) == {f"tables/{name}.md" for name in specs()} | {"tables/README.md", "guards.md"}
    state = generated["tables/missing_children_by_state.md"]
    for guard in guards_of("missing_children_by_state"):
        assert f"| `{guard.name}` ({guard.kind}) |" in state
        assert f"`{guard.failing_test}`" in state
    assert "| `export_contract` (check) | raw_cases:" in state
    headline = generated["tables/headline_metrics.md"]
    for guard in ("consistent_with_previous_year", "within_previous_year_band", "raw_program_metrics:"):
        assert guard in headline
    assert "disclosure_audit" not in generated["tables/cybertipline_reports_by_esp.md"]


def test_the_guards_page_says_what_to_do_when_each_fails() -> None:
    page = pages()["guards.md"]
    for declared in DECLARED:
        assert f"## `{declared.name}` ({declared.kind})" in page
        assert f"- What to do: {declared.remedy}" in page
