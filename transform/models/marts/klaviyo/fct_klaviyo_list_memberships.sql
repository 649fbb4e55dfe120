select
    {{ surrogate_key(['list_id', 'profile_id']) }} as membership_key,
    {{ surrogate_key(['list_id']) }} as list_key,
    {{ surrogate_key(['profile_id']) }} as profile_key,
    joined_at
from {{ ref('int_klaviyo__list_members_joined_to_profiles') }}
