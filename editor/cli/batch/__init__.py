"""`lucid batch`: one single-file command over a folder, resumable, on local processes or a Dask cluster.

spec (how a command declares its one-file function), tasks (which commands qualify, their options),
files (inputs → outputs), manifest (OUT_DIR/.lucid-batch.json), plan (workers and threads),
worker (the function every worker runs), executor (local process pool), cluster (Dask),
progress (bar, JSON lines, summary), runner (ties them together).
"""
