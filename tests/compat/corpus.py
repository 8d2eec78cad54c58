"""A small text corpus written for these tests (no third-party text)."""

NAMES = """
ada alan alba alder amos anna arlo asa astrid aurel bela bram bruno cala cara cleo colm cora dara
dina edda edie elan elio ella elsa emil emma enzo ezra fern finn flora freya gala gert greta hana
hedda hugo ida ilse ines iris ivan jana jonas juno kai kara karl kira lars lena leo lina lisa lotta
luca luna mara marek mia milo mina nadia nell nico nils nina noor olga ola oren otto pavel petra
rafa rita roan rosa runa sami sara selma sina sofi stig tara teo tilda tomas una ulla vera vida
wren yara yves zara zeno
""".split()

TEXT = (
    "the small model reads the text one letter at a time and learns which letter comes next. "
    "it sees the same words again and again, so the loss falls as it learns the common pairs. "
    "a larger model would read more text, but the idea is the same: predict the next letter. "
) * 3
