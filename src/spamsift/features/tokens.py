"""ParsedMessage -> namespaced tokens, the evidence a score is made of.

Every token carries the source it came from (``subj:free``, ``from_dom:example.com``,
``url_host:bit.ly``), so that words from different places never collide and the
clues behind a verdict read like evidence. Choices below each say why.
"""

from __future__ import annotations

import re

from spamsift.features.language import detect_language
from spamsift.features.links import is_ip_host, link_tokens
from spamsift.features.normalize import fold_obfuscation, normalise
from spamsift.features.scripts import (
    MARKS,
    UNSPACED_CHAR,
    UNSPACED_LETTERS,
    script_counts,
    segment,
    share_bin,
)
from spamsift.parse.message import ParsedMessage
from spamsift.parse.urls import url_host

try:
    from spamsift._speedups import latin1_word_tokens as _c_word_tokens
    from spamsift._speedups import latin1_words as _c_words
    from spamsift._speedups import typed_spans as _c_typed
except ImportError:  # built without a C compiler: the regexes and loops give the same
    _c_words = _c_word_tokens = _c_typed = None

__all__ = ["tokenize", "text_tokens", "header_tokens", "part_tokens", "host_suffixes"]

# How big should a word be? SpamBayes keeps 3-12 characters; past the maximum,
# words are encodings, hashes or hash-busters, kept only as a "skip" token of their
# first character and length decade. Measured here (5-fold CV (1-ROCA)% on the
# training parts, random / temporal split): 3-20 0.0354 / 0.0174, 3-12 0.0385 /
# 0.0188, 2-20 0.0331 / 0.0170. Kept 2-20.
# Later: what is a word in other scripts? Python's \w leaves out combining marks, so
# Hindi "हिन्दी" came out as the letters ह न द (all dropped, too short) and vocalised
# Arabic was cut at every vowel sign; a word may now hold marks (same words as
# before on 2,000 corpus bodies, and no slower). German compounds
# ("Haftpflichtversicherung", 23 letters; "Datenschutzgrundverordnung", 26) are
# words, not hash-busters: letter-only words up to 40 characters are kept whole when
# the body's language is one that compounds. Same CV figures (one spam either way at
# 0.1 % FPR: the corpus holds six German messages) with the rule for those languages,
# for every language, or for none (0.0293 / 0.0161, 0.0291 / 0.0161, 0.0292 /
# 0.0161); kept for compounding languages only, where English hash-busters stay
# skipped.
_MIN_WORD, _MAX_WORD = 2, 20
_COMPOUNDING = frozenset({"de", "nl", "sv", "da", "no", "nn", "is", "fo", "fi", "et",
                          "hu", "af", "lb", "fy"})
