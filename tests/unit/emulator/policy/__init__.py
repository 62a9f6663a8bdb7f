"""Tests of the policy engine (a package, so module names cannot clash with other test folders)."""
