"""Scheduled crawls: jobs files, the scheduler daemon, the crawl runner and the run history.

A jobs file (:mod:`archive.jobs.config`) says which crawls run when; the
scheduler (:mod:`archive.jobs.scheduler`, APScheduler 3) keeps them in the
archive database and starts each run as a ``scrapy crawl`` child process
(:mod:`archive.jobs.runner`); every run is a row of ``job_runs``
(:mod:`archive.jobs.history`), and one scheduler at a time runs per database
(:mod:`archive.jobs.lock`). This package starts Scrapy only as a separate
process: it never imports Scrapy or Twisted.
"""

from archive.jobs.config import JobsFile, JobsFileError, JobSpec, load_jobs

__all__ = ["JobSpec", "JobsFile", "JobsFileError", "load_jobs"]
