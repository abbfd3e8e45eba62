-- Documents per file type: the extension an HTML or API JSON page showed (else its file
-- family). Text pages show neither, so their documents are counted apart, not guessed.
-- The $limit most common types are named; the rest are summed as 'other'.
with

typed as (

    select
        coalesce(lower(ltrim(ext, '.')), file_family, 'not shown (text pages)') as file_type
    from dim_documents

),

counted as (

    select
        file_type,
        count(*) as documents,
        row_number() over (
            order by file_type = 'not shown (text pages)', count(*) desc, file_type
        ) as rank
    from typed
    group by file_type

)

select
    case
        when rank <= $limit or file_type = 'not shown (text pages)' then file_type
        else 'other'
    end as file_type,
    cast(sum(documents) as bigint) as documents
from counted
group by all
order by min(rank)
