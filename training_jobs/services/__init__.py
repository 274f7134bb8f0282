"""Writes of training_jobs: `runs` (state machine and user actions), `launch` (submit, poll,
cancel against the backends). Reads live in `training_jobs.selectors`."""
