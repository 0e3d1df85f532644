"""Hand-written phishing of each modern kind, and the legitimate mail it is measured
against: messages the quality benchmark scores (benchmarks/quality.py) and the tests
read.

Each phishing message's body alone is innocuous ("Please see the attached
document", "Scan the code below"); what makes it phishing is elsewhere:

- ``pdf``: a PDF whose text asks for a sign-in, with a link to a credential page;
- ``qr``: a QR code image holding the URL of a credential page on an odd host (an
  IP address, a shortener, a throwaway domain);
- ``image-text``: a picture of the phishing text (read by OCR);
- ``forged-auth``: From a well-known brand's domain, which the site's own MTA found
  failing DKIM, SPF and DMARC (its trusted ``Authentication-Results``), under a
  forged ``Authentication-Results`` that claims all passed and a DKIM signature that
  does not verify;
- ``docx`` and ``html-attachment``: the text and link in a Word file, or a saved
  sign-in page.

The controls are what the same shapes look like when they are honest, so that
"caught" cannot mean "has an attachment": an invoice PDF from a supplier, a newsletter
with a picture of text, a QR code to an event page, a receipt from a brand whose
authentication passes, meeting notes in a Word file, a mailing-list post that fails
DMARC the way list mail does (the list rewrote it; ARC vouches for it), an itinerary
as an HTML attachment.

Every message carries the receiving site's ``Authentication-Results``
(authserv-id :data:`SITE_AUTHSERV`, which the scorer is told to trust), as mail at a
site that checks authentication does: phishing from the sender's own domain mostly
passes SPF (the benchmark has such), and authentication is only one kind among six.
Several variants of each kind differ in wording, brand and host. Nothing is random
beyond a fixed seed, so the set is the same on every run.
"""

from __future__ import annotations

import io
import random
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import default as default_policy

import numpy as np
import zxingcpp
from PIL import Image, ImageDraw, ImageFont

import documents as docs

__all__ = ["Sample", "samples", "SITE_AUTHSERV", "PHISH_KINDS", "CONTROL_KINDS"]

#: authserv-id of the receiving site's MTA (SPAMSIFT_TRUSTED_AUTHSERV_IDS when scoring).
SITE_AUTHSERV = "mx.site.example"
RECIPIENT = "alex.morgan@site.example"
PHISH_KINDS = ("pdf", "qr", "image-text", "forged-auth", "docx", "html-attachment")
CONTROL_KINDS = ("invoice-pdf", "newsletter-image", "event-qr", "brand-receipt",
                 "docx-notes", "list-dmarc-fail", "itinerary-html")


@dataclass(frozen=True)
class Sample:
    """One message: its kind, label (``spam`` or ``ham``), a name and the bytes."""

    kind: str
    label: str
    name: str
    data: bytes


# What each sender's mail client writes (X-Mailer) and its time zone; senders not
# listed (transactional mail, phishing kits) write no client and UTC, as most do.
_CLIENTS = {
    "harbor-plumbing.com": ("Microsoft Outlook 16.0", "-0500"),  # a compromised account
    "it-support-portal.org": ("PHPMailer 6.8.1 (https://github.com/PHPMailer/PHPMailer)",
                              "+0000"),
    "greenfieldprint.com": ("Microsoft Outlook 16.0", "+0100"),
    "site.example": ("Mozilla Thunderbird 115.8.1", "+0000"),
    "kestrel-consulting.com": ("Apple Mail (2.3774.400.31)", "+0530"),
    "yahoo.com": ("WebService/1.1.22077 YMailNorrin", "-0800"),
    "aol.com": ("WebService/1.1.22077 AolMailNorrin", "-0500"),
    "yahoo.co.uk": ("WebService/1.1.22077 YMailNorrin", "+0000"),
}


# -- building blocks ---------------------------------------------------------------


def _auth_results(spf: str, dkim: str, dmarc: str, mailfrom: str, dkim_d: str,
                  from_dom: str, policy: str = "none", arc: str | None = None) -> str:
    parts = [SITE_AUTHSERV, f"spf={spf} smtp.mailfrom={mailfrom}"]
    parts.append(f"dkim={dkim} header.d={dkim_d}" if dkim_d else "dkim=none")
    parts.append(f"dmarc={dmarc} (p={policy.upper()}) header.from={from_dom}")
    if arc:
        parts.append(f"arc={arc}")
    return "; ".join(parts)


