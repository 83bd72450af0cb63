"""Two-turn conversations whose follow-up needs the earlier turn, written for this project.

The first user turn gives the context (a pregnancy, an allergy, a blood thinner, a child's age,
kidney disease, a medicine the person takes) and asks something; the follow-up asks a question whose
right answer depends on that context without repeating it ("Can I take ibuprofen for it?"). The
answer names the context it relies on, so the model learns to carry it forward. Some follow-ups turn
into an emergency (a head injury on warfarin, a fever in a 7-week-old); those answers start with the
referral, like the triage examples. A few scenarios come in contrasting pairs (honey for a baby of 8
months and for a child of 3 years) so the context, not the question, decides the answer.

Every opener is combined with every follow-up of its scenario. Deterministic: the same seed gives
the same examples.
"""

from __future__ import annotations

import random
from typing import NamedTuple

from .phrasing import casual
from .triage import CALL, GO

EMERGENCY = "your local emergency number (for example 911 in the US or 112 in Europe)"


class Scenario(NamedTuple):
    topic: str
    openers: list[str]       # first user turns: the context and a first question
    first_answer: str
    follow_ups: list[str]    # questions that only make sense with the context
    answer: str              # depends on the context, and says so
    urgent: bool = False     # the follow-up is an emergency: the answer starts with the referral


