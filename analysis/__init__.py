"""Pure computation for board measures: tidy DataFrames of counts in, DataFrames and small dataclasses out.

Nothing here imports Flask or SQLAlchemy (a test walks the imports): the
application's service layer turns the database into counts with SQL
GROUP BY, and this package works out what the counts mean.
"""