def _message(*, from_name: str, from_addr: str, subject: str, date: str, relay: str,
             relay_ip: str, auth: str, mailfrom: str, extra_headers: list[tuple[str, str]]
             = (), dkim_d: str = "", msgid_dom: str = "", seed: int = 0) -> EmailMessage:
    """The headers a message has on arrival at the site: its delivery ``Received`` and
    the site MTA's ``Authentication-Results`` on top, then the sender's own."""
    rnd = random.Random(seed)
    dom = from_addr.rpartition("@")[2]
    mailer, tz = _CLIENTS.get(dom, ("", "+0000"))
    date = date.replace("+0000", tz)
    msg = EmailMessage(policy=default_policy)
    msg["Return-Path"] = f"<{mailfrom}>"
    qid = "".join(rnd.choice("0123456789ABCDEF") for _ in range(11))
    msg["Received"] = (f"from {relay} ({relay} [{relay_ip}]) by {SITE_AUTHSERV} (Postfix) "
                       f"with ESMTPS id {qid} for <{RECIPIENT}>; {date}")
    hop = f"10.{rnd.randint(0, 255)}.{rnd.randint(0, 255)}.{rnd.randint(1, 254)}"
    qid = "".join(rnd.choice("0123456789abcdef") for _ in range(12))
    msg["Authentication-Results"] = auth
    for name, value in extra_headers:
        msg[name] = value
    if dkim_d:
        sig = "".join(rnd.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
                      for _ in range(172))
        msg["DKIM-Signature"] = (f"v=1; a=rsa-sha256; c=relaxed/relaxed; d={dkim_d}; "
                                 f"s=s{rnd.randint(1, 9)}; h=from:to:subject:date:message-id; "
                                 f"bh={sig[:43]}=; b=" + " ".join(sig[k:k + 60] for k in
                                                                  range(0, len(sig), 60)))
    # The sender's own submission hop, as every message has at least one.
    msg["Received"] = f"from [{hop}] (unknown [{hop}]) by {relay} with ESMTPSA id {qid}; {date}"
    msg["From"] = f'"{from_name}" <{from_addr}>'
    msg["To"] = RECIPIENT
    msg["Subject"] = subject
    msg["Date"] = date
    local = "".join(rnd.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(16))
    msg["Message-ID"] = f"<{local}@{msgid_dom or from_addr.rpartition('@')[2]}>"
    msg["MIME-Version"] = "1.0"
    if mailer:
        msg["X-Mailer"] = mailer
    return msg


def _attach(msg: EmailMessage, data: bytes, ctype: str, filename: str) -> None:
    maintype, subtype = ctype.split("/")
    msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)


def _inline_image(msg: EmailMessage, html: str, png: bytes, cid: str) -> None:
    """An HTML alternative to the text body, showing ``png`` inline (multipart/related)."""
    msg.add_alternative(html.replace("{cid}", cid), subtype="html")
    part = msg.get_body(("html",))
    assert part is not None
    part.add_related(png, maintype="image", subtype="png", cid=f"<{cid}>",
                     disposition="inline", filename=f"{cid.split('@')[0]}.png")


def _png(im: Image.Image) -> bytes:
    buf = io.BytesIO()
    im.save(buf, "PNG")
    return buf.getvalue()


def qr_png(url: str, scale: int = 6) -> bytes:
    """A QR code of ``url`` as PNG (zxing-cpp's writer), with a quiet zone."""
    code = zxingcpp.create_barcode(url, zxingcpp.BarcodeFormat.QRCode)
    return _png(Image.fromarray(np.asarray(zxingcpp.write_barcode_to_image(code, scale=scale))))


def text_png(lines: list[str], width: int = 900, font_size: int = 30,
             background: tuple[int, int, int] = (255, 255, 255),
             ink: tuple[int, int, int] = (20, 20, 20)) -> bytes:
    """A picture of ``lines`` of text, as a screenshot or banner would be (Pillow's font)."""
    font = ImageFont.load_default(size=font_size)
    width = max([width] + [int(font.getlength(line)) + 48 for line in lines])
    height = 40 + int(font_size * 1.6) * len(lines)
    im = Image.new("RGB", (width, height), background)
    draw = ImageDraw.Draw(im)
    for i, line in enumerate(lines):
        draw.text((24, 20 + i * int(font_size * 1.6)), line, fill=ink, font=font)
    return _png(im)


