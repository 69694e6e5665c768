"""Where the strict answer markers sit in a response: ``####``, ``\\boxed{``, ``<answer>``,
"the answer is", "Final Answer:", "Answer:", "A:", and the answer words of other languages.

Split from answers.py to keep each module small. Marker words are found with str.rfind (fast,
bounded by _FIND_LIMIT from the end); short anchored regexes then check the characters around them.
"""

from __future__ import annotations

import re

_FIND_LIMIT = 64
_FOREIGN_SCAN = 8192  # other languages' answer words are looked for this far from the end
_AFTER_IS = re.compile(r"[ \t]{1,3}(?:is|would[ \t]be|will[ \t]be)(?![a-z])")
_COLON_AFTER = re.compile(r"(?:\*\*)?[ \t]{0,3}[:\uff1a]")
_LINE_START_BEFORE = re.compile(r"(?:^|\n)[ \t]{0,8}(?:\*\*)?$")
_FINAL_BEFORE = re.compile(r"final[ \t]{1,3}$")
# "Réponse : 42", "Respuesta final: 42", "Antwort: 42", "Ответ: 42", "答案" with a colon (ASCII or
# full-width), "答案是 42", "答えは42".
# Read like "Answer:": the answer after the marker beats a later incidental number.
_FOREIGN_ANSWER = re.compile(
    r"(?:r[\u00e9e]ponse|respuesta|resposta|risposta|antwort|\u043e\u0442\u0432\u0435\u0442"
    r"|\u7b54\u6848|\u7b54\u3048|\uc815\ub2f5)(?:[ \t]{1,2}final[ea]?)?"
    r"(?:\*\*)?[ \t\u3000]{0,3}(?:[:\uff1a]|\u662f|\u4e3a|\u70ba|\u306f)"
)


def _has_foreign_marker(low: str) -> bool:
    # Substring checks (fast C scans) first: the regex runs only on a likely hit.
    for word in ("reponse", "respuesta", "resposta", "risposta", "antwort"):
        if word in low:
            return True
    if low.isascii():
        return False
    return any(word in low for word in ("r\u00e9ponse", "\u7b54", _OTVET, "\uc815\ub2f5"))


_OTVET = "\u043e\u0442\u0432\u0435\u0442"


def _lowered(text: str) -> str:
    low = text.lower()
    if len(low) != len(text):  # U+0130 is the one character whose lower() grows
        low = text.replace("\u0130", "i").lower()
    return low


def _rfind_all(low: str, word: str) -> list[int]:
    positions: list[int] = []
    end = len(low)
    while len(positions) < _FIND_LIMIT:
        end = low.rfind(word, 0, end)
        if end < 0:
            break
        positions.append(end)
    return positions


def _find_markers(text: str) -> list[tuple[int, str, int]]:
    """(position, marker name, where its answer starts) for each candidate strict marker."""
    low = _lowered(text)
    found: list[tuple[int, str, int]] = []
    if "####" in low:  # `in` checks first: most responses carry one or two marker kinds
        found += [(i, "####", i + 4) for i in _rfind_all(low, "####")]
    for word in ("\\boxed", "\\fbox") if "\\" in low else ():
        for i in _rfind_all(low, word):
            j = i + len(word)
            while j < len(low) and j < i + len(word) + 3 and low[j] in " \t":
                j += 1
            if low.startswith("{", j):
                found.append((i, "boxed", j + 1))
    for i in _rfind_all(low, "answer") if "answer" in low else ():
        end = i + 6
        if low.startswith(">", end) and low.startswith("<", i - 1):
            found.append((i - 1, "answer_tag", end + 1))
        elif m := _AFTER_IS.match(low, end):  # "the (final) answer is", "answer is"
            found.append((i, "the_answer_is", m.end()))
        elif _FINAL_BEFORE.search(low, max(0, i - 10), i):
            found.append((i, "final_answer", end))
        elif m := _COLON_AFTER.match(low, end):
            found.append((i, "answer_colon", m.end()))
    for word in ("a:", "a\uff1a") if "a:" in low or "a\uff1a" in low else ():
        for i in _rfind_all(low, word):
            if _LINE_START_BEFORE.search(low, max(0, i - 12), i):
                found.append((i, "a_colon", i + 2))
    # Another language's marker only matters after the last one found so far (the last wins).
    scan_from = max(len(low) - _FOREIGN_SCAN, 0)
    if found:
        scan_from = max(scan_from, max(found)[0])
    # A short tail (the usual case: the last marker sits near the end) goes straight to the regex.
    if len(low) - scan_from < 64 or _has_foreign_marker(low[scan_from:] if scan_from else low):
        foreign = [
            (m.start(), "answer_colon", m.end()) for m in _FOREIGN_ANSWER.finditer(low, scan_from)
        ]
        found += foreign[-_FIND_LIMIT:]
    found.sort(reverse=True)
    return found


