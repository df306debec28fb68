"""Private helpers shared across layers (paths, hashing)."""
