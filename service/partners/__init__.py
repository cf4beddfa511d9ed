"""Partners: the catalog, negotiation notes and contacts."""
