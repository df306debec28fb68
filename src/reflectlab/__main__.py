"""``python -m reflectlab`` runs the CLI."""

from reflectlab.cli import main

main()