def _sample(kind: str, label: str, name: str, msg: EmailMessage) -> Sample:
    """The message as bytes, its MIME boundaries named after it (the email package
    draws them at random)."""
    for k, part in enumerate(p for p in msg.walk() if p.is_multipart()):
        part.set_boundary(f"=_{name}_{k}")
    return Sample(kind, label, name, msg.as_bytes())


def _date(i: int, day: int = 4) -> str:
    return f"{['Mon', 'Tue', 'Wed', 'Thu', 'Fri'][i % 5]}, {day + i:02d} Mar 2024 " \
           f"{8 + i % 9:02d}:{(17 * i) % 60:02d}:{(7 * i) % 60:02d} +0000"


def _plain(msg: EmailMessage, text: str) -> EmailMessage:
    msg.set_content(text)
    return msg


# -- phishing ------------------------------------------------------------------------

# Senders of the phishing that is not forged-auth: throwaway look-alike domains and a
# compromised small business, each passing SPF for itself as such senders do.
_PHISH_SENDERS = [
    ("Microsoft 365", "no-reply@ms365-docshare.com", "mail.ms365-docshare.com", "198.51.100.23",
     "pass", "none", "none"),
    ("DocuSign", "dse@docusign-envelope.net", "smtp.docusign-envelope.net", "203.0.113.45",
     "pass", "pass", "pass"),
    ("Accounts Payable", "ap@harbor-plumbing.com", "mail.harbor-plumbing.com", "192.0.2.77",
     "pass", "pass", "pass"),
    ("IT Service Desk", "helpdesk@it-support-portal.org", "relay.it-support-portal.org",
     "198.51.100.140", "softfail", "none", "none"),
    ("Adobe Document Cloud", "share@adobe-securedocs.info", "mx1.adobe-securedocs.info",
     "203.0.113.9", "pass", "none", "none"),
]
_CRED_HOSTS = [
    "https://login-microsoftonline.secure-docs.top/common/oauth2/authorize?client=outlook",
    "http://203.0.113.66/owa/auth/logon.aspx",
    "https://bit.ly/3xQvR7k",
    "https://docusign.envelope-review.click/signin?id=8842-1190",
    "https://sharepoint-files.web.app/verify/account",
]


def _phish_headers(i: int, subject: str) -> EmailMessage:
    name, addr, relay, ip, spf, dkim, dmarc = _PHISH_SENDERS[i % len(_PHISH_SENDERS)]
    dom = addr.rpartition("@")[2]
    auth = _auth_results(spf, dkim, dmarc, addr, dom if dkim != "none" else "", dom)
    return _message(from_name=name, from_addr=addr, subject=subject, date=_date(i),
                    relay=relay, relay_ip=ip, auth=auth, mailfrom=addr,
                    dkim_d=dom if dkim != "none" else "", seed=100 + i)


_PDF_PHISH = [
    ("Shared document: Q1_Remittance.pdf", "Please see the attached document.",
     ["Microsoft SharePoint", "A secure document has been shared with you.",
      "Q1_Remittance_Advice.pdf (2 pages)", "To view the document, sign in with your",
      "email address and password to verify your identity.", "Open secure document"]),
    ("Please review and sign: Agreement 2024-0317", "Attached for your review.",
     ["DocuSign", "You have received a document to review and sign.",
      "Please confirm your email account to access the envelope.",
      "REVIEW DOCUMENT", "This link expires in 24 hours."]),
    ("Invoice 88231 overdue", "Please see the attached invoice.",
     ["Payment notice", "Your payment could not be processed and your account is on hold.",
      "Update your billing details within 48 hours to avoid suspension.",
      "Log in to your account to update payment information."]),
    ("Mailbox storage", "See attached.",
     ["Mailbox quota exceeded", "Your mailbox has reached its storage limit.",
      "Incoming messages will be rejected. Validate your account now",
      "to restore full service. Click below and sign in."]),
    ("Fax received (3 pages)", "You have a new fax. The document is attached.",
     ["eFax Delivery", "You have received a 3 page fax.",
      "For your security the fax is protected. Enter your email password",
      "to unlock and view the document."]),
]


def _pdf_phish(i: int) -> Sample:
    subject, body, lines = _PDF_PHISH[i]
    url = _CRED_HOSTS[i % len(_CRED_HOSTS)]
    msg = _plain(_phish_headers(i, subject), body + "\n")
    _attach(msg, docs.pdf(["\n".join(lines + [url])], links=[url]), "application/pdf",
            f"{subject.split(':')[-1].strip().replace(' ', '_')[:24]}.pdf")
    return _sample("pdf", "spam", f"pdf-{i}", msg)


