"""The web console: server-rendered pages for PMs and partnership managers over the same domain
functions as the JSON API."""
