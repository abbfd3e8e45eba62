"""The `listings` command: argument parsing and printing over the pipeline stages."""

from pipeline.cli.main import main

__all__ = ["main"]
