"""The interactive app (Textual). Importing this package imports nothing heavy;
gputui.tui.app does."""