SCENARIOS = [
    Scenario("pregnancy painkiller",
             ["I'm 24 weeks pregnant and I've had a headache since this morning.",
              "I'm about 5 months pregnant and keep getting headaches, any tips?",
              "pregnant with my second, 22 weeks, and I have a headache today"],
             "Headaches are common in pregnancy. Rest in a quiet room, drink plenty of water, eat regular meals and "
             "try a cool cloth on your forehead. Paracetamol (acetaminophen) used as the label says is generally "
             "considered suitable in pregnancy if you need it. Tell your midwife or doctor about frequent headaches, "
             "and contact your maternity unit straight away if a headache is severe or comes with vision problems, "
             "pain under the ribs or sudden swelling of the face or hands, as these can be signs of pre-eclampsia.",
             ["Can I take ibuprofen for it?",
              "ibuprofen works better for me than paracetamol, is that ok to take?",
              "what about nurofen?"],
             "Because you are pregnant, ibuprofen (including brands such as Nurofen or Advil) is generally not "
             "recommended, especially from around 20 weeks onwards, unless a doctor advises it, as it can affect the"
             " baby's kidneys and circulation. Paracetamol is usually the preferred painkiller in pregnancy. If "
             "paracetamol does not help, talk to your midwife, doctor or pharmacist rather than switching to "
             "ibuprofen."),
    Scenario("pregnancy soft cheese",
             ["I'm 12 weeks pregnant and trying to eat well. What should I focus on?",
              "just found out I'm pregnant, what should my diet look like?"],
             "A varied diet with plenty of fruit and vegetables, wholegrain starchy foods, protein such as beans, "
             "eggs, fish and lean meat, and dairy foods is a good base. A folic acid supplement is recommended in "
             "early pregnancy, and your midwife or doctor can tell you about other supplements such as vitamin D. "
             "Cook eggs, meat and fish thoroughly, wash fruit and vegetables, and keep caffeine moderate.",
             ["Can I still eat brie and camembert?",
              "what about pâté on toast, or blue cheese?",
              "Is brie on a cheeseboard ok at a party?"],
             "During pregnancy it is best to avoid mould-ripened soft cheeses such as brie and camembert, soft blue "
             "cheeses, and all types of pâté, because they can carry listeria, an infection that can harm the baby. "
             "These cheeses are fine if cooked until steaming hot. Hard cheeses such as cheddar and pasteurised soft "
             "cheeses such as mozzarella or cream cheese are fine."),
    Scenario("pregnancy alcohol",
             ["I just found out I'm pregnant, about 6 weeks along.",
              "positive pregnancy test today! around 5 weeks I think"],
             "Congratulations. Contact a doctor or midwife to book your first pregnancy appointment. In the meantime, "
             "take a folic acid supplement, stop smoking if you smoke, and check with a pharmacist before taking any "
             "medicines, including ones you buy yourself.",
             ["Is one glass of wine at a wedding next month ok?",
              "my mum says a small drink now and then is fine, is she right?",
              "Can I still have a beer at the weekend?"],
             "In pregnancy there is no known safe amount of alcohol, so the safest choice is not to drink at all, "
             "including the occasional glass. Alcohol passes to the baby and can affect its development. If you drank "
             "before you knew you were pregnant, the risk of harm is likely to be low; mention it to your midwife or "
             "doctor if you are worried."),
    Scenario("breastfeeding decongestant",
             ["I'm breastfeeding my 2 month old and I've caught a horrible cold.",
              "I'm exclusively breastfeeding and now I have a cold, can I keep feeding?"],
             "Yes, keep breastfeeding: your milk passes on antibodies that help protect your baby, and a cold does not "
             "pass through breast milk. Wash your hands before feeds, rest, drink plenty of fluids, and paracetamol or "
             "ibuprofen used as the label says are generally considered suitable while breastfeeding.",
             ["Can I take a decongestant for my blocked nose?",
              "is pseudoephedrine ok for the stuffiness?",
              "Which cold and flu tablets can I take for the stuffy nose?"],
             "Because you are breastfeeding, decongestants such as pseudoephedrine and phenylephrine, which many "
             "cold and flu remedies contain, are generally avoided: pseudoephedrine can reduce your milk supply. "
             "Saline nose sprays or drops, steam, and raising your head at night are safe options. Ask a pharmacist "
             "to check any cold remedy before you take it."),
    Scenario("penicillin allergy",
             ["I'm allergic to penicillin, I came out in hives with it as a kid.",
              "my notes say penicillin allergy, I got a rash and swollen lips from it years ago"],
             "Make sure every doctor, dentist and pharmacist knows about your penicillin allergy and what happened, so "
             "it is on your records. Some people who had a reaction as a child are no longer allergic, and a doctor "
             "can refer you for allergy testing to find out; until then, treat the allergy as real.",
             ["My dentist wants to give me amoxicillin for a tooth infection, is that ok?",
              "the doctor just prescribed co-amoxiclav, should I take it?",
              "I was given amoxicillin for a chest infection, can I start it?"],
             "Do not take it before speaking to them: amoxicillin and co-amoxiclav are both penicillins, so with your "
             "penicillin allergy they could cause a reaction. Tell the dentist or doctor about the allergy now so they "
             "can prescribe a different antibiotic. If you have already taken a dose and notice swelling, wheezing or "
             f"trouble breathing, call {EMERGENCY}."),
    Scenario("peanut allergy",
             ["My 6 year old has a peanut allergy and carries an adrenaline pen.",
              "our child was diagnosed with a peanut allergy last year, she has an auto-injector"],
             "Keep the adrenaline auto-injectors (usually two) with your child at all times, make sure school and "
             "carers have an allergy action plan and know how to use them, and read food labels every time, as "
             "recipes change.",
             ["We're going to a Thai restaurant tonight, can my kid have the satay chicken?",
              "is satay sauce ok for her at the party?",
              "Is a peanut butter sandwich ok if it's just a little bit?"],
             "No: satay sauce and peanut butter are made from peanuts, and even a small amount can cause a serious "
             "reaction with your child's peanut allergy. When eating out, tell the staff about the allergy when you "
             "order, ask about peanuts in other dishes and about cross-contamination in the kitchen, and keep the "
             "adrenaline pen with you."),
    Scenario("asthma and anti-inflammatories",
             ["I have asthma, and once my chest got really tight after taking ibuprofen. Anyway, I hurt my back "
              "lifting boxes yesterday.",
              "asthmatic here, ibuprofen made me wheezy once. Now I've pulled a muscle in my back"],
             "A back strain from lifting usually improves within a few weeks. Keep moving gently rather than resting"
             " in bed, use a heat pack, and see a doctor if the pain is severe, not improving, or comes with "
             "numbness, leg weakness or problems passing urine.",
             ["Which painkiller should I take for it?",
              "what can I take for the pain then?",
              "Is ibuprofen gel or tablets better for it?"],
             "Because ibuprofen made your asthma worse before, avoid ibuprofen, aspirin, naproxen and other "
             "anti-inflammatory painkillers, as tablets or gels, including combination cold remedies that contain "
             "them. Paracetamol (acetaminophen) used as the label says is usually the safer choice. Tell your doctor"
             " and pharmacist about that reaction so it goes on your records."),
    Scenario("warfarin painkiller",
             ["I take warfarin for a mechanical heart valve. I sprained my wrist today.",
              "I'm on warfarin and just twisted my wrist falling off my bike"],
             "For a sprain, rest the wrist, use an ice pack wrapped in a cloth for short periods, and keep it raised. "
             "Because you take warfarin, bruising and swelling can be more marked; see a doctor if the swelling is "
             "large or growing, the pain is severe, or you cannot move the wrist.",
             ["What can I take for the pain?",
              "is ibuprofen ok for it?",
              "can I take aspirin or naproxen for it?"],
             "Because you take warfarin, paracetamol (acetaminophen) used as the label says is usually the preferred "
             "painkiller. Avoid ibuprofen, naproxen and aspirin unless your doctor says otherwise: they increase the "
             "risk of bleeding, and even regular paracetamol use can affect your INR, so mention it at your next "
             "check. Ask your pharmacist before using anti-inflammatory gels too."),
    Scenario("warfarin diet",
             ["I've just started warfarin for atrial fibrillation.",
              "my doctor put me on warfarin last week for an irregular heartbeat"],
             "Warfarin needs regular blood tests (INR) to keep the dose right. Take it at the same time each day, "
             "tell every doctor, dentist and pharmacist that you take it, and watch for unusual bleeding or bruising. "
             "Many medicines, supplements and foods can change how it works.",
             ["I want to start having kale and spinach smoothies every day, is that fine?",
              "can I start taking St John's wort and cranberry juice?",
              "I want to eat a big salad with lots of spinach every day, ok?"],
             "With warfarin, changes in diet and supplements matter. Leafy greens such as kale and spinach are rich in "
             "vitamin K, which lowers warfarin's effect: you do not need to avoid them, but keep the amount steady and "
             "tell your anticoagulation clinic before a big change. St John's wort and cranberry juice can also change "
             "warfarin's effect, so check with your clinic or pharmacist before starting them."),
    Scenario("warfarin head injury",
             ["My dad is 82 and takes warfarin. He's been a bit unsteady on his feet lately.",
              "my elderly father is on warfarin and has had a couple of wobbles recently"],
             "Unsteadiness in an older person is worth a doctor's review: medicines, blood pressure, eyesight, hearing "
             "and muscle strength can all play a part. At home, remove trip hazards, improve lighting, and consider "
             "grab rails and a falls alarm. Because he takes warfarin, falls are more risky for him.",
             ["He just slipped and hit his head on the kitchen floor but says he's fine. Should I just keep an eye on "
              "him?",
              "he fell and banged his head an hour ago, seems ok, can we wait till tomorrow?",
              "He bumped his head on the bathroom door earlier and now has a headache, is that worth worrying about?"],
             f"{GO} Because your dad takes warfarin, a head injury can cause bleeding inside the skull even when he "
             "seems well at first, so he needs to be checked now. Bring his medicine list, and do not let him drive.",
             urgent=True),
    Scenario("apixaban dental extraction",
             ["I'm on apixaban after a blood clot in my leg.",
              "I take apixaban since I had a DVT last year"],
             "Take apixaban at the same times each day without missing doses, tell every doctor, dentist and "
             "pharmacist that you take it, and seek help for bleeding that will not stop, blood in urine or stools, "
             "or a bad headache.",
             ["I've got a tooth out next week, should I stop it beforehand?",
              "should I skip it the day of my dental surgery?",
              "The dentist is pulling a tooth on Friday, do I keep taking my tablets?"],
             "Do not stop apixaban on your own: stopping raises your risk of another clot. Tell your dentist that you "
             "take it; for many simple extractions it is continued or only briefly paused, and the dentist will decide "
             "this with your doctor and tell you exactly what to do."),
    Scenario("young infant fever",
             ["My daughter is 7 weeks old. How often should she be feeding?",
              "my son is 6 weeks old, is it normal that he feeds so often?"],
             "Young babies feed often, usually 8 to 12 times in 24 hours, and feeding when your baby shows hunger cues "
             "is right at this age. Plenty of wet nappies and steady weight gain are good signs that feeding is going "
             "well. Your health visitor, midwife or doctor can check feeding and weight if you are unsure.",
             ["The baby feels hot now and the thermometer says 38.2. Can I give some medicine and wait until morning?",
              "temperature is 38.5 now, should I wait and see?",
              "Now the baby has a fever of 38 and is sleepier than usual, what should I do?"],
             f"{GO} Because your baby is under 3 months old, a temperature of 38°C (100.4°F) or more needs to be "
             "checked by a doctor urgently, even if the baby seems well. Do not give medicine unless a doctor "
             "advises it, and keep offering feeds while you go.",
             urgent=True),
    Scenario("chickenpox painkillers",
             ["My son is 4 and has chickenpox.",
              "my 5 year old came home from nursery with chickenpox"],
             "Chickenpox usually gets better on its own within a week or two. Keep your child cool, use cooling gels"
             " or calamine lotion for the itch, keep nails short, offer plenty of fluids, and keep them away from "
             "nursery or school until all the spots have crusted over. See a doctor if the skin around the spots "
             "becomes red, hot and painful, your child is very unwell, or has trouble breathing.",
             ["Can I give him aspirin or ibuprofen for the fever?",
              "what can I give for the temperature, is ibuprofen ok?",
              "Is calpol or nurofen better for the fever?"],
             "With chickenpox, avoid ibuprofen (such as Nurofen), as it may increase the risk of serious skin "
             "infections, and never give aspirin to a child, because of the risk of Reye's syndrome. Children's "
             "paracetamol (such as Calpol), at the dose on the label for your child's age, is the usual choice."),
    Scenario("honey under one",
             ["My baby is 8 months old and has a cough and a cold.",
              "our 9 month old has a runny nose and a cough"],
             "Coughs and colds are common in babies and usually get better within a week or two. Saline drops can help "
             "a blocked nose, keep up milk feeds and fluids, and let your baby rest. See a doctor if your baby has "
             "trouble breathing, is feeding much less, has a high temperature or seems unusually drowsy.",
             ["Can I give honey and lemon for the cough?",
              "would a spoon of honey help?",
              "Is honey in warm water a good natural remedy for the cough?"],
             "Not at this age: honey should not be given to babies under 1 year old because of the risk of infant "
             "botulism, a rare but serious illness. Keep up feeds and fluids and use saline drops for the nose; honey "
             "is fine once your child is over 1."),
    Scenario("honey over one",
             ["My 3 year old has had a cough with a cold for a few days.",
              "my 4 year old daughter has a cold and a tickly cough at night"],
             "Coughs with colds usually get better on their own within one to three weeks. Offer plenty of fluids, let "
             "your child rest, and see a doctor if the cough lasts more than three weeks, your child struggles to "
             "breathe, or seems very unwell.",
             ["Can I give honey and lemon for the cough?",
              "would a spoon of honey help?",
              "Is honey in warm water a good natural remedy for the cough?"],
             "Yes, at this age a little honey, for example in warm water with lemon, can soothe a cough; it is only "
             "unsafe for babies under 1. Many over-the-counter cough and cold medicines are not recommended for young "
             "children, so ask a pharmacist before using one."),
    Scenario("kidney disease painkiller",
             ["I have chronic kidney disease, stage 3.",
              "I was told my kidneys are only working at about half, it's CKD"],
             "With chronic kidney disease, controlling blood pressure and blood sugar, not smoking, and regular "
             "check-ups help protect your kidneys. Many medicines need a different dose or are best avoided with "
             "reduced kidney function, so check with a pharmacist before taking anything new.",
             ["My knee is killing me, can I take ibuprofen?",
              "what about naproxen for my back pain?",
              "What painkiller is safe for my headache?"],
             "With your kidney disease, avoid ibuprofen, naproxen and other anti-inflammatory painkillers unless your "
             "kidney doctor says otherwise: they can reduce kidney function further. Paracetamol (acetaminophen) used "
             "as the label says is usually the safer choice. Ask your doctor or pharmacist about longer-term pain "
             "relief."),
    Scenario("kidney disease salt substitute",
             ["My mum has kidney disease and her doctor told her to cut down on salt.",
              "my mother has CKD and needs a low-salt diet"],
             "Cutting down on salt helps control blood pressure and protects the kidneys. Cooking from fresh, using "
             "herbs, spices, lemon and garlic for flavour, and checking labels for salt in bread, sauces, ready meals "
             "and processed meat all help.",
             ["Can she use a low-sodium salt substitute instead?",
              "are those lo-salt products ok for her?",
              "Would potassium salt be a good swap for her?"],
             "Check with her kidney team first: most salt substitutes replace sodium with potassium, and with kidney "
             "disease potassium can build up in the blood to dangerous levels. Herbs and spices are a safer way to add "
             "flavour."),
    Scenario("sertraline st john's wort",
             ["I've been on sertraline for depression for 3 months.",
              "I take sertraline every day for anxiety and depression"],
             "It is good that you have stayed on it: antidepressants usually take several weeks to work fully, and "
             "doctors usually suggest continuing for a while after you feel better. Tell your doctor about side "
             "effects or if your mood is not improving.",
             ["I read St John's wort is good for mood, can I add it?",
              "would taking St John's wort as well give me a boost?",
              "Is there any herbal supplement I should avoid?"],
             "With sertraline, avoid St John's wort: taking the two together can cause serotonin syndrome, a "
             "potentially serious reaction with agitation, shaking, sweating and a fast heartbeat. Check any other "
             "herbal remedy with a pharmacist first too. If you feel your treatment is not working well enough, talk"
             " to your doctor about changing it."),
    Scenario("lithium anti-inflammatory",
             ["I take lithium for bipolar disorder.",
              "I'm on lithium, have been for years"],
             "Lithium needs regular blood tests to keep the level in a safe range. Drink enough fluids, especially in "
             "hot weather or when you are ill, and report signs of a high level such as shaking, sickness, diarrhoea, "
             "unsteadiness or confusion to your doctor straight away.",
             ["I've got period pain, is it ok to take ibuprofen?",
              "can I take naproxen for a sore shoulder?",
              "Which painkiller is best for a headache?"],
             "With lithium, ibuprofen, naproxen and other anti-inflammatory painkillers can raise your lithium level "
             "and cause toxicity, so avoid them unless your doctor agrees and arranges monitoring. Paracetamol "
             "(acetaminophen) used as the label says is usually the safer choice; ask your pharmacist if unsure."),
    Scenario("simvastatin grapefruit",
             ["I've just been started on simvastatin for high cholesterol.",
              "my doctor prescribed simvastatin yesterday"],
             "Take it as prescribed, usually in the evening for simvastatin, and keep up a healthy diet and exercise. "
             "Tell your doctor if you get unexplained muscle pain, tenderness or weakness.",
             ["I drink grapefruit juice every morning, is that a problem?",
              "is grapefruit ok to eat with it?",
              "Any foods I should avoid?"],
             "With simvastatin, avoid grapefruit and grapefruit juice: they can raise the level of simvastatin in "
             "your blood and increase the risk of side effects such as muscle damage. Ask your pharmacist if you "
             "want to keep grapefruit in your diet; some other statins are less affected."),
    Scenario("levothyroxine absorption",
             ["I take levothyroxine for an underactive thyroid.",
              "I'm on levothyroxine since my thyroid test came back low"],
             "Take levothyroxine at the same time each day, usually in the morning on an empty stomach with water, and "
             "have the blood tests your doctor arranges to check the dose.",
             ["I also take calcium and iron tablets, can I take them all together with breakfast?",
              "is it ok to take my iron supplement at the same time?",
              "Can I take my calcium tablet with it in the morning?"],
             "Better not: calcium and iron reduce how much levothyroxine your body absorbs. Take levothyroxine on an "
             "empty stomach and calcium or iron several hours apart from it; your pharmacist can tell you the best "
             "timing for your routine."),
    Scenario("methotrexate trimethoprim",
             ["I take methotrexate once a week for rheumatoid arthritis.",
              "I'm on weekly methotrexate for my arthritis"],
             "Methotrexate is taken once a week, on the same day each week, usually with a folic acid supplement as "
             "prescribed. You will need regular blood tests, and you should report a sore throat, fever, mouth ulcers, "
             "unusual bruising or breathlessness to your doctor promptly.",
             ["The walk-in clinic just gave me trimethoprim for a urine infection, is that ok?",
              "can I take trimethoprim with it?",
              "The pharmacist gave me trimethoprim for cystitis, can I start it today?"],
             "Check before taking it: trimethoprim together with methotrexate can seriously increase methotrexate's "
             "side effects, including dangerous effects on the blood. Contact the prescriber or a pharmacist today and "
             "tell them you take methotrexate, so they can choose a different antibiotic."),
    Scenario("combined pill and rifampicin",
             ["I'm on the combined contraceptive pill.",
              "I take the combined pill for contraception"],
             "The combined pill is very effective when taken correctly. Take it as the leaflet says, and check with a "
             "pharmacist whenever you start another medicine, as some can make it less effective.",
             ["I've been prescribed rifampicin, do I need to do anything?",
              "will rifampicin affect it?",
              "I'm starting a course of rifampicin tomorrow, will I still be protected?"],
             "Rifampicin makes the combined pill much less effective, so it will not reliably prevent pregnancy "
             "while you take rifampicin and for some weeks afterwards. Use condoms as well, or talk to your doctor "
             "about switching to a method that rifampicin does not affect, such as a copper IUD or the injection."),
    Scenario("type 1 diabetes sick day",
             ["My 12 year old has type 1 diabetes.",
              "our daughter was diagnosed with type 1 diabetes this year"],
             "Managing type 1 diabetes involves insulin every day, regular blood sugar checks, a plan for school and "
             "sport, and always carrying fast-acting sugar for low blood sugar. Her diabetes team can give you a "
             "written plan for illness and other situations.",
             ["She has a tummy bug and isn't eating, should I skip her insulin today?",
              "she's been sick and won't eat, can she miss her insulin?",
              "She's got a bad stomach bug, do I still give her usual insulin?"],
             "Keep giving her insulin: with type 1 diabetes, never stop her background (long-acting) insulin, even "
             "when she is not eating, because illness can push blood sugar up and cause ketones. Check her blood "
             "sugar and ketones more often, offer sugary fluids if she cannot eat, follow her sick-day plan, and "
             "call her diabetes team for advice. If she keeps vomiting, has high ketones, tummy pain, fast breathing"
             " or is drowsy, go to the nearest emergency department now."),
    Scenario("chemotherapy fever",
             ["My wife is having chemotherapy for breast cancer.",
              "my husband started chemo for lymphoma two weeks ago"],
             "Chemotherapy lowers the body's defence against infection. Good hand washing, avoiding people who are "
             "unwell and food safety help. The cancer team will have given you an emergency contact for problems, so "
             "keep it somewhere easy to find.",
             ["There's a temperature of 38.1 now and shivering. Can it wait till the appointment on Monday?",
              "temperature is up and there's shaking and chills, should we wait and see?",
              "Now there's a fever and feeling awful, is paracetamol and rest enough?"],
             "This cannot wait: call the cancer team's emergency contact now, or if you cannot reach them, call "
             f"{EMERGENCY} or go to the nearest emergency department. During chemotherapy a fever or shivering can be "
             "a sign of a serious infection (neutropenic sepsis) that needs antibiotics within hours. Say that the "
             "person is having chemotherapy.",
             urgent=True),
    Scenario("after hip replacement",
             ["I had a hip replacement two weeks ago.",
              "I'm recovering from hip replacement surgery, about 2 weeks out"],
             "Recovery is going as planned if you are walking a little more each day. Keep doing the exercises from "
             "your physiotherapist, take any clot-prevention medicine exactly as prescribed, and follow the "
             "precautions you were given about bending and crossing your legs.",
             ["My calf on that side is now swollen and painful and I feel short of breath.",
              "now my leg is red and swollen and I'm a bit breathless, what should I do?",
              "My calf on the operated side is suddenly swollen and hurts and my chest feels tight when I breathe."],
             f"{CALL} After hip surgery, a swollen, painful calf can be a blood clot, and breathlessness can mean a "
             "clot has moved to the lung, which is an emergency. While you wait, sit upright and stay still.",
             urgent=True),
    Scenario("older adult sleep aid",
             ["My grandma is 84 and has trouble sleeping.",
              "my 86 year old mum wakes up a lot at night"],
             "Sleep often gets lighter with age. A regular routine, daylight and activity during the day, limiting "
             "daytime naps, caffeine and evening drinks, and a comfortable bedroom can help. A doctor can check for "
             "causes such as pain, needing to pass urine at night, low mood or medicines.",
             ["Can she take one of those sleep aids from the pharmacy, like diphenhydramine?",
              "what about an antihistamine sleeping tablet?",
              "Would Nytol be a good idea for her?"],
             "At her age, sedating antihistamines such as diphenhydramine, found in many sleep aids, are generally "
             "best avoided: in older people they can cause confusion, falls, constipation and difficulty passing "
             "urine. Talk to her doctor about her sleep before trying any sleep medicine."),
    Scenario("cow's milk under one",
             ["My son is 10 months old and eats three meals a day.",
              "our 10 month old is doing really well with solid food"],
             "That is great progress. Offer a variety of foods, including iron-rich foods such as meat, beans, lentils "
             "and fortified cereals, plus soft finger foods. Breast milk or formula is still an important part of his "
             "diet.",
             ["Can I switch his bottles to cow's milk now?",
              "is it ok to give him cow's milk as his main drink?",
              "Can I stop formula and give him whole milk instead?"],
             "Not yet at 10 months: cow's milk should not be the main drink until 12 months, because it does not have "
             "enough iron and other nutrients for babies. You can use it in cooking or on cereal now, and keep breast "
             "milk or formula as his main milk until his first birthday."),
    Scenario("blood pressure decongestant",
             ["I have high blood pressure and take amlodipine.",
              "I'm on tablets for high blood pressure"],
             "Taking your tablets every day, checking your blood pressure as advised, cutting down on salt and "
             "alcohol, staying active and not smoking all help keep blood pressure under control.",
             ["I've got a blocked nose from a cold, can I take a decongestant?",
              "is pseudoephedrine ok for my sinuses?",
              "Which cold and flu tablets are safe for me?"],
             "With high blood pressure, decongestants such as pseudoephedrine and phenylephrine, which many cold and"
             " flu tablets contain, can raise your blood pressure, so ask a pharmacist before using one. Saline nose"
             " sprays, steam and rest are safe options."),
    Scenario("pregnancy bleeding",
             ["I'm 30 weeks pregnant with my first baby. What should I pack in my hospital bag?",
              "32 weeks pregnant, what do I need for the hospital bag?"],
             "Useful things include your pregnancy notes, comfortable clothes, a dressing gown and slippers, "
             "maternity pads, snacks and drinks, a phone charger, and for the baby, vests, sleepsuits, nappies and a"
             " car seat for the journey home.",
             ["I've just started bleeding quite heavily and have pain. What should I do?",
              "there's bright red blood now and cramping, should I wait?",
              "I'm bleeding now and it's soaking a pad, do I wait for my midwife appointment tomorrow?"],
             f"{CALL} Heavy bleeding or bleeding with pain in pregnancy needs emergency care for you and your baby. "
             "While you wait, lie on your left side and keep any pads to show the staff.",
             urgent=True),
    Scenario("epilepsy long seizure",
             ["My teenager has epilepsy and takes medicine for it.",
              "my son has epilepsy and has a seizure plan from his neurologist"],
             "Take the medicine every day at the same times, keep to regular sleep, and make sure school and friends "
             "know what to do in a seizure. Your child's seizure plan says when to give any rescue medicine.",
             ["He's been fitting for about 6 minutes now and it isn't stopping.",
              "seizure has lasted more than 5 minutes, what do I do?",
              "He's having a seizure and it's gone on for more than five minutes, should I wait?"],
             f"{CALL} A seizure lasting more than five minutes is an emergency. While you wait, give any rescue "
             "medicine as his seizure plan says, move hard objects away, cushion his head, and turn him on his side "
             "when the jerking stops.",
             urgent=True),
    Scenario("angina spray and erection medicine",
             ["I use a GTN spray for angina.",
              "I have angina and carry a nitroglycerin spray"],
             "Use the spray as your doctor showed you when you have angina pain, sitting down first. If the pain does "
             f"not settle after the doses your plan allows, call {EMERGENCY}.",
             ["Can I take Viagra?",
              "is sildenafil safe for me?",
              "Can I use erection tablets I bought online?"],
             "Not together with your GTN spray: sildenafil and similar erection medicines combined with nitrates can "
             "cause a dangerous drop in blood pressure. Talk to your doctor, who can discuss other options that are "
             "safe with your heart condition, and avoid unregulated online sellers."),
]

CASUAL_SHARE = 0.3


def context_examples(seed: int = 1234) -> list[dict]:
    """Two-turn conversations: every opener of a scenario with every follow-up; the same seed gives the same list."""
    rows = []
    for item in SCENARIOS:
        rng = random.Random(f"{seed}/context/{item.topic}")
        for i, opener in enumerate(item.openers):
            for j, follow in enumerate(item.follow_ups):
                if rng.random() < CASUAL_SHARE:
                    follow = casual(follow)
                rows.append({"id": f"context/{item.topic}/{i}/{j}".replace(" ", "_").replace("'", ""),
                             "turns": [(opener, item.first_answer), (follow, item.answer)],
                             "topic": item.topic, "urgent": item.urgent})
    return rows
