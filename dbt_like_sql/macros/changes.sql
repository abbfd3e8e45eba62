-- changes('model'): the rows an incremental parent changed in this update. `listings
-- build` keeps them (docs/warehouse.md, "Incremental builds"); dbt keeps no such record, so
-- under dbt it is the whole parent: an update there redoes every key, with the same result.
{% macro changes(model) -%}
{{ ref(model) }}
{%- endmacro %}
