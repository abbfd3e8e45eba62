-- grain: one row per document seen in any snapshot (document_key)
{{ config(materialized='table') }}
-- A document's history across snapshots. Each snapshot's age text gives an interval for the
-- upload time (`9 月前` = 30 days wide), and its size text an interval of byte counts. The
-- true value lies in every one of them, so their intersection (latest lower bound, earliest
-- upper bound) is tighter than any single one. An empty intersection means the snapshots
-- contradict each other (a key collision, a re-upload, or an approximate fetch time): it is
-- flagged here and reported by tests/assert_document_intervals_intersect.sql, never hidden.

with

-- Read by three steps below: DuckDB would materialise a CTE named more than once, copying
-- every listing with its heading and description (3 s of a 4 s model at a million listings);
-- `not materialized` lets each step read only the columns it needs from the table.
listings as not materialized (

    select * from {{ ref('int_listings__keyed') }}

),

latest as (

    -- what the document looked like the last time it was seen
    select
        document_key,
        heading,
        credit,
        pages,
        size_text,
        size_bytes,
        price as latest_price,
        rating as latest_rating,
        site

    from listings
    qualify row_number() over (
        partition by document_key order by fetched_at desc, snapshot_id desc, position
    ) = 1

),

titled as (

    -- the title is only known where the page shows the boundary: take the latest known one
    select
        document_key,
        arg_max(title, fetched_at) as title

    from listings
    where title is not null
    group by document_key

),

history as (

    select
        document_key,
        min(fetched_at) as first_seen_at,
        max(fetched_at) as last_seen_at,
        count(distinct snapshot_id) as times_seen,
        count(distinct query) as query_count,
        array_agg(distinct query order by query) filter (where query is not null) as queries,
        max(uploaded_at_min) as uploaded_at_min,
        min(uploaded_at_max) as uploaded_at_max,
        count(uploaded_at_min) as upload_intervals_seen,
        max(size_bytes_min) as size_bytes_min,
        min(size_bytes_max) as size_bytes_max,
        bool_or(is_rating_anomaly) as is_rating_anomaly_seen,
        bool_or(is_price_ambiguous) as is_price_ambiguous_seen

    from listings
    group by document_key

),

final as (

    select
        history.document_key,
        latest.site,
        latest.heading,
        titled.title,
        latest.credit,
        latest.pages,
        latest.size_text,
        latest.size_bytes,
        latest.latest_price,
        latest.latest_rating,
        history.first_seen_at,
        history.last_seen_at,
        history.times_seen,
        history.query_count,
        coalesce(history.queries, []::varchar[]) as queries,
        history.uploaded_at_min,
        history.uploaded_at_max,
        -- bounds are inclusive whole seconds: a 30-day age gives exactly 720 hours
        case
            when history.uploaded_at_min <= history.uploaded_at_max
                then (epoch(history.uploaded_at_max) - epoch(history.uploaded_at_min) + 1)
                    / 3600.0
        end as uploaded_window_hours,
        history.upload_intervals_seen,
        history.size_bytes_min,
        history.size_bytes_max,
        coalesce(history.uploaded_at_min > history.uploaded_at_max, false)
            as is_upload_interval_empty,
        history.size_bytes_min > history.size_bytes_max as is_size_interval_empty,
        history.is_rating_anomaly_seen,
        history.is_price_ambiguous_seen

    from history
    inner join latest on history.document_key = latest.document_key
    left join titled on history.document_key = titled.document_key

)

select * from final
