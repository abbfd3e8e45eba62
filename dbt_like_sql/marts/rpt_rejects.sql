-- grain: one row per fetch day, site, query, stage and reason (fetched_date, site, query, stage, reason)
{{ config(materialized='incremental', unique_key=['fetched_date', 'stage', 'reason']) }}
-- Why input was rejected, day by day and site by site: a reason that suddenly grows usually
-- means a site changed its layout. Days are UTC days of the snapshot's fetch time; site and
-- query are the snapshot's (null where the page did not say).
-- Incrementally, the days of the rejects this update appended are counted again; no other
-- day gained a reject. The unique_key leaves site and query out: they may be null, which
-- matches no key, and a key settles all its rows together (docs/warehouse.md), so a day,
-- stage and reason is replaced with every site and query it has.

with

rejects as (

    select * from {{ ref('stg_lake__rejects') }}

),

snapshots as (

    select * from {{ ref('stg_lake__snapshots') }}

),

dated as (

    select
        rejects.*,
        snapshots.site,
        snapshots.query,
        cast(snapshots.fetched_at at time zone 'UTC' as date) as fetched_date

    from rejects
    inner join snapshots on rejects.snapshot_id = snapshots.snapshot_id
    {% if is_incremental() %}
    where cast(snapshots.fetched_at at time zone 'UTC' as date) in (
        select cast(snapshots.fetched_at at time zone 'UTC' as date)
        from {{ changes('stg_lake__rejects') }} as arrived
        inner join snapshots on arrived.snapshot_id = snapshots.snapshot_id
    )
    {% endif %}

),

final as (

    select
        fetched_date,
        stage,
        reason,
        count(*) as reject_count,
        count(distinct snapshot_id) as snapshot_count,
        cast(sum(byte_end - byte_start) as bigint) as rejected_bytes,
        -- one example to look at; the smallest text, so the choice is deterministic
        min(left(fragment, 120)) as example_fragment,
        site,
        query

    from dated
    group by fetched_date, site, query, stage, reason

)

select * from final