_MAX_COMPOUND = 40
# How much text? The first words say what the message is about; 3,000 covers
# nearly every corpus message whole and bounds the cost of a huge body.
_MAX_WORDS = 3000
# What are the words of Chinese, Japanese and Thai, written without spaces? The word
# pattern took a whole clause for one word: a "skip:" token past 20 characters, else
# a clause that never comes again. 41 bodies of the random training part are mostly
# Chinese characters (39 of them spam), 8 Japanese, 1 Thai.
# Runs of those scripts are cut into overlapping character pairs (scripts.segment;
# a Thai "character" keeps its vowel and tone marks), the dictionary-free indexing
# Lucene's CJK analyser uses. 5-fold CV, random / temporal training parts, (1-ROCA)%
# and spam missed at 0.1 % FPR (out of fold): before 0.0334 / 0.0183, 6.21 % / 3.12 %;
# pairs (with the word and look-alike changes, no language or script tokens) 0.0301 /
# 0.0172, 6.48 % / 3.53 %. Pairs and single characters: 0.0299 / 0.0157, 6.69 % /
# 3.33 %, against pairs alone (with the tokens below) 0.0293 / 0.0161, 6.35 % /
# 2.91 %: no better, a third more tokens; pairs only.
_UNSPACED_UNIGRAMS = False
# Which language, which scripts? "lang:CODE" (py3langid, features.language) and
# "script:NAME" with "script_share:NAME:PCT" (the share of the letters, to a quarter)
# for the body, "subj:script:NAME" for the subject. Same CV, without each: no
# language 0.0296 / 0.0168 (6.55 % / 3.53 %), no scripts 0.0295 / 0.0164, no shares
# 0.0293 / 0.0164 (6.42 % / 3.33 %), neither 0.0301 / 0.0172; with all 0.0293 / 0.0161
# (6.35 % / 2.91 %). Kept all; on this English corpus they are small, and they are
# what says "Chinese mail" to a model that meets some.
# How much text for the language? py3langid walks the text byte by byte in Python.
# Agreement with the language of the whole body (4,836 training bodies) and CPU per
# message: 150 bytes 97.9 %, 0.073 ms; 200 99.0 %, 0.083 ms; 300 99.5 %, 0.111 ms;
# 500 99.6 %, 0.156 ms (what differs is mostly lists of links and dates with no
# language in them; 50 Chinese characters once read as Cantonese). CV with 150 /
# 200 / 300 / 1,000 bytes: 0.0292 / 0.0164, 0.0291 / 0.0161, 0.0293 / 0.0161, 0.0292 /
# 0.0161: the corpus cannot tell them apart. Kept 200.
# Scripts are counted in the first 2,000 characters; under 20 letters, "lang:none".
_SCRIPT_HEAD = 2000
_LANG_BYTES = 200
_MIN_LANG_LETTERS = 20
# A word starts with a letter or digit and ends with a letter, digit or combining
# mark (see "Later" above).
_WORD = re.compile(rf"[^\W_][\w'$@!|.{MARKS}-]*(?<![_'$@!|.-])")
# The same, where the text holds letters of scripts written without spaces: a run of
# them is a match of its own, and no word runs into one ("iPhone降价").
_WORD_OR_RUN = re.compile(rf"[{UNSPACED_LETTERS}]+|[^\W_{UNSPACED_LETTERS}]"
                          rf"(?:[^\W{UNSPACED_LETTERS}]|['$@!|.{MARKS}-])*(?<![_'$@!|.-])")
_URLISH = re.compile(r"(?:https?://|ftp://|www\.)[^\s<>\"']{1,2048}", re.I)
_EMAIL = re.compile(r"[\w.+-]{1,64}@((?:[\w-]{1,63}\.){1,8}[a-z]{2,24})", re.I)
_MONEY = re.compile(r"[$€£¥]\s?\d[\d,]{0,15}(?:\.\d{1,2})?"
                    r"|\d[\d,]{0,15}(?:\.\d{1,2})?\s?(?:usd|dollars|euro)\b")
_PHONE = re.compile(r"(?:\+?1[\s.-]?)?\(?\d{3}\)?[\s.-]\d{3}[\s.-]\d{4}\b")
# One pass for URLs, money and phone numbers. The lookahead on possible first
# characters lets the engine skip most positions: 249 -> ~80 ms for 1,000 corpus
# bodies. Addresses are found from their '@' (a literal the engine searches for
# fast) and the local part is walked back by hand.
_TYPED = re.compile(r"(?=[hfw$€£¥\d(+])(?:" + "|".join(
    f"(?P<{name}>{rx.pattern})" for name, rx in (
        ("url", _URLISH), ("money", _MONEY), ("phone", _PHONE))) + ")", re.I)
#: The kinds of typed_spans (spamsift._speedups), in _TYPED's group order.
_TYPED_KINDS = ("url", "money", "phone")
_AT_DOMAIN = re.compile(r"@((?:[\w-]{1,63}\.){1,8}[a-z]{2,24})", re.I)
_LOCAL_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789._+-")
_NUMBER = re.compile(r"^\d[\d,.]*$")
_IP4 = re.compile(r"^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.\d{1,3}$")
_PRIVATE_IP = re.compile(r"^(?:10\.|127\.|192\.168\.|172\.(?:1[6-9]|2\d|3[01])\.)")


_BOUNDARY = re.compile(r"boundary\s*=\s*\"?([^\";\s]{1,100})", re.I)
_URL_WORD = re.compile(r"[a-z]{3,20}")
# Headers whose value (not only presence) is evidence: bulk senders set priorities
# and precedence that personal mail rarely does.
_VALUE_HEADERS = ("precedence", "x-priority", "x-msmail-priority", "importance",
                  "content-transfer-encoding", "mime-version", "x-mimeole")
_SHAPE_RUNS = re.compile(r"(.)\1+")
_SHAPE_TABLE = str.maketrans("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789",
                             "a" * 26 + "A" * 26 + "9" * 10)


