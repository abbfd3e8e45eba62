"""The kit's per-form section: listings/s of each input form the pipeline parses.

The same generated documents (one seed, one crawl) are written in each form
(`generate.FORMS`: text, HTML as served, HTML as a browser saves it, search-API JSON) and
each corpus is measured two ways, every run a fresh child process (its peak RSS its own):

- `listings normalise CORPUS --out LAKE`, the real CLI with its default options, into a
  fresh lake: wall time, interpreter start-up included (as the parser section's e2e row);
- the parse stage alone (`stages.run_form_stages`): `read.read_batch` +
  `normalise.normalise_batch` per batch in-process, nothing written, timed after the
  imports, with the parts inside that pass clocked as it runs (the per-page walk, the
  polars field rules, validation, assembly).

Runs are interleaved (each repeat goes over every form in turn) so that a slow minute on a
noisy machine is shared out instead of landing on one form; rows report the median. No
targets are judged here: the parser targets were set for the text form.

`section` renders the markdown under `HEADING`; `with_section` puts it into an existing
RESULTS.md in place of the old one (`python -m benchmarks --forms-only`).
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.dataset import Dataset, warm
from benchmarks.measures import Row, add, fmt_s, mb
from benchmarks.proc import ChildRun, run_job
from benchmarks.stages import FORM_PARTS

HEADING = "## Throughput per input form"
FORM_LABELS = {
    "text": "text (`.txt`)",
    "html": "HTML as served (`.html`)",
    "html-saved": "HTML saved by a browser (`.html`)",
    "json": "search-API JSON (`.json`)",
}
PART_LABELS = {
    "read": "read",
    "walk": "per-page walk",
    "fields": "field rules",
    "validate": "validate",
    "validate other": "validate other",
    "assemble": "assemble",
}


@dataclass
class FormResult:
    data: Dataset
    rows: dict[str, Row] = field(default_factory=dict)  # "e2e", "stage", "part:<part>"
    listings: dict[str, int] = field(default_factory=dict)  # found by each method


@dataclass
class FormsResult:
    repeat: int
    forms: dict[str, FormResult] = field(default_factory=dict)  # by form, in run order


def measure_forms(
    datasets: list[Dataset],
    work: Path,
    normalise: Callable[[list[Path], Path, int], tuple[ChildRun, int]],  # kit.normalise
    *,
    repeat: int = 3,
    batch_bytes: int = 64 * 2**20,
    log: bool = False,
) -> FormsResult:
    """Both measures of every dataset (one per form), interleaved; scratch under `work`."""
    result = FormsResult(repeat)
    for data in datasets:
        warm(data)
        result.forms[data.form] = FormResult(data)
    work.mkdir(parents=True, exist_ok=True)
    try:
        for i in range(repeat):
            for form, measured in result.forms.items():
                data = measured.data
                if log:
                    print(f"  [{form}, {data.listings:,}] listings normalise + parse stage "
                          f"{i + 1}/{repeat}", file=sys.stderr, flush=True)  # fmt: skip
                lake = work / f"lake-{form}"
                shutil.rmtree(lake, ignore_errors=True)
                run, count = normalise([data.corpus], lake, batch_bytes)
                add(measured.rows, "e2e", "`listings normalise`", run.wall_s, run.peak_rss)
                measured.listings["e2e"] = count
                shutil.rmtree(lake, ignore_errors=True)
                args = [str(data.corpus), "--batch-bytes", str(batch_bytes)]
                run, out = run_job("forms", *args)
                add(measured.rows, "stage", "parse stage", out["seconds"], run.peak_rss)
                for part in FORM_PARTS:
                    add(measured.rows, f"part:{part}", PART_LABELS[part], out["parts"][part])
                measured.listings["parse stage"] = out["listings"]
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return result


def _rate(data: Dataset, row: Row) -> tuple[str, str, str]:
    s = row.seconds
    if s <= 0:
        return fmt_s(s), "—", "—"
    return fmt_s(s), f"{data.listings / s:,.0f}", f"{data.megabytes / s:,.1f}"


def section(result: FormsResult, *, measured: str) -> list[str]:
    """The markdown section; `measured` says when, where and how (date, load, code, command)."""
    forms = list(result.forms.values())
    sizes = sorted({f.data.listings for f in forms})
    size = " / ".join(f"{n:,}" for n in sizes)
    seeds = ", ".join(sorted({str(f.data.seed) for f in forms}))
    runs = f"{result.repeat} run{'s' if result.repeat > 1 else ''}"
    lines = [
        HEADING,
        "",
        f"{measured}",
        "",
        f"The same {size} generated listings (seed {seeds}, one crawl over "
        f"{forms[0].data.days} fetch days, `benchmarks.generate --form`) in each input form "
        "the pipeline parses: documents, fetch times and sidecars are the same, only the "
        "rendering differs. `listings normalise` is the CLI's wall time in a fresh process "
        "(default options, a fresh lake, start-up included); the parse stage is "
        "`read.read_batch` + `normalise.normalise_batch` per batch in its own process, "
        "nothing written, imports excluded. MB/s is of the input files as stored (sidecars "
        f"not counted). Median of {runs}, the forms interleaved; peak RSS is the highest "
        "over the runs. No targets: the parser targets were set for the text form.",
        "",
        "| form | input | `listings normalise` s | listings/s | MB/s | peak RSS "
        "| parse stage s | listings/s | MB/s | peak RSS |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for form, measured_form in result.forms.items():
        data, rows = measured_form.data, measured_form.rows
        e2e, stage = rows["e2e"], rows["stage"]
        lines.append(
            f"| {FORM_LABELS.get(form, form)} | {data.files:,} files, {data.megabytes:.1f} MB "
            f"| {' | '.join(_rate(data, e2e))} | {mb(e2e.peak_rss)} "
            f"| {' | '.join(_rate(data, stage))} | {mb(stage.peak_rss)} |"
        )
    lines += [
        "",
        "Where the parse stage's time goes, median seconds of each part over all batches. "
        "The per-page walk is the one step per page in Python (lexbor's tree and CSS "
        "selectors for HTML, the standard library's JSON decoder for the API; the text form "
        "has none); field rules are the rest of `parse.parse` (polars); validate is pandera "
        "on the listings, validate other on the snapshots and rejects; assemble is the rest "
        "of `normalise_batch`. Each part is clocked inside the one timed pass, so the parts "
        "add up to the parse stage.",
        "",
        "| form | " + " | ".join(PART_LABELS[p] for p in FORM_PARTS) + " | parse stage |",
        "| --- | " + " | ".join("---:" for _ in FORM_PARTS) + " | ---: |",
    ]
    for form, measured_form in result.forms.items():
        parts = [measured_form.rows[f"part:{p}"].seconds for p in FORM_PARTS]
        cells = [fmt_s(s) if s > 0 else "—" for s in parts]
        total = measured_form.rows["stage"].seconds
        lines.append(f"| {form} | {' | '.join(cells)} | {fmt_s(total)} |")
    counts = "; ".join(
        f"{form} " + ", ".join(f"{how} {n:,}" for how, n in f.listings.items())
        for form, f in result.forms.items()
    )
    lines += ["", f"Listings found: {counts}."]
    return lines


def existing_section(text: str) -> str | None:
    """The per-form section of a RESULTS.md text, from its heading to the next `## `
    heading (the blank line before that included), or None."""
    start = text.find(f"\n{HEADING}\n")
    if start < 0:
        return None
    end = text.find("\n## ", start + len(HEADING) + 2)
    return text[start + 1 : end + 1 if end >= 0 else len(text)]


def with_section(text: str, new: str, before: tuple[str, ...]) -> str:
    """`text` with its per-form section replaced by `new`; if it has none, `new` goes
    before the first of the `before` headings it holds, else at the end."""
    new = new.rstrip("\n") + "\n"
    old = existing_section(text)
    if old is not None:
        start = text.find(f"\n{HEADING}\n") + 1
        rest = text[start + len(old) :]
        return text[:start] + new + ("\n" if rest else "") + rest
    for heading in before:
        at = text.find(f"\n{heading}\n")
        if at >= 0:
            return text[: at + 1] + new + "\n" + text[at + 1 :]
    return (text.rstrip("\n") + "\n\n" if text.strip() else "") + new
