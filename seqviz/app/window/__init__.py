"""The main window and what frames the panels: toolbar, docks, dialogs, notices, themes, settings."""
