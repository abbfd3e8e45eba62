"""`Project.select` reads dbt's selection syntax: graph operators (`+`, depths, `@`), the
methods `tag:`, `path:`, `file:`, `fqn:` and the method-less form, unions, intersections
and `exclude`; a selector naming nothing is an error that names what exists."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.errors import ModelError
from pipeline.warehouse.project import Project, load_project
from tests.warehouse.sql.test_runner import model, write_project

# a -> c -> d -> f, b -> d, c -> e; tags in SQL (c, e) and in YAML (d, f), both on d
FILES = {
    "staging/a.sql": model("select 1 as x"),
    "staging/b.sql": model("select 2 as x"),
    "intermediate/c.sql": model(
        "{{ config(tags=['keys', 'nightly']) }}\nselect * from {{ ref('a') }}"
    ),
    "intermediate/e.sql": model("{{ config(tags='nightly') }}\nselect * from {{ ref('c') }}"),
    "marts/d.sql": model(
        "{{ config(tags=['hourly']) }}\nselect * from {{ ref('c') }}, {{ ref('b') }}", "table"
    ),
    "marts/d.yml": "models:\n  - name: d\n    config:\n      tags: [report, hourly]\n",
    "marts/f.sql": model("select * from {{ ref('d') }}", "table"),
    "marts/f.yml": "models:\n  - name: f\n    config: {tags: report}\n",
}


@pytest.fixture
def project(tmp_path: Path) -> Project:
    return load_project(write_project(tmp_path, FILES))


def test_a_name_alone_and_with_all_its_ancestors_or_descendants(project: Project) -> None:
    assert project.select(["d"]) == ["d"]
    assert project.select(["d+"]) == ["d", "f"]
    assert project.select(["+d"]) == ["a", "b", "c", "d"]
    assert project.select(["+d+"]) == ["a", "b", "c", "d", "f"]
    assert project.select(None) == project.select([]) == ["a", "b", "c", "e", "d", "f"]


def test_a_number_limits_the_generations(project: Project) -> None:
    assert project.select(["1+f"]) == ["d", "f"]
    assert project.select(["2+f"]) == ["b", "c", "d", "f"]
    assert project.select(["a+1"]) == ["a", "c"]
    assert project.select(["a+2"]) == ["a", "c", "e", "d"]
    assert project.select(["1+c+1"]) == ["a", "c", "e", "d"]


def test_at_takes_the_descendants_and_every_ancestor_of_them(project: Project) -> None:
    # d's descendant f reads nothing d does not: b and c (and a) are d's ancestors
    assert project.select(["@d"]) == ["a", "b", "c", "d", "f"]
    # c's descendants d and f read b too, which is no ancestor of c
    assert project.select(["@c"]) == ["a", "b", "c", "e", "d", "f"]
    assert project.select(["@b"]) == ["a", "b", "c", "d", "f"]
    with pytest.raises(ModelError, match=r"--select @d\+: '@' and a '\+' after the name"):
        project.select(["@d+"])


def test_tags_come_from_the_sql_config_and_the_yaml_config_both(project: Project) -> None:
    assert project.models["d"].tags == ("hourly", "report")
    assert project.models["e"].tags == ("nightly",)
    assert project.select(["tag:nightly"]) == ["c", "e"]
    assert project.select(["tag:report"]) == ["d", "f"]
    assert project.select(["tag:hourly"]) == ["d"]
    assert project.select(["tag:*ly"]) == ["c", "e", "d"]  # dbt globs tags too


def test_graph_operators_combine_with_methods(project: Project) -> None:
    assert project.select(["+tag:hourly"]) == ["a", "b", "c", "d"]
    assert project.select(["tag:keys+"]) == ["c", "e", "d", "f"]
    assert project.select(["path:staging+1"]) == ["a", "b", "c", "d"]
    assert project.select(["1+path:marts/f.sql"]) == ["d", "f"]


def test_paths_are_relative_to_the_project_folder(project: Project) -> None:
    assert project.select(["path:marts"]) == ["d", "f"]
    assert project.select(["path:marts/"]) == ["d", "f"]
    assert project.select(["path:marts/d.sql"]) == ["d"]
    assert project.select(["path:marts/f.yml"]) == ["f"]  # the YAML declaring it, as dbt
    assert project.select(["path:*/[ce].sql"]) == ["c", "e"]
    assert project.select(["path:."]) == project.select(None)
    # method-less: a value with a `/` is a path, one ending `.sql` a file name, else a name
    assert project.select(["intermediate/e.sql"]) == ["e"]
    assert project.select(["e.sql", "file:a"]) == ["a", "e"]


def test_a_folder_without_path_is_a_name_as_in_dbt(project: Project) -> None:
    """dbt's fqn of a model in a model-path's own folder is the project and the name: a
    bare folder name selects nothing there, so it is refused, with the way to say it."""
    with pytest.raises(ModelError, match=r"no model named 'marts' .*; a folder's models are "
                                         r"path:marts$"):  # fmt: skip
        project.select(["marts"])


def test_names_glob_as_dbt_fqns_do(project: Project) -> None:
    assert project.select(["fqn:?"]) == project.select(None)
    assert project.select(["[ab]"]) == ["a", "b"]


def test_spaces_and_several_selectors_are_a_union_commas_an_intersection(
    project: Project,
) -> None:
    assert project.select(["a b"]) == project.select(["a", "b"]) == ["a", "b"]
    assert project.select(["tag:nightly tag:report"]) == ["c", "e", "d", "f"]
    assert project.select(["tag:nightly,path:intermediate/e.sql"]) == ["e"]
    assert project.select(["+f,tag:nightly"]) == ["c"]
    assert project.select(["+f,c+"]) == ["c", "d", "f"]
    assert project.select(["tag:report,path:staging"]) == []  # empty, not an error
    assert project.select(["a", "+f,c+"]) == ["a", "c", "d", "f"]


def test_exclude_takes_its_models_out(project: Project) -> None:
    assert project.select(["+f"], exclude=["tag:keys"]) == ["a", "b", "d", "f"]
    assert project.select(["+f"], exclude=["c+"]) == ["a", "b"]
    assert project.select(None, exclude=["path:marts", "a"]) == ["b", "c", "e"]
    assert project.select(["tag:report"], exclude=["tag:report"]) == []


def test_an_unknown_name_keeps_its_message_and_lists_the_models(project: Project) -> None:
    with pytest.raises(ModelError) as error:
        project.select(["+zz"])
    assert str(error.value) == "--select +zz: no model named 'zz' (models: a, b, c, e, d, f)"
    with pytest.raises(ModelError, match=r"^--exclude zz: no model named 'zz'"):
        project.select(None, exclude=["zz"])


def test_an_unknown_tag_path_or_method_names_what_exists(project: Project) -> None:
    with pytest.raises(ModelError) as error:
        project.select(["tag:weekly"])
    assert str(error.value) == (
        "--select tag:weekly: no model tagged 'weekly' (tags: hourly, keys, nightly, report)"
    )
    with pytest.raises(ModelError) as error:
        project.select(["a"], exclude=["path:mart"])
    assert str(error.value).startswith("--exclude path:mart: no model file at or under 'mart'")
    assert str(error.value).endswith("(folders: intermediate, marts, staging)")
    with pytest.raises(ModelError, match=r"unknown method 'tags' \(methods: fqn, tag, path"):
        project.select(["tags:report"])
    with pytest.raises(ModelError, match=r"--select a,,b: an empty part between commas"):
        project.select(["a,,b"])
    with pytest.raises(ModelError, match=r"--select tag:: names no model, tag or path"):
        project.select(["tag:"])


def test_tags_that_are_not_names_are_refused(tmp_path: Path) -> None:
    files = {**FILES, "marts/f.yml": "models:\n  - name: f\n    config: {tags: [[x]]}\n"}
    with pytest.raises(ModelError, match=r"f\.yml: tags are a name or a list of names"):
        load_project(write_project(tmp_path, files))
