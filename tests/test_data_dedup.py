from medtune.data.dedup import deduplicate

PRIORITY = ["MPlusHealthTopics", "GARD", "GHR"]
A1 = ("Marfan syndrome is a disorder that affects the connective tissue. Connective tissue provides strength "
      "and flexibility to structures such as bone, ligaments, muscles, walls of blood vessels, and heart valves.")
A2 = ("Marfan syndrome is an inherited condition caused by changes in the FBN1 gene, which holds instructions "
      "for making a protein called fibrillin-1 that helps build elastic fibers in the body.")
B1 = ("Type 1 diabetes happens when the immune system destroys the cells in the pancreas that make insulin, "
      "so the body cannot make the insulin it needs to move glucose into cells.")
B2 = ("Type 2 diabetes happens when the body does not use insulin well, usually together with overweight and "
      "inactivity; over time the pancreas may also make less insulin than the body needs.")


def row(i, q, a, source="GARD", qtype="information"):
    return {"id": f"r{i}", "question": q, "answer": a, "source": source, "qtype": qtype, "focus": q}


def run(rows):
    kept, dropped = deduplicate(rows, question_threshold=0.7, answer_threshold=0.8, source_priority=PRIORITY)
    return [r["id"] for r in kept], {d["id"]: d["reason"] for d in dropped}


def test_exact_duplicate_question_with_same_answer():
    kept, dropped = run([row(1, "What is Marfan syndrome?", A1), row(2, "what is MARFAN syndrome ?", A1)])
    assert kept == ["r1"] and dropped == {"r2": "duplicate_question"}


def test_conflicting_answers_keep_the_preferred_source():
    kept, dropped = run([row(1, "What is Marfan syndrome?", A1, source="GHR"),
                         row(2, "What is Marfan syndrome?", A2, source="MPlusHealthTopics")])
    assert kept == ["r2"] and dropped == {"r1": "conflicting_answer"}


def test_conflict_tie_keeps_the_longer_answer():
    kept, dropped = run([row(1, "What is Marfan syndrome?", A2[:120] + "."), row(2, "What is Marfan syndrome?", A2 + " More.")])
    assert kept == ["r2"]


def test_near_duplicate_question_with_same_answer_is_dropped():
    kept, dropped = run([row(1, "What are the symptoms of Marfan syndrome, type one?", A1),
                         row(2, "What are the symptoms of Marfan syndrome type one ?", A1)])
    assert kept == ["r1"] and dropped == {"r2": "duplicate_question"}
    q = "What are the usual symptoms of Marfan syndrome in young adults who are older than thirty"
    kept, dropped = run([row(1, q + " years?", A1), row(2, q + " yrs?", A1)])
    assert dropped == {"r2": "near_duplicate_question"}


def test_similar_questions_with_different_answers_are_both_kept():
    kept, dropped = run([row(1, "What causes diabetes type 1 in young adult patients?", B1),
                         row(2, "What causes diabetes type 2 in young adult patients?", B2)])
    assert kept == ["r1", "r2"] and dropped == {}


def test_same_answer_under_another_question_is_dropped():
    kept, dropped = run([row(1, "What is Marfan syndrome?", A1), row(2, "What causes Marfan syndrome?", A1, qtype="causes")])
    assert kept == ["r1"] and dropped == {"r2": "duplicate_answer"}
