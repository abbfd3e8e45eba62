-- grain: one row per snapshot file read (one results page of one query at one moment)
{{ config(materialized='view') }}
-- Renames and casts only. The casts pin the contract the models below rely on, so the same
-- SQL runs over the typed Parquet lake or over untyped test fixtures.

with

source as (

    select * from {{ source('lake', 'snapshots') }}

),

renamed as (

    select
        cast(snapshot_id as varchar) as snapshot_id,
        cast(source_path as varchar) as source_path,
        cast(byte_count as bigint) as byte_count,
        cast(content_sha256 as varchar) as content_sha256,
        cast(fetched_at as timestamptz) as fetched_at,
        -- 'mtime' means the fetch time is only the file's modification time: approximate
        cast(fetched_at_source as {{ enum('FETCHED_AT_SOURCES') }}) as fetched_at_source,
        cast(url as varchar) as url,
        cast(site as varchar) as site,
        cast(query as varchar) as query,
        cast(page as integer) as page,
        cast(form as {{ enum('FORMS') }}) as form,
        cast(total_results as bigint) as total_results,
        cast(last_page as integer) as last_page,
        cast(listing_count as integer) as listing_count,
        cast(reject_count as integer) as reject_count,
        cast(read_error as varchar) as read_error,
        cast(metadata_warning as varchar) as metadata_warning,
        -- only the HTML (search tips) and API JSON (`spend`) forms carry these
        cast(site_document_count as bigint) as site_document_count,
        cast(search_seconds as double) as search_seconds,
        -- the template layout the page was detected as, and search or category page; null
        -- for unreadable files and for pages of lakes from before they were recorded
        cast(layout as {{ enum('LAYOUTS') }}) as layout,
        cast(page_type as {{ enum('PAGE_TYPES') }}) as page_type

    from source

),

final as (

    select * from renamed

)

select * from final
