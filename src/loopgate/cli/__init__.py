"""The click layer: parse options into settings, call the core, hand the result to a reporter."""
