-- expression: rows for which the expression is not true (null counts as not true).
select *
from {model}
where not coalesce(({expression}), false)
