-- relationships: values of {column} with no row in `to` whose `field` equals them.
select child.{column}
from {model} as child
left join {parent} as parent on child.{column} = parent.{field}
where child.{column} is not null and parent.{field} is null
