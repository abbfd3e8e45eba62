-- Total results each query reported, fetch by fetch.
select
    coalesce(query, '(no query)') || ' · ' || coalesce(site, '?') as query,
    strftime(fetch_started_at at time zone 'UTC', '%Y-%m-%dT%H:%M:%SZ') as fetched_at,
    total_results
from fct_query_snapshots
where total_results is not null
order by query, fetched_at
