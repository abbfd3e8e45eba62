-- The most frequent reject reasons, with an example fragment each ($limit: how many).
select
    stage,
    reason,
    sum(reject_count)::bigint as rejects,
    min(example_fragment) as example_fragment
from rpt_rejects
group by stage, reason
order by rejects desc, reason
limit $limit
