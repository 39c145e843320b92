"""A minimal Flask app: the baseline that benchmarks/submit.py compares the survey journey with.

It runs under the same gunicorn settings as the survey app, so the ratio of
the two request rates is what the survey's templates, forms, sessions and
database cost per request.
"""

from flask import Flask

app = Flask(__name__)

PAGE = """<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>Hello – benchmark</title></head>
<body><h1>Hello, world</h1><p>A small page for the baseline.</p></body>
</html>
"""


@app.get("/")
def hello() -> str:
    return PAGE
