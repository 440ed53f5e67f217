"""The mutation catalogue: per assignment, realistic wrong submissions (each must lose points, by an exact score)
and right ones in other styles (each must keep full marks). Built by tests/make_submissions.py from exercises/
and graded by tests/test_assignments.py through the one grading command."""
