"""datacheck: the data-quality stage. Every input row ends up kept, or rejected with a reason."""
