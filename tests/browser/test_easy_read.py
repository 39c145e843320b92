"""The young people's easy-read pages: faces with words, and reading the question aloud.

The browser's speech is replaced by a recorder, so the test hears what would
have been said, and in which language, without a voice. The page runs under
the Content Security Policy, as it does for everyone.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from .helpers import MY_PLAN, answer_until, questionnaire_of
from .scenarios import FACES

pytestmark = pytest.mark.browser

# Runs before the page's own scripts: speak() records each utterance instead.
RECORD_SPEECH = """
window.spoken = [];
window.speechSynthesis.speak = (utterance) => {
  window.spoken.push({ text: utterance.text, lang: utterance.lang });
};
"""


def test_read_aloud_speaks_the_question_and_the_faces(page):
    page.add_init_script(RECORD_SPEECH)
    answer_until(page, MY_PLAN, FACES)

    # Hidden by the server, shown by the script once it knows the browser can speak.
    read_aloud = page.get_by_role("button", name="Read aloud")
    expect(read_aloud).to_be_visible()
    read_aloud.click()
    expect(page.locator('[data-module="app-read-aloud"] button')).to_have_text("Stop reading")

    spoken = page.evaluate("window.spoken")
    texts = [utterance["text"] for utterance in spoken]
    question = questionnaire_of(MY_PLAN).question(FACES)
    assert [text for text in texts if question.label in text], f"the question was not read: {texts}"
    for option in question.scale_options:
        assert option.label in texts, f"the face {option.label!r} was not read: {texts}"
        # The word is read, not the picture's description as well.
        assert not [text for text in texts if option.image_alt in text], f"{option.image_alt!r} was read: {texts}"
    languages = {utterance["lang"] for utterance in spoken}
    assert languages == {"en"}, f"read in {languages}, not English"

    # Pressed again, it stops, and says nothing more.
    page.locator('[data-module="app-read-aloud"] button').click()
    expect(read_aloud).to_be_visible()
    assert page.evaluate("window.spoken.length") == len(spoken)
