from medtune.data.decontam import ContaminationIndex, EvalItem

MEDQA = ("A 23-year-old pregnant woman at 22 weeks gestation presents with burning upon urination. She states it "
         "started 1 day ago and has been worsening despite drinking more water.")


def index():
    return ContaminationIndex([EvalItem("medqa_usmle", "q1", MEDQA),
                               EvalItem("mmlu_medical", "m1", "Which of the following is the body cavity that contains the pituitary gland?"),
                               EvalItem("pubmedqa", "p1", "Is it safe?")])


def test_planted_benchmark_question_is_caught():
    planted = "Here is a case. " + MEDQA.upper() + " What should be done?"
    assert index().match(planted) == ("medqa_usmle", "q1")


def test_a_long_substring_of_a_benchmark_item_is_caught():
    assert index().match("she states it started 1 day ago and has been worsening despite drinking more water")


def test_short_benchmark_question_is_matched_whole():
    assert index().match("Q: which of the following is the body cavity that contains the pituitary gland") == \
        ("mmlu_medical", "m1")


def test_unrelated_text_and_too_short_items_do_not_match():
    assert index().match("Urinary tract infections are common in pregnancy and are treated with antibiotics.") is None
    assert index().match("Is it safe? Yes it is safe.") is None  # the 3-word item is below min_words
