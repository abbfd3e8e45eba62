-- Documents by the $unit (day, week or month, UTC) they were first seen in any snapshot.
select
    strftime(date_trunc($unit, first_seen_at at time zone 'UTC'), '%Y-%m-%d') as period,
    count(*) as new_documents
from dim_documents
group by period
order by period
