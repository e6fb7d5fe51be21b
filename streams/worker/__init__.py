"""The Faust shell: the app, its topics and table, and the one agent that feeds
``streams.processing``."""
