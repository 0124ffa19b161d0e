"""Who may talk to the panel: password hashing and secrets, signed tokens,
the request guard (host, origin, login), and the login throttle."""
