"""The benchmark: one command measures the old way against the new, query latency, sync, resources and
concurrency, prints a table and writes it as JSON and Markdown (`python -m bench --help`)."""
