"""Helpful answers to benign questions that sound sensitive, written for this project.

Medicine limits, overdose signs and what a bystander does, naloxone, contraception, STIs, alcohol
and medicines, helping a friend with suicidal thoughts, self-harm wound care, withdrawal, eating
disorders, harm reduction: people ask these for good reasons, and a model that refuses them is
unhelpful and can be unsafe. MedSafetyBench teaches refusal of clearly harmful requests; these
teach that everything else gets a real answer.

The answers give general facts and point to the label, a pharmacist or a doctor for amounts: they
never state a dose of a prescription medicine, never name a phone number, web address or source.
Deterministic: the same seed gives the same examples.
"""

from __future__ import annotations

import random
from typing import NamedTuple

from .phrasing import casual

EMERGENCY = "your local emergency number (for example 911 in the US or 112 in Europe)"


class Sensitive(NamedTuple):
    topic: str
    answer: str
    phrasings: list[str]


TOPICS = [
    Sensitive("paracetamol limits",
              "The safe maximum amount of paracetamol (acetaminophen) depends on age, body weight and health, so "
              "follow the dose and the minimum gap between doses printed on the packet, and ask a pharmacist if you "
              "are unsure. A few things matter for safety. Many cold and flu remedies and some prescription "
              "painkillers also contain paracetamol, so check the labels and do not take two products containing it "
              "at the same time. The safe limit may be lower if you have liver disease, drink alcohol regularly, "
              "weigh very little or are not eating well. If you need painkillers for more than a few days, see a "
              "doctor or pharmacist. Taking more than the label allows can cause serious liver damage that may not "
              f"cause symptoms for a day or more, so if someone has taken too much, call {EMERGENCY} or a poison "
              "control centre straight away, even if they feel well.",
              ["What's the maximum amount of paracetamol I can take in a day?",
               "how many tylenol can i safely take in 24 hours",
               "How long do I need to wait between doses of acetaminophen?",
               "Can I take a cold and flu drink while I'm also taking paracetamol tablets?",
               "What happens if you take too much paracetamol?"]),
    Sensitive("ibuprofen safety",
              "Follow the dose and the gap between doses on the ibuprofen label, use the lowest dose that works for "
              "the shortest time, and take it with food or milk to protect your stomach. Ibuprofen and similar "
              "anti-inflammatory painkillers are not suitable for everyone: check with a doctor or pharmacist first "
              "if you have had a stomach ulcer or bleeding, have kidney disease, heart failure or high blood "
              "pressure, take a blood thinner, have asthma that gets worse with these painkillers, or are pregnant "
              "(they are generally avoided, especially in later pregnancy, unless a doctor advises them). Daily use "
              "for more than a week or two should be discussed with a doctor. Black, tarry stools or vomiting blood "
              "while taking them need emergency care.",
              ["How much ibuprofen is too much?",
               "Can I take ibuprofen on an empty stomach?",
               "who shouldnt take ibuprofen",
               "is it safe to take advil every day for my knee",
               "I had a stomach ulcer years ago, is ibuprofen ok for me?"]),
    Sensitive("combining painkillers",
              "For most adults, paracetamol (acetaminophen) and ibuprofen can be taken together or alternated, because "
              "they work in different ways, as long as each one stays within its own label limits and minimum gap "
              "between doses; writing down the times helps avoid mistakes. For children with a fever, it is usually "
              "best to start with one medicine and only alternate the two if a doctor or pharmacist advises it, using "
              "the children's products and the measuring device that comes with them. Check that no other medicine you "
              "take contains the same ingredient, and ask a pharmacist if you have a long-term condition.",
              ["Can I take paracetamol and ibuprofen together?",
               "is it ok to alternate tylenol and motrin for my kid's fever",
               "can I take ibuprofen 2 hours after paracetamol"]),
    Sensitive("sleeping tablets from the pharmacy",
              "Sleep aids sold in pharmacies are usually sedating antihistamines. They can help for a night or two "
              "but often cause next-day grogginess, and their effect fades when used every night. In older people "
              "they can cause confusion, falls, constipation and difficulty passing urine, so they are generally not"
              " recommended for them. Do not combine them with alcohol or other sedating medicines, and do not drive"
              " if you feel drowsy. For sleep problems that last more than a few weeks, see a doctor: talking "
              "treatments for insomnia work well and last longer than tablets.",
              ["Is it safe to use antihistamine sleeping pills every night?",
               "can my 80 year old mum take diphenhydramine to help her sleep",
               "does benadryl actually help you sleep"]),
    Sensitive("alcohol and medicines",
              "It depends on the medicine, so check the leaflet or ask a pharmacist. With most common antibiotics, a"
              " moderate amount of alcohol is not dangerous, but with metronidazole and tinidazole it can cause "
              "severe sickness, flushing and a racing heart, so avoid alcohol during the course and for as long "
              "afterwards as the leaflet says. Alcohol together with opioid painkillers, sleeping tablets, "
              "benzodiazepines or sedating antihistamines is dangerous, because together they can slow breathing. "
              "Regular heavy drinking makes paracetamol harder on the liver, and alcohol can worsen low mood and "
              "drowsiness with antidepressants.",
              ["Can I drink alcohol while taking antibiotics?",
               "is it ok to have a beer with my painkillers",
               "is drinking on antidepressants dangerous",
               "can I have a glass of wine with my sleeping pills"]),
    Sensitive("opioid overdose signs",
              "Signs of an opioid overdose are very small (pinpoint) pupils, slow, shallow or noisy snoring-like "
              "breathing, blue or grey lips and fingertips, and being impossible to wake. What to do: call "
              f"{EMERGENCY} straight away; if naloxone is available, give it as the instructions say; put the person "
              "on their side so they do not choke; start rescue breaths or CPR if they stop breathing and you know "
              "how; and stay with them, because naloxone can wear off before the opioid does.",
              ["What are the signs of an opioid overdose?",
               "my friend uses heroin, how do I know if he's overdosing and what do I do",
               "what should you do if someone overdoses on painkillers",
               "how can I tell if someone is just very high or actually overdosing"]),
    Sensitive("naloxone",
              "Naloxone is a medicine that temporarily reverses an opioid overdose, for example from heroin, "
              "fentanyl, methadone or strong painkillers. It comes as a nasal spray or an injection that bystanders "
              "can give. In many countries it is available from pharmacies or community programmes, sometimes "
              "without a prescription; the rules differ, so ask a pharmacist or a local drug service. It does not "
              "harm someone who has no opioids in their body, but it can bring on sudden withdrawal in someone who "
              f"uses opioids. Its effect can wear off before the opioid's does, so always call {EMERGENCY} and stay "
              "with the person; a second dose may be needed as the instructions describe.",
              ["What is naloxone and where can I get it?",
               "do i need a prescription for narcan",
               "how does naloxone nasal spray work",
               "can naloxone hurt someone if they didn't take opioids?"]),
    Sensitive("alcohol poisoning signs",
              "Signs of alcohol poisoning are confusion, vomiting, being very hard or impossible to wake, slow or "
              "irregular breathing, seizures, and pale, bluish or cold skin. Letting someone 'sleep it off' is not "
              "safe if they show any of these signs, because alcohol in the blood can keep rising after the last "
              f"drink and they can choke on vomit. Call {EMERGENCY}, lay them on their side, keep them warm and stay "
              "with them. Coffee, cold showers or walking it off do not help.",
              ["How can you tell if someone has alcohol poisoning?",
               "my friends always say let drunk people sleep it off, is that safe?",
               "what should I do if my friend has drunk way too much"]),
    Sensitive("emergency contraception",
              "Emergency contraception can prevent pregnancy after unprotected sex or when contraception has failed."
              " There are three options: a copper IUD fitted within five days, which is the most effective; a "
              "levonorgestrel pill, which works best as soon as possible and up to three days (72 hours) after sex; "
              "and an ulipristal acetate pill, which can be taken up to five days (120 hours) after sex. The sooner,"
              " the better. The pills are available from pharmacies, sexual health clinics and doctors in many "
              "countries. They work mainly by delaying ovulation and do not end an existing pregnancy. They may be "
              "less effective with a higher body weight or with some other medicines, so tell the pharmacist about "
              "both. Take a pregnancy test if your next period is more than a week late or unusually light, and "
              "consider an STI test if the sex was with a new partner.",
              ["How does the morning-after pill work?",
               "Is it too late to take emergency contraception 3 days after sex?",
               "where can i get plan b",
               "does the morning after pill cause an abortion",
               "the condom broke last night, what are my options?"]),
    Sensitive("contraception options",
              "The most effective methods are the long-acting ones: the implant, the hormonal IUD (coil) and the "
              "copper IUD, which work for years and do not depend on remembering anything. The injection, the pill, "
              "the patch and the vaginal ring also work well when used exactly as directed. Condoms are the only "
              "method that also protects against sexually transmitted infections, so many people use them together "
              "with another method. Methods based on tracking your cycle are less reliable. A doctor, nurse or "
              "sexual health clinic can help you choose, and in many countries young people can get confidential "
              "contraception advice.",
              ["What kinds of birth control are there?",
               "which contraception is the most effective",
               "can I get birth control without my parents knowing",
               "Which contraceptive methods protect against STIs?"]),
    Sensitive("missed pill",
              "What to do after a missed pill depends on the type of pill, how many pills were missed and where you "
              "are in the pack, so follow the leaflet that came with it. In general, take the missed pill as soon as"
              " you remember, even if that means two pills in one day, and carry on with the pack. You may need "
              "condoms for a few days, and if you had unprotected sex after missing pills, emergency contraception "
              "may be needed. A pharmacist or sexual health clinic can tell you exactly what applies to your pill.",
              ["I missed my birth control pill yesterday, what do I do?",
               "forgot two pills this week, am I still protected",
               "I took my mini pill 5 hours late, is that a problem?"]),
    Sensitive("sti testing",
              "Many sexually transmitted infections cause no symptoms, so testing is the only way to know. Sexual "
              "health clinics, doctors and in some places home testing kits offer testing, and clinics are used to "
              "these questions and keep them confidential. Tests are usually a urine sample, a swab or a blood test."
              " Some infections only show up on tests a while after exposure, so the clinic may suggest testing now "
              "and again later. Get tested after sex with a new partner without a condom, if a partner has an "
              "infection, or if you notice unusual discharge, sores, pain when passing urine or bleeding after sex.",
              ["How do I get tested for STDs?",
               "i had unprotected sex with someone new, when should i get tested",
               "can you have an STI without any symptoms",
               "what happens at a sexual health clinic? I'm nervous"]),
    Sensitive("sti treatment",
              "Chlamydia, gonorrhoea, syphilis and trichomoniasis can be cured with the right antibiotics or other "
              "medicines prescribed after a test. Herpes and HIV cannot be cured but are well controlled with "
              "treatment, and people with HIV on effective treatment can live long lives and do not pass the virus on "
              "through sex. Untreated infections can lead to pelvic infection, fertility problems and other "
              "complications, so it is worth getting treated. Avoid sex until you and your partner have finished "
              "treatment, and tell recent partners so they can be tested; clinics can help with this, sometimes "
              "anonymously.",
              ["Can chlamydia be cured?",
               "what happens if gonorrhoea isn't treated",
               "i tested positive for chlamydia, do i have to tell my partner",
               "is herpes curable"]),
    Sensitive("hiv pep and prep",
              "PEP (post-exposure prophylaxis) is a course of HIV medicines that can prevent infection after a "
              "possible exposure. It works best the sooner it is started and must be started within 72 hours, so go "
              "to a sexual health clinic or an emergency department as soon as possible and say you need PEP. PrEP "
              "(pre-exposure prophylaxis) is medicine taken before possible exposure by people at ongoing risk, and "
              "it is very effective when taken as prescribed. A doctor or sexual health clinic can tell you whether "
              "PrEP suits you and arrange the tests it needs.",
              ["What is PEP and how soon do I need it?",
               "what's PrEP and who should take it",
               "I think I was exposed to HIV last night, is there anything I can do?"]),
    Sensitive("helping a suicidal friend",
              "Warning signs include talking about wanting to die or being a burden, looking for ways to hurt "
              "themselves, withdrawing from people, giving belongings away, saying goodbye, and sudden calm after a "
              "very low time. It is OK to ask directly, 'Are you thinking about suicide?': asking does not put the "
              "idea in their head, and it often brings relief. Listen without judging or arguing, take what they say"
              " seriously, and do not promise to keep it secret. Help them contact a doctor, a mental health service"
              " or a crisis line, and offer to be with them while they do. If you can, help remove or lock away "
              f"things they could use to hurt themselves. If they are in immediate danger, call {EMERGENCY}. "
              "Supporting someone is hard, so look after yourself and talk to someone too.",
              ["How can I help a friend who says they want to die?",
               "what are the warning signs that someone is suicidal",
               "Is it ok to ask someone directly if they're thinking about suicide?",
               "my teenager keeps saying she's a burden to everyone, what should I do",
               "how do I talk to my dad about his depression, he said he doesn't see the point anymore"]),
    Sensitive("passive suicidal thoughts",
              "Thank you for saying this. Thoughts like these are more common than people think, they are a sign of "
              "how much you are carrying, and they can get better with support. Please tell someone you trust how "
              "you are feeling, and talk to a doctor or a mental health service soon; a crisis line is also there "
              "any time you want to talk to someone. If the thoughts get stronger, or you start making plans or feel"
              f" you might act on them, call {EMERGENCY} or go to the nearest emergency department straight away.",
              ["sometimes I think everyone would be better off without me, but I'm not going to do anything",
               "I keep having thoughts about not waking up, I don't have a plan, is that normal?",
               "how do I tell my doctor I've been having dark thoughts"]),
    Sensitive("self-harm wound care",
              "To look after a cut: press on it firmly with a clean cloth until it stops bleeding, rinse it under "
              "clean running water, and cover it with a clean non-stick dressing, changing it daily. Get medical "
              "help the same day if the wound is deep or gaping, the edges do not come together, you can see fat or "
              "anything yellow, there is numbness or difficulty moving the fingers, or it is on the face; and get "
              "emergency help if bleeding does not stop after 10 minutes of firm pressure. Watch for infection: "
              "spreading redness, swelling, heat, pus or a fever need a doctor. For burns, cool under running water "
              "for 20 minutes. You deserve care without judgement; if you can, talk to a doctor or someone you trust"
              " about what is going on, and if you feel unsafe, contact a crisis line or emergency services.",
              ["How do I take care of a cut from self-harm?",
               "how do i know if my self harm cut needs stitches",
               "how do I clean cuts so they don't get infected",
               "my daughter self-harms, how do I look after her wounds"]),
    Sensitive("eating disorder signs",
              "Signs of an eating disorder can include a strong focus on weight, shape or calories, skipping meals or "
              "eating very little, eating large amounts in secret, going to the bathroom straight after meals, "
              "exercising excessively, rapid weight changes, loose clothing to hide the body, dizziness, and missed "
              "periods. Someone can have an eating disorder at any weight. If you are worried about someone, choose a "
              "calm private moment, say what you have noticed and that you care, avoid comments about weight or food, "
              "and encourage them to see a doctor; early help makes recovery more likely. Fainting, chest pain or "
              "severe weakness need urgent medical care.",
              ["What are the signs of an eating disorder?",
               "I think my friend is making herself sick after meals",
               "how do I talk to my son about his eating, he has lost a lot of weight"]),
    Sensitive("stopping antidepressants",
              "Stopping an antidepressant suddenly can cause discontinuation symptoms such as dizziness, 'electric "
              "shock' feelings, irritability, trouble sleeping, flu-like feelings and anxiety, and it raises the risk "
              "of the depression coming back. Feeling better usually means the medicine is working. Talk to your "
              "prescriber before stopping: they can plan a gradual reduction over weeks or months that suits your "
              "medicine, and you can tell them about any side effects that made you want to stop.",
              ["What happens if I stop my antidepressants suddenly?",
               "can i just quit sertraline cold turkey",
               "I feel better now, can I stop my medication?"]),
    Sensitive("alcohol and sedative withdrawal",
              "If someone has been drinking heavily every day, or taking benzodiazepines such as diazepam for a long "
              "time, stopping suddenly can be dangerous: withdrawal can cause shaking, sweating, anxiety, trouble "
              "sleeping, seeing things that are not there and, in severe cases, seizures. A doctor or drug and alcohol "
              "service can help you stop safely, with a gradual reduction or medical support. Seizures, confusion or "
              "hallucinations during withdrawal need emergency care.",
              ["Is it dangerous to stop drinking suddenly?",
               "I've been taking diazepam for months, can I just stop?",
               "what are alcohol withdrawal symptoms",
               "my husband wants to quit drinking, he drinks every day, how should he do it"]),
    Sensitive("opioid withdrawal",
              "Opioid withdrawal often feels like a bad flu, with aches, sweating, a runny nose, diarrhoea, stomach "
              "cramps, anxiety and poor sleep. It is very unpleasant but rarely dangerous in itself. A doctor or drug "
              "service can help you reduce gradually or offer medicines that ease withdrawal and support recovery. One "
              "important risk: after a break, your tolerance drops, so taking the amount you used to take can cause an "
              "overdose. Never use alone, and keep naloxone nearby.",
              ["What does opioid withdrawal feel like?",
               "how can i get off painkillers i've been taking too long",
               "is it dangerous to use again after being clean for a few weeks"]),
    Sensitive("party drug harm reduction",
              "Not using is the safest choice, but if you do decide to take drugs, some things lower the risk: do "
              "not use alone, do not mix drugs with each other or with alcohol, start with a small amount and wait "
              "before taking more, and use a drug-checking service where one is available. With MDMA, take breaks "
              "from dancing to cool down and sip water regularly, but do not drink large amounts, which can also be "
              "dangerous. Some prescribed medicines, including many antidepressants, can interact badly with party "
              f"drugs. Overheating, confusion, seizures or collapse are emergencies: call {EMERGENCY} and tell the "
              "medics what was taken; they are there to help, not to judge.",
              ["How can I stay safer if I'm going to take MDMA at a festival?",
               "is it dangerous to mix drugs and alcohol",
               "what are the signs someone is overheating on drugs",
               "Is it dangerous to take ecstasy while on antidepressants?"]),
    Sensitive("poisoning first aid",
              "Do not make the person vomit. Take the product away, wipe or rinse any left in the mouth, and call a "
              f"poison control centre or {EMERGENCY} for advice, with the container in hand so you can say what it is"
              " and how much may have been taken. If a chemical gets in the eye, rinse it with clean running water "
              "for at least 15 minutes; on the skin, remove contaminated clothing and rinse the skin well. If the "
              "person is drowsy, has trouble breathing or has a seizure, call the emergency number straight away.",
              ["What should I do if my child swallows something poisonous?",
               "what to do if you get bleach in your eye",
               "someone drank a chemical by mistake, should I make them throw up?"]),
    Sensitive("medicine storage and disposal",
              "Keep medicines in their original packaging, up high and out of sight and reach of children, ideally "
              "in a locked cupboard, and put them away straight after use; child-resistant caps slow children down "
              "but do not stop them. Be careful with handbags and visitors' bags, which often contain medicines. To "
              "get rid of old or unused medicines, take them back to a pharmacy or a take-back scheme rather than "
              "putting them in the bin or down the toilet.",
              ["How should I store medicines with kids in the house?",
               "how do i get rid of old pills safely",
               "what's the safest way to keep my opioid painkillers at home"]),
    Sensitive("missed or double dose",
              "Do not take a double dose to make up for a missed one unless the leaflet says so; usually you take "
              "the missed dose when you remember, or skip it if it is nearly time for the next one. If you took an "
              "extra dose by mistake, for many medicines a single extra dose is not dangerous, but it depends on the"
              " medicine, so ask a pharmacist, a doctor or a poison control centre for advice. Get emergency help if"
              " you feel faint, very drowsy, have chest pain or trouble breathing.",
              ["I forgot my tablet this morning, should I take two tonight?",
               "I accidentally took my blood pressure pill twice today, what should I do?",
               "what if I miss a dose of my antibiotics"]),
    Sensitive("painkillers on blood thinners",
              "If you take a blood thinner (anticoagulant) such as warfarin, apixaban or rivaroxaban, paracetamol "
              "(acetaminophen) used as the label says is usually the preferred painkiller. Anti-inflammatory "
              "painkillers such as ibuprofen and naproxen, and aspirin unless it was prescribed for you, increase "
              "the risk of bleeding and are generally avoided. Some herbal remedies and supplements also affect "
              "blood thinners. Ask your pharmacist before taking anything new, and tell every doctor and dentist "
              "that you take a blood thinner.",
              ["What painkiller can I take if I'm on warfarin?",
               "can I take aspirin with apixaban",
               "is it safe to take ibuprofen with my blood thinner"]),
    Sensitive("after sexual assault",
              "What happened is not your fault, and help is available whatever you decide to do next. If you are "
              f"hurt or in danger, call {EMERGENCY}. Otherwise, try to get medical care soon: a doctor, an emergency "
              "department, a sexual health clinic or a specialist sexual assault service can treat injuries, offer "
              "emergency contraception, medicine to prevent HIV (which works best within 72 hours) and STI tests. If"
              " you might want to report it, now or later, specialist services can collect evidence; it helps not to"
              " wash or change clothes first, but you can get care even if you already have. Talking to a trained "
              "support worker or someone you trust can help too.",
              ["What should I do after being sexually assaulted?",
               "my friend was raped last night, how can I help her",
               "can I get emergency contraception after an assault"]),
    Sensitive("erectile dysfunction",
              "Erection problems are common and often treatable. Causes include stress, anxiety, tiredness, alcohol,"
              " smoking, some medicines, diabetes, and narrowed blood vessels; because they can be an early sign of "
              "heart disease, it is worth seeing a doctor, who can check your blood pressure, blood sugar and "
              "cholesterol and discuss treatments. Medicines for erections are not safe for everyone, for example "
              "people taking nitrate heart medicines, so use them only after a doctor or pharmacist has checked they"
              " suit you, and avoid unregulated online sellers, whose products may be fake or contain other drugs.",
              ["Is it safe to buy Viagra online?",
               "what causes erectile dysfunction in your 40s",
               "can ED be a sign of heart disease"]),
    Sensitive("vaginal discharge",
              "Thick white discharge with itching is often thrush (a yeast infection); a thin grey discharge with a "
              "fishy smell is often bacterial vaginosis. Neither is a sexually transmitted infection, and both are "
              "treatable; a pharmacist can advise on treatments for thrush. See a doctor or sexual health clinic if "
              "it is the first time, if you are pregnant, if it keeps coming back, if treatment does not work, or if"
              " there is pain, bleeding, sores, a fever, or a chance of an STI.",
              ["I have itchy thick white discharge, is it thrush?",
               "fishy smell down there, is it an STI?",
               "how do I know if it's thrush or something else"]),
    Sensitive("quitting smoking",
              "Stopping smoking is one of the best things you can do for your health. Nicotine replacement (patches,"
              " gum, lozenges, sprays), prescription medicines from a doctor and support from a stop-smoking service"
              " each raise your chances, and combining them works best. Vaping is much less harmful than smoking and"
              " helps some people quit, but it is not harmless and is not for non-smokers. Nicotine withdrawal, with"
              " cravings, irritability and poor sleep, is strongest in the first weeks and then eases.",
              ["Does vaping help you quit smoking?",
               "what helps with nicotine withdrawal",
               "what's the best way to stop smoking"]),
    Sensitive("anabolic steroids",
              "Using anabolic steroids without medical supervision can cause acne, high blood pressure, heart and "
              "liver damage, mood changes including aggression and depression, shrinking testicles and reduced "
              "fertility in men, and masculinising effects in women. Products bought online or at gyms may be fake "
              "or contaminated, and shared needles spread infections. If you use them, tell a doctor so they can "
              "check your blood pressure, heart and blood tests; some services offer confidential support without "
              "judgement.",
              ["What are the risks of taking steroids for bodybuilding?",
               "my son is using steroids from the gym, how dangerous is it"]),
    Sensitive("depression signs",
              "Sadness after a loss or a hard time is normal and usually eases. Depression is more likely when a low "
              "mood or loss of interest lasts most of the day, most days, for two weeks or more, often with changes in "
              "sleep or appetite, tiredness, trouble concentrating, feeling worthless or guilty, or thoughts of death. "
              "Depression is common and treatable with talking therapies, medicines or both, so see a doctor if this "
              "sounds familiar. If you have thoughts of harming yourself, contact a crisis line or emergency services "
              "straight away.",
              ["How do I know if I'm depressed or just sad?",
               "what are the symptoms of depression",
               "could my mum be depressed? she's stopped doing things she loves"]),
]

# Each phrasing is asked plainly once and once after one of these lead-ins.
LEAD_INS = ["Quick question: ", "Asking for a friend: ", "Sorry if this is a weird question, but ", "Hi, ",
            "Honest question: "]
CASUAL_SHARE = 0.3


def _ask(phrasing: str, lead_in: str) -> str:
    """Lay phrasings keep their own punctuation (or none), as people type them."""
    if not lead_in:
        return phrasing[0].upper() + phrasing[1:]
    return lead_in + (phrasing if phrasing.startswith("I ") else phrasing[0].lower() + phrasing[1:])


def sensitive_examples(seed: int = 1234) -> list[dict]:
    """(question, answer, topic) examples; the same seed gives the same list."""
    rows = []
    for item in TOPICS:
        rng = random.Random(f"{seed}/sensitive/{item.topic}")
        for i, phrasing in enumerate(item.phrasings):
            for v, lead_in in enumerate(["", rng.choice(LEAD_INS)]):
                question = _ask(phrasing, lead_in)
                if rng.random() < CASUAL_SHARE:
                    question = casual(question)
                rows.append({"id": f"sensitive/{item.topic}/{i}/{v}".replace(" ", "_"), "question": question,
                             "answer": item.answer, "topic": item.topic})
    return rows
