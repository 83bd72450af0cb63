"""Emergency-referral examples written for this project (MedQuAD has none).

Each red-flag situation is phrased the way people really type (lay words, typos, a parent or carer
asking, "should I wait till morning?") and answered with the referral FIRST: call the local emergency
number or go to the emergency department now, then why it matters and one or two safe things to do
while waiting. Never a refusal. Non-urgent situations that share words with red flags (chest pain
after the gym, a bumped head, a mild fever in a toddler who is playing) are answered with self-care
and when to see a doctor, without emergency wording, so the model learns to tell the two apart
instead of sending everyone to the emergency department.

Deterministic: the same seed gives the same examples. The pipeline decontaminates them against the
project's evaluation sets by n-gram.
"""

from __future__ import annotations

import random
from typing import NamedTuple

from .phrasing import join, message

EXAMPLE_NUMBERS = "(for example 911 in the US or 112 in Europe)"
CALL = f"Call your local emergency number now {EXAMPLE_NUMBERS}."
GO = (f"Go to the nearest emergency department now, or call your local emergency number {EXAMPLE_NUMBERS} "
      "if you cannot get there quickly and safely.")
MATERNITY = (f"Call your maternity unit or labour ward now, or go to the hospital straight away; if you cannot reach "
             f"them, call your local emergency number {EXAMPLE_NUMBERS}.")
CRISIS = (f"Please call your local emergency number now {EXAMPLE_NUMBERS} or go to the nearest emergency "
          "department. You can also contact a crisis line in your country at any time of day or night.")

REFERRALS = {"call": CALL, "go": GO, "maternity": MATERNITY, "crisis": CRISIS}


class Urgent(NamedTuple):
    topic: str
    referral: str        # key of REFERRALS
    why: str             # why it cannot wait
    meanwhile: str       # one or two safe things to do while waiting
    phrasings: list[str]  # "{who}" is an adult the writer cares for