_QR_PHISH = [
    ("Action required: multi-factor authentication", "Scan the code below with your phone."),
    ("Shared file waiting", "Scan the code below to open the file."),
    ("Your parcel", "Please scan the code below."),
    ("Payroll update", "Scan the code below with your phone camera to view the document."),
    ("Voicemail (0:42)", "You have a new voice message. Scan the code below to listen."),
]
_QR_URLS = [
    "http://203.0.113.66/mfa/enroll?u=alex.morgan",
    "https://tinyurl.com/2p8kx4yb",
    "https://parcel-redelivery.pages.dev/track?c=GB82WEST",
    "https://payroll-hr-portal.firebaseapp.com/login",
    "http://198.51.100.7:8080/voicemail/auth",
]


def _qr_phish(i: int) -> Sample:
    subject, body = _QR_PHISH[i]
    msg = _plain(_phish_headers(i + 1, subject), body + "\n")
    html = f"<html><body><p>{body}</p><p><img src=\"cid:{{cid}}\" alt=\"\"></p></body></html>"
    _inline_image(msg, html, qr_png(_QR_URLS[i]), f"code{i}@mail")
    return _sample("qr", "spam", f"qr-{i}", msg)


_IMAGE_PHISH = [
    ("Important notice", "See the message below.",
     ["Your mailbox will be suspended", "Verify your account within 24 hours",
      "login: " + _CRED_HOSTS[0].split("?")[0]]),
    ("Account", "Please read the notice below.",
     ["Unusual sign-in activity detected", "Confirm your password to keep access",
      "https://account-verify.secure-docs.top/login"]),
    ("Re: payment", "Details below.",
     ["Your payment was declined", "Update your card details now", "to avoid suspension"]),
    ("Document", "See below.",
     ["You have 2 pending documents", "Sign in with your email and password to view",
      "https://docs-view.envelope-review.click"]),
    ("Notice", "Please see the image below.",
     ["Password expires today", "Keep your current password:", "http://203.0.113.66/keep"]),
]


def _image_phish(i: int) -> Sample:
    subject, body, lines = _IMAGE_PHISH[i]
    msg = _plain(_phish_headers(i + 2, subject), body + "\n")
    html = f"<html><body><p>{body}</p><img src=\"cid:{{cid}}\" width=\"900\"></body></html>"
    _inline_image(msg, html, text_png(lines), f"notice{i}@mail")
    return _sample("image-text", "spam", f"image-text-{i}", msg)


# (brand name, From address, DMARC policy, the host the link goes to, body).
_FORGED = [
    ("PayPal", "service@paypal.com", "reject", "https://paypal.account-review.top/signin",
     "Your monthly statement is available. View it here: {url}"),
    ("Microsoft account team", "account-security-noreply@microsoft.com", "reject",
     "https://microsoft-login.web.app/",
     "Please review the recent activity on your account: {url}"),
    ("DHL Express", "noreply@dhl.com", "reject", "http://198.51.100.12/dhl/track",
     "Your shipment 4471 0093 22 is on its way. Track it: {url}"),
    ("Chase", "alerts@chase.com", "reject", "https://chase-secure.envelope-review.click/",
     "A new document is available in your account: {url}"),
    ("Apple", "no_reply@email.apple.com", "quarantine", "https://bit.ly/3Fk2pQa",
     "Your receipt from Apple. See the details: {url}"),
]


def _forged_auth(i: int) -> Sample:
    name, addr, policy, url, body = _FORGED[i]
    dom = addr.rpartition("@")[2]
    brand = ".".join(dom.split(".")[-2:])
    relay = f"vps{1200 + i}.hosting-cheap.example"
    auth = _auth_results("fail" if i % 2 else "softfail", "fail", "fail", f"bounce@{relay}",
                         brand, brand, policy)
    forged = (f"mx.{brand}; spf=pass smtp.mailfrom={brand}; dkim=pass header.d={brand}; "
              f"dmarc=pass header.from={brand}")
    msg = _message(from_name=name, from_addr=addr, subject=["Your statement", "Account activity",
                                                           "Shipment notification", "New document",
                                                           "Your receipt"][i],
                   date=_date(i, 11), relay=relay, relay_ip=f"203.0.113.{150 + i}", auth=auth,
                   mailfrom=f"bounce@{relay}", extra_headers=[("Authentication-Results", forged)],
                   dkim_d=brand, seed=200 + i)
    text = body.format(url=url) + "\n"
    msg.set_content(text)
    anchor = f'<a href="{url}">{url}</a>'
    msg.add_alternative(f"<html><body><p>{body.format(url=anchor)}</p></body></html>",
                        subtype="html")
    return _sample("forged-auth", "spam", f"forged-auth-{i}", msg)


