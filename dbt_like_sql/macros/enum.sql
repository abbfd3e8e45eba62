-- enum('FORMS'): a DuckDB ENUM of the values of one of pipeline/vocab.py's closed
-- vocabularies, in its order. `listings build` compiles it itself, from vocab.py; this macro
-- is what dbt runs, from the copy in dbt_project.yml's vars.
{% macro enum(vocabulary) -%}
ENUM({% for value in var(vocabulary) %}'{{ value | replace("'", "''") }}'{% if not loop.last %}, {% endif %}{% endfor %})
{%- endmacro %}
