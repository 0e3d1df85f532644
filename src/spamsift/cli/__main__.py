"""``python -m spamsift.cli``."""

from spamsift.cli import main

main()
