"""Partnership KPIs: pure metrics over loaded facts, coverage gaps, the report and the replay of
feedback."""
