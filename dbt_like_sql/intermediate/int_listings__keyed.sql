-- grain: one row per listing on a results page (snapshot_id, position), with its document_key
{{ config(materialized='table') }}
-- Text snapshots carry no site id, so a document is known by what every page prints the same
-- way: its heading, size, page count and credit word. Two things vary between renderings of
-- one document and are taken out of the heading before hashing:
--   * whitespace: layouts differ only in the line break or space between title and
--     description (or none at all, when they are glued);
--   * trailing digits: the price is glued to the description, and which digits of an
--     ambiguous run went to the price depends on the evidence of the batch it was parsed in.
-- When the HTML/JSON forms land, the site's own id takes precedence over this key.

with

-- named twice below: `not materialized` reads the table where DuckDB would copy it first
listings as not materialized (

    select * from {{ ref('stg_lake__listings') }}

),

snapshots as (

    select * from {{ ref('stg_lake__snapshots') }}

),

headings as (

    -- A document is listed again by every crawl of every query that finds it, so there are
    -- several times fewer headings than listings, and the regular expressions below are the
    -- costliest step of the build: each distinct heading is normalised once.
    select distinct heading from listings

),

normalised as (

    select
        heading,
        regexp_replace(
            regexp_replace(heading, '[\s\pZ]+', '', 'g'), '[0-9]+$', ''
        ) as heading_key_text

    from headings

),

keyed as (

    select
        listings.*,
        -- md5 is stable across engines and versions: the same key from Python's hashlib
        left(
            md5(
                concat_ws(
                    chr(31),
                    normalised.heading_key_text,
                    cast(listings.size_bytes as varchar),
                    coalesce(cast(listings.pages as varchar), '-'),
                    listings.credit
                )
            ),
            16
        ) as document_key

    from listings
    -- a left join: a listing without a heading keeps its row (and a key without the text)
    left join normalised on listings.heading = normalised.heading

),

final as (

    select
        keyed.document_key,
        keyed.snapshot_id,
        keyed.position,
        coalesce(keyed.site, snapshots.site) as site,
        snapshots.query,
        snapshots.page,
        keyed.fetched_at,
        snapshots.fetched_at_source,
        keyed.heading,
        keyed.title,
        keyed.description,
        keyed.title_source,
        keyed.price,
        keyed.is_price_ambiguous,
        keyed.credit,
        keyed.pages,
        keyed.size_text,
        keyed.size_bytes,
        keyed.size_bytes_min,
        keyed.size_bytes_max,
        keyed.age_text,
        keyed.uploaded_at_min,
        keyed.uploaded_at_max,
        keyed.rating,
        keyed.score,
        keyed.is_rating_anomaly

    from keyed
    inner join snapshots on keyed.snapshot_id = snapshots.snapshot_id

)

select * from final
