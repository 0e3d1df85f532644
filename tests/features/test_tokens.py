"""tokenize: namespaced tokens, typed tokens, word rules and caps."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from spamsift.features import tokens
from spamsift.features.tokens import header_tokens, host_suffixes, text_tokens, tokenize
from spamsift.parse import ParsedMessage, parse_message

# A spam-shaped message exercising every header-token source.
SPAM = b"""\
Received: from mail.spammer.example.net (mail.spammer.example.net [203.0.113.5])
\tby mx.example.org with ESMTP id 1
Received: from inside.example.net (inside.example.net [192.168.1.9])
\tby mail.spammer.example.net with SMTP id 2
From: "Deals Team" <deals@promo.example.com>
Reply-To: other@elsewhere.example
To: alice@example.org, bob@example.org
Subject: FREE money!!! for you
Message-ID: <abc123@promo.example.com>
Date: Tue, 01 Oct 2002 10:00:00 -0400
X-Mailer: Mass Mailer 3.1
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="XX"

--XX
Content-Type: text/plain; charset=us-ascii

Cheap meds at http://www.bit.ly/deal and http://203.0.113.7/x today.
--XX
Content-Type: application/pdf; name="invoice.pdf"
Content-Disposition: attachment; filename="invoice.pdf"
Content-Transfer-Encoding: base64

JVBERi0xLjQK
--XX
Content-Type: application/octet-stream
Content-Disposition: attachment; filename="README"
Content-Transfer-Encoding: base64

aGVsbG8=
--XX--
"""

# The smallest plain message: a sender, a subject, a line of text.
HAM = b"""\
From: Alice <alice@example.org>
To: bob@example.org
Subject: Lunch tomorrow
Date: Wed, 02 Oct 2002 12:00:00 +0000
Message-ID: <x1@example.org>

