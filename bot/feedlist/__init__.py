"""feeds.yaml, the admin's file: its schema, reading it, editing it in place, OPML in and out, the engine settings it holds."""
