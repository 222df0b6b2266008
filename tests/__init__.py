"""The tests, by layer like the package (README.md, "Layout"); each behaviour at the lowest layer that shows it."""
