select
    {{ surrogate_key(['template_id']) }} as template_key,
    template_id,
    template_name,
    editor_type,
    created_at,
    updated_at
from {{ ref('stg_klaviyo__templates') }}
