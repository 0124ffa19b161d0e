"""The JSON API under ``/api``: request/response models, the route table, and
the queries behind them. Reaches the engine through its public API only."""
