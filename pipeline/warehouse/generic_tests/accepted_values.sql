-- accepted_values: values of {column} outside `values: [...]`, with how many rows hold each.
select {column}, count(*) as n_rows
from {model}
where {column} is not null and {column} not in ({values})
group by {column}