_DOCX_PHISH = [
    ("Updated payment instructions", "Please see the attached document.",
     ["Updated remittance instructions", "Our bank details have changed.",
      "Confirm your account to view the new instructions."]),
    ("HR: benefits enrolment", "Attached.",
     ["Benefits enrolment closes today", "Sign in with your company email and password",
      "to confirm your selection."]),
    ("Contract for signature", "Please find the contract attached.",
     ["This document is protected", "Enable editing and verify your email account",
      "to view the contract."]),
    ("Purchase order PO-5521", "Please see attached PO.",
     ["Purchase order", "To view the order details, log in to the supplier portal",
      "with your email credentials."]),
    ("Salary review", "See the attached document.",
     ["Your salary review letter is ready", "Access it securely by signing in below."]),
]


def _docx_phish(i: int) -> Sample:
    subject, body, paras = _DOCX_PHISH[i]
    url = _CRED_HOSTS[(i + 3) % len(_CRED_HOSTS)]
    msg = _plain(_phish_headers(i + 3, subject), body + "\n")
    _attach(msg, docs.docx(paras + [url], links=[url]),
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            f"{subject.split(':')[-1].strip().replace(' ', '_')[:20]}.docx")
    return _sample("docx", "spam", f"docx-{i}", msg)


_HTML_PHISH = [
    ("Remittance advice", "Please see the attached remittance.", "Microsoft",
     "Sign in to view the remittance document"),
    ("Voicemail from +44 20 7946 0018", "You have a new voicemail, attached.", "Outlook",
     "Sign in to play your voicemail"),
    ("Invoice", "Invoice attached.", "Adobe PDF Online", "Confirm your email to download the PDF"),
    ("Shared: Budget 2024.xlsx", "Please see attached.", "OneDrive",
     "Verify your account to access the shared file"),
    ("Secure message", "You have received a secure message (attached).", "Secure Mail",
     "Enter your password to read the secure message"),
]


def _html_phish(i: int) -> Sample:
    subject, body, brand, ask = _HTML_PHISH[i]
    action = _CRED_HOSTS[(i + 1) % len(_CRED_HOSTS)]
    page = (f"<html><head><title>{brand}</title></head><body><h2>{brand}</h2><p>{ask}.</p>"
            f"<form method=\"post\" action=\"{action}\"><input type=\"email\" name=\"login\" "
            f"value=\"{RECIPIENT}\"><input type=\"password\" name=\"passwd\" "
            f"placeholder=\"Password\"><button type=\"submit\">Sign in</button></form>"
            f"<p><a href=\"{action}\">Trouble signing in?</a></p></body></html>")
    msg = _plain(_phish_headers(i + 4, subject), body + "\n")
    _attach(msg, page.encode(), "text/html", f"{subject.split(':')[0].replace(' ', '_')}.html")
    return _sample("html-attachment", "spam", f"html-attachment-{i}", msg)


# -- legitimate controls -------------------------------------------------------------

# (name, address, relay, IP): senders whose authentication passes.
_HONEST = [
    ("Northwind Office Supplies", "billing@northwind-supplies.co.uk",
     "mail.northwind-supplies.co.uk", "192.0.2.31"),
    ("Greenfield Print Ltd", "accounts@greenfieldprint.com", "smtp.greenfieldprint.com",
     "198.51.100.61"),
    ("Hannah Keller", "hannah.keller@site.example", "mail.site.example", "10.1.2.3"),
    ("Python Software Foundation", "news@python.org", "mail.python.org", "188.166.95.178"),
    ("Ravi Shah", "ravi@kestrel-consulting.com", "out.kestrel-consulting.com", "203.0.113.201"),
]


def _honest_headers(i: int, subject: str, sender: tuple[str, str, str, str] | None = None,
                    policy: str = "quarantine", extra: list[tuple[str, str]] = ()
                    ) -> EmailMessage:
    name, addr, relay, ip = sender or _HONEST[i % len(_HONEST)]
    dom = addr.rpartition("@")[2]
    auth = _auth_results("pass", "pass", "pass", addr, dom, dom, policy)
    return _message(from_name=name, from_addr=addr, subject=subject, date=_date(i, 18),
                    relay=relay, relay_ip=ip, auth=auth, mailfrom=addr, dkim_d=dom,
                    extra_headers=list(extra), seed=300 + i)


