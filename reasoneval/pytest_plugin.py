"""pytest plugin for run-report gates (filled in by the `reasoneval run` work)."""
