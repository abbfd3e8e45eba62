-- Documents per price class, from the price as last shown (in the site's credit word, e.g.
-- 码力). Most documents are free, so the paid ones are split finely at the low end.
-- charts.PRICE_ORDER lists the labels in order.
select
    case
        when latest_price is null then 'unknown'
        when latest_price = 0 then 'free'
        when latest_price = 1 then '1'
        when latest_price = 2 then '2'
        when latest_price <= 5 then '3 – 5'
        when latest_price <= 10 then '6 – 10'
        when latest_price <= 20 then '11 – 20'
        when latest_price <= 50 then '21 – 50'
        else '> 50'
    end as price_class,
    count(*) as documents
from dim_documents
group by price_class
