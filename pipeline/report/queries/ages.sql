-- Documents per age class: age at the last sighting, from the middle of the intersected
-- upload interval. The classes follow the site's own age units (days, months of 30 days,
-- years of 360 days); charts.AGE_ORDER lists the labels in order.
with aged as (
    select
        uploaded_window_hours,
        (epoch(last_seen_at) - (epoch(uploaded_at_min) + epoch(uploaded_at_max)) / 2)
            / 86400 as age_days
    from dim_documents
)
select
    case
        when uploaded_window_hours is null then 'unknown'
        when age_days < 1 then '< 1 day'
        when age_days < 7 then '1 – 7 days'
        when age_days < 30 then '1 – 4 weeks'
        when age_days < 90 then '1 – 3 months'
        when age_days < 360 then '3 – 12 months'
        when age_days < 720 then '1 – 2 years'
        else '≥ 2 years'
    end as age_class,
    count(*) as documents
from aged
group by age_class
