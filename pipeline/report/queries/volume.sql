-- What was fetched per $unit (day, week or month, UTC): crawls, pages and listings. A gap is
-- a period with no fetch; a sudden drop usually means the crawler, not the site, changed.
select
    strftime(date_trunc($unit, fetch_started_at at time zone 'UTC'), '%Y-%m-%d') as period,
    count(*) as fetches,
    cast(sum(snapshots_seen) as bigint) as pages,
    cast(sum(listings_seen) as bigint) as listings
from fct_query_snapshots
group by period
order by period
