-- grain: one row per data-quality finding per subject (finding, subject_id)
{{ config(
    materialized='incremental',
    unique_key='subject_id',
    keys_from={
        'dim_documents': 'document_key',
        'fct_listing_appearances': 'document_key',
        'stg_lake__snapshots': 'snapshot_id',
    },
) }}
-- Everything in the data that an analyst should distrust, in one place, worst first. Bad
-- data is not a build error (the pipeline's rule: flag, never silently fix): the build goes
-- on, tests with severity `warn` print these rows, and the report lists the worst of them.
-- magnitude orders findings within a severity: hours or bytes of contradiction, or counts.
-- Each finding names its subject's site (and query, where the subject has one: a snapshot,
-- or the page a document was listed twice on), so problems can be counted by site.
-- Incrementally, the subjects redone are the documents whose row or appearances changed in
-- this build and the snapshots it appended: every finding is read from its subject's rows
-- alone. A subject left without findings loses its rows
-- (keys_from: the runner settles these keys, docs/warehouse.md).

with

{% if is_incremental() %}

subjects as materialized (

    select document_key as subject_id from {{ changes('dim_documents') }}
    union
    select document_key from {{ changes('fct_listing_appearances') }}
    union
    select snapshot_id from {{ changes('stg_lake__snapshots') }}

),

{% endif %}

-- each named several times below: read where they lie, not copied first
documents as not materialized (

    select * from {{ ref('dim_documents') }}
    {% if is_incremental() %}
    where document_key in (select subject_id from subjects)
    {% endif %}

),

appearances as (

    select * from {{ ref('fct_listing_appearances') }}
    {% if is_incremental() %}
    where document_key in (select subject_id from subjects)
    {% endif %}

),

snapshots as not materialized (

    select * from {{ ref('stg_lake__snapshots') }}
    {% if is_incremental() %}
    where snapshot_id in (select subject_id from subjects)
    {% endif %}

),

empty_upload_intervals as (

    select
        'upload interval empty' as finding,
        'high' as severity,
        'document' as subject_kind,
        document_key as subject_id,
        left(heading, 60) as subject_label,
        'the ages seen in ' || times_seen || ' snapshots contradict: latest lower bound '
            || strftime(uploaded_at_min at time zone 'UTC', '%Y-%m-%d %H:%M:%S')
            || ' is after earliest upper bound '
            || strftime(uploaded_at_max at time zone 'UTC', '%Y-%m-%d %H:%M:%S') || ' UTC'
            as detail,
        (epoch(uploaded_at_min) - epoch(uploaded_at_max)) / 3600.0 as magnitude,
        last_seen_at as seen_at,
        site,
        -- a document has a query per snapshot it was seen in, not one
        cast(null as varchar) as query

    from documents
    where is_upload_interval_empty

),

empty_size_intervals as (

    select
        'size interval empty' as finding,
        'high' as severity,
        'document' as subject_kind,
        document_key as subject_id,
        left(heading, 60) as subject_label,
        'the sizes seen contradict: ' || size_bytes_min || ' > ' || size_bytes_max || ' bytes'
            as detail,
        cast(size_bytes_min - size_bytes_max as double) as magnitude,
        last_seen_at as seen_at,
        site,
        -- a document has a query per snapshot it was seen in, not one
        cast(null as varchar) as query

    from documents
    where is_size_interval_empty

),

unreadable_snapshots as (

    select
        'unreadable snapshot' as finding,
        'high' as severity,
        'snapshot' as subject_kind,
        snapshot_id as subject_id,
        source_path as subject_label,
        read_error as detail,
        cast(byte_count as double) as magnitude,
        fetched_at as seen_at,
        site,
        query

    from snapshots
    where read_error is not null

),

repeated_on_page as (

    select
        'document listed twice on one page' as finding,
        'medium' as severity,
        'document' as subject_kind,
        document_key as subject_id,
        snapshot_id as subject_label,
        'listed ' || times_listed_in_snapshot || ' times; first at position ' || position
            as detail,
        cast(times_listed_in_snapshot as double) as magnitude,
        fetched_at as seen_at,
        -- the page it was listed twice on: its site and query
        site,
        query

    from appearances
    where times_listed_in_snapshot > 1

),

approximate_fetch_times as (

    select
        'approximate fetch time' as finding,
        'medium' as severity,
        'snapshot' as subject_kind,
        snapshot_id as subject_id,
        source_path as subject_label,
        'fetched_at is the file''s mtime, so every upload interval from this page may be off'
            as detail,
        cast(listing_count as double) as magnitude,
        fetched_at as seen_at,
        site,
        query

    from snapshots
    where fetched_at_source = 'mtime'

),

metadata_warnings as (

    select
        'metadata warning' as finding,
        'medium' as severity,
        'snapshot' as subject_kind,
        snapshot_id as subject_id,
        source_path as subject_label,
        metadata_warning as detail,
        cast(listing_count as double) as magnitude,
        fetched_at as seen_at,
        site,
        query

    from snapshots
    where metadata_warning is not null

),

rating_anomalies as (

    select
        'rating below 1' as finding,
        'low' as severity,
        'document' as subject_kind,
        document_key as subject_id,
        left(heading, 60) as subject_label,
        'a rating no 1-5 star vote gives; latest ' || latest_rating as detail,
        1 - latest_rating as magnitude,
        last_seen_at as seen_at,
        site,
        -- a document has a query per snapshot it was seen in, not one
        cast(null as varchar) as query

    from documents
    where is_rating_anomaly_seen

),

ambiguous_prices as (

    select
        'ambiguous price' as finding,
        'low' as severity,
        'document' as subject_kind,
        document_key as subject_id,
        left(heading, 60) as subject_label,
        'the description ends in digits glued to the price; latest reading '
            || latest_price as detail,
        cast(latest_price as double) as magnitude,
        last_seen_at as seen_at,
        site,
        -- a document has a query per snapshot it was seen in, not one
        cast(null as varchar) as query

    from documents
    where is_price_ambiguous_seen

),

unioned as (

    select * from empty_upload_intervals
    union all by name select * from empty_size_intervals
    union all by name select * from unreadable_snapshots
    union all by name select * from repeated_on_page
    union all by name select * from approximate_fetch_times
    union all by name select * from metadata_warnings
    union all by name select * from rating_anomalies
    union all by name select * from ambiguous_prices

),

-- the closed vocabularies as ENUMs (pipeline/vocab.py): a value outside them fails the build
typed as (

    select
        * replace (
            cast(severity as {{ enum('FINDING_SEVERITIES') }}) as severity,
            cast(subject_kind as {{ enum('FINDING_SUBJECTS') }}) as subject_kind
        )

    from unioned

),

final as (

    select
        finding,
        severity,
        -- 1 for the worst: the severity's place in its vocabulary
        cast(enum_code(severity) as integer) + 1 as severity_rank,
        subject_kind,
        subject_id,
        subject_label,
        detail,
        magnitude,
        seen_at,
        site,
        query

    from typed

)

select * from final
