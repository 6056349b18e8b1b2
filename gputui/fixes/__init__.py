"""Guided fixes: preview a FixPlan against the live object, dry-run it on the server,
apply it with a resourceVersion precondition, verify the finding, and keep an audit log
that `gputui undo` can restore from. No Textual here: the CLI and the TUI share it."""
