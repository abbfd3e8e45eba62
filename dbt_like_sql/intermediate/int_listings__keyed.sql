-- grain: one row per listing on a results page (snapshot_id, position), with its document_key
{{ config(materialized='view') }}
-- Every listing with the key of the document it shows (int_listings__document_keys) and its
-- page's context (query, page, form): the listing's columns are the lake table's, joined
-- back, so the warehouse stores each listing's text once.

with

keys as (

    select * from {{ ref('int_listings__document_keys') }}

),

listings as (

    select * from {{ ref('stg_lake__listings') }}

),

snapshots as (

    select * from {{ ref('stg_lake__snapshots') }}

),

final as (

    select
        keys.document_key,
        listings.snapshot_id,
        listings.position,
        coalesce(listings.site, snapshots.site) as site,
        snapshots.query,
        snapshots.page,
        listings.fetched_at,
        snapshots.fetched_at_source,
        listings.heading,
        listings.title,
        listings.description,
        listings.title_source,
        listings.price,
        listings.is_price_ambiguous,
        listings.credit,
        listings.pages,
        listings.size_text,
        listings.size_bytes,
        listings.size_bytes_min,
        listings.size_bytes_max,
        listings.age_text,
        listings.uploaded_at_min,
        listings.uploaded_at_max,
        listings.rating,
        listings.score,
        listings.is_rating_anomaly,
        keys.document_id,
        listings.file_family,
        listings.ext,
        snapshots.form,
        keys.document_ref

    from keys
    inner join listings
        on keys.snapshot_id = listings.snapshot_id and keys.position = listings.position
    inner join snapshots on keys.snapshot_id = snapshots.snapshot_id

)

select * from final
