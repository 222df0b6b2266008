"""Stage 3, the public copy, without Dagster: the small counts of children suppressed with
complementary cells (suppression, HiGHS), the public-use tables and earlier public copies of the
year (tables) and the independent attack that proves them safe (audit)."""
