"""Qingfeng (清风): core services. Nothing here imports `telegram` except the adapter layer
(`bot/app.py`, `bot/persistence.py`)."""
