import pytest

from medtune.data.quality import quality_reason

GOOD = ("Asthma is a chronic disease of the airways that makes breathing hard. Inhaled medicines "
        "control the swelling and open the airways.")


@pytest.mark.parametrize("question,answer,reason", [
    ("What is asthma?", "", "empty_answer"),
    ("", GOOD, "empty_question"),
    ("Asthma?", GOOD, "question_too_short"),
    ("What is asthma?", "A lung disease.", "answer_too_short"),
    ("What are the treatments for asthma?", "These resources address the diagnosis or management of asthma: "
     "- Gene Review - Genetic Testing Registry - Diagnostic Tests - Drug Therapy - Surgery", "non_answer"),
    ("What is asthma?", "Asthma is a chronic disease of the airways that makes breathing hard and is treated with",
     "truncated"),
    ("What is asthma?", "El asma es una enfermedad crónica de las vías respiratorias que dificulta la respiración "
     "y se trata con medicamentos inhalados todos los días.", "non_english"),
    ("What is asthma?", GOOD, None),
])
def test_quality_reasons(question, answer, reason):
    assert quality_reason(question, answer) == reason
