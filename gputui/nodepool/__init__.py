"""Guided NodePool editing: templates, the editor model, the live preview, schema
validation, lint and the save path. No Textual here: the editor screen
(gputui.tui.screens.nodepool_edit) and the CLI (gputui.commands.nodepool) drive these modules."""