def shape(text: str) -> str:
    """Letters to ``a``/``A``, digits to ``9``, runs squeezed: ``Ab12-x9`` -> ``Aa9-a9``."""
    return _SHAPE_RUNS.sub(r"\1", text[:80].translate(_SHAPE_TABLE))


def host_suffixes(host: str, depth: int = 3) -> list[str]:
    """``a.b.example.com`` -> ``example.com``, ``b.example.com`` (up to ``depth`` labels)."""
    parts = [p for p in host.split(".") if p]
    return [".".join(parts[-k:]) for k in range(2, min(depth, len(parts)) + 1)]


def _words(text: str, prefix: str, out: list[str], bigrams: bool,
           long_words: bool = False) -> None:
    """Word tokens of ``text``; ``long_words``: keep letter-only words up to _MAX_COMPOUND."""
    prev = ""
    # Text below U+0100 (nine in ten corpus bodies) holds no unspaced letters: its words
    # found, and the loop below run, in C where spamsift._speedups is built (the same
    # tokens, tests/features/test_tokens.py): 0.07 -> 0.02 ms a corpus body.
    words = _c_words(text) if _c_words is not None else None
    latin1 = words is not None
    unspaced = False
    if words is None:
        unspaced = not text.isascii() and UNSPACED_CHAR.search(text) is not None
        words = (_WORD_OR_RUN if unspaced else _WORD).findall(text)
    if len(words) > _MAX_WORDS:
        words = words[:_MAX_WORDS]
        out.append(f"{prefix}skip:many")
    if latin1:
        _c_word_tokens(words, out, prefix, bigrams, long_words, fold_obfuscation,
                       _MIN_WORD, _MAX_WORD, _MAX_COMPOUND)
        return
    n_pieces = 0
    for w in words:
        if unspaced and UNSPACED_CHAR.match(w):
            room = _MAX_WORDS - n_pieces
            if room > 0:
                # A unit is at most a few code points: cut a huge run before pairing it.
                pieces = segment(w[:4 * room + 4], _UNSPACED_UNIGRAMS)[:room]
                n_pieces += len(pieces)
                out.extend([prefix + p for p in pieces])
            prev = ""
            continue
        lw = len(w)
        if lw < _MIN_WORD:
            prev = ""
            continue
        if lw > _MAX_WORD and not (long_words and lw <= _MAX_COMPOUND and w.isalpha()):
            out.append(f"{prefix}skip:{w[0]}{lw // 10 * 10}")
            prev = ""
            continue
        # Plain ASCII words (most of them) can be neither numbers nor disguised.
        if not (w.isascii() and w.isalpha()):
            if _NUMBER.match(w):
                w = f"#num{min(lw, 9)}"
            else:
                folded = fold_obfuscation(w)
                if folded is not None:
                    out.append(f"{prefix}obf:{folded}")
                    out.append("obfuscated")
        out.append(prefix + w)
        if bigrams and prev:
            out.append(f"{prefix}bi:{prev} {w}")
        prev = w


def _scripts(text: str, prefix: str, out: list[str], shares: bool) -> int:
    """``script:NAME`` for each script with letters in ``text`` (and its binned share);
    returns the number of letters."""
    counts = script_counts(text)
    total = sum(counts.values())
    for name, n in counts.items():
        out.append(f"{prefix}script:{name}")
        if shares:
            out.append(f"{prefix}script_share:{name}:{share_bin(n, total)}")
    return total


def _typed(text: str, prefix: str, out: list[str]) -> str:
    """Pull URLs, money, phone numbers and addresses out as typed tokens."""
    if _c_typed is not None:
        # The same matches, found in C: the regex tried its look-ahead at every
        # position, a quarter of tokenising a corpus body.
        spans = _c_typed(text)
        if spans:
            cut: list[str] = []
            pos = 0
            for start, end, kind in spans:
                out.append(f"{prefix}{_TYPED_KINDS[kind]}")
                cut.append(text[pos:start])
                pos = end
            cut.append(text[pos:])
            text = " ".join(cut)
    else:
        def repl(m: re.Match[str]) -> str:
            out.append(f"{prefix}{m.lastgroup}")
            return " "

        text = _TYPED.sub(repl, text)
    if "@" not in text:
        return text
    pieces: list[str] = []
    pos = 0
    for m in _AT_DOMAIN.finditer(text):
        at = m.start()
        start = at
        while start > max(pos, at - 64) and (text[start - 1] in _LOCAL_CHARS
                                             or text[start - 1].isalnum()):
            start -= 1
        if start == at:  # "@" with no local part: not an address
            continue
        out.append(f"{prefix}email_dom:{m.group(1).lower()}")
        pieces.append(text[pos:start])
        pieces.append(" ")
        pos = m.end()
    pieces.append(text[pos:])
    return "".join(pieces)


