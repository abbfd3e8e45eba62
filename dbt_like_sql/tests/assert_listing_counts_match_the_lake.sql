-- grain: one row per snapshot whose listing rows disagree with its listing_count (empty = pass)
{{ config(severity='error') }}
-- The lake writes a snapshot's listings before its snapshot row, and the snapshot row
-- records how many it wrote. A mismatch means listings were lost or doubled between the lake
-- and the marts: a pipeline fault, so it fails the build.
-- In an update, the snapshots checked are those it appended and those whose listings it
-- keyed again: no other snapshot's count or listings changed.

with

{% if is_incremental() %}

checked as (

    select snapshot_id from {{ changes('stg_lake__snapshots') }}
    union
    select snapshot_id from {{ changes('int_listings__document_keys') }}

),

{% endif %}

snapshots as (

    select * from {{ ref('stg_lake__snapshots') }}
    {% if is_incremental() %}
    where snapshot_id in (select snapshot_id from checked)
    {% endif %}

),

listings as (

    select * from {{ ref('int_listings__document_keys') }}
    {% if is_incremental() %}
    where snapshot_id in (select snapshot_id from checked)
    {% endif %}

),

counted as (

    select snapshot_id, count(*) as listing_rows

    from listings
    group by snapshot_id

),

final as (

    select
        snapshots.snapshot_id,
        snapshots.source_path,
        snapshots.listing_count,
        coalesce(counted.listing_rows, 0) as listing_rows

    from snapshots
    left join counted on snapshots.snapshot_id = counted.snapshot_id
    where snapshots.listing_count != coalesce(counted.listing_rows, 0)

)

select * from final
