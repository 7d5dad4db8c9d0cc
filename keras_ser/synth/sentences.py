"""The texts the synthetic speakers read: emotionally neutral, 1-3 s when spoken.

Content is kept neutral on purpose, as in Emo-DB and SAVEE's common
sentences: the emotion must be carried by prosody, never by the words, and
every speaker reads the same texts in every emotion so text is no label cue.
"""

ENGLISH = (
    "The book is on the kitchen table.",
    "She walked to the station this morning.",
    "We will meet again on Thursday.",
    "The window in the hall was open.",
    "He bought two tickets for the train.",
    "The meeting starts at half past nine.",
    "My brother lives near the river.",
    "They painted the fence last summer.",
    "The letter arrived a day early.",
    "Please put the boxes by the door.",
    "The car is parked behind the house.",
    "I think it will rain tomorrow.",
    "Her office is on the second floor.",
    "The shop closes at six tonight.",
    "He left his keys on the counter.",
    "We talked about it on the phone.",
    "The children played in the garden.",
    "You can take the blue folder.",
    "The bus was ten minutes late.",
    "They moved to a new apartment.",
)

# Emo-DB's ten text codes (a01 ... b10) with sentences of our own.
GERMAN = {
    "a01": "Der Schlüssel liegt auf dem Tisch.",
    "a02": "Wir fahren morgen in die Stadt.",
    "a04": "Das Fenster im Flur ist offen.",
    "a05": "Sie hat den Brief schon gelesen.",
    "a07": "Der Zug kommt um acht Uhr an.",
    "b01": "Die Kinder spielen draußen im Garten.",
    "b02": "Er hat die Kisten in den Keller getragen.",
    "b03": "Am Montag beginnt das neue Semester.",
    "b09": "Das Auto steht hinter dem Haus.",
    "b10": "Ich habe das Buch in die Tasche gesteckt.",
}