def normalised_body(msg: ParsedMessage) -> tuple[str, int]:
    """The body text as tokens see it, and how many invisible characters it hid."""
    return normalise(msg.body_text[:200_000])


def text_tokens(msg: ParsedMessage, body: tuple[str, int] | None = None) -> list[str]:
    """Tokens of the subject and body text (``body``: from :func:`normalised_body`)."""
    out: list[str] = []
    text, n_inv = body if body is not None else normalised_body(msg)
    if n_inv:
        out.append(f"invisible:{min(n_inv.bit_length(), 8)}")
    text = _typed(text, "", out)
    head = text[:_SCRIPT_HEAD]
    if _scripts(head, "", out, shares=True) < _MIN_LANG_LETTERS:
        lang = "none"
    else:
        lang = detect_language(head.lstrip(), _LANG_BYTES)
    out.append(f"lang:{lang}")
    long_words = lang in _COMPOUNDING
    if msg.subject:
        subj, n_inv = normalise(msg.subject)
        if n_inv:
            out.append("subj:invisible")
        subj = _typed(subj, "subj:", out)
        _scripts(subj, "subj:", out, shares=False)
        _words(subj, "subj:", out, bigrams=True, long_words=long_words)
        # Punctuation runs in subjects ("!!!", "$$$") are a classic tell.
        for ch in "!$?%":
            if ch * 2 in subj:
                out.append(f"subj:run{ch}")
    # Body bigrams: same CV figures with and without (0.0354 / 0.0174), at 1.7x the
    # features; left out. Subject bigrams stay.
    _words(text, "", out, bigrams=False, long_words=long_words)
    out += part_tokens(msg)
    return out


# How much attachment text? Its words are namespaced by source ("pdf:invoice"), so an
# invoice in a PDF and one in the body are separate evidence. The first words of each
# part, _MAX_WORDS for all parts together, bound the cost of a message with many.
# Later: each word and link host is also made as the body's token ("invoice",
# "url_host:example.com"). A model trained on mail with few attachments (the
# SpamAssassin corpus: 2 of 6,046 messages yield attachment text) has weights for
# body words only, and text in a PDF or a picture is text: with the namespaced
# tokens alone, a phishing PDF or screenshot read nothing the model knew.
_MAX_PART_CHARS = 20_000


def part_tokens(msg: ParsedMessage) -> list[str]:
    """Tokens of the text extracted from attachments: ``SOURCE:part`` for each part,
    its words (``pdf:verify``), typed tokens (``pdf:url``, ``docx:money``) and the
    hosts of its links (``pdf:url_host:example.com``)."""
    out: list[str] = []
    words_left = _MAX_WORDS
    for part in msg.parts[:20]:
        prefix = f"{part.source}:"
        out.append(f"{prefix}part")
        if words_left > 0 and part.text:
            text, _ = normalise(part.text[:_MAX_PART_CHARS])
            text = _typed(text, prefix, out)
            before = len(out)
            _words(text[: 12 * words_left], prefix, out, bigrams=False)
            words = out[before:]
            out.extend(w[len(prefix):] for w in words)  # and as body words
            words_left -= len(words)
        for url in part.urls[:50]:
            host = url_host(url)
            if not host:
                continue
            hosts = ["ip"] if is_ip_host(host) else host_suffixes(host)
            out.extend(f"{prefix}url_host:{s}" for s in hosts)
            out.extend(f"url_host:{s}" for s in hosts)  # and as the body's links
    return out


