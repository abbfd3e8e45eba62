-- Data-quality findings counted by kind, worst severity first.
select finding, severity, count(*) as findings
from rpt_data_quality
group by finding, severity, severity_rank
order by severity_rank, findings desc, finding
