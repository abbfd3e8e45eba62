-- Documents per size class. Classes by powers of ten of bytes: sizes span 0 B to GB, so
-- linear bins would put almost every document in the first one. report_charts.SIZE_ORDER lists
-- the labels in order.
select
    case
        when size_bytes < 100 * 1024 then '< 100 KB'
        when size_bytes < 1024 * 1024 then '100 KB – 1 MB'
        when size_bytes < 10 * 1024 * 1024 then '1 – 10 MB'
        when size_bytes < 100 * 1024 * 1024 then '10 – 100 MB'
        when size_bytes < 1024 * 1024 * 1024 then '100 MB – 1 GB'
        else '≥ 1 GB'
    end as size_class,
    count(*) as documents
from dim_documents
group by size_class
