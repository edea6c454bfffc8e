"""Questions about stored stories as pure functions: index text, FTS5 queries, date scopes, rank fusion, answers."""
