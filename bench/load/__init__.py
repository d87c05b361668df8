"""The load test of issue 7: gunicorn + PostgreSQL under a mixed locust workload
(bench/load/run.sh, ``make load``); figures in docs/performance.md, section Load."""
