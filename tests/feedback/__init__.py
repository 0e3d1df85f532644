"""Tests of spamsift.feedback: the store, its rule, keys, migrations and durability."""
