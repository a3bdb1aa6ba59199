"""`python -m edgespec`: capture here in Python, every other subcommand in the TypeScript CLI."""
