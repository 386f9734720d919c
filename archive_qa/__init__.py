"""The application above the library: the `archive-qa` command, the evaluation and the benchmark."""
