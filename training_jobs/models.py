# TrainingRun, EvalRun, metric points and job events arrive with the training issue.
