select
    {{ surrogate_key(['segment_id', 'profile_id']) }} as membership_key,
    {{ surrogate_key(['segment_id']) }} as segment_key,
    {{ surrogate_key(['profile_id']) }} as profile_key,
    joined_at
from {{ ref('int_klaviyo__segment_members_joined_to_profiles') }}
