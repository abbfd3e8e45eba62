-- grain: one row per listing on a results page (snapshot_id, position): its document_key
{{ config(materialized='incremental', unique_key=['snapshot_id', 'position']) }}
-- A document is its site id where a form shows one (HTML links, API JSON): the id as the
-- page's link prints it (document_ref: the numeric id, or the uuid newer sites link by),
-- else the numeric document_id. A numeric id that an API row pairs with a uuid is known by
-- the uuid, so pages linking by either are one document. Text snapshots carry no id, so a
-- text-form listing is the document seen in HTML/JSON on its site whose heading, page count
-- and size interval agree with it (exactly one such document; docs/input-format.md §3.2,
-- "The same document"); otherwise it is known by what every
-- page prints the same way: its heading, size, page count and credit word.
-- The heading is read as macros/heading_key_text.sql normalises it, once per distinct
-- heading (a document is listed again by every crawl that finds it, so there are several
-- times fewer headings than listings). Only keys are stored here
-- (the listing's own columns stay in the lake table; int_listings__keyed joins them back),
-- so a warehouse holds each listing's text once.
-- Incrementally (the lake only gained snapshots since the last build), the listings keyed
-- again are the new snapshots' and every one whose key they can change: those sharing a
-- heading key text with a new listing (a new sited document may match them), and, for each
-- id a new listing shows, every listing showing it and every listing sharing a heading key
-- text with one of those (its uuid alias may change). Keying them reads them and every
-- listing showing an id they show (an alias is decided by all of those); nothing else can
-- change any key (docs/warehouse.md, "Incremental builds").

with

-- named several times below: `not materialized` reads the table where DuckDB would copy
-- it first; the columns the key is made of, and no other (a copy of a few listings below
-- copies only these)
lake_listings as not materialized (

    select
        snapshot_id,
        position,
        heading,
        site,
        document_id,
        document_ref,
        pages,
        size_bytes,
        size_bytes_min,
        size_bytes_max,
        credit

    from {{ ref('stg_lake__listings') }}

),

{% if is_incremental() %}

-- the listings this update appended: the snapshots not keyed yet (few, read three times:
-- copied once)
arrived as materialized (

    select
        snapshot_id,
        position,
        heading,
        site,
        document_id

    from {{ changes('stg_lake__listings') }}

),

-- each new listing's heading as the key reads it
fresh as materialized (

    select heading, md5_number_upper(heading_key_text(heading)) as heading_key_hash
    from (select distinct heading from arrived)

),

-- every listing that shows a numeric id (a few in a hundred), read once for the steps below
with_ids as materialized (

    select snapshot_id, position, coalesce(site, '') as site_key, document_id
    from lake_listings
    where document_id is not null

),

-- ids the new listings show (their uuid alias may change), and every listing showing one
arrived_ids as (

    select distinct coalesce(site, '') as site_key, document_id
    from arrived
    where document_id is not null

),

id_rows as (

    select with_ids.snapshot_id, with_ids.position
    from with_ids
    semi join arrived_ids
        on with_ids.site_key = arrived_ids.site_key
        and with_ids.document_id = arrived_ids.document_id

),

-- heading key texts (by their hash) whose text-form listings may match another document:
-- the new listings' (new ones among id_rows included), and those of the kept id_rows
texts as (

    select heading_key_hash from fresh
    union
    select kept.heading_key_hash
    from {{ this }} as kept
    semi join id_rows
        on kept.snapshot_id = id_rows.snapshot_id and kept.position = id_rows.position

),

-- the listings keyed again
rekeyed as materialized (

    select snapshot_id, position from arrived
    union
    select kept.snapshot_id, kept.position
    from {{ this }} as kept
    semi join texts on kept.heading_key_hash = texts.heading_key_hash
    union
    select snapshot_id, position from id_rows

),

-- what keying them reads: them, and every listing showing an id one of them shows
rekeyed_ids as (

    select distinct with_ids.site_key, with_ids.document_id
    from with_ids
    semi join rekeyed
        on with_ids.snapshot_id = rekeyed.snapshot_id
        and with_ids.position = rekeyed.position

),

scope as materialized (

    select snapshot_id, position from rekeyed
    union
    select with_ids.snapshot_id, with_ids.position
    from with_ids
    semi join rekeyed_ids
        on with_ids.site_key = rekeyed_ids.site_key
        and with_ids.document_id = rekeyed_ids.document_id

),

-- the few listings the steps below read, several times: copied once. Matched on the
-- snapshot first: DuckDB filters the table's scan by a join on one column, and then
-- decodes the other columns of the matching rows only
listings as materialized (

    select lake_listings.*
    from lake_listings
    semi join scope
        on lake_listings.snapshot_id = scope.snapshot_id
        and lake_listings.position = scope.position
    where lake_listings.snapshot_id in (select snapshot_id from scope)

),

{% else %}

listings as not materialized (

    select * from lake_listings

),

{% endif %}

-- named three times below: computed once (one row per distinct heading)
normalised as materialized (

    select
        heading,
        heading_key_text,
        -- md5 is stable across engines and versions: what an update finds the listings
        -- sharing a key text by, without storing the text again
        md5_number_upper(heading_key_text) as heading_key_hash

    from (select heading, heading_key_text(heading) as heading_key_text
          from (select distinct heading from listings))

),

-- a numeric id the site also links by a uuid (an API row shows both): the uuid, where the
-- rows pairing that id with one agree on it
aliases as (

    select
        coalesce(site, '') as site_key,
        document_id,
        any_value(document_ref) as document_ref

    from listings
    where document_id is not null
        and document_ref is not null
        and document_ref <> cast(document_id as varchar)
    group by coalesce(site, ''), document_id
    having count(distinct document_ref) = 1

),

texted as (

    select
        listings.*,
        normalised.heading_key_text,
        normalised.heading_key_hash

    from listings
    -- a left join: a listing without a heading keeps its row (and a key without the text)
    left join normalised on listings.heading = normalised.heading

),

-- every document a form with ids has shown, as printed: its ref, numeric id (where shown)
-- and what a text page would show of it
shown as (

    select distinct
        listings.site,
        listings.document_ref,
        listings.document_id,
        normalised.heading_key_text,
        listings.pages,
        listings.size_bytes_min,
        listings.size_bytes_max

    from listings
    inner join normalised on listings.heading = normalised.heading
    where listings.document_id is not null or listings.document_ref is not null

),

-- the same with the site's reference to each: the uuid an id is paired with, else the ref
-- as printed, else the numeric id as text (what the ref of such a link is); the aliases
-- meet the distinct documents here, not every listing
sited as (

    select
        shown.* exclude (document_ref),
        coalesce(
            aliases.document_ref, shown.document_ref, cast(shown.document_id as varchar)
        ) as site_ref

    from shown
    left join aliases
        on coalesce(shown.site, '') = aliases.site_key
        and shown.document_id = aliases.document_id

),

-- the headings that may be a sited document: few, so the million listings meet a small table
candidates as (

    select
        normalised.heading,
        sited.* exclude (heading_key_text)

    from normalised
    inner join sited on normalised.heading_key_text = sited.heading_key_text

),

-- a text-form listing and the one sited document it agrees with: the same heading key text,
-- and the same document by docs/input-format.md §3.2, "The same document" (the same site,
-- the same page count, size intervals that meet; pipeline/parse/catalogue.py reads the same
-- rule, and tests/cases/same_document.py holds the cases both are tested against)
matched as (

    select
        listings.snapshot_id,
        listings.position,
        any_value(candidates.site_ref) as site_ref,
        -- a uuid-linked document's numeric id, where an API row showed it
        max(candidates.document_id) as document_id

    from listings
    inner join candidates
        on listings.heading = candidates.heading
        and listings.pages is not distinct from candidates.pages
        and listings.size_bytes_min <= candidates.size_bytes_max
        and candidates.size_bytes_min <= listings.size_bytes_max
        and coalesce(listings.site, '') = coalesce(candidates.site, '')
    where listings.document_id is null and listings.document_ref is null
    group by listings.snapshot_id, listings.position
    having count(distinct candidates.site_ref) = 1

),

-- a listing printing a numeric id the site also links by a uuid: that uuid (only the
-- listings that print the id, of documents an API row paired with a uuid, are probed)
aliased as (

    select
        listings.snapshot_id,
        listings.position,
        aliases.document_ref as site_ref,
        listings.document_id

    from listings
    inner join aliases
        on coalesce(listings.site, '') = aliases.site_key
        and listings.document_id = aliases.document_id
    where listings.document_id is not null
        and (
            listings.document_ref is null
            or listings.document_ref = cast(listings.document_id as varchar)
        )

),

-- the listings whose site reference is not what they print: text-form listings matched to
-- a document, numeric ids aliased to a uuid
resolved as (

    select * from matched
    union all by name
    select * from aliased

),

-- every listing with the site's reference to its document, where known
referenced as (

    select
        texted.* exclude (document_id, document_ref),
        coalesce(texted.document_id, resolved.document_id) as document_id,
        coalesce(
            resolved.site_ref, texted.document_ref, cast(texted.document_id as varchar)
        ) as document_ref

    from texted
    left join resolved
        on texted.snapshot_id = resolved.snapshot_id
        and texted.position = resolved.position

),

keyed as (

    select
        referenced.*,
        -- md5 is stable across engines and versions: the same key from Python's hashlib (a
        -- numeric id keys as its text, as it did before refs were recorded)
        left(
            case
                when referenced.document_ref is not null
                    then md5(
                        concat_ws(
                            chr(31),
                            'site id',
                            coalesce(referenced.site, ''),
                            referenced.document_ref
                        )
                    )
                else md5(
                    concat_ws(
                        chr(31),
                        referenced.heading_key_text,
                        cast(referenced.size_bytes as varchar),
                        coalesce(cast(referenced.pages as varchar), '-'),
                        referenced.credit
                    )
                )
            end,
            16
        ) as document_key

    from referenced

),

final as (

    select
        keyed.document_key,
        keyed.snapshot_id,
        keyed.position,
        keyed.document_id,
        keyed.document_ref,
        keyed.heading_key_hash

    from keyed
    {% if is_incremental() %}
    semi join rekeyed
        on keyed.snapshot_id = rekeyed.snapshot_id and keyed.position = rekeyed.position
    {% endif %}

)

select * from final
