"""The `landkit` command line: one click group, one module per command, thin over the library."""
