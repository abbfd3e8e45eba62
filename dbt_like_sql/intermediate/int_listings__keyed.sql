-- grain: one row per listing on a results page (snapshot_id, position), with its document_key
{{ config(materialized='table') }}
-- A document is its site id where a form shows one (HTML links, API JSON). Text snapshots
-- carry no id, so a text-form listing is the document seen in HTML/JSON whose heading, page
-- count and size interval agree with it (exactly one such document); otherwise it is known
-- by what every page prints the same way: its heading, size, page count and credit word.
-- Two things vary between renderings of one document and are taken out of the heading:
--   * whitespace: layouts differ only in the line break or space between title and
--     description (or none at all, when they are glued);
--   * trailing digits: the price is glued to the description, and which digits of an
--     ambiguous run went to the price depends on the evidence of the batch it was parsed in.

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

-- named three times below: computed once (one row per distinct heading)
normalised as materialized (

    select
        heading,
        regexp_replace(
            regexp_replace(heading, '[\s\pZ]+', '', 'g'), '[0-9]+$', ''
        ) as heading_key_text

    from headings

),

texted as (

    select
        listings.*,
        normalised.heading_key_text

    from listings
    -- a left join: a listing without a heading keeps its row (and a key without the text)
    left join normalised on listings.heading = normalised.heading

),

-- every document a form with ids has shown: its id and what a text page would show of it
sited as (

    select distinct
        listings.site,
        listings.document_id,
        normalised.heading_key_text,
        listings.pages,
        listings.size_bytes_min,
        listings.size_bytes_max

    from listings
    inner join normalised on listings.heading = normalised.heading
    where listings.document_id is not null

),

-- the headings that may be a sited document: few, so the million listings meet a small table
candidates as (

    select
        normalised.heading,
        sited.* exclude (heading_key_text)

    from normalised
    inner join sited on normalised.heading_key_text = sited.heading_key_text

),

-- a text-form listing and the one sited document it agrees with (heading, pages, sizes)
matched as (

    select
        listings.snapshot_id,
        listings.position,
        any_value(candidates.document_id) as document_id

    from listings
    inner join candidates
        on listings.heading = candidates.heading
        and listings.pages is not distinct from candidates.pages
        and listings.size_bytes_min <= candidates.size_bytes_max
        and candidates.size_bytes_min <= listings.size_bytes_max
        and coalesce(listings.site, '') = coalesce(candidates.site, '')
    where listings.document_id is null
    group by listings.snapshot_id, listings.position
    having count(distinct candidates.document_id) = 1

),

keyed as (

    select
        texted.* exclude (document_id),
        coalesce(texted.document_id, matched.document_id) as document_id,
        -- md5 is stable across engines and versions: the same key from Python's hashlib
        left(
            case
                when coalesce(texted.document_id, matched.document_id) is not null
                    then md5(
                        concat_ws(
                            chr(31),
                            'site id',
                            coalesce(texted.site, ''),
                            cast(coalesce(texted.document_id, matched.document_id) as varchar)
                        )
                    )
                else md5(
                    concat_ws(
                        chr(31),
                        texted.heading_key_text,
                        cast(texted.size_bytes as varchar),
                        coalesce(cast(texted.pages as varchar), '-'),
                        texted.credit
                    )
                )
            end,
            16
        ) as document_key

    from texted
    left join matched
        on texted.snapshot_id = matched.snapshot_id
        and texted.position = matched.position

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
        keyed.is_rating_anomaly,
        keyed.document_id,
        keyed.file_family,
        keyed.ext,
        snapshots.form

    from keyed
    inner join snapshots on keyed.snapshot_id = snapshots.snapshot_id

)

select * from final
