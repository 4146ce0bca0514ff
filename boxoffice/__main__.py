"""`python -m boxoffice` is the `boxoffice` command (used for supervised children)."""

from boxoffice.cli import main

main()
