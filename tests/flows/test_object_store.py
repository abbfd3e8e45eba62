"""The flow writes its lake to an S3-compatible endpoint (moto, on 127.0.0.1); DuckDB reads it."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeline.lake.storage import Location
from pipeline.run import run
from tests.conftest import RAW


@pytest.fixture
def s3_endpoint(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A moto S3 server on loopback, with credentials and endpoint in the environment."""
    import s3fs
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ENDPOINT_URL": endpoint,
    }.items():
        monkeypatch.setenv(name, value)
    # fsspec caches filesystems by their arguments, not the environment: forget any made
    # against an earlier test's endpoint.
    s3fs.S3FileSystem.clear_instance_cache()
    try:
        yield endpoint
    finally:
        server.stop()


@pytest.mark.flow
def test_the_lake_can_live_on_an_object_store(
    prefect_api: None, s3_endpoint: str, tmp_path: Path
) -> None:
    import s3fs

    from flows.normalise import normalise_flow
    from pipeline.warehouse import database

    s3fs.S3FileSystem(skip_instance_cache=True).mkdir("listings-lake")
    raw = tmp_path / "raw"
    shutil.copytree(RAW, raw)
    db = tmp_path / "warehouse.duckdb"
    url = "s3://listings-lake/lake"

    first = normalise_flow(paths=[raw], lake_dir=url, db=db, report_path=None)
    assert first.lake_rows == {"snapshots": 6, "listings": 53, "rejects": 0}
    # The warehouse holds the tables it loaded: a fresh connection needs no filesystem.
    assert database.query("select count(*) from listings", db=db).item() == 53
    assert (
        database.query(
            "select count(*) from dim_documents where uploaded_at_max is not null", db=db
        ).item()
        > 0
    )
    files = s3fs.S3FileSystem(skip_instance_cache=True).glob(
        "listings-lake/lake/*/fetched_month=*/*.parquet"
    )
    assert len(files) == 3  # one group: a file per table

    again = normalise_flow(paths=[raw], lake_dir=url, db=db, report_path=None)
    assert (again.snapshots, again.files_skipped) == (0, 6)


def test_snapshots_can_be_read_from_an_object_store(s3_endpoint: str, tmp_path: Path) -> None:
    """Roots may be fsspec URLs too: same listings, sidecars included, as from local files."""
    import s3fs

    from pipeline.ingest import metadata, sources

    fs = s3fs.S3FileSystem(skip_instance_cache=True)
    fs.mkdir("scrapes")
    fs.put(str(RAW) + "/", "scrapes/raw/", recursive=True)
    found = sources.discover(["s3://scrapes/raw"])
    assert [str(f).rsplit("/", 1)[-1] for f in found] == [
        "moredoc-demo-p1.txt",
        "wenku-kubernetes-p1.txt",
        "wenku-search-page.html",
        "wenku-search-page.json",
        "wenku-search-page.txt",
        "wenku-数据库-p2.txt",
    ]
    remote = run.normalise_paths(["s3://scrapes/raw"], tmp_path / "a", metadata.ReadOptions())
    local = run.normalise_paths([RAW], tmp_path / "b", metadata.ReadOptions())
    assert remote.lake_rows == local.lake_rows == {"snapshots": 6, "listings": 53, "rejects": 0}
    assert remote.rejects == 0
    again = run.normalise_paths(["s3://scrapes/raw"], tmp_path / "a", metadata.ReadOptions())
    assert (again.files_read, again.files_skipped) == (0, 6)


def test_a_lake_on_an_object_store_is_compacted_and_tidied(
    s3_endpoint: str, tmp_path: Path
) -> None:
    """Sizes, listings and deletes go through fsspec: compaction works on S3 as on disk."""
    import s3fs

    from pipeline.ingest import metadata
    from pipeline.lake import manifest

    fs = s3fs.S3FileSystem(skip_instance_cache=True)
    fs.mkdir("compacted-lake")  # moto's buckets outlive a server: a name of its own
    url = "s3://compacted-lake/lake"
    raw = tmp_path / "raw"
    raw.mkdir()
    for n in range(5):  # one page a day: the fifth run merges the month's five groups
        shutil.copy(RAW / "wenku-search-page.txt", raw / f"p{n}.txt")
        (raw / f"p{n}.txt.meta.json").write_text(
            f'{{"fetched_at": "2026-11-0{n + 1}T08:00:00Z"}}', encoding="utf-8"
        )
        summary = run.normalise_paths([raw], url, metadata.ReadOptions())
    assert summary.compaction is not None and "merged 5 small groups into 1" in summary.compaction
    (group,) = manifest.load(Location.of(url))["data_file"].unique().to_list()
    assert sorted(fs.find("compacted-lake/lake/listings")) == [
        f"compacted-lake/lake/listings/{group}.parquet"
    ]
    assert manifest.scan(url, "listings").collect().height == 50