_INVOICES = [
    ("Invoice INV-2024-0312", "Dear Alex,\n\nPlease find attached our invoice for the March "
     "order. Payment is due within 30 days.\n\nKind regards,\nAccounts team\n",
     ["INVOICE INV-2024-0312", "Northwind Office Supplies Ltd, 12 Mill Lane, Leeds",
      "Bill to: Site Example Ltd", "20 x A4 copier paper, 5 boxes     GBP 112.00",
      "4 x toner cartridge TN-2420         GBP 188.40",
      "VAT 20%                             GBP 60.08",
      "Total due                           GBP 360.48", "Payment terms: 30 days. Bank transfer.",
      "Order history: https://northwind-supplies.co.uk/account/orders"]),
    ("Your invoice from Greenfield Print", "Hi Alex,\n\nThe invoice for the brochure print "
     "run is attached. Thanks for your business.\n\nBest,\nMaria\n",
     ["Greenfield Print Ltd - Invoice 10457", "Brochures A5, 2000 copies, 4/4 colour",
      "Delivery to Site Example Ltd, 5 March 2024", "Net EUR 740.00, VAT EUR 140.60",
      "Total EUR 880.60, due 4 April 2024", "https://greenfieldprint.com/invoices"]),
    ("Expenses February", "Hi,\n\nAttached are my February expenses with receipts.\n\n"
     "Hannah\n", ["Expense claim - Hannah Keller - February 2024",
                  "Train London-Leeds return  GBP 94.20", "Hotel 1 night  GBP 110.00",
                  "Client lunch  GBP 46.50", "Total GBP 250.70"]),
    ("Statement of account", "Dear customer,\n\nPlease find your quarterly statement "
     "attached.\n\nRegards\n", ["Statement of account Q1 2024", "Opening balance 0.00",
                                "Invoice 10457 880.60", "Payment received 880.60",
                                "Closing balance 0.00"]),
]


def _invoice(i: int) -> Sample:
    subject, body, lines = _INVOICES[i]
    msg = _plain(_honest_headers(i, subject), body)
    links = [w for w in lines if w.startswith("https://")]
    _attach(msg, docs.pdf(["\n".join(lines)], links=links), "application/pdf",
            f"{subject.split()[-1]}.pdf")
    return _sample("invoice-pdf", "ham", f"invoice-pdf-{i}", msg)


_NEWSLETTERS = [
    ("PyCon Spring Conference: early bird tickets", ["PyCon Spring Conference 2024",
                                                     "Early bird tickets until 31 March"],
     "https://pycon.example.org/2024/tickets"),
    ("Club news: April fixtures", ["Riverside Tennis Club", "April fixtures and coaching days"],
     "https://riversidetennis.example.org/fixtures"),
    ("Library opening hours over Easter", ["City Library", "Easter opening hours"],
     "https://library.example.org/hours"),
    ("Product update: dark mode is here", ["Release 4.2", "Dark mode, faster search, new export"],
     "https://blog.example.com/release-4-2"),
]


def _newsletter(i: int) -> Sample:
    subject, lines, url = _NEWSLETTERS[i]
    sender = ("Newsletter", f"news@{url.split('/')[2]}", f"mail.{url.split('/')[2]}",
              f"192.0.2.{40 + i}")
    unsub = [("List-Unsubscribe", f"<{url.rsplit('/', 1)[0]}/unsubscribe?u=8812>"),
             ("List-Id", f"<news.{url.split('/')[2]}>")]
    msg = _plain(_honest_headers(i, subject, sender, extra=unsub),
                 f"{lines[0]}\n\n{lines[1]}. Read more: {url}\n\nUnsubscribe: "
                 f"{url.rsplit('/', 1)[0]}/unsubscribe\n")
    html = (f"<html><body><img src=\"cid:{{cid}}\" width=\"900\" alt=\"{lines[0]}\">"
            f"<p>{lines[1]}. <a href=\"{url}\">Read more</a></p><p><small>"
            f"<a href=\"{url.rsplit('/', 1)[0]}/unsubscribe\">Unsubscribe</a></small></p>"
            f"</body></html>")
    _inline_image(msg, html, text_png(lines, background=(235, 242, 255)), f"banner{i}@news")
    return _sample("newsletter-image", "ham", f"newsletter-image-{i}", msg)


