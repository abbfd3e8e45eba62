-- A few examples of each kind of finding ($examples per kind): the ones where the data
-- contradicts itself most (largest magnitude), so the examples are the worst, not the first.
select
    finding,
    subject_kind,
    subject_id,
    subject_label,
    detail,
    seen_at
from rpt_data_quality
qualify row_number() over (
    partition by finding order by magnitude desc nulls last, subject_id
) <= $examples
order by severity_rank, finding, magnitude desc nulls last, subject_id