URGENT = [
    Urgent("stroke", "call",
           "Sudden weakness or numbness on one side, a drooping face, slurred speech or sudden confusion can be signs "
           "of a stroke, and treatment works best the sooner it starts.",
           "Note the time the symptoms started and do not give food, drink or tablets, because swallowing may be "
           "affected.",
           ["{who} suddenly can't lift one arm and the face looks lopsided",
            "{who} started slurring words out of nowhere and seems confused",
            "half of my face feels numb and my arm is weak and tingly, it started 20 minutes ago",
            "{who} woke up with one side of the mouth drooping and can't hold a cup",
            "my vision went double and one leg went weak for a few minutes, it's getting better now"]),
    Urgent("heart attack", "call",
           "Chest pain, pressure or tightness, especially if it spreads to the arm, jaw, neck or back or comes with "
           "sweating, sickness or breathlessness, can be a heart attack.",
           "Stop what you are doing, sit down and rest, and unlock the door so the responders can get in.",
           ["{who} has heavy pressure in the chest going down the left arm and looks grey and sweaty",
            "I've had a tight crushing pain in my chest for half an hour, like indigestion but worse, and I feel sick",
            "my chest hurts and it goes up into my jaw, I'm 58 and I smoke",
            "{who} has diabetes and suddenly feels very breathless and clammy with a strange ache in the chest",
            "pain in the middle of my chest won't go away with rest and I feel lightheaded"]),
    Urgent("aortic dissection", "call",
           "A sudden, severe tearing or ripping pain in the chest or back can be a tear in the body's main artery "
           "(aortic dissection), which needs emergency treatment.",
           "Stay still in the most comfortable position and do not eat or drink anything.",
           ["{who} has a sudden ripping pain between the shoulder blades, the worst pain ever",
            "sudden tearing pain in my chest going right through to my back, I have high blood pressure",
            "worst pain of my life shot through my chest into my back out of nowhere and I feel faint",
            "{who} suddenly got an excruciating pain in the back and now one arm feels weak"]),
    Urgent("pulmonary embolism", "call",
           "Sudden breathlessness or sharp chest pain that is worse when breathing in, especially after an operation, "
           "a long journey, pregnancy or with a swollen leg, can be a blood clot in the lung.",
           "Sit upright and stay as still and calm as you can.",
           ["I had knee surgery 10 days ago and suddenly can't catch my breath and my chest hurts when I breathe in",
            "{who} got off a long-haul flight with a swollen calf and is now short of breath and coughing up some "
            "blood",
            "my leg has been swollen and sore for days and now I'm suddenly breathless and my heart is racing",
            "sharp stabbing pain in my chest when I breathe in and I'm short of breath, I had a baby two weeks ago"]),
    Urgent("sepsis", "call",
           "Feeling extremely unwell with an infection, together with confusion, fast breathing, a racing heart, "
           "mottled or very pale skin or passing very little urine, can be sepsis, which needs emergency treatment.",
           "Tell the responders about the infection and any medicines being taken, and keep the person warm.",
           ["{who} has a urine infection and is now confused, shivering and breathing fast",
            "a cut on my hand got infected and now I feel like I'm dying, shaking, heart racing, haven't peed all day",
            "{who} is having chemotherapy and has a temperature and feels awful",
            "{who} had the flu and is now mottled, very drowsy and not making sense"]),
    Urgent("meningitis", "call",
           "Fever with a stiff neck, a headache, dislike of bright light, unusual drowsiness or a rash that does not "
           "fade when a glass is pressed on it can be meningitis or sepsis.",
           "Do not wait for a rash to appear, because not everyone gets one.",
           ["{who} has a high fever, a stiff neck and can't stand the light",
            "my teenage son has a fever, a headache and purple spots that don't fade under a glass",
            "my 4 year old has a temperature and a rash that doesn't go away when I press a glass on it",
            "my student flatmate is really hard to wake, has a fever and keeps complaining of neck pain"]),
    Urgent("infant fever", "go",
           "In a baby younger than 3 months, a temperature of 38°C (100.4°F) or higher needs to be checked by a doctor "
           "urgently, even if the baby seems otherwise well, because serious infections can look mild at this age.",
           "Keep your baby lightly dressed, keep offering feeds, and do not give any medicine unless a doctor "
           "advises it.",
           ["my 6 week old has a temperature of 38.3",
            "my baby is 2 months old and feels hot, the thermometer says 38.5 but she's feeding ok",
            "my newborn is 3 weeks old, has a temperature of 38 and is very sleepy",
            "my 10 week old has a fever, can I give some baby paracetamol and wait till the doctor's opens",
            "my grandson is 7 weeks old and burning up"]),
    Urgent("anaphylaxis", "call",
           "Swelling of the lips, tongue or throat, difficulty breathing or swallowing, wheezing, or feeling faint "
           "after a food, a sting or a medicine can be anaphylaxis, a life-threatening allergic reaction.",
           "If an adrenaline (epinephrine) auto-injector has been prescribed, use it now as instructed. Lie down with "
           "the legs raised, or sit up if breathing is hard, and do not stand up suddenly.",
           ["{who} ate peanuts and now the lips and tongue are swelling and breathing is noisy",
            "my kid ate a cookie with nuts in it and now he's coughing and his lips are puffy",
            "I got stung by a bee 10 minutes ago and now I feel dizzy and my throat feels tight",
            "{who} started a new antibiotic and now the face is swelling and the voice sounds hoarse",
            "hives everywhere after eating prawns and it's getting hard to swallow"]),
    Urgent("asthma attack", "call",
           "An asthma attack where the reliever inhaler is not helping, where it is hard to speak in full sentences, "
           "or where the lips are turning blue or grey, is an emergency.",
           "Sit upright, keep using the reliever inhaler as the asthma action plan says, and loosen tight clothing.",
           ["my asthma is really bad, the inhaler isn't helping and I can barely talk",
            "{who} is wheezing and gasping and the blue inhaler isn't doing anything",
            "my 8 year old with asthma is sucking in at the ribs and too breathless to talk",
            "my lips look a bit blue and I'm struggling to breathe"]),
    Urgent("infant breathing", "call",
           "A baby who is breathing very fast, grunting, pausing in breathing, has skin sucking in under the ribs, "
           "or is too breathless to feed needs emergency care.",
           "Hold your baby upright and keep watching the breathing until help arrives.",
           ["my 4 month old is breathing super fast, grunting and won't feed",
            "my baby has a cold but now keeps pausing in his breathing",
            "my baby's lips look blueish and she's struggling to breathe",
            "newborn is breathing really fast and the skin under her ribs sucks in with every breath"]),
    Urgent("stridor", "call",
           "A child making a harsh, high-pitched noise when breathing in while resting, with the skin pulling in "
           "between the ribs, drooling or being unable to swallow, needs emergency care.",
           "Keep your child calm and sitting upright on your lap, and do not look in or put anything into the throat.",
           ["my toddler has a barking cough and makes a squeaky noise breathing in even when sitting still",
            "my 2 year old is struggling to breathe with a whistling sound and the skin between her ribs sucks in",
            "my child suddenly started drooling, can't swallow and is leaning forward to breathe, with a fever"]),
    Urgent("choking", "call",
           "Someone who cannot breathe, speak or cough because something is stuck in the throat is choking.",
           "If they can cough, encourage them to keep coughing. If they cannot, give up to five sharp back blows "
           "between the shoulder blades, then up to five abdominal thrusts (chest thrusts for a baby under one year), "
           "and repeat until it clears or help arrives; start CPR if they become unresponsive.",
           ["{who} is choking on food and can't speak",
            "my baby is choking on something and can't cry",
            "{who} choked on a piece of meat, is going red and can't get any air in"]),
    Urgent("overdose", "call",
           "Taking too much of a medicine can cause serious harm even if the person feels fine at first; with some "
           "medicines, such as paracetamol (acetaminophen), liver damage only shows after a day or more.",
           "Keep the packets to show the responders, do not try to make the person vomit, and if they get drowsy lay "
           "them on their side.",
           ["I took a lot of paracetamol about an hour ago but I feel fine now, is it ok to sleep it off",
            "{who} swallowed a whole strip of sleeping pills with vodka and is really drowsy",
            "{who} took an overdose of antidepressants and is shaking and confused",
            "my friend took a bunch of pills at a party and won't wake up properly"]),
    Urgent("opioid overdose", "call",
           "Very slow or noisy breathing, pinpoint pupils, blue lips or being impossible to wake after taking opioids "
           "or other drugs is an overdose and breathing can stop.",
           "If naloxone is available, give it as instructed. Put the person on their side, stay with them, and start "
           "rescue breaths or CPR if they stop breathing and you know how.",
           ["my brother took something, his lips are blue, he's snoring weirdly and won't wake up",
            "found {who} passed out with a needle nearby, breathing really slowly",
            "my friend took some pills and is making gurgling sounds and won't respond",
            "{who} takes oxycodone for pain and is now very hard to wake and breathing very slowly"]),
    Urgent("child poisoning", "call",
           "Children can be seriously harmed by small amounts of adult medicines or household chemicals, and symptoms "
           "may only appear later. A poison control centre can also advise if your child seems completely well.",
           "Do not try to make your child sick. Keep the container or packet, and wipe or rinse any product off the "
           "skin and out of the mouth with water.",
           ["my toddler drank some dishwasher liquid",
            "my 2 year old got into grandma's pills and I'm not sure how many she ate",
            "my son swallowed some of my iron tablets",
            "found my 3 year old with an open bottle of bleach, I think he drank some",
            "my baby bit into a dishwasher pod"]),
    Urgent("button battery", "go",
           "A swallowed button battery can burn through the throat or gut within hours, even if the child seems well.",
           "Do not make your child vomit, and bring the battery packet or the device it came from.",
           ["my 1 year old may have swallowed a button battery from the remote",
            "my toddler put a coin battery in her mouth and now I can't find it",
            "my son swallowed one of those small round watch batteries, he seems fine",
            "I think my kid swallowed a battery out of a toy"]),
    Urgent("suicidal thoughts", "crisis",
           "You deserve help right now, and you don't have to get through this on your own.",
           "If you can, go to someone you trust or ask them to come to you, and move away from anything you could use "
           "to hurt yourself.",
           ["I want to end my life tonight and I have a plan",
            "I've been thinking about killing myself and I have the pills ready",
            "I can't do this anymore, I've got all my tablets out and I'm going to take them tonight",
            "I don't want to be alive anymore and I'm going to hurt myself",
            "I'm standing on a bridge and I want to jump"]),
    Urgent("suicidal friend", "crisis",
           "A message like this means your friend may be in immediate danger, and getting help now is the right thing "
           "to do even if they asked you to keep it secret.",
           "If you can do so safely, stay with them or keep them talking, and remove anything they could use to hurt "
           "themselves.",
           ["my friend just texted me goodbye and said she's going to end it",
            "my brother says he has a rope and is going to kill himself tonight",
            "{who} told me they've taken pills to die and made me promise not to tell anyone"]),
    Urgent("severe bleeding", "call",
           "Heavy bleeding that spurts or does not stop with firm pressure is an emergency.",
           "Press firmly on the wound with a clean cloth or your hand and keep pressing; if blood soaks through, add "
           "more cloth on top rather than lifting it off.",
           ["{who} cut a leg deeply and the blood is spurting and won't stop",
            "{who} put an arm through a glass door and blood is pumping out",
            "blood has been soaking through towels for ten minutes even though I'm pressing on the cut",
            "{who} cut a hand badly with a chainsaw and it's bleeding heavily"]),
    Urgent("head injury on blood thinners", "go",
           "A head injury in someone who takes a blood thinner (anticoagulant) can cause bleeding inside the skull, "
           "even when the person seems fine at first.",
           "Someone should stay with the person, who should not drive, and bring a list of their medicines.",
           ["{who} is on warfarin, fell and banged the head, seems ok but has a headache",
            "my grandma takes apixaban and hit her head on the bathroom sink",
            "I'm on blood thinners for my heart rhythm and I bumped my head hard on a cupboard",
            "{who} takes rivaroxaban, fell this morning and is now more sleepy than usual"]),
    Urgent("head injury", "call",
           "Vomiting, confusion, drowsiness, a seizure, clear fluid from the nose or ears, or having been knocked out "
           "after a head injury needs urgent assessment.",
           "Keep the person still, do not give alcohol or sleeping tablets, and watch their breathing.",
           ["{who} hit the head falling off a ladder, has vomited twice and seems confused",
            "{who} was knocked out for a minute after a fall and now has a terrible headache",
            "my kid fell off the climbing frame, was knocked out and is now being sick",
            "after a car crash {who} is confused and has clear fluid dripping from the nose"]),
    Urgent("thunderclap headache", "call",
           "A sudden, severe headache that reaches its worst within about a minute, especially with a stiff neck, "
           "vomiting or confusion, can be bleeding in or around the brain.",
           "Lie down somewhere quiet and do not take anything to eat or drink until you have been assessed.",
           ["worst headache of my life came on like a thunderclap at the gym",
            "{who} got a sudden explosive headache and is vomiting",
            "a headache hit me out of nowhere like being hit with a bat and my neck is stiff"]),
    Urgent("diabetic ketoacidosis", "go",
           "Vomiting, tummy pain, fast deep breathing, great thirst, drowsiness or a fruity smell on the breath in "
           "someone with diabetes can be diabetic ketoacidosis, which needs emergency treatment.",
           "Do not stop taking insulin, and if there is a meter, check blood sugar and ketones and bring the results.",
           ["I'm type 1 diabetic, been vomiting all day, my ketones are high and I'm breathing fast",
            "my daughter has type 1, she has stomach pain, keeps being sick and her breath smells sweet",
            "{who} has diabetes, is really thirsty, weeing loads and is now drowsy and breathing deeply",
            "my teenager is peeing a lot and losing weight and now is throwing up and breathing heavily"]),
    Urgent("hypoglycaemia", "call",
           "Confusion, sweating, shaking or drowsiness in someone who uses insulin or some diabetes tablets can be "
           "dangerously low blood sugar.",
           "If the person is awake and can swallow, give a sugary drink or glucose tablets; if they are not fully "
           "awake, do not give anything by mouth and lay them on their side.",
           ["{who} has diabetes and is sweating, shaking and not making sense",
            "{who} takes insulin and is now very drowsy and hard to wake",
            "my diabetic friend is acting drunk, sweaty and aggressive but hasn't been drinking",
            "my son with type 1 diabetes had a fit after football"]),
    Urgent("ectopic pregnancy", "call",
           "In early pregnancy, or if you might be pregnant, pain low on one side with bleeding, pain in the tip of "
           "the shoulder, dizziness or fainting can be an ectopic pregnancy, which can cause dangerous internal "
           "bleeding.",
           "Lie down, and do not eat or drink in case you need an operation.",
           ["I missed my period and had a positive test, now I have sharp pain low on one side and feel faint",
            "I'm 6 weeks pregnant with bad pain on the left side and pain in my shoulder tip",
            "{who} might be pregnant and collapsed with stomach pain",
            "my period is late, I'm spotting and have one-sided pain that's getting worse, and I'm dizzy"]),
    Urgent("pre-eclampsia", "maternity",
           "A severe headache, problems with vision such as blurring or flashing lights, pain just below the ribs, or "
           "sudden swelling of the face, hands or feet in the second half of pregnancy or in the weeks after birth "
           "can be pre-eclampsia, which needs checking straight away.",
           "Bring your pregnancy notes if you have them, and do not drive yourself.",
           ["I'm 34 weeks and have a pounding headache that paracetamol didn't touch, and I'm seeing flashing lights",
            "I'm 33 weeks pregnant, my face and hands are suddenly really swollen and I have pain under my right ribs",
            "{who} is 36 weeks pregnant with blurry vision and a bad headache",
            "I had my baby 10 days ago and now I have a terrible headache and spots in my vision"]),
    Urgent("pregnancy bleeding", "call",
           "Heavy vaginal bleeding, a gush of fluid or strong regular pains before 37 weeks of pregnancy, or bleeding "
           "with a hard, painful belly, need emergency care.",
           "Lie on your left side while you wait, and keep any pads to show the staff.",
           ["I'm 30 weeks pregnant and bleeding quite a lot, bright red",
            "I'm 28 weeks pregnant and I think my waters just broke",
            "{who} is 7 months pregnant, bleeding, and the belly is hard and painful",
            "I'm 25 weeks and bleeding enough to soak a pad in an hour"]),
    Urgent("reduced fetal movements", "maternity",
           "A change in or reduction of your baby's movements can be a sign that the baby is unwell and needs to be "
           "checked straight away, not the next day.",
           "Do not rely on a home heartbeat monitor; the staff need to check your baby properly.",
           ["I'm 35 weeks and the baby hasn't moved much today",
            "I haven't felt my baby kick since last night and I'm 32 weeks",
            "my baby's movements have slowed down a lot, I'm 38 weeks",
            "I'm 29 weeks and the baby is moving less than usual, I had a cold drink and still nothing"]),
    Urgent("testicular torsion", "go",
           "Sudden, severe pain in a testicle, often with swelling, sickness or tummy pain, can be testicular torsion, "
           "which needs surgery within hours to save the testicle.",
           "Do not eat or drink anything in case an operation is needed.",
           ["my 14 year old woke up with terrible pain in one testicle and is throwing up",
            "sudden agony in my left ball and it looks higher than the other one",
            "my son has sudden pain in his scrotum after football and it's swollen"]),
    Urgent("appendicitis", "go",
           "Pain that starts around the belly button and moves to the lower right side, gets worse when moving or "
           "coughing, and comes with fever or vomiting can be appendicitis.",
           "Do not eat or drink in case you need an operation, and do not take laxatives.",
           ["the pain started at my belly button and now it's sharp in the bottom right, hurts to walk",
            "my 10 year old has pain low on the right side of his tummy, a fever and won't eat",
            "{who} has stomach pain on the right that keeps getting worse and is being sick"]),
    Urgent("gut bleeding", "call",
           "Vomiting blood or what looks like coffee grounds, or passing black, tarry stools or a lot of blood from "
           "the back passage, can be bleeding in the gut.",
           "Lie down if you feel faint, and do not eat or drink.",
           ["I threw up something that looks like coffee grounds",
            "my poo is black like tar and I feel dizzy",
            "{who} is vomiting bright red blood",
            "I'm passing lots of blood from my bottom and feel faint"]),
    Urgent("abdominal emergency", "call",
           "Sudden, severe tummy pain with a hard, rigid belly, fainting or pain spreading to the back needs "
           "emergency care.",
           "Do not eat or drink anything until a doctor has seen you.",
           ["{who} has sudden agonising belly pain, a rigid stomach and feels faint",
            "{who} is 70 and has sudden severe tummy and back pain and has gone pale and sweaty"]),
    Urgent("cauda equina", "go",
           "Back pain with numbness around the bottom or genitals, new problems controlling the bladder or bowels, or "
           "weakness in both legs can be cauda equina syndrome, which needs emergency surgery.",
           "Do not wait for the numbness to go away; bring a list of your medicines.",
           ["I've had a bad back for a week and now I'm numb between my legs and can't feel when I pee",
            "sciatica in both legs and I wet myself without realising",
            "my back pain got worse and now my saddle area feels numb",
            "{who} has back pain and suddenly can't control the bladder"]),
    Urgent("serious burn", "call",
           "Large burns, burns to the face, hands, feet, genitals or across a joint, electrical or chemical burns, and "
           "burns in young children or with breathing problems after a fire need emergency care.",
           "Cool the burn under cool running water for 20 minutes, remove jewellery and clothing near it unless stuck, "
           "and cover it loosely with cling film; do not use ice, butter or creams.",
           ["my toddler pulled a cup of boiling tea over her chest and arm and there are big blisters",
            "{who} got an electric shock and has a burn on the hand",
            "I splashed drain cleaner on my arm and face",
            "there was a kitchen fire, my husband's face is burned and his voice is hoarse"]),
    Urgent("heatstroke", "call",
           "Confusion, very hot skin, no longer sweating, fainting or a seizure in the heat can be heatstroke.",
           "Move the person somewhere cool, take off extra clothing, and cool them with water, wet cloths and a fan; "
           "give sips of water only if they are fully awake.",
           ["{who} was working in the sun all day, is now confused and hot and has stopped sweating",
            "my son collapsed at football practice in the heat and is acting strange",
            "{who}'s flat is boiling, and now there's mumbling and drowsiness and the skin is very hot"]),
    Urgent("hypothermia", "call",
           "Being very cold with confusion, drowsiness, slow breathing or shivering that has stopped can be severe "
           "hypothermia.",
           "Move the person somewhere warm, remove wet clothes, wrap them in blankets and warm them gradually; do not "
           "rub the skin or use hot water.",
           ["{who} was found outside in the cold, very drowsy, and has stopped shivering",
            "my friend fell in a freezing river, is slurring and really sleepy"]),
    Urgent("carbon monoxide", "call",
           "Headaches, dizziness, sickness and drowsiness in several people or pets in the same place, especially with "
           "a boiler, heater, stove or fire running, can be carbon monoxide poisoning.",
           "Get everyone out into fresh air straight away, turn the appliance off if it is safe, and do not go back "
           "in.",
           ["the whole family has headaches and feels sick and the gas heater has been on all night",
            "our CO alarm is beeping and my daughter is dizzy and vomiting",
            "{who} is confused and drowsy, the dog is also unwell and we have an old boiler"]),
    Urgent("prolonged seizure", "call",
           "A seizure lasting more than five minutes, repeated seizures without waking in between, or a first ever "
           "seizure is an emergency.",
           "Time the seizure, move hard objects away, put something soft under the head, do not put anything in the "
           "mouth, and turn the person on their side once the jerking stops.",
           ["{who} has been having a fit for more than five minutes",
            "{who} had one seizure after another and is not waking up in between",
            "my child has been shaking and unresponsive for 6 minutes",
            "{who} just had a first ever fit and still isn't waking up properly"]),
    Urgent("sudden vision loss", "go",
           "Sudden loss of vision, a curtain or shadow coming across the sight, or a painful red eye with blurred "
           "vision, haloes and vomiting needs emergency care, because some causes can only be treated within hours.",
           "Do not drive, and do not rub the eye.",
           ["I suddenly lost the vision in one eye, like a curtain came down",
            "{who} suddenly can't see out of one eye, no pain",
            "a shower of new floaters and flashes and now a dark shadow in my vision",
            "really painful red eye, blurry vision, seeing halos around lights and throwing up"]),
    Urgent("child dehydration", "go",
           "A child who is very drowsy or floppy, has not had a wet nappy or passed urine for many hours, or cannot "
           "keep any fluids down needs urgent care.",
           "Keep offering small sips of fluid or breast milk often if your child can swallow.",
           ["my baby has had diarrhoea and vomiting all day, no wet nappy since this morning and is very sleepy",
            "my toddler can't keep anything down and has gone floppy",
            "my 9 month old has been sick all night, has a sunken soft spot and no tears when crying"]),
    Urgent("sudden confusion", "go",
           "Sudden confusion or a change in behaviour over hours or a day, especially in an older person or with a "
           "fever, can be a sign of infection, stroke, low blood sugar or another serious problem.",
           "Stay with them and bring a list of their medicines.",
           ["{who} was fine yesterday and today doesn't recognise me and is talking nonsense",
            "my grandma is suddenly very confused and seeing things that aren't there",
            "{who} has a fever and has become really muddled and agitated since this afternoon"]),
    Urgent("alcohol poisoning", "call",
           "Being impossible to wake, vomiting while drowsy, slow or irregular breathing, a seizure, or cold, pale or "
           "bluish skin after drinking can be alcohol poisoning.",
           "Lay the person on their side so they cannot choke, keep them warm and stay with them; do not give coffee "
           "or a cold shower.",
           ["my friend drank a lot, now we can't wake him and he threw up",
            "my mate downed a bottle of vodka and is barely responding, is it ok to let him sleep it off",
            "{who} drank loads, is breathing slowly and looks pale and cold"]),
    Urgent("near drowning", "go",
           "After breathing in water, breathing problems can develop hours later, so anyone who needed rescuing, was "
           "unconscious, or is coughing, breathless or drowsy afterwards must be checked.",
           "Keep them warm and keep watching their breathing.",
           ["my son was pulled out of the pool coughing, he seems ok now but is breathing fast",
            "my daughter went under at the beach for a bit, now she's sleepy and keeps coughing"]),
    Urgent("snake bite", "call",
           "A bite from a venomous or unknown snake needs emergency assessment, even if it looks minor.",
           "Keep the person still and calm, keep the bitten limb still, and remove rings or tight items near the bite; "
           "do not cut, suck or put ice on the bite.",
           ["{who} was bitten by a snake on the ankle and the leg is swelling",
            "a snake bit my son while hiking, we don't know what kind"]),
]

