"""A model's second opinion on time cues the local parser cannot see (off by default):
the answer's format and checks (answer.py), the hourly budget (budget.py) and the
bounded queue of questions (queue.py). The engine's side is ``core/engine/analysed.py``."""
