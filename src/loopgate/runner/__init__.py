"""`loopgate run`: the bounded maker-checker loop around any agent command."""