# Adults someone writes in about; one is picked per example.
WHO = ["my dad", "my mum", "my husband", "my wife", "my grandma", "my grandad", "my partner", "my flatmate",
       "my elderly neighbour", "my brother", "my sister", "my friend"]

# How people hedge before asking, and how the answer meets the hedge (after the referral).
HESITATIONS = [
    ("", ""),
    ("What should I do?", ""),
    ("what do i do??", ""),
    ("Should I wait till morning?", "Please do not wait until the morning."),
    ("Can this wait until the doctor's surgery opens tomorrow?", "This cannot wait until tomorrow."),
    ("Is it ok to just sleep on it and see how things are tomorrow?",
     "Please do not wait to see how things are tomorrow."),
    ("I don't want to waste anyone's time, is it really that serious?",
     "You are not wasting anyone's time: this is exactly what emergency services are for."),
    ("Should we just wait and see if it passes?", "Waiting to see if it passes could be dangerous here."),
    ("Do we really need to go to hospital?", "Yes, this needs to be seen now."),
    ("pls help", ""),
]


class NonUrgent(NamedTuple):
    topic: str
    answer: str            # self-care and when to see a doctor, no emergency wording
    phrasings: list[str]


NON_URGENT = [
    NonUrgent("cold",
              "That sounds like a common cold, which usually gets better on its own within 7 to 10 days. Rest, drink "
              "plenty of fluids and ask a pharmacist about simple remedies if you need them. See a doctor if you have "
              "a high fever, trouble breathing, or symptoms that last longer than 10 days or keep getting worse.",
              ["I have had a runny nose, sneezing and a mild sore throat for two days",
               "blocked nose and sneezing since the weekend, otherwise fine",
               "{who} has a head cold with a runny nose and a bit of a cough"]),
    NonUrgent("minor cut",
              "A small cut that stops bleeding with pressure can usually be cared for at home. Rinse it with clean "
              "water, keep it clean and cover it with a plaster or dressing. See a doctor if it becomes red, swollen, "
              "hot or more painful, if pus appears, if the edges gape open, or if your tetanus vaccination is not up "
              "to date.",
              ["I cut my finger slicing vegetables, it bled a little and stopped after pressing on it",
               "small cut on my hand from a tin can, it stopped bleeding after a couple of minutes",
               "my son grazed his knee on the pavement and it's bleeding a bit"]),
    NonUrgent("tension headache",
              "A dull, band-like headache that comes with long screen work or stress is often a tension-type headache. "
              "Regular breaks, drinking enough water, good posture, sleep and a simple painkiller used as the label "
              "says often help. See a doctor if the headaches become frequent or severe, change in pattern, or come "
              "with other symptoms such as vision changes, weakness or a fever with a stiff neck.",
              ["I get a dull band-like headache in the afternoons when I'm working at the computer",
               "my head feels tight like a band around it after long days at work",
               "headache at the end of most work days, goes away after I rest"]),
    NonUrgent("hangover",
              "A headache, tiredness and queasiness the morning after drinking is a hangover and usually settles "
              "within a day. Drink water, eat something plain and rest; avoid more alcohol. Be careful with "
              "painkillers after heavy drinking and follow the label. See a doctor if you cannot keep fluids down "
              "for a long time, or if you are worried about how much you drink.",
              ["I have a pounding headache and feel queasy after drinking too much last night",
               "hungover, head hurts and I feel sick, how do I feel better"]),
    NonUrgent("mild fever in a child",
              "A mild fever in a child who is playing, drinking and passing urine normally is usually caused by a "
              "viral infection and gets better by itself. Keep your child comfortable, offer plenty of fluids, and a "
              "children's fever medicine used exactly as the label says can help if they are uncomfortable. See a "
              "doctor if the fever lasts more than a few days, if your child seems more unwell, is not drinking, has "
              "a rash that does not fade when pressed, or you are worried.",
              ["my 3 year old has a mild temperature but is playing and drinking normally",
               "my 5 year old feels a bit warm and has a runny nose but is eating and running around",
               "my toddler has had a slight fever since yesterday but is still cheerful and weeing normally"]),
    NonUrgent("nosebleed",
              "Most nosebleeds are minor. Sit up, lean forward and pinch the soft part of your nose for 10 to 15 "
              "minutes without letting go, breathing through your mouth; avoid blowing your nose or heavy lifting for "
              "a day. See a doctor if nosebleeds keep coming back, or if you take a blood thinner and bleeding lasts "
              "longer than usual. A nosebleed that will not stop after 20 minutes of pressure needs medical help "
              "straight away.",
              ["I had a nosebleed this morning that stopped after pinching my nose for ten minutes",
               "my daughter gets nosebleeds when the heating is on, they stop quickly"]),
    NonUrgent("small burn",
              "A small burn with redness or a small blister can usually be treated at home. Cool it under cool "
              "running water for 20 minutes, then cover it loosely with a clean non-fluffy dressing or cling film; "
              "do not burst blisters or use butter or toothpaste. See a doctor if it is larger than the palm of your"
              " hand, is on the face, hands, feet or genitals, looks white or charred, or shows signs of infection.",
              ["I touched the oven tray and have a small red burn on my finger",
               "got a small blister on my hand from the kettle steam"]),
    NonUrgent("sunburn",
              "Mild sunburn with red, sore skin usually heals within a week. Cool the skin with a shower or damp "
              "cloths, use a soothing after-sun or aloe gel, drink extra water and stay out of the sun. See a doctor"
              " if there is widespread blistering, a high temperature, or if a young child is badly burned.",
              ["I fell asleep on the beach and my shoulders are red and sore",
               "my back got sunburnt yesterday, it stings when I shower"]),
    NonUrgent("local sting reaction",
              "Swelling, redness and pain around a sting, even if it spreads a few centimetres, is a common local "
              "reaction. Remove any sting left in the skin, wash the area, use a cold compress and keep the area "
              "raised; a pharmacist can suggest an antihistamine or cream. See a doctor if the redness keeps "
              "spreading after a couple of days or you feel unwell. Swelling of the lips or throat, trouble "
              "breathing or feeling faint after a sting needs medical help straight away.",
              ["I got stung by a wasp on my hand and the area around it is red and a bit swollen, breathing is fine",
               "bee sting on my foot is itchy and puffy but I feel fine otherwise"]),
    NonUrgent("insect bite",
              "An itchy red bump is the usual reaction to a mosquito bite. A cold compress and not scratching help, "
              "and a pharmacist can suggest a cream or antihistamine. See a doctor if the redness spreads, becomes "
              "hot or painful, or you develop a fever.",
              ["I have an itchy red bump from a mosquito bite on my arm",
               "my legs are covered in itchy bites after camping"]),
    NonUrgent("hay fever",
              "Sneezing, an itchy runny nose and itchy watery eyes that come at the same time each year are typical "
              "of hay fever. Antihistamines and steroid nose sprays from a pharmacy often help, and keeping windows "
              "closed on high pollen days reduces exposure. See a doctor if remedies do not help or you start to "
              "wheeze.",
              ["every spring my eyes itch and I sneeze all day",
               "my nose runs and my eyes water when the pollen count is high"]),
    NonUrgent("ankle sprain",
              "A mild ankle sprain often gets better with rest, ice wrapped in a cloth, a compression bandage and "
              "keeping the foot raised for the first couple of days. See a doctor if you cannot put weight on it, the "
              "pain or swelling is severe, the foot looks misshapen, or it is not improving after a few days.",
              ["I twisted my ankle playing football, it's a bit swollen but I can walk on it",
               "rolled my ankle on a kerb yesterday, it's sore and bruised but I can walk"]),
    NonUrgent("minor head bump",
              "A minor bump on the head without being knocked out, vomiting, confusion or a worsening headache can "
              "usually be managed at home. Hold a cold pack on the lump, rest, and have someone around for the next "
              "day. See a doctor if a headache gets worse or you vomit, feel confused or very sleepy, or if you take a "
              "blood thinner.",
              ["I hit my head on a kitchen cupboard, there's a small lump but I feel fine",
               "banged my head on the car door frame, a bit sore but no other symptoms"]),
    NonUrgent("toddler tumble",
              "A short fall in a toddler who cried straight away and is now playing normally is very common and "
              "usually harmless. A cold compress on any bump can help. Keep an eye on your child for the next day "
              "and see a doctor if they vomit repeatedly, become unusually sleepy or irritable, walk or talk "
              "differently, or you are worried.",
              ["my toddler fell off the sofa onto the carpet, cried straight away and is now playing normally",
               "my 2 year old bumped her forehead on the table, she has a little bruise but is her usual self"]),
    NonUrgent("chest wall pain",
              "Pain in the chest wall that is worse when you press on one spot or move, after exercise or heavy "
              "lifting, is often a strained muscle. Rest, gentle stretching and a simple painkiller used as the "
              "label says usually help. See a doctor if it does not improve within a week or two. Chest pain that "
              "comes on with exertion, spreads to the arm or jaw, or comes with breathlessness or sweating needs "
              "medical help straight away.",
              ["my chest is sore on one side when I press on it since I did bench press yesterday",
               "pain in my ribs when I twist, started after moving furniture, I'm 25 and otherwise fine"]),
    NonUrgent("heartburn",
              "A burning feeling in the chest after big or spicy meals is often heartburn (acid reflux). Smaller "
              "meals, not eating late at night and avoiding foods that trigger it can help, and a pharmacist can "
              "advise on remedies. See a doctor if it happens often, if swallowing becomes difficult, or if you lose"
              " weight without trying. Chest pain that spreads to the arm or jaw, or comes with breathlessness or "
              "sweating, needs medical help straight away.",
              ["I sometimes get a burning feeling in my chest after large spicy meals",
               "burning behind my breastbone after pizza late at night, goes away with an antacid"]),
    NonUrgent("palpitations after coffee",
              "A brief fluttering or pounding heartbeat after coffee, energy drinks, stress or poor sleep is common "
              "and often harmless. Cutting down caffeine and alcohol and getting enough sleep often helps. See a "
              "doctor if it happens often or lasts a long time, or if you have a heart condition. Palpitations with "
              "chest pain, fainting or breathlessness need medical help straight away.",
              ["my heart flutters for a few seconds after my third coffee",
               "I notice my heart pounding at night when I'm stressed, it settles after a while"]),
    NonUrgent("dizzy on standing",
              "Feeling lightheaded for a few seconds when you stand up quickly is common, often from a brief drop in "
              "blood pressure. Standing up slowly, drinking enough fluids and not skipping meals often help. See a "
              "doctor if it happens often, if you actually faint, or if it started after a new medicine.",
              ["I get dizzy for a second when I stand up too fast",
               "my vision goes a bit grey for a moment when I get out of bed quickly"]),
    NonUrgent("fainted once with a trigger",
              "Fainting once with a clear trigger, such as giving blood, the sight of a needle or standing in the "
              "heat, and recovering quickly is usually a simple faint. Lie down with your legs raised if you feel it"
              " coming on, and drink and eat something afterwards. See a doctor if you faint without warning, during"
              " exercise, more than once, or if you have a heart condition.",
              ["I fainted when I gave blood today but felt fine after a few minutes",
               "my teenage son fainted at the sight of a needle, he's fine now"]),
    NonUrgent("stomach bug",
              "Diarrhoea and an upset stomach for a day or two, while you can keep fluids down, is usually a stomach"
              " bug that passes on its own. Drink small amounts of fluid often, rest, and eat plain food when you "
              "feel ready; a pharmacist can advise on oral rehydration solution. See a doctor if it lasts more than "
              "a few days, if there is blood in the stool, or if you cannot keep fluids down.",
              ["I've had diarrhoea since yesterday after a takeaway but I can keep water down",
               "upset stomach and loose stools for a day, no blood, drinking ok"]),
    NonUrgent("constipation",
              "Going a few days without a bowel movement is common and often improves with more fibre, fluids and "
              "physical activity. See a doctor if it lasts more than a couple of weeks, if you see blood in your "
              "stool, have severe pain, or lose weight without trying.",
              ["I haven't had a bowel movement for three days and feel a bit bloated",
               "bit constipated since I started travelling, otherwise fine"]),
    NonUrgent("haemorrhoids",
              "A small streak of bright red blood on the toilet paper after straining, with itching or a soft lump, is "
              "often caused by haemorrhoids (piles). More fibre and fluids, not straining and creams from a pharmacy "
              "can help. New bleeding from the bottom should still be checked by a doctor, and sooner if it keeps "
              "happening, if your bowel habit changes, or if you lose weight.",
              ["a bit of bright red blood on the paper after straining on the toilet, I have piles",
               "itchy bottom and a small amount of blood when I wipe after a hard poo"]),
    NonUrgent("period pain",
              "Cramping pain in the lower tummy during a period is common. A hot water bottle, gentle exercise and "
              "anti-inflammatory painkillers used as the label says often help. See a doctor if the pain is severe "
              "enough to stop normal activities, gets worse over time, or comes with very heavy bleeding.",
              ["I get cramps in my lower tummy on the first day of my period",
               "period pain is bad every month, painkillers help a bit"]),
    NonUrgent("spotting on the pill",
              "Light spotting between periods is common in the first few months of taking the pill, or after missed "
              "pills. Keep taking it as the leaflet says and use condoms if you have missed pills. See a doctor or "
              "nurse if it continues after about three months, is heavy, happens after sex, or if there is a chance "
              "you could be pregnant.",
              ["I started the pill two months ago and get light spotting between periods",
               "some brown spotting mid-cycle on my contraceptive pill"]),
    NonUrgent("morning sickness",
              "Nausea and some vomiting in early pregnancy are common and usually ease after the first trimester. "
              "Small frequent meals, plain snacks, sipping fluids and rest often help. See a doctor or midwife if "
              "you cannot keep fluids down for a day, are passing very little urine, feel faint or are losing "
              "weight.",
              ["I'm 8 weeks pregnant and feel sick most mornings but can keep food down",
               "nauseous all day in early pregnancy, is this normal"]),
    NonUrgent("back strain",
              "Lower back pain after lifting, without numbness between the legs, bladder or bowel problems or leg "
              "weakness, is usually a strain that improves within a few weeks. Keep moving gently, use heat and a "
              "simple painkiller as the label says, and avoid long bed rest. See a doctor if it does not improve, "
              "keeps you awake at night, or if you have a fever or a history of cancer.",
              ["my lower back hurts since I lifted boxes at the weekend, no numbness, peeing normally",
               "stiff sore back after gardening, can walk fine"]),
    NonUrgent("stiff neck from sleeping",
              "A stiff neck after sleeping awkwardly, without a fever, headache or rash, is usually a muscle strain "
              "that eases in a few days. Gentle movement, heat and a simple painkiller as the label says can help. "
              "See a doctor if it lasts more than a week, or if you get a fever, a severe headache, or numbness in "
              "the arms.",
              ["I woke up with a stiff neck and can't turn my head fully, no fever",
               "neck is sore on one side since sleeping on the sofa"]),
    NonUrgent("sore throat",
              "Most sore throats are caused by viruses and get better within a week. Drink fluids, gargle with warm "
              "salty water (adults and older children), and use throat lozenges or simple painkillers as the label "
              "says. See a doctor if it lasts more than a week, if you have a high fever, or if swallowing becomes "
              "very difficult.",
              ["I have a scratchy sore throat since yesterday",
               "my throat hurts when I swallow and I have a mild cold"]),
    NonUrgent("lingering cough",
              "A cough can last up to three weeks after a cold. Warm drinks, honey for adults and children over one "
              "year, and not smoking help. See a doctor if it lasts more than three weeks, if you cough up blood, "
              "lose weight, or become short of breath.",
              ["I still have a dry cough two weeks after a cold",
               "cough hanging on after the flu but I feel fine otherwise"]),
    NonUrgent("eye strain",
              "Tired, dry or sore eyes after screen work are common. Regular breaks to look into the distance, "
              "blinking often and lubricating eye drops from a pharmacy can help. See an optician or doctor if your "
              "vision changes, if the eyes are painful or very red, or if it does not improve.",
              ["my eyes feel dry and tired after staring at screens all day",
               "slightly blurry eyes at the end of the day that clear after rest"]),
    NonUrgent("red eye spot",
              "A bright red patch on the white of the eye after coughing, sneezing or straining, without pain or "
              "changes in vision, is usually a burst small blood vessel and clears within two weeks. It needs no "
              "treatment. See a doctor if it keeps happening, if you take a blood thinner, or if the eye hurts or your "
              "vision changes.",
              ["I have a bright red blotch on the white of my eye after sneezing, it doesn't hurt and I can see fine",
               "woke up with a red patch in my eye, no pain, vision normal"]),
    NonUrgent("baby reflux",
              "Many babies bring up small amounts of milk after feeds, and if your baby is feeding well, gaining "
              "weight and is content, it is usually normal and improves with age. Holding your baby upright after "
              "feeds can help. See a doctor or health visitor if your baby is not gaining weight, vomits forcefully "
              "or green fluid, seems in pain, or refuses feeds.",
              ["my 2 month old spits up a little milk after most feeds but is gaining weight",
               "my baby brings up milk after feeding but seems happy"]),
    NonUrgent("nappy rash",
              "Nappy rash is common. Change nappies often, clean the skin gently with water, let your baby have time "
              "without a nappy, and use a barrier cream. See a doctor or health visitor if the rash does not improve "
              "after a few days, has blisters or bright red spots in the folds, or your baby has a fever.",
              ["my baby has a red rash in the nappy area",
               "nappy rash on my 6 month old, she's otherwise happy"]),
    NonUrgent("eczema flare",
              "An eczema flare with dry, itchy skin usually improves with regular emollients (moisturisers) used "
              "generously, avoiding soap and triggers, and any treatment a doctor has prescribed. See a doctor if it "
              "does not improve, if the skin weeps, crusts or becomes painful, or if it affects sleep.",
              ["my eczema is flaring up on my arms and it's really itchy",
               "my child's eczema is worse this winter"]),
    NonUrgent("trouble sleeping",
              "Short spells of poor sleep during stressful times are common. A regular sleep schedule, less caffeine"
              " and screen time in the evening, and a calm bedtime routine often help. See a doctor if it goes on "
              "for several weeks or affects your daytime life.",
              ["I've been having trouble falling asleep for the past week because of stress at work",
               "can't switch off at night lately, lying awake for an hour"]),
    NonUrgent("feeling low",
              "Feeling sad, tearful or flat after a loss or a hard time is a normal reaction, and it often helps to "
              "talk to people you trust, keep a routine, get outside and be active, and sleep regularly. See a "
              "doctor if the low mood lasts more than two weeks or affects your daily life. If you ever have "
              "thoughts of harming yourself, tell someone and get help straight away.",
              ["I've felt down since my break-up last week, I'm sleeping and eating ok and have no thoughts of harming "
               "myself",
               "feeling a bit low and unmotivated this month, nothing serious I think"]),
    NonUrgent("hiccups",
              "Hiccups usually stop on their own within minutes or hours. Sipping cold water, holding your breath "
              "briefly or breathing into cupped hands may help. See a doctor if they last more than two days.",
              ["I've had hiccups for an hour",
               "my son keeps getting hiccups after eating fast"]),
    NonUrgent("cold sore",
              "A tingling blister on the lip is usually a cold sore. It heals within about 10 days; antiviral creams "
              "from a pharmacy work best at the first tingle. Avoid kissing and sharing towels while it is there. See "
              "a doctor if it spreads, is near the eye, or if you have a weakened immune system.",
              ["I have a tingling blister on my lip",
               "cold sore came up again before my holiday"]),
    NonUrgent("earache",
              "Earache with a cold is common and often improves within a few days. Simple painkillers as the label "
              "says and a warm cloth over the ear can help. See a doctor if it lasts more than three days, if there "
              "is discharge, hearing loss, a high fever, or swelling behind the ear.",
              ["I have a mild earache with my cold",
               "my 6 year old says her ear hurts a bit, she has a runny nose"]),
    NonUrgent("sore muscles after running",
              "Aching in both legs a day or two after a hard run is normal muscle soreness and eases within a few "
              "days. Gentle movement, stretching and rest help. See a doctor if one calf becomes swollen, red, warm "
              "or painful, or the pain does not improve.",
              ["both my calves ache after the half marathon yesterday",
               "sore legs two days after starting a new running plan"]),
    NonUrgent("night leg cramps",
              "Night-time leg cramps are common and usually harmless. Stretching the calf before bed and when the "
              "cramp comes, and staying active, can help. See a doctor if they are frequent, disturb sleep often, or"
              " started after a new medicine.",
              ["I wake up with cramp in my calf some nights",
               "painful leg cramps at night that go after stretching"]),
    NonUrgent("ate mouldy bread",
              "Eating a bite of mouldy bread by accident usually causes no problems, or at most a mild upset "
              "stomach. Drink some water and carry on as normal. See a doctor if you develop vomiting or diarrhoea "
              "that does not settle, or if you have a weakened immune system or a mould allergy and feel unwell.",
              ["I accidentally ate a bite of bread with a bit of mould on it",
               "my son ate some mouldy bread before I noticed, he feels fine"]),
    NonUrgent("swallowed chewing gum",
              "Swallowing a piece of chewing gum is harmless and it passes through the gut on its own. There is "
              "nothing you need to do. See a doctor only if a child swallows a lot of gum often and becomes "
              "constipated or has tummy pain.",
              ["my 7 year old swallowed her chewing gum",
               "I accidentally swallowed my gum, is that bad"]),
    NonUrgent("splinter",
              "A small splinter can usually be removed at home: wash your hands and the area, then use clean tweezers "
              "to pull it out in the direction it went in, and clean and cover the skin. See a doctor if it is deep, "
              "under a nail, very painful, or the area becomes red, swollen or pus-filled.",
              ["I have a small wooden splinter in my finger",
               "my son has a splinter in his palm from the fence"]),
    NonUrgent("mild food reaction",
              "Bloating and loose stools after certain foods, with no swelling of the lips or throat and no "
              "breathing problems, is often a food intolerance rather than an allergy. A food and symptom diary can "
              "help find the trigger. See a doctor if it keeps happening, if you lose weight, or if there is blood "
              "in the stool.",
              ["I get bloated and gassy after milk, no rash or swelling",
               "my stomach gets upset after eating onions and garlic"]),
]

