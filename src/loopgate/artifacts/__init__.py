"""The five loop artifacts: reading, typing and validating them."""
