"""The panel inside AstrBot's dashboard: in-process calls, the bridge, the routes."""