HEDGES = [
    ("", ""),
    ("What should I do?", ""),
    ("Do I need to see a doctor?", ""),
    ("Is this serious?", "This is usually not serious."),
    ("Should I be worried?", "This is usually not a cause for worry."),
    ("Should I go to the emergency room?", "This can usually be looked after at home."),
    ("can I treat this at home?", "This can usually be looked after at home."),
]

VARIANTS_PER_PHRASING = 2   # each red-flag phrasing with this many different hesitations and people
CONTROL_VARIANTS = 4        # more per control phrasing: at least as many controls as red flags
CASUAL_SHARE = 0.3          # share of messages typed casually (lower case, no apostrophes)


def _people(rng: random.Random, phrasing: str, count: int) -> list[str]:
    if "{who}" not in phrasing:
        return [phrasing] * count
    return [phrasing.format(who=who) for who in rng.sample(WHO, count)]


def urgent_answer(item: Urgent, reply_to_hedge: str) -> str:
    """The referral first, then the answer to any hesitation, why it matters, what to do while waiting."""
    return join(REFERRALS[item.referral], reply_to_hedge, item.why, "While you wait: " + item.meanwhile[0].lower()
                + item.meanwhile[1:])


def _examples(items, pool, count: int, seed: int, urgent: bool, answer) -> list[dict]:
    """`count` variants of every phrasing: a person and a hesitation from `pool`, answered by answer(item, reply)."""
    rows = []
    for item in items:
        rng = random.Random(f"{seed}/triage/{item.topic}")
        for i, phrasing in enumerate(item.phrasings):
            hedges = rng.sample(pool, count)
            for v, (body, (ask, reply)) in enumerate(zip(_people(rng, phrasing, count), hedges)):
                rows.append({"id": f"triage/{item.topic}/{i}/{v}".replace(" ", "_"),
                             "question": message(body, ask, rng, CASUAL_SHARE),
                             "answer": answer(item, reply), "topic": item.topic, "urgent": urgent})
    return rows


def triage_examples(seed: int = 1234) -> list[dict]:
    """Urgent and non-urgent (user message, answer) examples; the same seed gives the same list."""
    return (_examples(URGENT, HESITATIONS, VARIANTS_PER_PHRASING, seed, True, urgent_answer)
            + _examples(NON_URGENT, HEDGES, CONTROL_VARIANTS, seed, False, lambda item, reply: join(reply, item.answer)))
