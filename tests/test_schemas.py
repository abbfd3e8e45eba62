"""`schemas.validate`: an empty table still has its schema checked; a full one its values."""

from __future__ import annotations

import pandera.errors
import polars as pl
import pytest

from pipeline import schemas


def _empty_rejects() -> pl.DataFrame:
    return pl.DataFrame(schema=schemas.polars_schema(schemas.Reject))


def test_an_empty_table_with_the_right_schema_passes() -> None:
    schemas.validate(_empty_rejects(), schemas.Reject)


def test_an_empty_table_with_a_wrong_schema_fails() -> None:
    with pytest.raises(pandera.errors.SchemaError):
        schemas.validate(_empty_rejects().drop("reason"), schemas.Reject)
    with pytest.raises(pandera.errors.SchemaError):
        schemas.validate(_empty_rejects().with_columns(pl.col("byte_start").cast(pl.Int32)),
                         schemas.Reject)  # fmt: skip


def test_a_table_with_rows_has_its_values_checked() -> None:
    row = {"snapshot_id": "s", "source_path": "p", "position": None, "byte_start": 0,
           "byte_end": 1, "fragment": "x", "stage": "nonsense", "reason": "r"}  # fmt: skip
    frame = pl.DataFrame([row], schema=schemas.polars_schema(schemas.Reject))
    with pytest.raises(pandera.errors.SchemaError, match="isin"):
        schemas.validate(frame, schemas.Reject)
