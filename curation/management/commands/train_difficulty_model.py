from curation.management.stage_command import StageCommand


class Command(StageCommand):
    # Help text and flags come from the stage map (curation/pipeline.py: Stage.description, .options).
    stage = "train_features"
