"""Release bisection of a case across venvs."""
