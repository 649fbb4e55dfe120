-- Every event in the events fact is still in staging: events the loader marked deleted leave
-- the incremental fact too.
select fact.event_id
from {{ ref('fct_klaviyo_events') }} as fact
left join {{ ref('stg_klaviyo__events') }} as staged on fact.event_id = staged.event_id
where staged.event_id is null
