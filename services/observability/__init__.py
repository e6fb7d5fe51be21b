"""Logging and metrics plumbing shared by every healthscore process."""
