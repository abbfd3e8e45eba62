-- The documents seen in the most snapshots ($limit of them): what the site ranks high for
-- its queries, fetch after fetch. Ties go to the one seen by more queries, then the latest.
select
    coalesce(title, heading) as document,
    site,
    coalesce(lower(ltrim(ext, '.')), file_family) as file_type,
    pages,
    latest_price as price,
    latest_rating as rating,
    times_seen,
    query_count as queries,
    first_seen_at,
    last_seen_at
from dim_documents
order by times_seen desc, query_count desc, last_seen_at desc, document_key
limit $limit
