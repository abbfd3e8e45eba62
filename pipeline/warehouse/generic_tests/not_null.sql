-- not_null: rows whose {column} is null.
select *
from {model}
where {column} is null
