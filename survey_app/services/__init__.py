"""The service layer: the only place views go for data. SQL lives here and in models."""