def header_tokens(msg: ParsedMessage, site: bool = True) -> list[str]:
    """Tokens of the sender, the relays, the mailer, the MIME structure and URLs.

    ``site=False`` leaves out what names the receiving site rather than the mail: the
    recipients' domains and the relays (``to_dom:``, ``rcv_*``). A model meant for
    any site (the bundled one) is trained without them, so that one corpus's mail
    servers and addresses are not evidence at another; a site's own model learns
    its own. SpamAssassin corpus, nb+svm, (1-ROCA)% on the test rows (reported, not
    chosen on): random 0.0092 -> 0.0101, temporal 0.079 -> 0.079.
    """
    out: list[str] = []
    if msg.from_addr:
        out.append(f"from:{msg.from_addr}")
        for s in host_suffixes(msg.from_domain):
            out.append(f"from_dom:{s}")
    if msg.from_name:
        name, _ = normalise(msg.from_name)
        _words(name, "from_name:", out, bigrams=False)
        if msg.from_addr and msg.from_addr in name:
            out.append("from_name:is_addr")
    if msg.reply_to_addr:
        out.append(f"reply_dom:{msg.reply_to_domain}")
        if msg.reply_to_domain != msg.from_domain:
            out.append("reply_to:other_domain")
    n_to = len(msg.to_addrs)
    out.append(f"to_count:{min(n_to, 10) if n_to < 10 else '10+'}")
    for a in msg.to_addrs[:5] if site else ():
        out.append(f"to_dom:{a.rpartition('@')[2]}")
    out.append(f"received:{min(len(msg.received), 12)}")
    for hop in msg.received[:6] if site else ():
        for s in host_suffixes(hop.from_host, 2):
            out.append(f"rcv_from:{s}")
        for s in host_suffixes(hop.by_host, 2):
            out.append(f"rcv_by:{s}")
        if hop.protocol:
            out.append(f"rcv_with:{hop.protocol}")
        m = _IP4.match(hop.from_ip)
        if m and not _PRIVATE_IP.match(hop.from_ip):
            out.append(f"rcv_ip:{m.group(1)}.{m.group(2)}.{m.group(3)}")
    if msg.mailer:
        mailer, _ = normalise(msg.mailer)
        _words(mailer, "mailer:", out, bigrams=False)
    else:
        out.append("mailer:none")
    mid = msg.message_id.strip("<> ")
    if mid:
        local, at, dom = mid.rpartition("@")
        out.append(f"msgid_dom:{dom.lower()[:60]}" if at else "msgid:no_at")
        # Bulk mailers stamp ids of a recognisable shape ("9999.aaaa9999@..."), real
        # clients another; the shape survives the random parts changing.
        out.append(f"msgid_shape:{shape(local if at else mid)}")
    else:
        out.append("msgid:none")
    for ctype in msg.header("content-type")[:1]:
        m = _BOUNDARY.search(ctype)
        if m:
            out.append(f"boundary_shape:{shape(m.group(1))}")
    for name in _VALUE_HEADERS:
        for v in msg.header(name)[:1]:
            out.append(f"hv:{name}:{v.strip().lower()[:40]}")
    if msg.date is not None:
        off = msg.date.utcoffset()
        out.append(f"date_tz:{int(off.total_seconds() // 3600) if off is not None else 'none'}")
    for name, _ in msg.headers:
        out.append(f"hdr:{name}")
    for ct in msg.content_types[:20]:
        out.append(f"ct:{ct}")
    out.append("ctseq:" + ",".join(msg.content_types[:4]))
    for cs in set(msg.charsets):
        out.append(f"charset:{cs}")
    for url in msg.urls[:100]:
        host = url_host(url)
        if not host:
            continue
        # Words of the path and query ("remove", "optout", "cgi-bin") say what a
        # link is for; the host alone does not.
        path = url.split("://", 1)[-1].partition("/")[2][:300].lower()
        for w in _URL_WORD.findall(path)[:20]:
            out.append(f"url_word:{w}")
        if _IP4.match(host):
            out.append("url_host:ip")
        else:
            for s in host_suffixes(host):
                out.append(f"url_host:{s}")
    # IDN and look-alike hosts, IP hosts, shorteners, data: URIs, link text naming
    # another site (features.links).
    out.extend(link_tokens(msg))
    for att in msg.attachments[:20]:
        out.append(f"attach:{att.content_type}")
        ext = att.filename.rpartition(".")[2].lower() if "." in att.filename else "none"
        out.append(f"attach_ext:{ext[:10]}")
    for flag in msg.flags:
        out.append(f"flag:{flag}")
    # Authentication: nothing unless the site's trusted headers or our own checks
    # said something (spamsift.mailauth), so mail of an archive without either is
    # featurised as before.
    out.extend(msg.auth.tokens())
    return out


def tokenize(msg: ParsedMessage, body: tuple[str, int] | None = None, site: bool = True
             ) -> list[str]:
    """All tokens of a message: text first, then headers and structure
    (``site``: see :func:`header_tokens`)."""
    return text_tokens(msg, body) + header_tokens(msg, site)
