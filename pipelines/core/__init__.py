"""Layer 1, core: the facts every other layer reads — settings (config), the raw export contract
(contract), the seeds and catalogs (seeds), the SQL model files (sql_models), the year's locks
(preflight) and file hashing (files). Imports nothing else of the package."""
