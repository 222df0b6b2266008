"""The demo exports: deterministic, within the contract, reproducing the 2020 reference."""
