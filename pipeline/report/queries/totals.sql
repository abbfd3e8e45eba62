-- One row: the report's header numbers. The three lake tables as the build loaded them, then
-- what the marts made of them.
select
    (select count(*) from snapshots) as snapshots,
    (select count(*) from listings) as listings,
    (select count(*) from rejects) as rejects,
    (select count(*) from dim_documents) as documents,
    (select count(distinct query) from fct_query_snapshots) as queries,
    (select count(distinct site) from fct_query_snapshots) as sites,
    (select count(*) from fct_query_snapshots) as fetches,
    (select count(*) from rpt_data_quality) as findings,
    (select count(*) from rpt_data_quality where severity = 'high') as high_findings,
    (select min(fetch_started_at) from fct_query_snapshots) as first_fetch_at,
    (select max(fetch_ended_at) from fct_query_snapshots) as last_fetch_at
