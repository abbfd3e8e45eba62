-- grain: one row per snapshot whose listing rows disagree with its listing_count (empty = pass)
{{ config(severity='error') }}
-- The lake writes a snapshot's listings before its snapshot row, and the snapshot row
-- records how many it wrote. A mismatch means listings were lost or doubled between the lake
-- and the marts: a pipeline fault, so it fails the build.

with

snapshots as (

    select * from {{ ref('stg_lake__snapshots') }}

),

listings as (

    select * from {{ ref('int_listings__document_keys') }}

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
