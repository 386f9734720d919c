"""`python -m qa` is the `archive-qa` command."""

from qa.cli import main

raise SystemExit(main())
