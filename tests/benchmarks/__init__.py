"""The benchmark scripts (benchmarks/), without timing: the peers compute the same figures,
the sensor tick reads what it should."""
