"""Gradescope's autograder container: the entry point (run_autograder, setup.sh) and the zip that carries them."""
