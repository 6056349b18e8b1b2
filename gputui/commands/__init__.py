"""One module per subcommand, each with `register(subparsers)` (its parser) and its handlers.

The CLI imports every command module to build its parser, and `gputui --help` must stay
fast: at the top a command module imports only argparse-level standard library modules,
gputui.errors and its sibling command modules. Whatever a handler needs beyond that it
imports when it runs (tests/cli/test_cli_startup.py holds this).
"""
