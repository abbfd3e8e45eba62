-- grain: one row per listing on a results page (snapshot_id, position)
{{ config(materialized='view') }}
-- Renames and casts only: booleans get the `is_` prefix the marts use; the byte span and
-- the partition column stay in the lake (provenance, not analysis).

with

source as (

    select * from {{ source('lake', 'listings') }}

),

renamed as (

    select
        cast(snapshot_id as varchar) as snapshot_id,
        cast(position as integer) as position,
        -- the whole TITLE+DESCRIPTION text; title/description only where the boundary is known
        cast(heading as varchar) as heading,
        cast(title as varchar) as title,
        cast(description as varchar) as description,
        cast(title_source as {{ enum('TITLE_SOURCES') }}) as title_source,
        cast(price as bigint) as price,
        cast(price_text as varchar) as price_text,
        cast(price_ambiguous as boolean) as is_price_ambiguous,
        cast(credit as varchar) as credit,
        cast(pages as integer) as pages,
        cast(size_text as varchar) as size_text,
        cast(size_bytes as bigint) as size_bytes,
        cast(size_bytes_min as bigint) as size_bytes_min,
        cast(size_bytes_max as bigint) as size_bytes_max,
        cast(age_text as varchar) as age_text,
        cast(uploaded_at_min as timestamptz) as uploaded_at_min,
        cast(uploaded_at_max as timestamptz) as uploaded_at_max,
        cast(rating as double) as rating,
        cast(score as integer) as score,
        cast(rating_anomaly as boolean) as is_rating_anomaly,
        cast(site as varchar) as site,
        cast(fetched_at as timestamptz) as fetched_at,
        -- only the HTML and API JSON forms carry these: null for text-form listings
        cast(document_id as bigint) as document_id,
        cast(file_family as {{ enum('FILE_FAMILIES') }}) as file_family,
        cast(ext as varchar) as ext,
        cast(keywords as varchar) as keywords,
        cast(view_count as bigint) as view_count,
        cast(download_count as bigint) as download_count,
        cast(favorite_count as bigint) as favorite_count,
        cast(comment_count as bigint) as comment_count,
        -- the id as the page's link (or the API's key) prints it: numeric, or a uuid on newer
        -- sites; lakes from before it have document_id as text here
        cast(document_ref as varchar) as document_ref

    from source

),

final as (

    select * from renamed

)

select * from final
