"""``python -m beiandesk`` runs the command line."""

from beiandesk.entrypoints.cli import main

main()
