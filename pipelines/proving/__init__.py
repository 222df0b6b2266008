"""Stage 2, proving the published tables, without Dagster: the Pandera schemas generated from the
table specs (schemas), the cell-by-cell comparison with the second computation
(second_computation) and the cells tables share (shared_cells)."""
