"""Trends: keyphrases per story (yake), the watchlist's names, counted per day against the previous window; a chart."""
