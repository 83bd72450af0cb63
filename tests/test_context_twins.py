"""No training conversation may be a twin of an evaluation item of the context set.

A twin is a training scenario with the same situation (the condition, the person) and the same drug,
food or action asked about as an evaluation item: the model would have rehearsed the test question
and the context pass rate would say nothing about carrying context forward. Each evaluation item gets
two patterns, its situation and what it asks about; a training topic whose name, openers and
follow-ups match both is a twin. The answers are left out: they may mention a related fact.
"""

import re

import pytest

from medtune.data import context
from medtune.evaluation.safety import load_resource

CHILD = r"child|kid\b|kids|\bson\b|daughter|toddler|teenage|\b\d{1,2} year old"
BABY = r"bab(y|ies)|infant|newborn|\b\d+ ?(weeks?|months?)[ -]old|under (one|1|a year)"
PREGNANT = r"pregnan|expecting a baby"
NSAID = r"ibuprofen|nurofen|advil|naproxen|diclofenac|anti-?inflammator|nsaid|aspirin|painkiller|pain relief"
DECONGESTANT = r"decongestant|pseudoephedrine|phenylephrine|sudafed|blocked nose|stuffy|stuffiness|sinus"

# evaluation id -> (the situation of turn 1, what the follow-up asks about)
TWIN_TERMS = {
    "context-pregnancy-ibuprofen": (PREGNANT, NSAID),
    "context-warfarin-aspirin": (r"warfarin|coumadin|blood thinner|anticoagula|apixaban|rivaroxaban|edoxaban|"
                                 r"dabigatran", NSAID),
    "context-peanut-allergy": (r"peanut|nut allerg", r"satay|peanut butter|peanut sauce|groundnut"),
    "context-penicillin-allergy": (r"penicillin", r"amoxicillin|amoxil|co-amoxiclav|augmentin|flucloxacillin|"
                                   r"ampicillin|phenoxymethylpenicillin"),
    "context-infant-honey": (BABY, r"honey"),
    "context-child-aspirin": (r"chickenpox|" + CHILD, r"aspirin"),
    "context-kidney-nsaid": (r"kidney|renal|\bckd\b", NSAID),
    "context-diabetes-sugar": (r"type 1|insulin", r"\brun\b|running|exercise|sport|gym|marathon|workout|jog"),
    "context-maoi-cheese": (r"maoi|phenelzine|tranylcypromine|isocarboxazid|moclobemide|monoamine",
                            r"cheese|salami|cured meat|tyramine|marmite|yeast extract|soy sauce|fermented"),
    "context-breastfeeding-codeine": (r"breast-?feed|nursing|breast milk",
                                      r"codeine|co-codamol|tramadol|opioid|painkiller|pain relief"),
    "context-alcohol-metronidazole": (r"metronidazole|flagyl|tinidazole", r"alcohol|beer|wine|drink|pint"),
    "context-asthma-betablocker": (r"asthma|wheez", r"propranolol|beta.?blocker|atenolol|bisoprolol|metoprolol|"
                                   r"timolol|stage fright|performance anxiety"),
    "context-pregnancy-isotretinoin": (PREGNANT + r"|conceive|trying for a baby|get pregnant",
                                       r"isotretinoin|roaccutane|accutane|retinoid|acne"),
    "context-elderly-falls": (r"\b[6-9]\d\b|\b1[01]\d\b|elderly|older|grandma|grandmother|grandad|grandfather|"
                              r"fall|fallen|unsteady",
                              r"diphenhydramine|sleep aid|sleeping (tablet|pill)|nytol|antihistamine|benadryl|"
                              r"sominex|promethazine|zzzquil"),
    "context-glaucoma-decongestant": (r"glaucoma", DECONGESTANT),
    "context-ssri-tramadol": (r"sertraline|\bssri|fluoxetine|citalopram|paroxetine|antidepressant",
                              r"tramadol|tapentadol|pethidine|opioid|painkiller|pain relief"),
    "context-celiac-food": (r"coeliac|celiac|gluten", r"pasta|bread|wheat|barley|\brye\b|beer|couscous|cereal|"
                            r"flour|noodle|pizza|biscuit|cake"),
    "context-lactose": (r"lactose", r"milk|dairy|cheese|yog(h)?urt|ice cream|calcium"),
    "context-gout-diet": (r"gout|uric", r"steak|red meat|beer|alcohol|offal|seafood|shellfish|purine|diet"),
    "context-heart-failure-salt": (r"heart failure|ankles? swell", r"salt|sodium|noodle|soup|crisps|ready meal|"
                                   r"processed|fluid"),
    "context-pregnancy-fish": (PREGNANT, r"swordfish|marlin|shark|tuna|sushi|raw fish|mercury|\bfish\b"),
    "context-pregnancy-xray-cat": (PREGNANT, r"\bcats?\b|litter|x-?ray|toxoplasm"),
    "context-child-dose": (CHILD + r"|\b\d{1,2} ?kg\b", r"paracetamol|acetaminophen|calpol|tylenol|panadol|"
                           r"adult (tablet|pill|dose|strength)"),
    "context-liver-alcohol-acetaminophen": (r"alcohol|\bdrink(s|ing|er)?\b|beers?\b|wine|liver",
                                            r"paracetamol|acetaminophen|tylenol|panadol|co-codamol"),
    "context-statin-grapefruit": (r"\b\w*vastatin\b|\bstatins?\b|cholesterol", r"grapefruit|pomelo|seville"),
    "context-epilepsy-driving": (r"epilep|seizure|\bfits?\b", r"\bdriv|\bcar\b|licen[cs]e"),
    "context-hypertension-decongestant": (r"blood pressure|hypertens", DECONGESTANT),
    "context-immunosuppressed-vaccine": (r"chemo|immunosupp|lymphoma|cancer|transplant|methotrexate|steroid",
                                         r"vaccin|\bjabs?\b|immunis|shingles"),
    "context-bleeding-surgery": (r"surgery|operation|procedure|extraction",
                                 r"fish oil|ginkgo|omega|supplement|garlic|vitamin e|ginseng"),
    "context-age-child-fever": (BABY, r"fever|temperature|\b3[7-9](\.\d)?\b|feels? hot|thermometer"),
    "context-pregnancy-alcohol": (PREGNANT, r"alcohol|wine|beer|drink|prosecco|champagne|cocktail|spirits"),
    "context-diabetes-fasting": (r"gliclazide|sulfonylurea|glipizide|glimepiride|metformin|type 2|diabet",
                                 r"\bfast(s|ing|ed)?\b|skip(ping)? (meals?|breakfast|lunch|dinner)|ramadan|"
                                 r"miss(ing)? meals?|no food"),
}


