"""Background jobs: exports, final PDF rendering, network computation and reminders, run
on an RQ queue in Redis when COOPDESA_REDIS_URL is set, else in a local process pool of
the app server. Users follow a job's progress at /tugas and download its result later."""
