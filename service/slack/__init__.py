"""The Slack bot: `/partners` for PMs, Block Kit answers and feedback buttons.

One more thin adapter over the same use cases as the HTTP API (`recommend`, `record_feedback`).
"""
