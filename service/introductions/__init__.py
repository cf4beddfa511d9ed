"""Introductions (one life cycle, from proposal to churn) and joint initiatives."""
