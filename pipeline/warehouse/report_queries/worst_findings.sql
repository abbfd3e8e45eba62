-- The worst data-quality findings, one row each ($limit: how many).
select
    severity,
    finding,
    subject_kind,
    subject_id,
    subject_label,
    detail,
    strftime(seen_at at time zone 'UTC', '%Y-%m-%d %H:%M') as seen_at
from rpt_data_quality
order by severity_rank, magnitude desc nulls last, finding, subject_id
limit $limit
