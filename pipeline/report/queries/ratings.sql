-- Documents per rating class (half stars, from the rating as last shown): `3.5` holds
-- 3.5 <= rating < 4. A rating below 1 no 1-5 star vote gives: the site's anomaly, kept
-- apart. charts.RATING_ORDER lists the labels in order.
select
    case
        when latest_rating is null then 'unknown'
        when latest_rating < 1 then '< 1 (anomaly)'
        when latest_rating >= 5 then '5.0'
        else format('{:.1f}', floor(latest_rating * 2) / 2)
    end as rating_class,
    count(*) as documents
from dim_documents
group by rating_class
