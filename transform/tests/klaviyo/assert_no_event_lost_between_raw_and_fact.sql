-- Every event in staging (the raw table, current rows) is in the events fact.
select staged.event_id
from {{ ref('stg_klaviyo__events') }} as staged
left join {{ ref('fct_klaviyo_events') }} as fact on staged.event_id = fact.event_id
where fact.event_id is null
