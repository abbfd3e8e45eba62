-- Per query, the documents that climbed or fell most in its results between their first and
-- last sightings: the rank over all pages (fct_listing_appearances.overall_rank, null where
-- the page number is unknown) in the first fetch of the query that listed the document and
-- in the last. A document listed by one fetch only has not moved. The $movers largest climbs
-- and the $movers largest falls of each query are kept, for the $queries queries whose
-- largest move is largest; queries_moving counts every query with a move.
with

appearances as (

    select site, query, document_key, display_title, fetch_id, fetched_at, overall_rank
    from fct_listing_appearances
    where overall_rank is not null

),

spans as (

    select
        site,
        query,
        document_key,
        any_value(display_title) as document,
        -- the forms of one page fetched together list it at one rank; the best rank decides
        first(overall_rank order by fetched_at, overall_rank) as first_rank,
        first(overall_rank order by fetched_at desc, overall_rank) as last_rank,
        count(distinct fetch_id) as fetches,
        min(fetched_at) as first_seen_at,
        max(fetched_at) as last_seen_at

    from appearances
    group by site, query, document_key
    having count(distinct fetch_id) >= 2

),

moves as (

    select *, first_rank - last_rank as places_climbed
    from spans
    where first_rank <> last_rank

),

queries as (

    select
        site,
        query,
        row_number() over (
            order by max(abs(places_climbed)) desc, count(*) desc, site, query
        ) as query_order,
        count(*) over () as queries_moving
    from moves
    group by site, query

),

kept as (

    select
        *,
        row_number() over (
            partition by site, query, places_climbed > 0
            order by abs(places_climbed) desc, last_rank, document_key
        ) as place
    from moves

),

final as (

    select
        kept.site,
        kept.query,
        kept.document,
        kept.first_rank,
        kept.last_rank,
        kept.places_climbed,
        kept.fetches,
        kept.first_seen_at,
        kept.last_seen_at,
        queries.queries_moving,
        queries.query_order,
        kept.document_key

    from kept
    inner join queries on kept.site = queries.site and kept.query = queries.query
    where kept.place <= $movers and queries.query_order <= $queries

)

-- per query, its climbs then its falls, each largest first
select * exclude (query_order, document_key)
from final
order by query_order, places_climbed < 0, abs(places_climbed) desc, last_rank, document_key
