-- Documents per size class, by size as last shown. Each class is one decade in the units
-- the site prints sizes in (KB = 1,024 bytes): 1 – 10 KB, 10 – 100 KB, 100 KB – 1 MB,
-- 1 – 10 MB, …, so every bar is as wide as the next on a log scale. Sizes span bytes to
-- gigabytes: linear bins would put almost every document in the first one, and classes of
-- mixed widths (an open `< 100 KB`) would hide where the documents are. Every decade from
-- the smallest size to the largest is a row, empty or not; an empty file (0 B) and an
-- unknown size are rows of their own when a document has one.
with

documents as (

    select size_bytes from dim_documents

),

-- the unit the site shows a size in: the largest power of 1,024 not above it (B to PB)
units as (

    select
        size_bytes,
        case
            when size_bytes < 1024 then 0
            when size_bytes < 1048576 then 1
            when size_bytes < 1073741824 then 2
            when size_bytes < 1099511627776 then 3
            when size_bytes < 1125899906842624 then 4
            else 5
        end as unit
    from documents
    where size_bytes > 0

),

-- the decade: three per unit, by the number the site shows (1–9.99, 10–99.99, 100 up)
decades as (

    select
        3 * unit + case
            when size_bytes / pow(1024, unit) < 10 then 0
            when size_bytes / pow(1024, unit) < 100 then 1
            else 2
        end as decade
    from units

),

counted as (

    select decade, count(*) as documents
    from decades
    group by decade

),

drawn as (

    select unnest(range(min(decade), max(decade) + 1)) as decade
    from counted
    having count(*) > 0

),

classes as (

    select
        drawn.decade,
        case drawn.decade % 3
            when 0 then format('1 – 10 {}', names[drawn.decade // 3 + 1])
            when 1 then format('10 – 100 {}', names[drawn.decade // 3 + 1])
            else format('100 {} – 1 {}', names[drawn.decade // 3 + 1], names[drawn.decade // 3 + 2])
        end as size_class,
        coalesce(counted.documents, 0) as documents
    from drawn
    cross join (select ['B', 'KB', 'MB', 'GB', 'TB', 'PB', 'EB'] as names)
    left join counted on drawn.decade = counted.decade

),

apart as (

    select -1 as decade, '0 B' as size_class, count(*) as documents
    from documents
    where size_bytes = 0
    having count(*) > 0

    union all

    select 99 as decade, 'unknown' as size_class, count(*) as documents
    from documents
    where size_bytes is null
    having count(*) > 0

),

final as (

    select decade, size_class, documents from classes
    union all
    select decade, size_class, documents from apart

)

select size_class, documents
from final
order by decade
