from medtune.data.clean import cap_at_char, clean_answer, clean_question, has_contact_details, normalize_unicode


def test_planted_phone_numbers_are_removed_with_their_sentence():
    text = ("Diabetes is a disease in which blood glucose is too high. Call 1-800-860-8747 for more. "
            "You can also reach them at (301) 496-5751 or 301.496.5751. Ask 1-800-4-CANCER. "
            "The NLM is toll-free at 888-346-3656. Exercise helps control blood glucose.")
    out = clean_answer(text)
    assert out == "Diabetes is a disease in which blood glucose is too high. Exercise helps control blood glucose."
    assert not has_contact_details(out)


def test_emails_and_urls_are_removed():
    text = ("Lupus is an autoimmune disease. Write to info@niams.nih.gov for leaflets. "
            "See https://www.niams.nih.gov/health or www.lupus.org for details. Visit ghr.nlm.nih.gov today. "
            "It can affect the joints.")
    assert clean_answer(text) == "Lupus is an autoimmune disease. It can affect the joints."


def test_key_points_block_and_boilerplate_lines_are_removed():
    text = ("Key Points\n- Anal cancer forms in the anus. - Smoking raises the risk.\n\n"
            "Anal cancer is a disease in which malignant cells form in the tissues of the anus.\n"
            "NIH: National Cancer Institute\nMore on: Anal Cancer Treatment\nEspaol")
    assert clean_answer(text) == "Anal cancer is a disease in which malignant cells form in the tissues of the anus."


def test_source_credits_and_pointers_to_links_are_removed_but_medical_links_stay():
    text = ("Once the leukemia is in remission, you need more treatment. NIH: National Cancer Institute\n"
            "An article provides more on treatment at the following link. Please click here for a list of trials. "
            "You can read more on the GARD web page about this condition. Top of Page\n"
            "See the Treatment Options section that follows for links to current trials. These have been retrieved "
            "from NCI's listing of clinical trials.\n"
            "- Wear clothes that cover your arms - Close unscreened doors NIH: National Institute on Aging\n"
            "There is a link between smoking and lung cancer. Visit the dentist routinely.")
    assert clean_answer(text) == ("Once the leukemia is in remission, you need more treatment.\n"
                                  "- Wear clothes that cover your arms - Close unscreened doors\n"
                                  "There is a link between smoking and lung cancer. Visit the dentist routinely.")


def test_repeated_sections_and_leading_question_are_removed():
    text = ("How might this condition be treated? Scientists explore how to - promote regeneration of nerve cells "
            "- prevent the effects of aging on smell. promote regeneration of nerve cells prevent the effects of "
            "aging on smell. Treatment is supportive.")
    out = clean_answer(text)
    assert out.startswith("Scientists explore how to")
    assert out.count("promote regeneration") == 1
    assert out.endswith("Treatment is supportive.")


def test_unicode_and_whitespace_are_normalised():
    assert normalize_unicode("ﬁbrosis\u00a0and cafÃ©") == "fibrosis and café"
    assert clean_answer("A  line   with\tspaces.\n\n\n\nNext   paragraph here.") == \
        "A line with spaces.\n\nNext paragraph here."


def test_question_normalisation():
    assert clean_question("What is (are) Adult Acute Lymphoblastic Leukemia ?") == \
        "What is Adult Acute Lymphoblastic Leukemia?"


def test_cap_at_char_cuts_after_a_whole_sentence():
    text = "One two three. Four five six seven. Eight nine."
    assert cap_at_char(text, len(text)) == text
    assert cap_at_char(text, 40) == "One two three. Four five six seven."
    assert cap_at_char(text, 10) == ""  # never half a sentence
    assert cap_at_char("Dose is 2.5 mg daily. More text here.", 25) == "Dose is 2.5 mg daily."


def test_phenotype_frequency_table_is_cut_and_the_prose_before_it_kept():
    answer = ("Alstrom syndrome affects many organs, including the eyes, ears and heart. "
              "The Human Phenotype Ontology provides the following list of signs and symptoms for Alstrom "
              "syndrome. Signs and Symptoms Approximate number of patients (when available) Abnormality of "
              "the liver 90% Abnormality of the spleen 50% The frequency of a symptom is usually listed as a "
              "rough estimate of the percentage of patients who have that symptom.")
    assert clean_answer(answer) == "Alstrom syndrome affects many organs, including the eyes, ears and heart."
    table_only = "The Human Phenotype Ontology provides the following list of signs and symptoms for X. Y 90%"
    assert clean_answer(table_only) == ""


def test_a_restated_question_left_alone_by_the_table_cut_is_removed_too():
    """453 training answers were only "What are the signs and symptoms of X?" once the table was cut; the 1.5B
    model trained on them answered such questions by echoing the heading."""
    answer = ("What are the signs and symptoms of Achondroplasia and severe combined immunodeficiency? The Human "
              "Phenotype Ontology provides the following list of signs and symptoms for X. Y 90%")
    assert clean_answer(answer) == ""
    assert clean_answer("What causes gout? Uric acid crystals form in a joint.") == "Uric acid crystals form in a joint."
    assert clean_answer("Is it contagious? no, it is not.") == "Is it contagious? no, it is not."


def test_a_leading_summary_label_is_removed():
    """245 training answers began "Summary :"; the tuned 1.5B model began answers to patients with it."""
    assert clean_answer("Summary : Gout is a kind of arthritis.") == "Gout is a kind of arthritis."
    assert clean_answer("In summary: gout is a kind of arthritis.") == "In summary: gout is a kind of arthritis."
