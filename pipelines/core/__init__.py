"""Core: the facts every other layer reads — settings (config), the raw export contract
(contract), the seeds and catalogs (seeds), the SQL model files (sql_models), the year-over-year
rules (year_over_year), the year's locks (preflight) and file hashing (files). Imports nothing
else of the package."""
