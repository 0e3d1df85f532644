"""Tests of spamsift.evaluation (a package, so test module names may repeat elsewhere)."""
