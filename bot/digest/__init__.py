"""Digests as pure functions of data and `now`: schedules, topic filters, selection and ranking, clusters."""
