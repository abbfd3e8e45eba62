"""Retries where they belong: an I/O error is retried, a bug or bad data is not."""

from __future__ import annotations

import pytest


@pytest.mark.flow
def test_io_errors_are_retried_and_other_errors_are_not(prefect_api: None) -> None:
    from prefect import flow, task

    from flows.normalise import _IO_RETRIES

    calls = {"io": 0, "bug": 0}
    options = {**_IO_RETRIES, "retry_delay_seconds": 0}

    @task(**options)
    def flaky_read() -> str:
        calls["io"] += 1
        if calls["io"] < 3:
            raise OSError("the disk hiccuped")
        return "read"

    @task(**options)
    def buggy_parse() -> None:
        calls["bug"] += 1
        raise ValueError("a parser bug")

    @flow
    def run() -> tuple:
        return flaky_read(), buggy_parse(return_state=True)

    result, state = run()
    assert (result, calls["io"]) == ("read", 3)
    assert state.is_failed() and calls["bug"] == 1