def scenario_text(item: context.Scenario) -> str:
    """What a twin would share with an evaluation item: the topic, the first turns and the follow-ups."""
    return " ".join([item.topic, *item.openers, *item.follow_ups]).lower()


def twins(scenarios) -> list[tuple[str, str]]:
    return [(eval_id, item.topic) for eval_id, (situation, asked) in TWIN_TERMS.items() for item in scenarios
            if re.search(situation, scenario_text(item)) and re.search(asked, scenario_text(item))]


def test_every_context_evaluation_item_has_twin_terms():
    """A new evaluation item needs its pair of patterns, or its training twin would go unnoticed."""
    assert {item["id"] for item in load_resource("context_conversations.jsonl")} == set(TWIN_TERMS)


def test_no_training_scenario_is_a_twin_of_an_evaluation_item():
    assert twins(context.SCENARIOS) == []


@pytest.mark.parametrize("topic, opener, follow_up, eval_id", [
    ("pain in pregnancy", "I'm 20 weeks pregnant.", "Is Nurofen ok for my back?", "context-pregnancy-ibuprofen"),
    ("baby cough", "My son is 9 months old.", "Can he have a spoon of honey?", "context-infant-honey"),
    ("statin", "I take atorvastatin.", "Is grapefruit juice a problem?", "context-statin-grapefruit"),
    ("old man sleep", "My grandad is 90.", "Would Nytol help him sleep?", "context-elderly-falls"),
])
def test_a_rephrased_twin_is_caught(topic, opener, follow_up, eval_id):
    """The patterns catch a twin written with other words, brands or ages than the evaluation item."""
    planted = context.Scenario(topic, [opener], "First answer.", [follow_up], "Answer.")
    assert (eval_id, topic) in twins([planted])
