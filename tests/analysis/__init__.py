"""Tests of the analysis package: pure computation, checked against scipy and statsmodels."""
