-- grain: one row per distinct heading of the lake's listings (heading)
{{ config(materialized='view') }}
-- A heading as the document key reads it (int_listings__document_keys). Two things vary
-- between renderings of one document and are taken out:
--   * whitespace: layouts differ only in the line break or space between title and
--     description (or none at all, when they are glued);
--   * trailing digits: the price is glued to the description, and which digits of an
--     ambiguous run went to the price depends on the evidence of the batch it was parsed in.
-- A view: each reader normalises only the headings it selects (a document is listed again
-- by every crawl, so there are several times fewer headings than listings, and an update
-- reads only the new listings' few), and no table holds the text again.

with

headings as (

    select distinct heading from {{ ref('stg_lake__listings') }}

),

normalised as (

    select
        heading,
        regexp_replace(
            regexp_replace(heading, '[\s\pZ]+', '', 'g'), '[0-9]+$', ''
        ) as heading_key_text

    from headings

),

final as (

    select
        heading,
        heading_key_text,
        -- md5 is stable across engines and versions: what an update finds the listings
        -- sharing a key text by, without storing the text again
        md5_number_upper(heading_key_text) as heading_key_hash

    from normalised

)

select * from final
