"""Subcommand groups of the ``adoption-model`` command line."""
