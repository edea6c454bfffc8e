"""The language engine: language detection, chunking, translation, summarization. Knows nothing of bot/, telegram or SQL."""
