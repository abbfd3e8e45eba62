-- One row per query of a site: how often it was fetched, how much of it the last crawl
-- covered (pages seen of the `last_page` its footer named), and its result count from the
-- first fetch to the latest (`trend`: every fetch's count, oldest first).
with

fetches as (

    select * from fct_query_snapshots

),

appearances as (

    select * from fct_listing_appearances

),

pages as (

    select site, query, count(distinct page) as pages_ever_seen
    from appearances
    group by site, query

),

per_query as (

    select
        site,
        query,
        count(*) as fetches,
        min(fetch_started_at) as first_fetch_at,
        max(fetch_started_at) as last_fetch_at,
        arg_max(pages_seen, fetch_started_at) as last_crawl_pages,
        arg_max(last_page, fetch_started_at) filter (where last_page is not null) as last_page,
        arg_min(total_results, fetch_started_at) filter (where total_results is not null)
            as first_results,
        arg_max(total_results, fetch_started_at) filter (where total_results is not null)
            as latest_results,
        list(total_results order by fetch_started_at) filter (where total_results is not null)
            as trend,
        cast(sum(listings_seen) as bigint) as listings_seen

    from fetches
    group by site, query

),

final as (

    select
        per_query.query,
        per_query.site,
        per_query.fetches,
        per_query.first_fetch_at,
        per_query.last_fetch_at,
        per_query.last_crawl_pages,
        per_query.last_page,
        coalesce(pages.pages_ever_seen, 0) as pages_ever_seen,
        per_query.listings_seen,
        per_query.first_results,
        per_query.latest_results,
        per_query.trend

    from per_query
    left join pages
        on per_query.site is not distinct from pages.site
        and per_query.query is not distinct from pages.query

)

select * from final
order by latest_results desc nulls last, fetches desc, site, query
limit $limit
