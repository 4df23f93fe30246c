"""Layer handlers of the reference evaluator, one module per layer family (auto-discovered)."""
