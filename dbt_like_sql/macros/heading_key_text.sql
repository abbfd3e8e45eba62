-- A heading as the document key reads it (int_listings__document_keys). Two things vary
-- between renderings of one document and are taken out:
--   * whitespace: layouts differ only in the line break or space between title and
--     description (or none at all, when they are glued);
--   * trailing digits: the price is glued to the description, and which digits of an
--     ambiguous run went to the price depends on the evidence of the batch it was parsed in.
-- A DuckDB macro, created before the models run (dbt_project.yml's on-run-start).
{% macro create_heading_key_text() %}
create or replace macro heading_key_text(heading) as
    regexp_replace(regexp_replace(heading, '[\s\pZ]+', '', 'g'), '[0-9]+$', '')
{% endmacro %}
