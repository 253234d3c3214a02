"""Key-aware spelling for the ABC writer (`tokenization.abc_writer`): which letter and
accidental a sounding pitch is written with in a key (`chromatic_spelling` for the notes outside
its scale), and the bar-scoped accidental state that decides when a note says its accidental
(`Speller`)."""

from __future__ import annotations

from .keys import LETTER_PC, Key

# the writer's helpers (`abc_writer`), shared with it by name
__all__ = ["ACC_TEXT", "Speller", "chromatic_spelling"]

#: The ABC text of an accidental, by its alteration in semitones
ACC_TEXT = {-2: "__", -1: "_", 0: "=", 1: "^", 2: "^^"}
_LETTERS = "CDEFGAB"


def _misread_letters(key: Key) -> set[str]:
    """Letters on which every note is written with its accidental because music21 (10.x) would
    misread the key line: it reads a locrian ``K:`` (``K:Aloc``) as the tonic's major key, so on
    the letters where the two signatures differ each note says what it is (``=F``, ``_B``); ABC
    2.1 readers, abc2midi and ours read the same notes either way.

    >>> sorted(_misread_letters(Key("A", "locrian"))), _misread_letters(Key("A", "dorian"))
    (['B', 'C', 'E', 'F', 'G'], set())
    """
    if key.mode != "locrian":
        return set()
    major = Key(key.tonic, "major").accidentals
    return {letter for letter in _LETTERS if major[letter] != key.accidentals[letter]}


#: Scale-degree letter (0 = the tonic's letter) of a note outside the scale, by its semitones
#: above the tonic (0..11), in modes with a minor third (minor, dorian, phrygian, locrian): the
#: 2nd, 3rd, 6th and 7th lowered, the 4th raised (b2 b3 #4 b6 b7), the parallel minor's notes
_MINOR_THIRD_DEGREES = (0, 1, 1, 2, 2, 3, 3, 4, 5, 5, 6, 6)
#: The same in modes with a major third (major, lydian, mixolydian): the tonic and the 5th raised,
#: as leading notes to the 2nd and 6th (#1 b3 #4 #5 b7)
_MAJOR_THIRD_DEGREES = (0, 0, 1, 2, 2, 3, 3, 4, 4, 5, 6, 6)
_MAJOR_THIRD_MODES = frozenset({"major", "lydian", "mixolydian"})


def chromatic_spelling(key: Key, pc: int) -> tuple[str, int]:
    """Letter and alteration (-1, 0 or +1) of pitch class ``pc`` outside the scale of ``key``,
    spelled by its interval above the tonic (the music's sense of it), not by the sign of the
    key signature: a raised 4th and a leading note are sharps even in a flat key (``^c`` in D
    minor, ``^F`` in G minor), a lowered 7th a flat even in a sharp key (``_B`` in G major).

    Which notes are raised and which lowered follows the mode's third, the choice that spells
    O'Neill's and Ryan's most often as their engravers did (music21's copies, written back in
    their own keys: 64 of 3,059 tunes spell a chromatic note unlike the book, 224 with the
    sign-of-the-signature rule and 285 with the harmonic chromatic scale, b2 b3 #4 b6 b7, in
    every mode): major-third modes raise the tonic and the 5th (``^D`` in D major, leading to
    E; ``^A`` in D major) and lower the 3rd and 7th (``=F``, ``=C``: the "blue" notes of
    Irish music); minor-third modes lower the 2nd and 6th (``_B`` in D dorian) and raise the
    4th. The raised 3rd, 6th and 7th of a minor mode (``^c`` in A minor, ``^F`` in A minor)
    fall on those degrees' letters. A spelling that would need a double sharp or flat (the
    raised 4th of C# major, F double sharp) takes the next letter, single accidental: ``G``.

    >>> chromatic_spelling(Key("D", "minor"), 1), chromatic_spelling(Key("G", "major"), 10)
    (('C', 1), ('B', -1))
    >>> chromatic_spelling(Key("D", "major"), 3), chromatic_spelling(Key("D", "dorian"), 10)
    (('D', 1), ('B', -1))
    >>> chromatic_spelling(Key("C#", "major"), 7), chromatic_spelling(Key("Eb", "major"), 11)
    (('G', 0), ('B', 0))
    """
    degrees = _MAJOR_THIRD_DEGREES if key.mode in _MAJOR_THIRD_MODES else _MINOR_THIRD_DEGREES
    index = _LETTERS.index(key.tonic[0]) + degrees[(pc - key.tonic_pc) % 12]
    letter = _LETTERS[index % 7]
    alt = (pc - LETTER_PC[letter] + 6) % 12 - 6  # in -6..5; -1..1 but past a double accidental
    if abs(alt) > 1:  # F## -> G, E## -> F#, Bbb -> A: one letter on, towards the accidental
        letter = _LETTERS[(index + (1 if alt > 0 else -1)) % 7]
        alt = (pc - LETTER_PC[letter] + 6) % 12 - 6
    return letter, alt


