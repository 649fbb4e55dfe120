select
    {{ surrogate_key(['metric_id']) }} as metric_key,
    metric_id,
    metric_name,
    integration_name,
    integration_category,
    created_at,
    updated_at
from {{ ref('stg_klaviyo__metrics') }}
