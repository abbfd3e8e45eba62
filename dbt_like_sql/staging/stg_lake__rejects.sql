-- grain: one row per fragment of a snapshot that is neither a listing nor the footer
{{ config(materialized='view') }}
-- Renames and casts only.

with

source as (

    select * from {{ source('lake', 'rejects') }}

),

renamed as (

    select
        cast(snapshot_id as varchar) as snapshot_id,
        cast(source_path as varchar) as source_path,
        cast(position as integer) as position,
        cast(byte_start as bigint) as byte_start,
        cast(byte_end as bigint) as byte_end,
        cast(fragment as varchar) as fragment,
        -- read, parse or validate
        cast(stage as {{ enum('REJECT_STAGES') }}) as stage,
        cast(reason as varchar) as reason

    from source

),

final as (

    select * from renamed

)

select * from final
