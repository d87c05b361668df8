"""The home page (dashboard per role), the language switch and the health check."""
