"""The folder walk passes over nothing without a word (docs/input-format.md §3.3): what it
does not read is counted and named in the run's summary, upper-case endings are read,
symlinked folders are followed once each, however the links loop."""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import subprocess
import sys
from pathlib import Path

import fsspec
import pytest

from pipeline import cli
from pipeline.ingest import sources, walk
from pipeline.lake import manifest
from pipeline.lake.storage import Location
from pipeline.run.summary import RunSummary
from tests.conftest import REPO, SAMPLE


def _scan(*paths: Path, in_child: bool = False, follow_links: bool = True) -> tuple[list, list]:
    """(paths found, relative to the first path's folder, and skipped), in this process or
    in the walk's child: both must agree."""
    scan = sources.Scan(paths, in_child=in_child, follow_links=follow_links)
    found = scan.result()[0]
    root = f"{paths[0]}/"
    return (
        [p.removeprefix(root) for p in found],
        [(kind, p.removeprefix(root)) for kind, p in scan.skipped],
    )


def _both(*paths: Path, follow_links: bool = True) -> tuple[list, list]:
    here = _scan(*paths, follow_links=follow_links)
    assert _scan(*paths, in_child=True, follow_links=follow_links) == here
    return here


def test_upper_case_endings_are_the_same_forms(tmp_path: Path) -> None:
    for name in ("PAGE.TXT", "b.Html", "c.HTM.GZ", "d.Json", "e.TXT.Gz", "PAGE.TXT.META.JSON"):
        (tmp_path / name).write_text("x")
    assert _both(tmp_path) == (["PAGE.TXT", "b.Html", "c.HTM.GZ", "d.Json", "e.TXT.Gz"], [])
    assert walk.is_snapshot_name("X.TXT") and not walk.is_snapshot_name("X.TXT.META.JSON")


def test_hidden_files_and_folders_are_named(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "page.txt").write_text("x")
    for name in (".foo.txt", ".gitignore", "page.txt"):
        (tmp_path / name).write_text("x")
    assert _both(tmp_path) == (["page.txt"], [("hidden", ".foo.txt"), ("hidden", ".git")])


def test_a_symlinked_folder_is_followed_and_a_loop_walked_once(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "deep").mkdir(parents=True)
    (elsewhere / "deep" / "far.txt").write_text("x")
    raw = tmp_path / "raw"
    (raw / "sub").mkdir(parents=True)
    (raw / "sub" / "near.txt").write_text("x")
    (raw / "far").symlink_to(elsewhere, target_is_directory=True)
    (raw / "sub" / "up").symlink_to("..", target_is_directory=True)  # a loop
    (elsewhere / "back").symlink_to(raw, target_is_directory=True)  # a loop through a link
    assert _both(raw) == (
        ["far/deep/far.txt", "sub/near.txt"],
        [
            ("link to a folder walked already", "far/back"),
            ("link to a folder walked already", "sub/up"),
        ],
    )
    assert _both(raw, follow_links=False) == (
        ["sub/near.txt"],
        [("linked folder not followed", "far"), ("linked folder not followed", "sub/up")],
    )


def test_a_broken_link_is_named_or_read_as_a_reject(tmp_path: Path) -> None:
    """Named like a page, the reader makes it a reject naming it; otherwise it may have been
    a folder, and the walk names it."""
    (tmp_path / "gone.txt").symlink_to(tmp_path / "nowhere.txt")
    (tmp_path / "gone-folder").symlink_to(tmp_path / "nowhere", target_is_directory=True)
    assert _both(tmp_path) == (["gone.txt"], [("broken link", "gone-folder")])


