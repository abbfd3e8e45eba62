"""Options several `listings` commands share, defined once so they read the same everywhere."""

from __future__ import annotations

import argparse
from pathlib import Path

from pipeline import config

# A parser or an argument group: both have add_argument.
Adder = argparse.ArgumentParser | argparse._ArgumentGroup


def add_db(parser: Adder, what: str) -> None:
    """`--db PATH`, the warehouse file (default data/warehouse.duckdb)."""
    parser.add_argument(
        "--db",
        type=Path,
        default=config.DEFAULT_DB,
        metavar="PATH",
        help=f"{what} (default: %(default)s)",
    )


def add_lake(parser: Adder) -> None:
    """`--lake DIR`, the lake: a folder or an fsspec URL (default data/lake)."""
    parser.add_argument(
        "--lake",
        default=str(config.DEFAULT_LAKE),
        metavar="DIR",
        help="lake folder or fsspec URL such as s3://bucket/lake (default: %(default)s)",
    )
