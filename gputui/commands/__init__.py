"""One module per subcommand, each with `register(subparsers)` (its parser) and its handlers.

A command module imports only the standard library and gputui.errors at the top: the CLI
imports all of them to build its parser, and `gputui --help` must stay fast. Whatever a
handler needs beyond that it imports when it runs.
"""
