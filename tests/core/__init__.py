"""Tests of pipelines/core/: who may read what the product writes (modes)."""
