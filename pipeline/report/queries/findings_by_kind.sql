-- Data-quality findings counted by kind, worst severity first, with how many subjects each
-- touches and when it was last seen.
select
    finding,
    severity,
    count(*) as findings,
    count(distinct subject_id) as subjects,
    max(seen_at) as last_seen_at
from rpt_data_quality
group by finding, severity, severity_rank
order by severity_rank, findings desc, finding