_EVENTS = [
    ("Your ticket: Python Meetup, 21 March", "See you at the meetup! Scan the code below for "
     "the venue map and schedule.", "https://meetup.example.org/events/2024-03-21"),
    ("Parent evening on Thursday", "Scan the code below for the class timetable.",
     "https://school.example.org/parents/evening"),
    ("Conference programme", "The programme is online: scan the code below.",
     "https://conf.example.org/2024/programme"),
    ("Team offsite: directions", "Directions and parking are on the page in the code below.",
     "https://www.example.com/offsite/directions"),
]


def _event_qr(i: int) -> Sample:
    subject, body, url = _EVENTS[i]
    msg = _plain(_honest_headers(i + 1, subject), body + "\n")
    html = f"<html><body><p>{body}</p><p><img src=\"cid:{{cid}}\"></p></body></html>"
    _inline_image(msg, html, qr_png(url), f"qr{i}@event")
    return _sample("event-qr", "ham", f"event-qr-{i}", msg)


_RECEIPTS = [
    (("PayPal", "service@paypal.com", "mx0.slc.paypal.com", "173.0.84.5"),
     "Receipt for your payment to Riverside Tennis Club",
     "You sent a payment of GBP 35.00 to Riverside Tennis Club.\nTransaction ID "
     "4KX91277UB3380412.\nView the details in your account at https://www.paypal.com/activity\n",
     "reject"),
    (("Microsoft", "account-security-noreply@accountprotection.microsoft.com",
      "mail.accountprotection.microsoft.com", "40.107.22.51"),
     "New app(s) connected to your Microsoft account",
     "Outlook for Android was connected to the Microsoft account al**@site.example.\n"
     "If you did this, you can ignore this email. Review your apps at "
     "https://account.live.com/consent/Manage\n", "reject"),
    (("DHL Express", "noreply@dhl.com", "mailout.dhl.com", "165.72.200.17"),
     "Your DHL shipment is on its way",
     "Shipment 1234567890 from Greenfield Print Ltd will be delivered on Tuesday.\n"
     "Track it at https://www.dhl.com/en/express/tracking.html?AWB=1234567890\n", "reject"),
    (("Apple", "no_reply@email.apple.com", "rn-mailsvcp-mx-lapp01.apple.com", "17.179.253.241"),
     "Your receipt from Apple.", "iCloud+ 50 GB, monthly: GBP 0.99.\nBilled to Visa .... 4242.\n"
     "Manage subscriptions at https://apps.apple.com/account/subscriptions\n", "quarantine"),
]


def _brand_receipt(i: int) -> Sample:
    sender, subject, body, policy = _RECEIPTS[i]
    msg = _plain(_honest_headers(i, subject, sender, policy), body)
    return _sample("brand-receipt", "ham", f"brand-receipt-{i}", msg)


_NOTES = [
    ("Notes from Monday's planning meeting", "Hi all,\n\nNotes attached. Please add anything "
     "I missed.\n\nHannah\n", ["Planning meeting 4 March", "Attendees: Hannah, Alex, Ravi",
                               "Q2 roadmap agreed; hiring one backend engineer",
                               "Actions: Alex drafts the job ad by Friday"]),
    ("Draft proposal", "Alex,\n\nHere is the draft proposal we discussed. Comments welcome.\n\n"
     "Ravi\n", ["Proposal: data platform review", "Scope: ingestion, storage, reporting",
                "Timeline: six weeks from April", "Budget: fixed fee, see section 4"]),
    ("Agenda for the board meeting", "Dear Alex,\n\nPlease find the agenda attached.\n\n"
     "Best regards\n", ["Board meeting agenda", "1. Minutes of the last meeting",
                        "2. Financial report Q1", "3. Any other business"]),
    ("Reading list", "Hi,\n\nThe reading list for the course is attached.\n\nMaria\n",
     ["Course reading list", "Week 1: Introduction to statistics", "Week 2: Regression",
      "https://library.example.org/course/stats101"]),
]


def _docx_notes(i: int) -> Sample:
    subject, body, paras = _NOTES[i]
    msg = _plain(_honest_headers(i + 2, subject), body)
    links = [p for p in paras if p.startswith("https://")]
    _attach(msg, docs.docx(paras, links=links),
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            f"{subject.split()[0]}.docx")
    return _sample("docx-notes", "ham", f"docx-notes-{i}", msg)


