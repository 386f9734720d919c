"""`python -m archive_qa` is the `archive-qa` command."""

from archive_qa.cli import main

raise SystemExit(main())
