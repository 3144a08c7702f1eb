"""The complaint detector's word lists: data only, read by reputation.signals.

Written for this project to be general across industries (docs/scoring.md explains each
signal): waiting, failures, money, demands addressed to the brand, sarcasm, negated praise,
emoji and hashtags. Escalation and category words live in reputation.categories. Forms are
listed out: a dict lookup is far faster than stemming or regular expressions, and the scorer
must keep up with plain VADER.
"""

from __future__ import annotations

# Single words -> the signal they feed.
WORDS: dict[str, str] = {
    "failure": """delay delayed delays delaying late cancel cancelled canceled
        cancellation cancellations cancelling canceling lost missing broken broke damaged
        missed overbooked bumped diverted stranded stuck error errors crash crashed crashing
        crashes outage down glitch glitches bug bugs buggy fail failed failing fails failure
        problem problems issue issues declined denied refused wrong defective faulty leaking
        leak cold undelivered unusable disconnected dropped frozen freezes broken-down
        unreachable unavailable expired overcharged refuses refusing bricked double-charged keeps
        kept stopped fell
        smashed scratched scratch dented botched shoddy loose mould mold dirty filthy burst
        reverted duplicated double-booked bounced lag laggy unplayable glitchy slow slowest
        disconnects incorrect mistake mistakes half incomplete unusable 404 outdated""",
    "waiting": """wait waiting waited hold holding queue queued forever since hours hrs
        minutes mins days weeks ages""",
    "money": """refund refunds refunded charge charged charges charging fee fees money
        compensation voucher reimburse reimbursement reimbursed paid pay paying bill billed
        billing overcharge price deposit dispute chargeback""",
    "service": """service support agent agents staff employee employees rep reps supervisor
        manager phone call called calling email emailed dm dms chat website app site online
        hotline helpline desk counter""",
    "strong_negative": """worst terrible horrible awful ridiculous unacceptable disappointed
        disappointing disappointment frustrated frustrating frustration annoyed annoying
        pathetic useless incompetent rude unprofessional disgusted disgusting joke shameful
        embarrassing furious angry upset sucks suck poor bad mess nightmare hate hated
        appalling atrocious shocking outrageous livid fuming scam ripoff clueless
        inexcusable worthless unhelpful garbage trash dreadful ugh smh wtf ffs sigh fml jeez
        unbelievable ruined wasted waste ruining ruin ruins clowns clown circus disgraceful
        disgrace rubbish shambles shambolic amateurs amateur cowboys abysmal diabolical dire
        horrendous crap crappy shite shit f*** f***ing gutted shame""",
    "demand": """why fix explain answer respond reply asap seriously urgent urgently
        immediately sort""",
    # Asking for help is as common in plain service requests as in complaints.
    "request": """please pls plz help""",
    # A problem already dealt with: "thanks for fixing the leak so quickly".
    "resolved": """fixed fixing sorted sorting resolved replaced replacing quickly promptly
        swiftly speedy painless""",
    "praise": """thanks thank thx ty appreciate appreciated love loved loving great awesome
        amazing best excellent kudos wonderful perfect happy glad fantastic brilliant
        impressed smooth helpful friendly lovely cheers legend legends shoutout superb
        outstanding stellar easiest quickest seamless flawless spotless recommend recommended
        faultless favourite favorite gorgeous delicious beautiful hero lifesaver smoothest
        fastest genius gem comfy comfortable""",
    # News, offers and competitions about the brand (with "RT @..." and #giveaway tags).
    "broadcast": """giveaway competition podcast headline""",
    "inquiry": """wondering question curious info information possible""",
    "repeat": """again still yet another twice already""",
    "nobody": """nobody noone nothing never none""",
    # Bad states and outcomes in any industry, less certain than a failure on their own.
    "trouble": """soggy stale lukewarm raw undercooked overcooked burnt inedible mush mushy
        melted spilled spilt squashed crushed rotten mouldy moldy greasy torn ripped stained
        cracked shattered bent snapped peeling faded shrunk vanished disappeared deleted
        wiped erased locked blocked suspended unresponsive overheating overheats draining
        throttled throttling buffering lagging rebooting reboots restarting restarts
        flickering ignored ignoring ignores ghosted excuses runaround misleading misled
        missold mis-sold overpriced extortionate hike hiked doubled tripled noisy smelly
        stinks stank uncomfortable humiliated humiliating cramped overcrowded impossible
        confusing worse nerfed downgraded tried anymore""",
    "laughing": """lol lmao lmfao haha hahaha rofl""",
    # "the free sauna, aka a car with no aircon": a sarcastic renaming.
    "sarcasm": """aka""",
}

