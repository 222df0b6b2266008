"""Core: the facts every other layer reads — settings (config), the raw export contract
(contract), the seeds and catalogs (seeds), the SQL model files (sql_models), the year-over-year
rules (year_over_year), the year's locks (preflight), file hashing (files) and who may read what
the product writes (modes). Imports nothing else of the package."""
