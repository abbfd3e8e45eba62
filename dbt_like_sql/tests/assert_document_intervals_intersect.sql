-- grain: one row per document whose snapshots contradict each other (empty = pass)
{{ config(severity='warn') }}
-- Each snapshot bounds a document's upload time and size; the bounds of all its snapshots
-- must overlap. When they do not, the input contradicts itself: two documents share a key,
-- the document was replaced, or a fetch time is wrong (an mtime). That is a finding about
-- the data, like a rejected fragment, not a fault of the build: it warns (listing the rows)
-- rather than failing, so one odd page cannot block the whole warehouse. The same rows are
-- in rpt_data_quality and at the top of the report.
-- In an update, the documents read are those it changed: the others were read before.

with

documents as (

    select * from {{ ref('dim_documents') }}
    {% if is_incremental() %}
    where document_key in (select document_key from {{ changes('dim_documents') }})
    {% endif %}

),

final as (

    select
        document_key,
        left(heading, 40) as heading,
        times_seen,
        uploaded_at_min,
        uploaded_at_max,
        size_bytes_min,
        size_bytes_max

    from documents
    where is_upload_interval_empty or is_size_interval_empty

)

select * from final
