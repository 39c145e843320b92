"""gunicorn settings for `make run` and production.

The access log leaves out the client's IP address (the privacy notice says we
do not record it) and query strings, which carry the secret of a "save and
come back later" link. Answers never appear in URLs.
"""

import os

bind = os.environ.get("BIND", f"127.0.0.1:{os.environ.get('PORT', '5000')}")
# Two processes per core, two threads each: measured with benchmarks/submit.py
# on two cores, this gave more journeys per second than 2x4, 2x1 or 5x1,
# because one process can work while another waits for SQLite's write lock.
workers = int(os.environ.get("WEB_CONCURRENCY", str(2 * (os.cpu_count() or 1))))
worker_class = "gthread"
threads = int(os.environ.get("THREADS", "2"))
accesslog = "-"
access_log_format = '%(t)s "%(m)s %(U)s" %(s)s %(b)s %(M)sms'
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
# gunicorn's control socket has one default path per user, which every other
# gunicorn on the machine would take over; nothing here uses it.
control_socket_disable = True
