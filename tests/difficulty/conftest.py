import pytest

from tests.fixtures.openai_server import OpenAITestServer


@pytest.fixture
def server():
    with OpenAITestServer() as s:
        yield s
