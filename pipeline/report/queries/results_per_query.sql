-- The site's result count (footer `共 N 条`) per query over time, one small panel per query.
-- Only queries with a count on two or more fetches have a trend to draw; the $panels with the
-- most results are drawn (`panels_wanted` says how many could have been). Within a $unit
-- (day, week or month) the last fetch's count stands for the period, so a panel holds at
-- most a few dozen points however long the history is.
with

fetches as (

    select
        coalesce(query, '(no query)') || ' · ' || coalesce(site, '?') as series,
        fetch_started_at,
        total_results

    from fct_query_snapshots
    where total_results is not null

),

drawn as (

    select
        series,
        arg_max(total_results, fetch_started_at) as latest_results,
        count(*) over () as panels_wanted

    from fetches
    group by series
    having count(*) >= 2
    order by latest_results desc, series
    limit $panels

),

final as (

    select
        fetches.series,
        drawn.latest_results,
        drawn.panels_wanted,
        strftime(
            date_trunc($unit, fetches.fetch_started_at at time zone 'UTC'), '%Y-%m-%d'
        ) as period,
        arg_max(fetches.total_results, fetches.fetch_started_at) as total_results,
        strftime(
            max(fetches.fetch_started_at) at time zone 'UTC', '%Y-%m-%d %H:%M'
        ) as last_fetch_at,
        count(*) as fetches

    from fetches
    inner join drawn on fetches.series = drawn.series
    group by all

)

select * from final
order by latest_results desc, series, period
