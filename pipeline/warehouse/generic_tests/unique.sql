-- unique: rows sharing {keys} (one column, or `columns: [...]`); each group is a failure.
select {keys}, count(*) as n_rows
from {model}
group by {keys}
having count(*) > 1
