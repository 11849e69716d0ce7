"""The teacher (seed 002, seed 003 §12): a model that turns failures into preventive rules and
cleans heuristic lesson candidates. `base` holds the interface and registry, one module per
backend, `router` the per-failure-type prompts, `rules` the answer format, `record` where the
rules are kept. Nothing here is imported unless a teacher is used."""