_LIST_POSTS = [
    ("Kim Lee", "kim.lee@yahoo.com", "Re: [users] build fails on ARM64",
     "I see the same with 3.12 on a Raspberry Pi. Setting CFLAGS=-O1 works around it.\n"),
    ("Tom Becker", "tbecker@aol.com", "[garden-club] Seed swap on Saturday",
     "Reminder: seed swap at the community hall, Saturday 10-12. Bring labelled packets!\n"),
    ("Priya N.", "priya.n@yahoo.co.uk", "Re: [users] docs typo in the install guide",
     "Thanks, fixed in the latest docs build.\n"),
    ("Sam Ortiz", "sam.ortiz@yahoo.com", "[hiking] Route for Sunday",
     "We will take the ridge path if the weather holds; meet at the car park at 9.\n"),
]


def _list_dmarc_fail(i: int) -> Sample:
    """A list post the list rewrote: DKIM broken, SPF the list's, DMARC fails under the
    author's p=reject, ARC from the list passes (what rspamd's stock scores weigh)."""
    name, addr, subject, body = _LIST_POSTS[i]
    dom = addr.rpartition("@")[2]
    lst = "lists.example.org"
    auth = (f"{SITE_AUTHSERV}; spf=pass smtp.mailfrom=users-bounces@{lst}; "
            f"dkim=fail header.d={dom}; dmarc=fail (p=REJECT) header.from={dom}; arc=pass")
    extra = [("List-Id", f"<users.{lst}>"), ("List-Post", f"<mailto:users@{lst}>"),
             ("List-Unsubscribe", f"<https://{lst}/mailman/options/users>"),
             ("Precedence", "list"), ("Sender", f"users-bounces@{lst}")]
    msg = _message(from_name=name, from_addr=addr, subject=subject, date=_date(i, 20),
                   relay=f"mail.{lst}", relay_ip=f"192.0.2.{90 + i}", auth=auth,
                   mailfrom=f"users-bounces@{lst}", extra_headers=extra, dkim_d=dom,
                   seed=400 + i)
    msg.set_content(body + f"\n_______________________________________________\nusers mailing "
                    f"list\nhttps://{lst}/mailman/listinfo/users\n")
    return _sample("list-dmarc-fail", "ham", f"list-dmarc-fail-{i}", msg)


_ITINERARIES = [
    ("Your booking confirmation ABX72Q", "Northern Rail", "Leeds to London King's Cross",
     "https://www.example-rail.co.uk/manage/ABX72Q"),
    ("Hotel reservation 55120", "Harbour Hotel", "2 nights, 21-23 March, double room",
     "https://harbourhotel.example.com/reservations/55120"),
    ("E-ticket and itinerary", "SkyLite Airways", "LHR 07:40 - BER 10:35, seat 14C",
     "https://skylite.example.com/trips/QW7F2K"),
]


def _itinerary(i: int) -> Sample:
    subject, brand, detail, url = _ITINERARIES[i]
    host = url.split("/")[2].removeprefix("www.")
    sender = (brand, f"bookings@{host}", f"mail.{host}", f"198.51.100.{80 + i}")
    msg = _plain(_honest_headers(i, subject, sender),
                 f"Thank you for booking with {brand}. Your itinerary is attached.\n")
    page = (f"<html><head><title>{brand} itinerary</title></head><body><h1>{brand}</h1>"
            f"<p>{detail}</p><p>Manage your booking: <a href=\"{url}\">{url}</a></p>"
            f"</body></html>")
    _attach(msg, page.encode(), "text/html", "itinerary.html")
    return _sample("itinerary-html", "ham", f"itinerary-html-{i}", msg)


def samples() -> list[Sample]:
    """Every phishing message and control, in a fixed order (phishing first)."""
    out = [make(i) for make in (_pdf_phish, _qr_phish, _image_phish, _forged_auth, _docx_phish,
                                _html_phish) for i in range(5)]
    out += [_invoice(i) for i in range(len(_INVOICES))]
    out += [_newsletter(i) for i in range(len(_NEWSLETTERS))]
    out += [_event_qr(i) for i in range(len(_EVENTS))]
    out += [_brand_receipt(i) for i in range(len(_RECEIPTS))]
    out += [_docx_notes(i) for i in range(len(_NOTES))]
    out += [_list_dmarc_fail(i) for i in range(len(_LIST_POSTS))]
    out += [_itinerary(i) for i in range(len(_ITINERARIES))]
    return out
