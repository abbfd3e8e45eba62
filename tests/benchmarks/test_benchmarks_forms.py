"""The per-form part of the benchmark kit on a tiny corpus: the generator writes every input
form from the same documents, each form parses back to them, and the per-form measure runs.

No timing assertions, as in test_benchmarks_smoke.py.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from benchmarks import forms_kit, generate, kit
from benchmarks.__main__ import build_parser
from benchmarks.dataset import dataset, dataset_dir
from benchmarks.generate import FORMS, SUFFIXES, generate_corpus
from benchmarks.stages import FORM_PARTS, run_form_stages
from pipeline import parse, schemas
from pipeline.ingest import metadata, read, sources, walk
from pipeline.parse import api, html
from pipeline.run import normalise

N_LISTINGS = 200  # 20 pages
TINY = {"days": 5, "increment_days": 2, "increment_pages": 5}


def test_every_form_shows_the_same_documents_at_the_same_fetches() -> None:
    pages = {
        form: list(generate_corpus(N_LISTINGS, seed=3, form=form, twins=0.0, **TINY))
        for form in FORMS
    }
    text = pages["text"]
    slides = 0
    for form, form_pages in pages.items():
        assert len(form_pages) == len(text)
        for page, twin in zip(form_pages, text, strict=True):
            assert page.form == form
            assert page.path == twin.path.removesuffix(".txt") + SUFFIXES[form]
            assert page.doc_ids == twin.doc_ids
            assert page.sidecar["fetched_at"] == twin.sidecar["fetched_at"]
            # The same documents; HTML and JSON show a description on one line, and a slide
            # deck's (the text repeats its title) starts with the title, as the site stores it.
            assert [d.title for d in page.docs] == [d.title for d in twin.docs]
            if form == "text":
                assert page.docs == twin.docs
            else:
                for doc, truth in zip(page.docs, twin.docs, strict=True):
                    one_line = truth.description.replace("\n", " ")
                    assert doc.description in (one_line, truth.title + one_line)
                    slides += doc.description != one_line
            assert [d.document_id for d in page.docs] == [i + 1 for i in page.doc_ids]
    assert slides > 0  # the tiny corpus holds slide decks in every structured form
    json_page = pages["json"][0]
    assert json_page.sidecar["url"].startswith(f"{generate.SITE}{generate.API_PATH}?wd=")
    assert json.loads(json_page.text)["document"][0]["id"] == str(json_page.doc_ids[0] + 1)
    assert pages["html-saved"][0].text.startswith("<!DOCTYPE html>")
    assert pages["html"][0].text.startswith("<!doctype html>")
    # Single-form corpora have no twins unless asked, and only text pages can have them.
    assert pages["html"] == list(generate_corpus(N_LISTINGS, seed=3, form="html", **TINY))
    with pytest.raises(ValueError, match="form must be one of"):
        next(generate_corpus(N_LISTINGS, form="pdf"))
    with pytest.raises(ValueError, match="twins must be a share"):
        next(generate_corpus(N_LISTINGS, form="json", twins=0.1))


def test_a_twin_is_the_same_results_saved_in_another_form_seconds_later() -> None:
    pages = list(generate_corpus(2000, seed=3, days=20, increment_days=2, twins=0.3))
    twins = [i for i, page in enumerate(pages) if page.twin]
    assert twins and all(pages[i].form in generate.TWIN_FORMS for i in twins)
    assert {pages[i].form for i in twins} == set(generate.TWIN_FORMS)
    assert not any(page.twin for page in pages if page.form == "text")
    for i in twins:
        twin, text = pages[i], pages[i - 1]  # saved right after the text page it twins
        assert text.form == "text" and text.day == twin.day and text.part == twin.part
        assert twin.path == text.path.removesuffix(".txt") + SUFFIXES[twin.form]
        assert twin.doc_ids == text.doc_ids
        assert [d.title for d in twin.docs] == [d.title for d in text.docs]
        delay = metadata.parse_timestamp(twin.sidecar["fetched_at"]) - metadata.parse_timestamp(
            text.sidecar["fetched_at"]
        )
        assert generate.TWIN_DELAY_S[0] <= delay.total_seconds() <= generate.TWIN_DELAY_S[1]
    # Twins are files of the day's budget: N listings are N / 10 page files of every form.
    corpus = [page for page in pages if page.part == generate.CORPUS_DIR]
    assert sum(len(page.doc_ids) for page in corpus) == 2000
    assert len(pages) - len(corpus) == 2 * generate.INCREMENT_PAGES


@pytest.mark.parametrize("form", FORMS)
def test_each_form_is_written_with_sidecars_and_parses_back_to_its_truths(
    tmp_path: Path, form: str
) -> None:
    cache = tmp_path / "cache"
    data = dataset(N_LISTINGS, seed=5, cache=cache, form=form, twins=0.0, **TINY)

    assert data.form == form
    assert data.root == dataset_dir(cache, N_LISTINGS, 5, 5, 2, 5, form, 0.0)
    assert ("-html-saved.v" in data.root.name) == (form == "html-saved")
    assert ("-twins-0-" in data.root.name) == (form == "text")  # not the text form's default
    files = data.page_files()
    assert data.files == len(files) == N_LISTINGS // 10
    assert {Path(f).suffix for f in files} == {SUFFIXES[form]}
    for file in files:
        sidecar = json.loads(Path(file + walk.SIDECAR_SUFFIX).read_text(encoding="utf-8"))
        assert set(sidecar) == {"url", "fetched_at"}
    assert dataset(N_LISTINGS, seed=5, cache=cache, form=form, twins=0.0, **TINY) == data

    snapshots = read.read_batch(sources.discover([data.corpus]), metadata.ReadOptions())
    assert set(snapshots["form"]) == {"html" if form.startswith("html") else form}
    tables = normalise.normalise_batch(snapshots)
    assert tables.listings.height == N_LISTINGS
    assert tables.rejects.height == 0
    corpus = [p for p in generate_corpus(N_LISTINGS, seed=5, form=form, twins=0.0, **TINY)
              if p.part == generate.CORPUS_DIR]  # fmt: skip
    if form != "text":  # the text form's title boundary is a reading, not a fact
        truths = sorted((d.document_id, d.title, d.description) for p in corpus for d in p.docs)
        got = tables.listings.select("document_id", "title", "description").rows()
        assert sorted(got) == truths


def test_a_cache_folder_names_the_generator_version_and_a_twin_share_not_the_default(
    tmp_path: Path,
) -> None:
    name = dataset_dir(tmp_path, 100_000, 0, 730, 30, 50).name
    assert name == "corpus-v4-100000-over-730d-inc-30x50-seed-0"
    assert dataset_dir(tmp_path, 100_000, 0, 730, 30, 50, "text", generate.TWIN_SHARE).name == name
    assert dataset_dir(tmp_path, 100_000, 0, 730, 30, 50, "text", 0.0).name == (
        "corpus-v4-100000-over-730d-twins-0-inc-30x50-seed-0"
    )
    assert dataset_dir(tmp_path, 100, 0, 5, 2, 5, "json").name == (
        "corpus-v4-json.v2-100-over-5d-inc-2x5-seed-0"
    )


def test_one_tiny_per_form_measure_runs_and_is_reported(tmp_path: Path) -> None:
    forms = ("html-saved", "json")
    datasets = [
        dataset(N_LISTINGS, seed=5, cache=tmp_path / "cache", form=f, **TINY) for f in forms
    ]

    result = kit.measure_forms(datasets, tmp_path / "work", repeat=1)

    assert list(result.forms) == list(forms)
    for measured in result.forms.values():
        assert measured.listings == {"e2e": N_LISTINGS, "parse stage": N_LISTINGS}
        for key in ("e2e", "stage"):
            assert measured.rows[key].peak_rss, key  # each in its own process
            assert measured.rows[key].seconds > 0
        assert measured.rows["part:walk"].seconds > 0  # HTML and JSON walk each page
        parts = sum(measured.rows[f"part:{part}"].seconds for part in FORM_PARTS)
        assert parts == pytest.approx(measured.rows["stage"].seconds)  # one pass, clocked
    assert not (tmp_path / "work").exists()

    section = kit.forms_section(
        result, started=datetime.now(UTC), load_before="n/a", command="python -m benchmarks"
    )
    assert section.startswith(forms_kit.HEADING + "\n")
    assert "| HTML saved by a browser (`.html`) | 20 files" in section
    assert "| json | " in section
    assert "| PASS" not in section and "| FAIL" not in section  # reported, not judged


def test_the_parse_stage_clocks_its_parts_inside_one_pass(tmp_path: Path) -> None:
    data = dataset(N_LISTINGS, seed=5, cache=tmp_path / "cache", form="json", **TINY)
    originals = (html.extract_pages, api.extract_pages, parse.parse, schemas.split_valid)

    parts, listings = run_form_stages(sources.discover([data.corpus]), 2**20)

    assert listings == N_LISTINGS
    assert all(parts[part] >= 0 for part in FORM_PARTS)
    assert parts["walk"] > 0 and parts["validate"] > 0
    assert sum(parts[part] for part in FORM_PARTS) == pytest.approx(parts["total"])
    # The pipeline's own functions are back once the pass is over.
    assert (html.extract_pages, api.extract_pages, parse.parse, schemas.split_valid) == originals


def test_the_per_form_section_is_replaced_alone() -> None:
    kept = "## Measurements behind design choices\n\n- **a choice**: 1.0 s.\n"
    head = "# Benchmarks\n\n### 100 listings\n\n| x |\n\n"
    targets = "## Targets: parser\n\n| t |\n\n"
    new = f"{forms_kit.HEADING}\n\nnew table\n"

    # No section yet: it goes before the targets, else before the hand-written sections.
    assert kit.with_forms_section(head + targets + kept, new) == head + new + "\n" + targets + kept
    assert kit.with_forms_section(head + kept, new) == head + new + "\n" + kept
    assert kit.with_forms_section("", new) == new
    # An old one is replaced, whatever follows it; the rest stays byte for byte.
    old = f"{forms_kit.HEADING}\n\nold table\n\n"
    assert kit.with_forms_section(head + old + targets + kept, new) == (
        head + new + "\n" + targets + kept
    )
    assert kit.with_forms_section(head + old.rstrip("\n") + "\n", new) == head + new
    assert forms_kit.existing_section(head + old + targets) == old


def test_help_names_the_per_form_options() -> None:
    text = build_parser().format_help()
    for option in ("--forms-only", "--no-forms", "--forms", "--form-listings"):
        assert option in text
    args = build_parser().parse_args(["--forms", "json,html"])
    assert args.forms == ("json", "html")
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--forms", "pdf"])
