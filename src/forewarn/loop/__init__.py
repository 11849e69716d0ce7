"""The prompt-learning loop (seed 002): run an agent on a task, run the tests, learn a rule from
each failure through the teacher, retry. `forewarn.loop.run.run_loop` is the entry point."""
