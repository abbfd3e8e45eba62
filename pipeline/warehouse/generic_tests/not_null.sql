-- not_null (dbt's): rows whose {column} is null.
select *
from {model}
where {column} is null
