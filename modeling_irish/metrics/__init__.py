"""`evaluate` metric scripts, loaded by path (`modeling_irish.retrieval.METRIC_PATH`)."""
