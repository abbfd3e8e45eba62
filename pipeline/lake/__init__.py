"""The Parquet lake: storage, file layout, manifest, lock and compaction (docs/lake.md).

For notebooks, `scan` reads a table exactly as the manifest committed it:
`from pipeline import lake; lake.scan("data/lake", "listings").collect()`.
"""

from pipeline.lake.manifest import scan

__all__ = ["scan"]