def test_an_unreadable_folder_is_named_with_the_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No permission to list it (simulated: tests may run as root, who lists anything)."""
    (tmp_path / "locked").mkdir()
    (tmp_path / "locked" / "page.txt").write_text("x")
    (tmp_path / "page.txt").write_text("x")
    real_open = os.open

    def refusing(name: str, *args: object, **kwargs: object) -> int:
        if str(name).endswith("locked"):
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), name)
        return real_open(name, *args, **kwargs)

    monkeypatch.setattr(os, "open", refusing)
    assert _scan(tmp_path) == (["page.txt"], [("unreadable folder", "locked: Permission denied")])


def _deep(root: Path, length: int) -> str:
    """A folder chain below `root` whose last folder's path is at least `length` bytes, with
    a page in it: made through descriptors, since no call takes the whole path."""
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
    path = str(root)
    try:
        while len(os.fsencode(path)) < length:
            os.mkdir("d" * 200, dir_fd=fd)
            inner = os.open("d" * 200, os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
            os.close(fd)
            fd, path = inner, f"{path}/{'d' * 200}"
        os.close(os.open("page.txt", os.O_CREAT | os.O_WRONLY, dir_fd=fd))
    finally:
        os.close(fd)
    return path


def test_a_path_too_long_to_open_is_named(tmp_path: Path) -> None:
    (tmp_path / "page.txt").write_text("x")
    deep = _deep(tmp_path, walk.PATH_MAX)  # no call opens that folder by its path
    found, skipped = _both(tmp_path)
    assert found == ["page.txt"]
    assert skipped == [("path too long", deep.removeprefix(f"{tmp_path}/"))]


def test_a_walk_result_goes_through_the_child_protocol_unchanged() -> None:
    found = {"/r/a.txt": (3, 10**18), os.fsdecode(b"/r/\xff.txt"): (0, -1)}
    skipped = [("hidden", "/r/.x.txt"), ("unreadable folder", "/r/x: Permission denied")]
    back = walk.decode(walk.encode(found, skipped))
    assert back.paths == list(found) and back.skipped == skipped
    assert list(zip(back.sizes, back.mtimes, strict=True)) == list(found.values())
    assert [list(column) for column in walk.decode(walk.encode({}, []))] == [[], [], [], []]


def test_the_summary_counts_and_names_what_was_skipped_in_one_added_line() -> None:
    summary = RunSummary(lake_dir="lake", files_found=1)
    before = summary.render()
    assert "skipped" not in before
    summary.skipped = [("hidden", f"raw/.{name}.txt") for name in ("a", "b", "c", "d", "e")] + [
        ("unreadable folder", "raw/locked: Permission denied")
    ]
    after = summary.render()
    assert after == before + (
        "\nskipped:        5 hidden (raw/.a.txt, raw/.b.txt, raw/.c.txt, 2 more), "
        "1 unreadable folder (raw/locked: Permission denied)"
    )
    assert "- skipped by the folder walk: 5 hidden (" in summary.markdown()


def test_listings_normalise_prints_what_the_walk_skipped(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    (raw / "sub").mkdir(parents=True)
    shutil.copy(SAMPLE, raw / "PAGE.TXT")
    (raw / ".foo.txt").write_text("x")
    (raw / ".git").mkdir()
    (raw / "sub" / "up").symlink_to("..", target_is_directory=True)
    done = subprocess.run(
        [sys.executable, "-m", "pipeline.cli", "normalise", str(raw), "--out", str(tmp_path / "l")],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    lines = done.stdout.splitlines()
    assert lines[0] == "snapshot files: 1 found, 1 new snapshots, 0 already in the lake"
    assert lines[2:4] == ["listings:       10", "rejects:        0"]
    assert lines[-1] == (
        f"skipped:        2 hidden ({raw}/.foo.txt, {raw}/.git), "
        f"1 link to a folder walked already ({raw}/sub/up)"
    )


def test_a_folder_nested_deeper_than_the_recursion_limit_is_walked(tmp_path: Path) -> None:
    """1500 levels fit a path (2 bytes a level); the walk keeps its own stack. The tree is
    removed here, level by level: pytest's own clean-up recurses and would fail on it."""
    levels = [os.open(tmp_path, os.O_RDONLY | os.O_DIRECTORY)]
    try:
        for _ in range(1500):
            os.mkdir("a", dir_fd=levels[-1])
            levels.append(os.open("a", os.O_RDONLY | os.O_DIRECTORY, dir_fd=levels[-1]))
        os.close(os.open("page.txt", os.O_CREAT | os.O_WRONLY, dir_fd=levels[-1]))
        assert sys.getrecursionlimit() < 1500
        assert _both(tmp_path) == (["a/" * 1500 + "page.txt"], [])
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink("page.txt", dir_fd=levels[-1])
        while len(levels) > 1:
            os.close(levels.pop())
            os.rmdir("a", dir_fd=levels[-1])
        os.close(levels.pop())


def test_an_object_store_is_found_by_the_same_rules() -> None:
    fs = fsspec.filesystem("memory")
    for key in ("raw/PAGE.TXT", "raw/.foo.txt", "raw/.git/x.txt", "raw/.git/y.txt", "raw/a.md"):
        fs.pipe(f"/{key}", b"x")
    try:
        scan = sources.Scan(["memory://raw"])
        assert scan.result()[0] == ["memory:///raw/PAGE.TXT"]
        assert scan.skipped == [
            ("hidden", "memory:///raw/.foo.txt"),
            ("hidden", "memory:///raw/.git"),
        ]
    finally:
        fs.rm("/raw", recursive=True)


def test_no_follow_links_keeps_a_run_out_of_linked_folders(tmp_path: Path) -> None:
    """`listings normalise --no-follow-links`: a page behind a linked folder is not read,
    and the summary names the link instead."""
    raw, elsewhere = tmp_path / "raw", tmp_path / "elsewhere"
    raw.mkdir()
    elsewhere.mkdir()
    shutil.copy(SAMPLE, raw / "page.txt")
    shutil.copy(SAMPLE, elsewhere / "other.txt")
    (raw / "linked").symlink_to(elsewhere, target_is_directory=True)
    base = ["normalise", str(raw), "--out"]
    assert cli.main([*base, str(tmp_path / "followed")]) == 0
    assert cli.main([*base, str(tmp_path / "kept-out"), "--no-follow-links"]) == 0
    followed = manifest.load(Location.of(tmp_path / "followed"))["source_path"].to_list()
    kept_out = manifest.load(Location.of(tmp_path / "kept-out"))["source_path"].to_list()
    assert sorted(followed) == [str(raw / "linked" / "other.txt"), str(raw / "page.txt")]
    assert kept_out == [str(raw / "page.txt")]
