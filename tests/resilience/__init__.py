"""Resilience scenarios: kills, API faults, store outages, concurrent daemons, hostile input, a soak run."""