Shall we meet at noon?
"""


def _mail(body: str, subject: str = "hello") -> ParsedMessage:
    """A UTF-8 plain-text message with ``body``."""
    head = (f"From: a@example.com\nTo: b@example.org\nSubject: {subject}\n"
            "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n")
    return parse_message((head + body).encode("utf-8"))


def _body_tokens(body: str) -> list[str]:
    # The subject "hello" adds subj: tokens only; body tokens carry no prefix.
    return [t for t in text_tokens(_mail(body)) if not t.startswith("subj:")]


@pytest.fixture(scope="module")
def spam_tokens() -> list[str]:
    return tokenize(parse_message(SPAM))


@pytest.mark.parametrize(
    "token",
    [
        pytest.param("subj:free", id="subject-word"),
        pytest.param("subj:money", id="subject-word-2"),
        pytest.param("subj:bi:free money", id="subject-bigram"),
        pytest.param("subj:run!", id="subject-bang-run"),
        pytest.param("from:deals@promo.example.com", id="from-addr"),
        pytest.param("from_dom:example.com", id="from-domain"),
        pytest.param("from_dom:promo.example.com", id="from-subdomain"),
        pytest.param("from_name:deals", id="from-name"),
        pytest.param("reply_dom:elsewhere.example", id="reply-domain"),
        pytest.param("reply_to:other_domain", id="reply-elsewhere"),
        pytest.param("to_count:2", id="to-count"),
        pytest.param("to_dom:example.org", id="to-domain"),
        pytest.param("received:2", id="received-count"),
        pytest.param("rcv_from:example.net", id="relay-from"),
        pytest.param("rcv_by:example.org", id="relay-by"),
        pytest.param("rcv_with:esmtp", id="relay-protocol"),
        pytest.param("rcv_ip:203.0.113", id="relay-ip-24"),
        pytest.param("mailer:mass", id="mailer-word"),
        pytest.param("msgid_dom:promo.example.com", id="message-id-domain"),
        pytest.param("date_tz:-4", id="date-zone"),
        pytest.param("hdr:x-mailer", id="header-name"),
        pytest.param("ct:application/pdf", id="content-type"),
        pytest.param("ctseq:multipart/mixed,text/plain,application/pdf,application/octet-stream",
                     id="content-type-sequence"),
        pytest.param("charset:us-ascii", id="charset"),
        pytest.param("url_host:bit.ly", id="url-registrable-host"),
        pytest.param("url_host:www.bit.ly", id="url-full-host"),
        pytest.param("url_host:ip", id="url-ip-host"),
        pytest.param("attach:application/pdf", id="attachment-type"),
        pytest.param("attach_ext:pdf", id="attachment-extension"),
        pytest.param("attach_ext:none", id="attachment-no-extension"),
        pytest.param("url", id="body-url"),
        pytest.param("cheap", id="body-word"),
    ],
)
def test_spam_message_has_token(spam_tokens: list[str], token: str):
    assert token in spam_tokens


def test_sources_do_not_collide(spam_tokens: list[str]):
    # Subject words stay in the subject namespace; body words have none.
    assert "free" not in spam_tokens and "money" not in spam_tokens
    assert "subj:cheap" not in spam_tokens
    # A private relay address is not a reputation clue.
    assert not any(t.startswith("rcv_ip:192.168") for t in spam_tokens)


def test_text_comes_first_then_headers():
    msg = parse_message(SPAM)
    assert tokenize(msg) == text_tokens(msg) + header_tokens(msg)


@pytest.mark.parametrize(
    ("raw", "present", "absent"),
    [
        pytest.param(HAM, {"mailer:none", "to_count:1", "received:0", "date_tz:0",
                           "from_dom:example.org", "msgid_dom:example.org"},
                     {"reply_to:other_domain"}, id="plain-ham"),
        pytest.param(b"Subject: x\n\nhi", {"msgid:none", "mailer:none", "to_count:0",
                                           "flag:missing:from"},
                     {"from_dom:", "date_tz:0"}, id="no-sender"),
        pytest.param(b"", {"flag:empty", "msgid:none"}, set(), id="empty"),
        pytest.param(b"From: a@example.com\nMessage-ID: <nodomain>\n\nhi",
                     {"msgid:no_at"}, set(), id="message-id-without-at"),
        pytest.param(b"From: a@example.com\nTo: " + b", ".join(
            b"u%d@example.org" % i for i in range(12)) + b"\n\nhi",
                     {"to_count:10+"}, {"to_count:12"}, id="many-recipients"),
    ],
)
def test_header_tokens(raw: bytes, present: set[str], absent: set[str]):
    toks = set(tokenize(parse_message(raw)))
    assert present <= toks
    assert not absent & toks


@pytest.mark.parametrize(
    ("body", "present", "absent"),
    [
        pytest.param("see http://example.com/path here", {"url", "see", "here"},
                     {"http", "example.com/path"}, id="url"),
        pytest.param("go to www.example.com now", {"url"}, {"www.example.com"}, id="www-url"),
        pytest.param("write Sales@Shop.Example.COM today", {"email_dom:shop.example.com"},
                     {"sales", "shop.example.com"}, id="email-address"),
        pytest.param("only $1,000.00 now", {"money", "only", "now"}, {"#num5"}, id="dollars"),
        pytest.param("pay 500 dollars", {"money"}, {"#num3", "dollars"}, id="dollars-word"),
        pytest.param("just \u20ac99 today", {"money"}, {"#num2"}, id="euro-sign"),
        pytest.param("call (555) 123-4567 now", {"phone"}, {"#num3", "#num4"}, id="phone-us"),
        pytest.param("call 555.123.4567", {"phone"}, {"555.123.4567"}, id="phone-dots"),
        pytest.param("order 12345 now", {"#num5"}, {"12345"}, id="number"),
        pytest.param("in 2002 and 3.14", {"#num4"}, {"2002", "3.14"},
                     id="year-and-decimal"),
        # The word pattern has no comma, so "1,000" is "1" (too short) then "000".
        pytest.param("about 1,000 pills", {"#num3"}, {"#num5"},
                     id="comma-splits-number"),
        pytest.param("id 12345678901234", {"#num9"}, set(), id="number-length-capped"),
        pytest.param("supercalifragilisticexpialidocious", {"skip:s30"},
                     {"supercalifragilisticexpialidocious"}, id="long-word-skip"),
        pytest.param("a" * 25, {"skip:a20"}, set(), id="long-run-skip"),
        pytest.param("a b c i", set(), {"a", "b", "c", "i"}, id="one-letter-dropped"),
        pytest.param("an ox is by me", {"an", "ox", "is", "by", "me"}, set(),
                     id="two-letters-kept"),
        pytest.param("cheap meds now", {"cheap", "meds", "now"}, {"bi:cheap meds"},
                     id="no-body-bigrams"),
        pytest.param("buy v1agra", {"v1agra", "obf:viagra", "obfuscated"}, set(), id="leet"),
        pytest.param("buy v\u0456agra", {"obf:viagra", "obfuscated"}, set(), id="homoglyph"),
        pytest.param("buy mp3 players", {"mp3", "players"}, {"obfuscated"}, id="not-disguised"),
        pytest.param("ＦＲＥＥ ｍｏｎｅｙ", {"free", "money"}, set(), id="full-width"),
        pytest.param("fr\u200bee", {"free", "invisible:1"}, set(), id="invisible-counted"),
    ],
)
def test_body_tokens(body: str, present: set[str], absent: set[str]):
    toks = set(_body_tokens(body))
    assert present <= toks
    assert not absent & toks


def test_subject_invisible_and_runs():
    toks = text_tokens(_mail("x", subject="=?utf-8?q?fr=E2=80=8Bee_=24=24=24?="))
    assert {"subj:free", "subj:invisible", "subj:run$"} <= set(toks)


@pytest.mark.parametrize(
    ("n_words", "capped"),
    [pytest.param(3000, False, id="at-cap"), pytest.param(3001, True, id="past-cap")],
)
def test_word_cap(n_words: int, capped: bool):
    body = " ".join(f"w{i:05d}" for i in range(n_words))
    toks = _body_tokens(body)
    words = [t for t in toks if t.startswith("w")]
    assert len(words) == min(n_words, 3000)
    assert words[-1] == "w02999" if capped else f"w{n_words - 1:05d}"
    assert ("skip:many" in toks) is capped


@pytest.mark.parametrize(
    ("host", "depth", "expected"),
    [
        pytest.param("a.b.example.com", 3, ["example.com", "b.example.com"], id="depth-three"),
        pytest.param("a.b.example.com", 4, ["example.com", "b.example.com", "a.b.example.com"],
                     id="depth-four"),
        pytest.param("a.b.example.com", 2, ["example.com"], id="depth-two"),
        pytest.param("example.com", 3, ["example.com"], id="registrable-only"),
        pytest.param("example.com.", 3, ["example.com"], id="trailing-dot"),
        pytest.param("localhost", 3, [], id="single-label"),
        pytest.param("", 3, [], id="empty"),
    ],
)
def test_host_suffixes(host: str, depth: int, expected: list[str]):
    assert host_suffixes(host, depth) == expected


def test_without_site_evidence_recipients_and_relays_are_left_out():
    raw = (b"Received: from mx.sender.example (mx.sender.example [203.0.113.9])\n"
           b"\tby mail.site.example (Postfix) with ESMTP id 1\n"
           b"From: Ann <ann@sender.example>\nTo: bob@site.example\nSubject: hello\n\nhi\n")
    msg = parse_message(raw)
    with_site, without = header_tokens(msg), header_tokens(msg, site=False)
    site = {t for t in with_site if t.startswith(("to_dom:", "rcv_"))}
    assert {"to_dom:site.example", "rcv_by:site.example", "rcv_ip:203.0.113"} <= site
    assert not {t for t in without if t.startswith(("to_dom:", "rcv_"))}
    assert set(without) == set(with_site) - site  # the sender's evidence stays
    assert tokenize(msg, site=False)[-len(without):] == without

# Text in other scripts: short hand-written lines of the kinds mail carries.
ZH_MEETING = ("会议通知", "各位同事：本周五下午三点在三楼会议室召开季度总结会议，请准时参加。")
ZH_OFFER = ("【限时特价】全场五折",
            "限时优惠！全场商品五折起，点击链接立即购买，名额有限，先到先得。")
JA_MEETING = ("定例会議のお知らせ",
              "明日の定例会議は午後三時から第二会議室で行います。資料は事前にお送りします。")
JA_NEWSLETTER = ("メールマガジン第12号",
                 "メールマガジン第十二号をお届けします。今月の新商品をご紹介します。")
TH_OFFER = ("โปรโมชั่นพิเศษ", "โปรโมชั่นพิเศษ ลดราคาสินค้าทุกชิ้นวันนี้เท่านั้น สั่งซื้อเลย")
RU_MEETING = ("Совещание в четверг",
              "Коллеги, напоминаю: совещание по бюджету переносится на четверг, 10:00, "
              "переговорная на третьем этаже.")
RU_NEWSLETTER = ("Рассылка за март",
                 "В новом выпуске рассылки: отчёт за квартал (PDF-файл во вложении) и "
                 "SMS-уведомления для клиентов.")
RU_OFFER = ("Скидка 70%", "Только сегодня! Скидка на все товары. Закажите сейчас и получите "
                          "подарок бесплатно.")
AR_MEETING = ("اجتماع الفريق",
              "تذكير: اجتماع الفريق يوم الأحد الساعة العاشرة صباحا في قاعة الاجتماعات.")
AR_OFFER = ("عرض خاص",
            "عرض خاص لفترة محدودة! اربح جائزة نقدية كبيرة، اضغط هنا الآن للمشاركة مجانا.")
DE_NEWSLETTER = ("Ihr Newsletter im März",
                 "Neuigkeiten zur Datenschutzgrundverordnung und unsere Frühjahrsaktion: "
                 "alle Gartenmöbel reduziert.")
DE_MEETING = ("Besprechung Donnerstag",
              "Die Besprechung zur Haftpflichtversicherung findet am Donnerstag im "
              "Konferenzraum statt.")
HI_MEETING = ("बैठक", "कल सुबह दस बजे कार्यालय में बैठक होगी, कृपया समय पर आइए।")
KO_MEETING = ("회의 안내", "내일 오전 열 시에 본사 회의실에서 분기 회의가 있습니다.")


def _tokens_of(mail: tuple[str, str]) -> set[str]:
    subject, body = mail
    return set(text_tokens(_mail(body, subject=subject)))


@pytest.mark.parametrize(
    ("mail", "present", "absent"),
    [
        pytest.param(ZH_MEETING, {"会议", "季度", "总结", "准时", "参加", "subj:会议", "subj:通知"},
                     {"会", "议", "会议室", "各位同事"}, id="chinese-meeting"),
        pytest.param(ZH_OFFER, {"优惠", "五折", "点击", "购买", "subj:特价", "subj:五折"},
                     {"限时优惠", "点击链接立即购买"}, id="chinese-offer"),
        pytest.param(JA_MEETING, {"会議", "午後", "資料", "事前", "subj:会議", "subj:お知"},
                     {"会", "議", "明日の定例会議は午後三時から第二会議室で行います"},
                     id="japanese-meeting"),
        pytest.param(JA_NEWSLETTER, {"メー", "ルマ", "ガジ", "新商", "商品", "紹介"}, set(),
                     id="japanese-katakana-newsletter"),
        # A Thai pair is two letters with their vowel and tone marks.
        pytest.param(TH_OFFER, {"ลด", "รา", "คา", "สิน", "ค้า", "subj:โป"},
                     {"ลดราคาสินค้าทุกชิ้นวันนี้เท่านั้น", "\u0e49า"}, id="thai-offer"),
    ],
)
def test_unspaced_scripts_give_character_pairs(mail: tuple[str, str], present: set[str],
                                               absent: set[str]):
    toks = _tokens_of(mail)
    assert present <= toks
    assert not absent & toks
    # No run of them is left over as an overlong word.
    assert not any(t.startswith(("skip:", "subj:skip:")) for t in toks)


@pytest.mark.parametrize(
    ("mail", "present", "absent"),
    [
        pytest.param(RU_MEETING, {"коллеги", "совещание", "бюджету", "переносится", "четверг",
                                  "переговорная", "subj:совещание", "subj:четверг"},
                     {"со", "сове", "obfuscated"}, id="russian-meeting"),
        # Latin abbreviations hyphenated to Russian words are not disguises.
        pytest.param(RU_NEWSLETTER, {"pdf-файл", "sms-уведомления", "рассылки", "отчёт"},
                     {"obfuscated", "obf:pdf-фaйл"}, id="russian-mixed-hyphen"),
        pytest.param(RU_OFFER, {"скидка", "товары", "закажите", "бесплатно"}, {"obfuscated"},
                     id="russian-offer"),
        pytest.param(AR_MEETING, {"اجتماع", "الفريق", "الساعة", "العاشرة", "صباحا",
                                  "الاجتماعات", "subj:الفريق"}, {"اج"}, id="arabic-meeting"),
        pytest.param(AR_OFFER, {"عرض", "خاص", "جائزة", "نقدية", "مجانا"}, set(), id="arabic-offer"),
        # German compounds stay whole, even past the 20 characters English words get.
        pytest.param(DE_NEWSLETTER, {"datenschutzgrundverordnung", "frühjahrsaktion",
                                     "gartenmöbel", "subj:newsletter", "subj:märz"},
                     {"skip:d20", "datenschutz"}, id="german-newsletter"),
        pytest.param(DE_MEETING, {"haftpflichtversicherung", "besprechung", "konferenzraum"},
                     {"skip:h20"}, id="german-meeting"),
        # Vowel signs (combining marks) stay inside their word.
        pytest.param(HI_MEETING, {"सुबह", "बैठक", "होगी", "कार्यालय", "कृपया", "subj:बैठक"},
                     {"ठक", "सम"}, id="hindi-marks"),
        # Korean is written with spaces: its words stay words.
        pytest.param(KO_MEETING, {"내일", "오전", "회의실에서", "있습니다", "subj:안내"},
                     {"있습", "습니"}, id="korean-spaced"),
    ],
)
def test_spaced_scripts_keep_whole_words(mail: tuple[str, str], present: set[str],
                                         absent: set[str]):
    toks = _tokens_of(mail)
    assert present <= toks
    assert not absent & toks


def test_vocalised_arabic_words_stay_whole():
    toks = set(_body_tokens("مَرْحَبًا بِكُمْ فِي النَّشْرَةِ الأُسْبُوعِيَّةِ لِلشَّرِكَةِ"))
    assert {"مَرْحَبًا", "بِكُمْ", "فِي", "النَّشْرَةِ", "الأُسْبُوعِيَّةِ"} <= toks


@pytest.mark.parametrize(
    ("mail", "lang", "scripts"),
    [
        pytest.param(ZH_MEETING, "zh", {"han"}, id="chinese"),
        pytest.param(ZH_OFFER, "zh", {"han"}, id="chinese-offer"),
        pytest.param(JA_MEETING, "ja", {"han", "hiragana"}, id="japanese"),
        pytest.param(JA_NEWSLETTER, "ja", {"han", "hiragana", "katakana"}, id="japanese-katakana"),
        pytest.param(TH_OFFER, "th", {"thai"}, id="thai"),
        pytest.param(RU_MEETING, "ru", {"cyrillic"}, id="russian"),
        pytest.param(RU_NEWSLETTER, "ru", {"cyrillic", "latin"}, id="russian-with-latin"),
        pytest.param(AR_MEETING, "ar", {"arabic"}, id="arabic"),
        pytest.param(DE_NEWSLETTER, "de", {"latin"}, id="german"),
        pytest.param(HI_MEETING, "hi", {"devanagari"}, id="hindi"),
        pytest.param(KO_MEETING, "ko", {"hangul"}, id="korean"),
    ],
)
def test_language_and_script_tokens(mail: tuple[str, str], lang: str, scripts: set[str]):
    toks = _tokens_of(mail)
    assert {t for t in toks if t.startswith("lang:")} == {f"lang:{lang}"}
    assert {t for t in toks if t.startswith("script:")} == {f"script:{s}" for s in scripts}
    assert {f"subj:script:{s}" for s in scripts} & toks


def test_script_shares_of_a_mixed_message():
    body = ("Dear customer, your parcel is waiting at our depot.\n"
            "尊敬的客户，您的包裹已到达我们的仓库，请尽快领取。")
    toks = set(_body_tokens(body))
    assert {"script:latin", "script:han", "script_share:latin:75",
            "script_share:han:25"} <= toks
    assert {"customer", "parcel", "包裹", "仓库"} <= toks


def test_english_gets_latin_script_and_english():
    toks = set(_body_tokens("Shall we meet at noon tomorrow to go over the quarterly numbers?"))
    assert {"script:latin", "script_share:latin:100", "lang:en"} <= toks


@pytest.mark.parametrize(
    "body",
    [pytest.param("", id="empty"), pytest.param("ok 12", id="too-little-text"),
     pytest.param("$100 http://example.com/x", id="only-typed-tokens")],
)
def test_too_little_text_has_no_language(body: str):
    toks = [t for t in _body_tokens(body) if t.startswith("lang:")]
    assert toks == ["lang:none"]


def test_english_hash_busters_are_still_skipped():
    # Long letter runs in English text are encodings or hash-busters, not compounds.
    toks = set(_body_tokens("Get the best deals on the market today, click below to see "
                            "them all xqzvbwkpltrmnhgfdsjkq"))
    assert "lang:en" in toks
    assert "skip:x20" in toks


@pytest.mark.parametrize(
    ("body", "present", "absent"),
    [
        # Cyrillic look-alikes inside an English word are still folded...
        pytest.param("buy cheap v\u0456agra and c\u0456al\u0456s today", {
            "obf:viagra", "obf:cialis", "obfuscated"}, set(), id="cyrillic-in-latin"),
        # ...and Latin ones inside a Russian word too...
        pytest.param("ваш счёт в cбepбанк заблокирован, войдите в личный кабинет",
                     {"obf:сбербанк", "obfuscated"}, set(), id="latin-in-cyrillic"),
        # ...while real Russian words, which have nothing to swap, are left alone.
        pytest.param("ваш счёт в \u0441бербанк заблокирован, войдите в личный кабинет",
                     set(), {"obfuscated"}, id="real-russian-bank-name"),
        pytest.param("сервер работает, мама купила сок", set(), {"obfuscated"},
                     id="russian-made-of-look-alikes"),
    ],
)
def test_look_alike_folding_across_scripts(body: str, present: set[str], absent: set[str]):
    toks = set(_body_tokens(body))
    assert present <= toks
    assert not absent & toks


def test_latin_word_run_into_chinese_is_cut_apart():
    toks = set(_body_tokens("新款iPhone降价了，欢迎选购"))
    assert {"新款", "iphone", "降价", "价了", "欢迎", "选购"} <= toks
    assert not any("iphone" in t and t != "iphone" for t in toks)


def test_character_pairs_are_capped_like_words():
    toks = _body_tokens("免费" * 5000)
    assert len([t for t in toks if t in ("免费", "费免")]) == 3000


# Word characters, the ones a word may hold inside or drop at its end, and others.
_WORDISH = st.text(st.sampled_from(list("aZ9_'$@!|.- ,;\t\n\xe9\xdf\xaa\xb5\xb2\xbd\xa0\xd7"))
                   | st.characters(max_codepoint=0xFF), max_size=80)


@pytest.mark.needs("speedups")
@given(_WORDISH)
def test_the_c_words_are_the_regex_s(text: str):
    from spamsift._speedups import latin1_words

    assert latin1_words(text) == tokens._WORD.findall(text)


@pytest.mark.needs("speedups")
def test_the_c_words_leave_wider_text_to_the_regex():
    from spamsift._speedups import latin1_words

    # Combining marks, unspaced scripts: only the regex knows them.
    assert latin1_words("he\u0301llo") is None and latin1_words("iPhone降价") is None
    assert not any(tokens.UNSPACED_CHAR.match(chr(c)) for c in range(256))
    with pytest.raises(TypeError, match="expected str"):
        latin1_words(b"bytes")


# Words of every kind the word loop tells apart: short, long, compounds, numbers,
# disguised, accented, a hash-buster of accented letters.
_WORD_PIECES = st.lists(st.sampled_from(
    ["a", "ok", "free", "FREE", "v1agra", "m0ney", "mp3", "2002", "1,000.50", "don't", "e-mail",
     "x" * 21, "Donaudampfschifffahrtsgesellschaft", "y" * 41, "caf\u00e9", "\u00e9" * 30,
     "\u00bd5", "a_b", "\u00aa\u00b5", "w1th-d4sh", "..", "\u00e9t\u00e91"]),
    max_size=30).map(" ".join)


@given(st.text(max_size=60) | _WORDISH | _WORD_PIECES, st.booleans(), st.booleans())
def test_words_are_the_same_with_and_without_c(text: str, bigrams: bool, long_words: bool):
    with_c: list[str] = []
    tokens._words(text, "p:", with_c, bigrams, long_words)
    without: list[str] = []
    saved, tokens._c_words = tokens._c_words, None
    try:
        tokens._words(text, "p:", without, bigrams, long_words)
    finally:
        tokens._c_words = saved
    assert with_c == without


@pytest.mark.needs("speedups")
def test_the_c_word_loop_refuses_what_it_cannot_read():
    from spamsift._speedups import latin1_word_tokens

    with pytest.raises(TypeError, match="Latin-1"):
        latin1_word_tokens(["\u4e2d\u6587"], [], "", False, False, str, 2, 20, 40)


# Pieces of URLs, amounts and phone numbers, and what sits next to them: case and the
# long s ("httpſ" is "https" to the regex), Unicode digits and spaces, boundaries.
_TYPED_PIECES = st.lists(st.sampled_from(
    ["1", "+1", "+", "(", ")", "555", "12", "1234", "1" * 16, "-", ".", " ", "\t", "usd",
     "USD", "u\u017fd", "dollars", "euro", "eurox", "$", "€", "£", "¥", "http://", "HTTPS://",
     "http\u017f://", "ftp://", "www.", "wWw", "x", "_", ",", "\u0663\u0663\u0663", "\u00b2",
     "\u2003", "<", "'", "1,000", ".99", "9.5"]), max_size=14).map("".join)


def _regex_spans(text: str) -> list[tuple[int, int, int]]:
    return [(m.start(), m.end(), tokens._TYPED_KINDS.index(m.lastgroup or ""))
            for m in tokens._TYPED.finditer(text)]


@pytest.mark.needs("speedups")
@given(_TYPED_PIECES | st.text(max_size=40))
def test_the_c_typed_spans_are_the_regex_s(text: str):
    from spamsift._speedups import typed_spans

    assert typed_spans(text) == _regex_spans(text)


@pytest.mark.needs("speedups")
def test_the_c_typed_spans_keep_the_regex_s_limits():
    from spamsift._speedups import typed_spans

    for text in ("see http://" + "x" * 3000 + " now", "$" + "1" * 20 + ".999",
                 "1" * 20 + " usd", "call +1 (555) 123-4567x", "+1.555.123.4567"):
        assert typed_spans(text) == _regex_spans(text)
    with pytest.raises(TypeError, match="expected str"):
        typed_spans(None)


@given(_TYPED_PIECES | st.text(max_size=40))
def test_typed_tokens_are_the_same_with_and_without_c(text: str):
    with_c: list[str] = []
    got = tokens._typed(text, "p:", with_c)
    without: list[str] = []
    saved, tokens._c_typed = tokens._c_typed, None
    try:
        assert tokens._typed(text, "p:", without) == got
    finally:
        tokens._c_typed = saved
    assert with_c == without
