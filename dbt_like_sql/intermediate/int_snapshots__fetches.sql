-- grain: one row per snapshot, with the fetch (crawl of one query's pages) it belongs to
{{ config(materialized='incremental', unique_key='snapshot_id') }}
-- A crawler walks the pages of a query in one go, seconds or minutes apart; the next crawl
-- of that query comes hours or days later. So a fetch is a run of snapshots of one
-- (site, query), each taken within var('fetch_gap_minutes') of the one before. The fetch is
-- named by its site, query and start time, so adding later snapshots never renames it.
-- Incrementally, what is redone of each (site, query) a snapshot this update appended
-- belongs to starts at the start of the fetch of the latest snapshot placed before the
-- earliest new one (or at that new one, when none was placed before it): a fetch that ended
-- before then ended with a gap before it, which no later snapshot can close, and the fetch
-- of the snapshots from then on depends on those snapshots alone (a page fetched late can
-- join or split the fetches after it). No other (site, query) is touched.

with

{% if is_incremental() %}

arrived as (

    select site, query, fetched_at from {{ changes('stg_lake__snapshots') }}

),

-- each new snapshot, with the start of the fetch of the latest snapshot placed before it
after_placed as (

    select
        arrived.site,
        arrived.query,
        arrived.fetched_at,
        max(placed.fetch_started_at) as placed_fetch_started_at

    from arrived
    left join {{ this }} as placed
        on arrived.site is not distinct from placed.site
        and arrived.query is not distinct from placed.query
        and placed.fetched_at <= arrived.fetched_at
    group by arrived.site, arrived.query, arrived.fetched_at

),

redone_from as (

    select
        site,
        query,
        min(coalesce(placed_fetch_started_at, fetched_at)) as redone_from

    from after_placed
    group by site, query

),

{% endif %}

snapshots as (

    select all_snapshots.*
    from {{ ref('stg_lake__snapshots') }} as all_snapshots
    {% if is_incremental() %}
    semi join redone_from
        on all_snapshots.site is not distinct from redone_from.site
        and all_snapshots.query is not distinct from redone_from.query
        and all_snapshots.fetched_at >= redone_from.redone_from
    {% endif %}

),

ordered as (

    select
        *,
        lag(fetched_at) over (
            partition by site, query order by fetched_at, page, snapshot_id
        ) as previous_fetched_at

    from snapshots

),

flagged as (

    select
        *,
        case
            when previous_fetched_at is null then 1
            when fetched_at - previous_fetched_at
                > to_minutes(cast({{ var('fetch_gap_minutes') }} as bigint)) then 1
            else 0
        end as is_fetch_start

    from ordered

),

numbered as (

    select
        *,
        sum(is_fetch_start) over (
            partition by site, query
            order by fetched_at, page, snapshot_id
            rows between unbounded preceding and current row
        ) as fetch_number

    from flagged

),

started as (

    select
        *,
        min(fetched_at) over (partition by site, query, fetch_number) as fetch_started_at

    from numbered

),

final as (

    select
        left(
            md5(
                concat_ws(
                    chr(31),
                    coalesce(site, ''),
                    coalesce(query, ''),
                    strftime(fetch_started_at at time zone 'UTC', '%Y-%m-%dT%H:%M:%S')
                )
            ),
            16
        ) as fetch_id,
        fetch_started_at,
        snapshot_id,
        site,
        query,
        page,
        fetched_at,
        fetched_at_source,
        form,
        total_results,
        last_page,
        listing_count,
        reject_count

    from started

)

select * from final
