"""Who is asking and what they may do: callers and roles, API keys, the rate limiter."""
