-- Documents per page-count class (as last shown). Classes widen as counts grow: a slide deck
-- has 20 pages, a book 500. charts.PAGES_ORDER lists the labels in order.
select
    case
        when pages is null then 'unknown'
        when pages <= 1 then '1'
        when pages <= 10 then '2 – 10'
        when pages <= 20 then '11 – 20'
        when pages <= 50 then '21 – 50'
        when pages <= 100 then '51 – 100'
        when pages <= 200 then '101 – 200'
        when pages <= 500 then '201 – 500'
        else '> 500'
    end as pages_class,
    count(*) as documents
from dim_documents
group by pages_class
