-- grain: one row per fetch day per stage per reason (fetched_date, stage, reason)
{{ config(materialized='incremental', unique_key=['fetched_date', 'stage', 'reason']) }}
-- Why input was rejected, day by day: a reason that suddenly grows usually means the site
-- changed its layout. Days are UTC days of the snapshot's fetch time.
-- Incrementally, the days of the rejects this update appended are counted again; no other
-- day gained a reject.

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
        min(left(fragment, 120)) as example_fragment

    from dated
    group by fetched_date, stage, reason

)

select * from final
