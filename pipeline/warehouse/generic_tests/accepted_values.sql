-- accepted_values (dbt's): values of {column} outside `values`, with how many rows hold each
-- (a null is no value: not_null tests for it).
with all_values as (
    select {column} as value_field, count(*) as n_records
    from {model}
    group by {column}
)
select *
from all_values
where value_field not in ({values})
