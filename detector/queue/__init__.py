"""The RQ machinery: the jobs (enqueued by dotted path), the worker that runs them in one
long-lived job process, its supervisor, what RQ knows about a job, and job log context."""
