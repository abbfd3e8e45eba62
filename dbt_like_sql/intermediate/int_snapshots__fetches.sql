-- grain: one row per snapshot, with the fetch (crawl of one query's pages) it belongs to
{{ config(materialized='incremental', unique_key='snapshot_id') }}
-- A crawler walks the pages of a query in one go, seconds or minutes apart; the next crawl
-- of that query comes hours or days later. So a fetch is a run of snapshots of one
-- (site, query), each taken within var('fetch_gap_minutes') of the one before. The fetch is
-- named by its site, query and start time, so adding later snapshots never renames it.
-- Incrementally, the (site, query) pairs of the snapshots this update appended are redone
-- whole: a snapshot's fetch depends on the pair's snapshots before it, and on no other
-- pair's (a page fetched late can join or split the pair's fetches).

with

{% if is_incremental() %}

arrived_pairs as (

    select distinct site, query from {{ changes('stg_lake__snapshots') }}

),

{% endif %}

snapshots as (

    select all_snapshots.*
    from {{ ref('stg_lake__snapshots') }} as all_snapshots
    {% if is_incremental() %}
    semi join arrived_pairs
        on all_snapshots.site is not distinct from arrived_pairs.site
        and all_snapshots.query is not distinct from arrived_pairs.query
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
