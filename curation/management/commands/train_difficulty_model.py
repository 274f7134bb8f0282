from curation.management.stage_command import StageCommand


class Command(StageCommand):
    help = "Train the offline features model on labelled problems; prints its cross-validated accuracy."
    stage = "train_features"
