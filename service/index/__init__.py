"""The index of this process: the matcher that keeps the matching engine in step with the
catalog, the one change hook every writer goes through, partner documents and the partner views
recommendations show."""
