-- A generic test: the rows for which `expression` is not true. Strictly: a row where it is
-- NULL fails too, where dbt_utils' expression_is_true lets it pass; write `x is null or …`
-- where a NULL is fine. Both `listings build` and dbt read this definition.
{% test strictly_true(model, expression, column_name=None) %}
select *
from {{ model }}
where not coalesce(({{ expression }}), false)
{% endtest %}