# What was expected: with a contrast word it is a broken promise ("ordered oak, got white").
# These words count only there ("paid" is an expectation, not money).
EXPECTATIONS = """ordered booked paid advertised promised guaranteed supposedly apparently
    supposed meant expected says said claims claimed listed shows showed states quoted
    confirmed""".split()
CONTRASTS = """but instead only though although""".split()

# Failures that cannot be said to be absent: a customer tries and fails to do them ("can't
# cancel my subscription" is a failure, "never late" is none).
NOT_NEGATABLE = """cancel refund pay tried anymore""".split()
# Nouns that, after a negator, say a problem is absent ("no issues", "without any fuss").
ABSENT_PROBLEMS = """issue issues problem problems complaints fuss hassle""".split()

# Multi-word phrases (two or three words) -> signal.
PHRASES: dict[str, list[str]] = {
    "waiting": [
        "all day",
        "all night",
        "since yesterday",
        "since last",
        "all morning",
        "all afternoon",
        "all week",
        "all weekend",
        "days later",
        "weeks later",
        "on hold",
        "no answer",
        "no response",
        "no reply",
        "no update",
        "no updates",
        "still waiting",
        "still no",
        "still not",
        "haven't heard",
        "never heard",
        "no one",
        "no word",
        "any update",
    ],
    # Negated expectations ("not working", "never received") are found by _unmet.
    "failure": [
        "never came",
        "wrong order",
        "missed connection",
        "fell through",
        "had to",
        "forced to",
        "supposed to",
        "was told",
        "were told",
        "told me",
        "to no avail",
        "instead of",
        "only got",
        "only one",
        "only 1",
        "less than",
        "was meant",
        "were meant",
        "is meant",
        "was promised",
        "were promised",
        "without notice",
        "without warning",
        "without telling",
        "without asking",
        "without any",
        "no record",
        "black screen",
        "no signal",
        "zero bars",
        "0 bars",
        "no hot",
        "no power",
        "no water",
        "no internet",
        "every night",
        "every day",
        "every morning",
        "used to be",
    ],
    "service": ["customer service", "customer care", "customer support"],
    "demand": [
        "come on",
        "how come",
        "what's going on",
        "whats going on",
        "where is",
        "where's my",
        "when will",
        "do something",
        "sort it",
        "sort this",
        "get back to",
        "anyone there",
        "is anyone",
        "how is",
        "how does",
        "how are",
        "how did",
        "what's the point",
        "whats the point",
        "who is paying",
        "who's paying",
        "who pays",
        "where are",
        "so where",
        "so who",
        "are you serious",
        "are you kidding",
        "kidding me",
        "is this how",
        "this is how",
        "how you treat",
        "do better",
        "one job",
        "shame on",
        "get your act",
        "sort yourselves",
        "how many times",
        "how many more",
        "how much longer",
        "what happened",
        "what now",
        "not even",
        "can't even",
        "couldn't even",
    ],
    "praise": [
        "can't wait",
        "cant wait",
        "no worries",
        "no problem",
        "no complaints",
        "no problems",
        "shout out",
        "spot on",
        "nice one",
        "would recommend",
        "highly recommend",
        "nailed it",
        "changed my life",
        "deserves a",
        "looked back",
        "couldn't be easier",
        "looking forward",
        "well deserved",
        "pay rise",
        "not bad",
        "never disappoints",
        "never fails",
        "no issues",
        "couldn't be happier",
    ],
    "sarcasm": [
        "thanks for nothing",
        "thanks a lot",
        "great job",
        "so glad",
        "way to go",
        "just what i",
        "good job",
        "nice job",
        "nice work",
        "love how",
        "love when",
        "love that i",
        "love being",
        "love waiting",
        "great another",
        "great service not",
        "well done",
        "gotta love",
        "got to love",
        "what a joke",
        "just great",
        "just perfect",
        "oh great",
        "oh good",
        "real nice",
        "super helpful not",
        "at its finest",
        "highlight of",
        "so generous",
        "very generous",
        "really appreciate it",
        "what a surprise",
        "surprise surprise",
        "who knew",
        "thanks a bunch",
        "love it when",
        "love that my",
        "really made my",
        "made my week",
        "really adds",
        "so personal",
        "truly cutting",
        "very reassuring",
        "really impressive",
        "impressive how",
        "amazing how",
        "nice to see",
        "great touch",
        "great idea",
        "brilliant idea",
        "chef's kiss",
        "lol ok",
        "nice of you",
        "kind of you",
        "really enjoying",
        "oh wonderful",
        "oh brilliant",
        "oh lovely",
        "for the surprise",
    ],
    "request": ["call me", "dm me", "help me", "can you", "would you"],
    "inquiry": [
        "is there",
        "are there",
        "do you",
        "does the",
        "can i",
        "could you",
        "will there",
        "what time",
        "how much",
        "how many",
        "how long",
        "how do",
        "how can",
        "any news",
        "what is",
        "what's the",
        "has anyone",
        "anyone tried",
        "anyone know",
        "thinking of",
        "worth it",
        "should i",
    ],
    # A problem that has not happened: "what if my flight is delayed?", "in case it's lost".
    "hypothetical": [
        "what if",
        "what happens",
        "in case",
        "if my",
        "if the",
        "if i",
        "if it",
        "if there",
        "will my",
        "will the",
        "would it",
        "is it possible",
    ],
    # The poster takes it back: "ignore my last tweet, found it", "my fault, sorry".
    "retraction": [
        "my fault",
        "my bad",
        "ignore my",
        "never mind",
        "false alarm",
        "all along",
        "turned up",
        "just landed",
        "just arrived",
        "found it",
        "scrap my",
        "sorry for the",
        "all good",
        "all fine",
        "all sorted",
        "turns out",
        "turned out",
        "about to complain",
        "about to moan",
        "going to complain",
        "thought i'd",
        "nothing to report",
        "in a good",
        "just venting",
        "nothing to do",
        "not your fault",
    ],
    "repeat": [
        "yet again",
        "once again",
        "for the second",
        "for the third",
        "every time",
        "third time",
        "second time",
    ],
}

