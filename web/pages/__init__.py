"""The server-rendered pages: one module per page, the Jinja2 environment and
the route table. Reaches the engine through its public API only."""
