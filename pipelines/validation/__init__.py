"""Layer 3, validation: everything that decides whether a year may be published, without Dagster —
the ingest's completeness proof, the Great Expectations suites, the Pandera schemas of the
published tables, the comparison with the second computation, disclosure control and its
audit, the diff of two releases and the comparison with reference figures."""