class Speller:
    """Key-aware spelling with bar-scoped accidental state. Once a letter has had an accidental
    in a bar, every later note of that letter in the bar, in any octave, is written with its
    own (``^c=C``, ``=B=B``): the text reads the same under each ``propagate-accidentals`` rule
    (ABC 2.1's default carries an accidental to every octave, abcjs's to one) and in music21,
    which carries none."""

    def __init__(self, key: Key) -> None:
        self.change_key(key)
        self.reset_bar()
        self.carry: dict[int, int] = {}  # natural pitch -> pitch carried by a tie
        self.next_carry: dict[int, int] = {}
        self.group: list[tuple[int, int]] = []  # (natural, pitch) of the last note or chord

    def start_group(self) -> None:
        """A new note or chord begins: ties written before it now apply."""
        self.carry, self.next_carry, self.group = self.next_carry, {}, []

    def tie(self, all_chord: bool) -> None:
        """A tie after the last note (or after the whole last chord)."""
        for nat, pitch in self.group if all_chord else self.group[-1:]:
            self.next_carry[nat] = pitch

    def change_key(self, key: Key) -> None:
        """Spell the notes from here on in ``key`` (a mid-tune ``[K:]``). The letters that had an
        accidental in the bar keep writing theirs: the reader drops them with the old key, and
        other readers may not."""
        self.key = key
        self.sig = key.accidentals
        self.always_marked = _misread_letters(key)

    def reset_bar(self) -> None:
        """A new bar begins: no letter has had an accidental in it yet."""
        self.touched: set[str] = set()  # letters that had an accidental in this bar

    def spell(self, pc: int) -> tuple[str, int]:
        """Letter and alteration for a pitch class: the key signature's spelling of a note of the
        scale, else `chromatic_spelling`."""
        for letter in _LETTERS:
            if (LETTER_PC[letter] + self.sig[letter]) % 12 == pc:
                return letter, self.sig[letter]
        return chromatic_spelling(self.key, pc)

    def note(self, pitch: int) -> str:
        """ABC text of a note (without its length); updates the bar state."""
        letter, alt = self.spell(pitch % 12)
        nat = pitch - alt
        carried = self.carry.get(nat)
        bare = nat + self.sig[letter] if carried is None else carried  # an untouched letter's
        explicit = bare != pitch or letter in self.touched or letter in self.always_marked
        if carried is not None and alt != self.sig[letter]:
            explicit = True  # readers differ on ties across bars: say it
        acc = ""
        if explicit:
            acc = ACC_TEXT[alt]
            self.touched.add(letter)
        octave = nat // 12 - 5
        name = letter.lower() + "'" * (octave - 1) if octave >= 1 else letter + "," * -octave
        self.group.append((nat, pitch))
        return acc + name
