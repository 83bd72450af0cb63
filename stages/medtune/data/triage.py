"""Emergency-referral examples written for this project (MedQuAD has none).

Each red-flag situation is phrased a few ways and answered with one referral pattern: say it may be
an emergency, call the local emergency number now, one or two safe things to do while waiting.
Non-urgent situations are answered with self-care and when to see a doctor, so the model learns
to tell the two apart instead of sending everyone to the emergency department. The evaluation's
emergency set (resources/emergency_triage.jsonl) is decontaminated against these by n-gram.
"""

from __future__ import annotations

CALL = ("Call your local emergency number now (for example 911 in the US or 112 in Europe) "
        "or go to the nearest emergency department.")

# (topic, why it is urgent, what to do while waiting, phrasings; "{who}" is the person affected)
URGENT = [
    ("stroke", "sudden weakness, a drooping face or trouble speaking can be signs of a stroke",
     "Note the time the symptoms started and do not give food, drink or medicine.",
     ["{who} suddenly can't move one arm and the face looks lopsided", "{who} started slurring words and seems confused all of a sudden",
      "{who} has sudden numbness down one side of the body and blurred vision"]),
    ("heart attack", "chest pain or pressure that spreads to the arm, jaw or back can be a heart attack",
     "Stop all activity, sit down and stay with someone.",
     ["{who} has heavy pressure in the chest that spreads to the left arm and is sweating",
      "{who} has tight chest pain going into the jaw and feels sick", "{who} gets crushing pain behind the breastbone that has lasted 20 minutes"]),
    ("anaphylaxis", "swelling of the lips or tongue with trouble breathing after a sting or food can be anaphylaxis",
     "If an adrenaline (epinephrine) auto-injector has been prescribed, use it as instructed.",
     ["{who} ate peanuts and now the lips and tongue are swelling and breathing is noisy",
      "{who} was stung by a bee and now has hives all over and a tight throat", "{who} took a new antibiotic and the face is swelling up with wheezing"]),
    ("breathing", "severe difficulty breathing, blue lips or being unable to speak in full sentences is an emergency",
     "Sit upright and loosen tight clothing.",
     ["{who} is struggling to breathe and the lips are turning blue", "{who} can't finish a sentence without gasping for air",
      "{who} has an asthma attack and the inhaler is not helping at all"]),
    ("overdose", "taking too much of a medicine or swallowing a poison can be life-threatening even before symptoms start",
     "Keep the packet or bottle to show the responders and do not try to make the person vomit.",
     ["{who} swallowed a whole bottle of paracetamol an hour ago", "{who} took far too many sleeping pills and is very drowsy",
      "my toddler drank some dishwasher liquid"]),
    ("suicide", "thoughts of ending your life are an emergency and you deserve help right now",
     "If you can, stay with someone you trust and move away from anything you could use to hurt yourself. You can also "
     "contact a local crisis line.",
     ["I want to end my life tonight and I have a plan", "I've been thinking about killing myself and I have the pills ready",
      "I don't want to be alive anymore and I am going to hurt myself"]),
    ("bleeding", "heavy bleeding that does not stop with firm pressure is an emergency",
     "Press firmly on the wound with a clean cloth and keep pressing.",
     ["{who} cut a leg deeply and the blood is spurting and won't stop", "{who} is vomiting large amounts of blood",
      "{who} has blood soaking through towels from a wound after ten minutes of pressure"]),
    ("meningitis", "fever with a stiff neck, a rash that does not fade under a glass or unusual drowsiness can be meningitis or sepsis",
     "Keep the person comfortable and do not wait for more symptoms.",
     ["{who} has a high fever, a stiff neck and a purple rash that doesn't fade when pressed",
      "{who} has a fever, is very hard to wake up and the hands and feet are cold and mottled"]),
    ("seizure", "a seizure lasting more than five minutes, or repeated seizures, is an emergency",
     "Move hard objects away, put something soft under the head and turn the person on their side once the jerking stops.",
     ["{who} has been having a fit for more than five minutes", "{who} had one seizure after another and is not waking up in between"]),
    ("head injury", "a head injury followed by vomiting, confusion or passing out needs urgent assessment",
     "Keep the person still and awake and watch their breathing.",
     ["{who} hit the head falling off a ladder and has vomited twice and seems confused",
      "{who} was knocked out for a minute after a fall and now has a terrible headache"]),
    ("diabetic emergency", "confusion, sweating and shaking in someone with diabetes can be dangerously low blood sugar",
     "If the person is awake and can swallow, give a sugary drink; never give anything by mouth if they are not fully awake.",
     ["{who} has diabetes and is sweating, shaking and not making sense", "{who} takes insulin and is now very drowsy and hard to wake"]),
    ("pregnancy", "heavy bleeding, severe abdominal pain or a bad headache with vision changes in pregnancy can be an emergency",
     "Lie on your left side while you wait.",
     ["I'm 32 weeks pregnant and have heavy bleeding and strong belly pain", "I'm pregnant and have a severe headache with flashing lights and swollen face"]),
    ("blood clot", "sudden shortness of breath with chest pain, especially after a long journey or surgery, can be a clot in the lung",
     "Sit down and stay still.",
     ["{who} has sudden sharp chest pain and breathlessness after a long flight",
      "{who} had an operation last week and now suddenly can't catch a breath and is coughing blood"]),
    ("abdominal", "sudden, severe abdominal pain with a hard belly or fainting needs urgent care",
     "Do not eat or drink anything until a doctor has seen you.",
     ["{who} has sudden agonising belly pain, a rigid stomach and feels faint"]),
]
WHO = ["My father", "My mother", "My friend"]

