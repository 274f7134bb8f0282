"""The models' choices are the values the pure modules write: one vocabulary, no drift."""
from curation import vocabulary
from curation.difficulty.rubric import DIMENSION_KEYS
from curation.models import DIMENSIONS, ContaminationMethod, IoFormat, TestKind
from curation.process import decontam


def test_choices_match_what_the_code_writes():
    written = {getattr(decontam, name) for name in dir(decontam) if name.startswith("METHOD_")}
    assert set(ContaminationMethod.values) == written
    assert tuple(IoFormat.values) == vocabulary.IO_FORMATS
    assert tuple(TestKind.values) == vocabulary.TEST_KINDS
    assert DIMENSIONS == DIMENSION_KEYS == vocabulary.DIMENSIONS
