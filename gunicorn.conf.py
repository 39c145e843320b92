"""gunicorn settings for `make run` and production.

The access log leaves out the client's IP address: the privacy notice says we
do not record it. Answers never appear in URLs, so request lines are safe to log.
"""

import os

bind = os.environ.get("BIND", f"127.0.0.1:{os.environ.get('PORT', '5000')}")
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_class = "gthread"
threads = int(os.environ.get("THREADS", "4"))
accesslog = "-"
access_log_format = '%(t)s "%(r)s" %(s)s %(b)s %(M)sms'
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
# gunicorn's control socket has one default path per user, which every other
# gunicorn on the machine would take over; nothing here uses it.
control_socket_disable = True