NON_URGENT = [
    ("cold", "I have had a runny nose, sneezing and a mild sore throat for two days",
     "That sounds like a common cold, which usually gets better on its own within 7 to 10 days. Rest, drink plenty "
     "of fluids and use simple remedies from a pharmacist if you need them. See a doctor if you have a high fever, "
     "trouble breathing, or symptoms that last longer than 10 days or keep getting worse."),
    ("minor cut", "I cut my finger slicing vegetables; it bled a little and stopped after pressing on it",
     "A small cut that stops bleeding with pressure can usually be cared for at home. Rinse it with clean water, keep it "
     "clean and cover it with a plaster. See a doctor if it becomes red, swollen, hot or painful, if pus appears, or if "
     "your tetanus vaccination is not up to date."),
    ("tension headache", "I get a dull band-like headache in the afternoons when I'm working at the computer",
     "A dull, band-like headache that comes with long screen work is often a tension-type headache. Regular breaks, "
     "drinking enough water, good posture and sleep often help. See a doctor if the headaches become frequent or "
     "severe, change in pattern, or come with other symptoms such as vision changes or weakness."),
    ("heartburn", "I sometimes get a burning feeling in my chest after large spicy meals",
     "A burning feeling after big or spicy meals is often heartburn (acid reflux). Smaller meals, not eating late at "
     "night and avoiding foods that trigger it can help, and a pharmacist can advise on remedies. See a doctor if it "
     "happens often, if swallowing becomes difficult, or if you lose weight without trying. Chest pain that spreads to "
     "the arm or jaw, or comes with breathlessness or sweating, needs emergency help."),
    ("insect bite", "I have an itchy red bump from a mosquito bite on my arm",
     "An itchy red bump is the usual reaction to a mosquito bite. A cold compress and not scratching help, and a "
     "pharmacist can suggest a cream or antihistamine. See a doctor if the redness spreads, becomes hot or painful, or "
     "you develop a fever."),
    ("constipation", "I haven't had a bowel movement for three days and feel a bit bloated",
     "Going a few days without a bowel movement is common and often improves with more fibre, fluids and physical "
     "activity. See a doctor if it lasts more than a couple of weeks, if you see blood in your stool, have severe "
     "pain, or lose weight without trying."),
    ("sprain", "I twisted my ankle playing football; it's a bit swollen but I can walk on it",
     "A mild ankle sprain often gets better with rest, ice, a compression bandage and keeping the foot raised. See a "
     "doctor if you cannot put weight on it, the pain or swelling is severe, or it is not improving after a few days."),
    ("sleep", "I've been having trouble falling asleep for the past week because of stress at work",
     "Short spells of poor sleep during stressful times are common. A regular sleep schedule, less caffeine and screen "
     "time in the evening, and a calm bedtime routine often help. See a doctor if it goes on for several weeks or "
     "affects your daytime life."),
]


def triage_examples() -> list[dict]:
    """(user message, answer, topic, urgent) examples, in a fixed order."""
    rows = []
    for topic, why, meanwhile, phrasings in URGENT:
        for i, phrasing in enumerate(phrasings):
            people = WHO if "{who}" in phrasing else [""]
            for who in people:
                text = phrasing.format(who=who) if who else phrasing
                text = text[0].upper() + text[1:]
                answer = f"This may be an emergency: {why}. {CALL} {meanwhile}"
                rows.append({"id": f"triage/{topic}/{i}/{who or 'self'}".replace(" ", "_"),
                             "question": text + ". What should I do?", "answer": answer, "topic": topic, "urgent": True})
    for topic, question, answer in NON_URGENT:
        rows.append({"id": f"triage/{topic.replace(' ', '_')}", "question": question + ". What should I do?",
                     "answer": answer, "topic": topic, "urgent": False})
    return rows
