"""Singer tap for OneTrust: DSAR requests, subtasks and history, consent transactions, data subjects, purposes and collection points."""
