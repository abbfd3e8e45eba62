-- grain: one row per document seen in any snapshot (document_key)
{{ config(materialized='incremental', unique_key='document_key') }}
-- depends_on: {{ ref('int_listings__document_keys') }} (what changes() reads in an update: dbt's hint)
-- A document's history across snapshots. Each snapshot's age text gives an interval for the
-- upload time (`9 月前` = 30 days wide), and its size text an interval of byte counts. The
-- true value lies in every one of them, so their intersection (latest lower bound, earliest
-- upper bound) is tighter than any single one. An empty intersection means the snapshots
-- contradict each other (a key collision, a re-upload, or an approximate fetch time): it is
-- flagged here and reported by tests/assert_document_intervals_intersect.sql, never hidden.
-- The size's point lies inside its interval: a rounded size printed at the latest sighting
-- (`12.83 MB` = 13 453 230) is no better than any other byte count of its bounds, and an API
-- row's exact size narrows them to one (docs/input-format.md §1.3).
-- Incrementally, the documents redone are those with a listing keyed again in this build:
-- under its new key or its old one (a document whose last listing moved away is deleted).

with

listings as (

    select * from {{ ref('int_listings__keyed') }}
    {% if is_incremental() %}
    where document_key in (select document_key from {{ changes('int_listings__document_keys') }})
    {% endif %}

),

history as (

    -- one pass over the listings: every fact about a document is an aggregate of its rows
    select
        document_key,
        -- what the document looked like the last time it was seen: its latest sighting (a
        -- later snapshot first, then the first place on the page: the row_number order
        -- `fetched_at desc, snapshot_id desc, position`)
        arg_max(
            {
                'site': site,
                'heading': heading,
                'credit': credit,
                'pages': pages,
                'size_text': size_text,
                'size_bytes': size_bytes,
                'price': price,
                'rating': rating
            },
            {'fetched_at': fetched_at, 'snapshot_id': snapshot_id, 'position': -position}
        ) as latest,
        -- the title is only known where the page shows the boundary: take the latest known one
        arg_max(title, fetched_at) filter (where title is not null) as title,
        -- the site's id and file type, where an HTML or API JSON page showed them
        max(document_id) as document_id,
        -- one per key where set: the key is made of it
        max(document_ref) as document_ref,
        arg_max(file_family, fetched_at) filter (where file_family is not null) as file_family,
        arg_max(ext, fetched_at) filter (where ext is not null) as ext,
        array_agg(distinct form order by form) as forms_seen,
        min(fetched_at) as first_seen_at,
        max(fetched_at) as last_seen_at,
        count(distinct snapshot_id) as times_seen,
        count(distinct query) as query_count,
        array_agg(distinct query order by query) filter (where query is not null) as queries,
        max(uploaded_at_min) as uploaded_at_min,
        min(uploaded_at_max) as uploaded_at_max,
        count(uploaded_at_min) as upload_intervals_seen,
        max(size_bytes_min) as size_bytes_min,
        min(size_bytes_max) as size_bytes_max,
        bool_or(is_rating_anomaly) as is_rating_anomaly_seen,
        bool_or(is_price_ambiguous) as is_price_ambiguous_seen

    from listings
    group by document_key

),

final as (

    select
        history.document_key,
        history.latest.site,
        history.latest.heading,
        history.title,
        history.document_id,
        history.file_family,
        history.ext,
        history.forms_seen,
        history.latest.credit,
        history.latest.pages,
        history.latest.size_text,
        -- a point inside the intersected interval: the latest sighting's point clamped into
        -- it (the exact size where the bounds meet, as an API row gives them); the latest
        -- sighting's own point where the sightings contradict each other (no point fits)
        case
            when history.size_bytes_min <= history.size_bytes_max
                then least(
                    greatest(history.latest.size_bytes, history.size_bytes_min),
                    history.size_bytes_max
                )
            else history.latest.size_bytes
        end as size_bytes,
        history.latest.price as latest_price,
        history.latest.rating as latest_rating,
        history.first_seen_at,
        history.last_seen_at,
        history.times_seen,
        history.query_count,
        coalesce(history.queries, []::varchar[]) as queries,
        history.uploaded_at_min,
        history.uploaded_at_max,
        -- bounds are inclusive whole seconds: a 30-day age gives exactly 720 hours
        case
            when history.uploaded_at_min <= history.uploaded_at_max
                then (epoch(history.uploaded_at_max) - epoch(history.uploaded_at_min) + 1)
                    / 3600.0
        end as uploaded_window_hours,
        history.upload_intervals_seen,
        history.size_bytes_min,
        history.size_bytes_max,
        coalesce(history.uploaded_at_min > history.uploaded_at_max, false)
            as is_upload_interval_empty,
        history.size_bytes_min > history.size_bytes_max as is_size_interval_empty,
        history.is_rating_anomaly_seen,
        history.is_price_ambiguous_seen,
        history.document_ref,
        -- what to show for the document: its title, else a guess marked as one (the start
        -- of the heading's first line: the title is in it, its end is not known)
        coalesce(
            history.title,
            '{{ var("display_title_guess_marker") }}'
            || case
                when length(split_part(history.latest.heading, chr(10), 1))
                    > {{ var('display_title_guess_chars') }}
                    then rtrim(left(
                        split_part(history.latest.heading, chr(10), 1),
                        {{ var('display_title_guess_chars') }}
                    )) || '…'
                else split_part(history.latest.heading, chr(10), 1)
            end
        ) as display_title,
        history.title is null as is_display_title_guessed

    from history

)

select * from final
