-- grain: one row per query per fetch (fetch_id): one crawl of a query's result pages
{{ config(materialized='incremental', unique_key='fetch_id') }}
-- How a query's results change from crawl to crawl: the site's result count, how much of it
-- was seen, and which documents were not in the previous crawl of the same query.
-- Incrementally, the fetches redone are those whose snapshots or documents changed in this
-- build, and the fetch after each of them (it is compared with the one before it); a fetch
-- that no longer exists (joined to another) is deleted. Every other fetch kept its
-- snapshots, its documents and the fetch before it (docs/warehouse.md).

with

{% if is_incremental() %}

-- the fetches whose snapshots or documents changed (before and after)
touched as materialized (

    select fetch_id from {{ changes('int_snapshots__fetches') }}
    union
    select fetch_id from {{ changes('fct_listing_appearances') }}

),

-- their (site, query) pairs: the fetches of no other pair are read
touched_pairs as materialized (

    select site, query from {{ changes('int_snapshots__fetches') }}
    union
    select site, query
    from {{ ref('int_snapshots__fetches') }}
    where fetch_id in (select fetch_id from touched)

),

{% endif %}

fetches as (

    select all_fetches.*
    from {{ ref('int_snapshots__fetches') }} as all_fetches
    {% if is_incremental() %}
    semi join touched_pairs
        on all_fetches.site is not distinct from touched_pairs.site
        and all_fetches.query is not distinct from touched_pairs.query
    {% endif %}

),

appearances as (

    select * from {{ ref('fct_listing_appearances') }}

),

per_fetch as (

    select
        fetch_id,
        site,
        query,
        min(fetched_at) as fetch_started_at,
        max(fetched_at) as fetch_ended_at,
        count(*) as snapshots_seen,
        count(distinct page) as pages_seen,
        -- the count can grow while a crawl runs: the latest page's footer is the freshest
        arg_max(total_results, fetched_at) filter (where total_results is not null)
            as total_results,
        arg_max(last_page, fetched_at) filter (where last_page is not null) as last_page,
        cast(sum(listing_count) as bigint) as listings_seen,
        bool_or(fetched_at_source = 'mtime') as is_fetched_at_approximate

    from fetches
    group by fetch_id, site, query

),

ordered as (

    select
        *,
        lag(fetch_id) over (
            partition by site, query order by fetch_started_at
        ) as previous_fetch_id

    from per_fetch

),

{% if is_incremental() %}

-- the touched fetches that still exist, and the fetch after each one
redone as materialized (

    select fetch_id, previous_fetch_id
    from ordered
    where fetch_id in (select fetch_id from touched)
        or previous_fetch_id in (select fetch_id from touched)

),

{% endif %}

documents as (

    select distinct fetch_id, document_key from appearances
    {% if is_incremental() %}
    where fetch_id in (
        select fetch_id from redone
        union
        select previous_fetch_id from redone
    )
    {% endif %}

),

compared as (

    select
        documents.fetch_id,
        count(*) as documents_seen,
        count(*) filter (where previous.document_key is null) as documents_not_in_previous

    from documents
    inner join ordered on documents.fetch_id = ordered.fetch_id
    left join documents as previous
        on previous.fetch_id = ordered.previous_fetch_id
        and previous.document_key = documents.document_key
    group by documents.fetch_id

),

final as (

    select
        ordered.fetch_id,
        ordered.site,
        ordered.query,
        ordered.fetch_started_at,
        ordered.fetch_ended_at,
        ordered.total_results,
        ordered.last_page,
        ordered.snapshots_seen,
        ordered.pages_seen,
        ordered.listings_seen,
        coalesce(compared.documents_seen, 0) as documents_seen,
        ordered.previous_fetch_id,
        ordered.previous_fetch_id is null as is_first_fetch,
        -- null for a query's first fetch: there is nothing to be new against
        case
            when ordered.previous_fetch_id is not null
                then coalesce(compared.documents_not_in_previous, 0)
        end as new_documents,
        ordered.is_fetched_at_approximate

    from ordered
    left join compared on ordered.fetch_id = compared.fetch_id
    {% if is_incremental() %}
    where ordered.fetch_id in (select fetch_id from redone)
    {% endif %}

)

select * from final
