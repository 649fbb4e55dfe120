"""The OneTrust emulator: DSAR request queues, subtasks and history, consent transactions,
data subjects (V4), purposes and collection points, behind OAuth client credentials."""
