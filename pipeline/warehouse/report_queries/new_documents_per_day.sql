-- Documents first seen per UTC day.
select
    strftime(first_seen_at at time zone 'UTC', '%Y-%m-%d') as first_seen_date,
    count(*) as new_documents
from dim_documents
group by first_seen_date
order by first_seen_date