NEGATORS = """not never no isn't wasn't aren't weren't don't didn't doesn't hasn't haven't
    hadn't won't can't cannot couldn't unable""".split()
# What a customer expected and did not get: "hasn't arrived", "never received", "can't log".
UNMET = """arrive arrived arriving receive received get got gotten work works working worked
    show showed shown respond responded answer answered reply replied refund refunded deliver
    delivered load loads loading call called log login sign connect connected help helped
    fix fixed send sent process processed update updated open opens access pay paid
    credited cancelled canceled returned heard""".split()
# Praise that a negator turns into a complaint: "not happy", "wasn't (very) helpful".
PRAISE_NEGATABLE = """happy impressed good great helpful pleased ok okay acceptable satisfied
    fun nice friendly worth working professional fair fast stable comfortable premium instant
    usable clean safe reliable quick easy included correct right accurate thrilled
    cheap""".split()
INTENSIFIERS = """very so too really that at all""".split()

NEGATIVE_EMOJI = "😡😠🤬😤😒🙄👎💩😭😢😩😫😞😟😑🤦😣😖💔🤮🙃🤡"
POSITIVE_EMOJI = "😀😃😄😁😊🙂😍🥰😘👍👏🙌🎉❤💙💚💜🧡💛✨🤩😎🙏"
LAUGHING_EMOJI = "😂🤣😅🙈"
# Parts of hashtags: #unitedfail, #neveragain, #cantwaittowin.
PROMO_HASHTAG_PARTS = """giveaway win competition contest sweepstake promo sale""".split()
NEGATIVE_HASHTAG_PARTS = """fail worst never sucks disappoint fml nothappy unacceptable ripoff
    shame notcool joke frustrat angry boycott scam help broken delay cancel lost refund poor
    bad awful""".split()

