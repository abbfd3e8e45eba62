-- unique (dbt's): values of {column} more than one row holds, nulls ignored; `column_name` on
-- a model may be several columns as one value, `(a, b)`.
select {column} as unique_field, count(*) as n_records
from {model}
where {column} is not null
group by {column}
having count(*) > 1
