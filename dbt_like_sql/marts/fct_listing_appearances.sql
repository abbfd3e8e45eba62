-- grain: one row per document per snapshot (document_key, snapshot_id)
{{ config(materialized='incremental', unique_key='snapshot_id') }}
-- depends_on: {{ ref('int_listings__document_keys') }} (what changes() reads in an update: dbt's hint)
-- Where a document stood in a query's results at one moment. A page that lists the same
-- document twice keeps its first place and says so in times_listed_in_snapshot.
-- Each row carries what to show for its document (dim_documents.display_title) beside its
-- site and query, so a question about ranks needs no join.
-- Incrementally, the snapshots redone are those whose listings were keyed again in this
-- build (new snapshots among them), those whose fetch changed (a page fetched late can
-- join two crawls of a query into one), and those showing a document whose display title
-- changed (a title seen at last, or a new latest heading to guess from).

with

fetches as (

    select * from {{ ref('int_snapshots__fetches') }}

),

documents as (

    select document_key, display_title, is_display_title_guessed
    from {{ ref('dim_documents') }}

),

{% if is_incremental() %}

-- documents whose row before and after this build shows them differently
retitled as (

    select document_key
    from {{ changes('dim_documents') }}
    group by document_key
    having count(distinct display_title) > 1 or count(distinct is_display_title_guessed) > 1

),

redone as (

    select snapshot_id from {{ changes('int_listings__document_keys') }}
    union
    select snapshot_id from {{ changes('int_snapshots__fetches') }}
    union
    select snapshot_id from {{ this }} semi join retitled using (document_key)

),

{% endif %}

listings as (

    select * from {{ ref('int_listings__keyed') }}
    {% if is_incremental() %}
    where snapshot_id in (select snapshot_id from redone)
    {% endif %}

),

deduplicated as (

    select
        *,
        count(*) over (partition by snapshot_id, document_key) as times_listed_in_snapshot

    from listings
    qualify row_number() over (partition by snapshot_id, document_key order by position) = 1

),

final as (

    select
        deduplicated.document_key,
        deduplicated.snapshot_id,
        fetches.fetch_id,
        deduplicated.site,
        deduplicated.query,
        deduplicated.page,
        deduplicated.position,
        -- rank over all pages of the query; null when the page number is unknown
        (deduplicated.page - 1) * {{ var('page_size') }} + deduplicated.position
            as overall_rank,
        deduplicated.times_listed_in_snapshot,
        deduplicated.fetched_at,
        deduplicated.fetched_at_source,
        deduplicated.price,
        deduplicated.is_price_ambiguous,
        deduplicated.rating,
        deduplicated.is_rating_anomaly,
        deduplicated.age_text,
        deduplicated.uploaded_at_min,
        deduplicated.uploaded_at_max,
        deduplicated.size_bytes_min,
        deduplicated.size_bytes_max,
        deduplicated.document_ref,
        documents.display_title,
        documents.is_display_title_guessed

    from deduplicated
    inner join fetches on deduplicated.snapshot_id = fetches.snapshot_id
    -- a left join: a key missing from dim_documents keeps its row, and the relationships
    -- test on document_key fails loudly
    left join documents on deduplicated.document_key = documents.document_key

)

select * from final
