"""Feed stages: fetch (HTTP with guards), parse (feedparser + JSON Feed), extract (article pages), schedule."""