# A thing that will not, cannot or does not do what it should: "won't switch on", "can't log
# in", "doesn't charge". After one of these the next verb is a failure, whatever the verb.
FUNCTION_NEGATORS = """won't wont can't cant cannot couldn't doesn't doesnt don't dont wouldn't
    wouldnt""".split()
# The same with "not" as its own word: "will not load", "does not turn on".
FUNCTION_AUXILIARIES = """will can does do would""".split()
# Verbs after which the negation is an idiom or an opinion, not a failure: "can't wait",
# "can't fault them", "didn't know", "won't regret it", "doesn't disappoint".
NOT_FUNCTIONS = """wait believe thank recommend complain fault beat imagine say tell stop help
    resist deny argue remember forget decide choose miss care mind matter hurt go get be have
    know understand think realise realize expect mean like love enjoy hate want need agree
    afford make sleep live praise rate speak trust blame regret disappoint fail suck
    see""".split()
# Words skipped between the negator and its verb: "won't even open", "doesn't really work".
ADVERBS = """even really just actually properly always ever still seem seems""".split()
# Words that show who the post speaks to or about: the brand addressed in the second person.
SECOND_PERSON = """you your you're youre yours ur u y'all yall you've you'd you'll ya""".split()
# What a company handles for a customer: "my order", "our booking" beside a problem points
# the problem at whoever handles it.
TRANSACTIONS = """order orders package parcel delivery booking reservation refund account
    subscription bill invoice ticket tickets flight bag bags luggage claim payment plan
    contract policy""".split()
# Closed-class words: a question made only of these ("why?", "really??", "hello?") asks
# nothing; it is rhetorical.
FUNCTION_WORDS = """why how what who where when really seriously honestly hello anyone
    anybody is are was were do does did can could will would should this that it so then
    again now yet huh eh ok okay wtf you your me i we us they the a an and or but not no
    on earth going""".split()

# How harsh a complaint is (reputation/severity.py), above a plain fault report. An
# accusation says the brand did wrong on purpose or without care; blame holds it answerable
# for the harm.
ACCUSATION_WORDS = """lied lying liar liars lies scam scams scammed scammers scamming fraud
    frauds fraudulent fraudsters stole steal stealing steals thief thieves theft cheat cheated
    cheating cheats robbed robbing robbery extortion extort misled mislead misleading deceived
    deceive deceptive deceiving dishonest negligent negligence criminal criminals crooks crooked
    conned ripoff rip-off""".split()
ACCUSATION_PHRASES = """ripped off|rip off|false advertising|bait and switch|lied to|took my
    money|kept my money|pocketed""".replace("\n    ", " ").split("|")
BLAME_PHRASES = """your fault|their fault|you ruined|ruined my|ruined our|because of you|thanks
    to you|you people|shame on you|should be ashamed|blame you|you're responsible|you are
    responsible|hold you responsible|held responsible|accountable|you did this|you caused|you
    broke|you've ruined|you have ruined""".replace("\n    ", " ").split("|")
# Failures a brand does to a customer: "you lost", "they cancelled", "you charged me".
# With the second person or the brand as their subject, a report becomes an accusation.
ACTS = """lost lose losing cancelled canceled cancel broke broken damaged charged overcharged
    double-charged ignored ignore refused refuse denied deny declined blocked suspended
    banned cut sold kept stranded bumped misplaced forgot forgotten destroyed ruined
    wrecked""".split()
# Said after "but": the problem is small beside it ("slow but working", "late but lovely").
MITIGATIONS = """working works worked fine ok okay usable bearable manageable decent good great
    lovely nice friendly helpful comfortable clean tasty worth""".split()
