"""How fast and how big the hub is at organisation scale: `python benchmarks/run.py`."""
