"""The deterministic gates: the checker side of the maker-checker split."""
