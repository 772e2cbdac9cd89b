"""English nickname -> formal first name map used by first-name canonicalisation.

Keys and values are already in `matching.standardize.name()` form (lowercase ASCII, no
punctuation), so the lookup is a plain dict hit after name cleaning.

Deliberately conservative: a nickname that is just as often a given name in its own right
(jack, harry, molly, liam, jamie, frank) or that points at several equally common formal
names (al, pat, jo, terry, bert) is left out, because mapping it would merge people who
merely share a short name. A few high-volume gender-ambiguous short forms (alex, sam,
chris) are kept and mapped to the more common formal form; gender is compared separately
during matching, so the occasional wrong expansion costs little.
"""

from __future__ import annotations

_FORMAL_TO_NICKNAMES: dict[str, tuple[str, ...]] = {
    "william": ("bill", "billy", "will", "willy", "willie"),
    "robert": ("bob", "bobby", "rob", "robbie", "robby"),
    "elizabeth": ("liz", "lizzie", "lizzy", "beth", "betty", "bette", "betsy", "libby"),
    "katherine": ("kate", "katie", "katy", "kathy", "cathy", "kath", "cath", "kat"),
    "richard": ("rick", "ricky", "rich", "richie", "dick"),
    "james": ("jim", "jimmy"),
    "john": ("johnny",),
    "jonathan": ("jon", "jonny"),
    "michael": ("mike", "mikey", "mick", "micky", "mickey"),
    "thomas": ("tom", "tommy"),
    "joseph": ("joe", "joey"),
    "charles": ("charlie", "chuck", "chas"),
    "edward": ("ed", "eddie", "eddy", "ted", "teddy", "ned"),
    "anthony": ("tony",),
    "daniel": ("dan", "danny"),
    "david": ("dave", "davy"),
    "stephen": ("steve", "stevie"),
    "matthew": ("matt", "matty"),
    "andrew": ("andy", "drew"),
    "christopher": ("chris",),
    "nicholas": ("nick", "nicky"),
    "benjamin": ("ben", "benny"),
    "samuel": ("sam", "sammy"),
    "alexander": ("alex", "alec"),
    "gregory": ("greg",),
    "timothy": ("tim", "timmy"),
    "peter": ("pete",),
    "patrick": ("paddy",),
    "kenneth": ("ken", "kenny"),
    "ronald": ("ron", "ronnie"),
    "donald": ("don", "donnie"),
    "douglas": ("doug",),
    "gerald": ("gerry",),
    "lawrence": ("larry",),
    "raymond": ("ray",),
    "philip": ("phil",),
    "frederick": ("fred", "freddie", "freddy"),
    "henry": ("hank",),
    "leonard": ("len", "lenny"),
    "vincent": ("vince", "vinny"),
    "walter": ("walt", "wally"),
    "arthur": ("art",),
    "gabriel": ("gabe",),
    "bradley": ("brad",),
    "jacob": ("jake",),
    "joshua": ("josh",),
    "zachary": ("zach", "zack"),
    "jennifer": ("jen", "jenn", "jenny"),
    "margaret": ("maggie", "meg", "peggy", "marge", "margie"),
    "deborah": ("deb", "debbie", "debby"),
    "susan": ("sue", "susie", "suzy"),
    "patricia": ("patty", "trish", "tricia"),
    "victoria": ("vicky", "vicki", "tori"),
    "rebecca": ("becky", "becca"),
    "jessica": ("jess", "jessie"),
    "abigail": ("abby", "abbie"),
    "barbara": ("barb", "babs"),
    "dorothy": ("dot", "dottie"),
    "kimberly": ("kim",),
    "stephanie": ("steph",),
    "pamela": ("pam",),
    "cynthia": ("cindy",),
    "amanda": ("mandy",),
    "judith": ("judy",),
    "josephine": ("josie",),
    "angela": ("angie",),
    "isabella": ("bella",),
    "valerie": ("val",),
}

NICKNAMES: dict[str, str] = {
    nick: formal for formal, nicks in _FORMAL_TO_NICKNAMES.items() for nick in nicks
}
"""nickname -> formal first name (both in name() form)."""
