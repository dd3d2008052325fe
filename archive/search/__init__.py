"""Full-text search over article versions: the query language, the index, and the answers."""
