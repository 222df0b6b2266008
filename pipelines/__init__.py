"""impact-pipeline: confidential yearly exports in, published yearly impact statistics out."""

__version__ = "0.1.0"
