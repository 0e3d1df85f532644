/* spamsift._speedups: the per-token loops of featurising, in C.
 *
 * Built by `pip install` where a C compiler is found (setup.py marks it optional);
 * each function has a pure-Python twin that gives the same numbers, and the tests
 * compare the two (tests/features/test_hashing.py, test_language.py, test_tokens.py).
 *
 * token_columns(tokens, n_features) -> bytearray
 *     The hashed column of each str token, as native int32s: MurmurHash3 (x86, 32
 *     bits, seed 0) of its UTF-8 bytes read as a signed int, |h| mod n_features:
 *     scikit-learn's FeatureHasher (alternate_sign=False). spamsift.features.hashing.
 *
 * langid_counts(nextmove, rowbase, output, text) -> dict
 *     py3langid's walk of its byte automaton over text: feature -> times seen, in order
 *     of first sight (its visit_counts). spamsift.features.language.
 *
 * typed_spans(text) -> list of (start, end, kind)
 *     Where the tokeniser's typed pattern (spamsift.features.tokens._TYPED: a URL, an
 *     amount of money, a phone number; kind 0, 1, 2) matches, as re.sub finds them.
 *
 * latin1_words(text) -> list of str, or None
 *     The words the tokeniser's word pattern finds (re.findall of spamsift.features.
 *     tokens._WORD) in a str whose characters are all below U+0100; None for any other
 *     str (the pattern's combining marks lie beyond). spamsift.features.tokens.
 *
 * latin1_word_tokens(words, out, prefix, bigrams, long_words, fold, min_word, max_word,
 *                    max_compound)
 *     tokens._words' loop over latin1_words' list: appends to out the tokens it makes,
 *     calling fold (fold_obfuscation) for a word that is neither ASCII letters nor a
 *     number, as the loop does.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static inline uint32_t rotl32(uint32_t x, int r) { return (x << r) | (x >> (32 - r)); }

/* MurmurHash3_x86_32 (Austin Appleby, public domain); blocks read little-endian, as
 * the reference does on x86, so every host gives x86's columns. */
static uint32_t murmur3_32(const unsigned char *data, Py_ssize_t len, uint32_t seed)
{
    const uint32_t c1 = 0xcc9e2d51u, c2 = 0x1b873593u;
    const Py_ssize_t nblocks = len / 4;
    uint32_t h1 = seed, k1;
    for (Py_ssize_t i = 0; i < nblocks; i++) {
        const unsigned char *b = data + 4 * i;
        k1 = (uint32_t)b[0] | ((uint32_t)b[1] << 8) | ((uint32_t)b[2] << 16)
             | ((uint32_t)b[3] << 24);
        k1 *= c1;
        k1 = rotl32(k1, 15);
        k1 *= c2;
        h1 ^= k1;
        h1 = rotl32(h1, 13);
        h1 = h1 * 5 + 0xe6546b64u;
    }
    const unsigned char *tail = data + 4 * nblocks;
    k1 = 0;
    switch (len & 3) {
    case 3:
        k1 ^= (uint32_t)tail[2] << 16; /* fall through */
    case 2:
        k1 ^= (uint32_t)tail[1] << 8; /* fall through */
    case 1:
        k1 ^= tail[0];
        k1 *= c1;
        k1 = rotl32(k1, 15);
        k1 *= c2;
        h1 ^= k1;
    }
    h1 ^= (uint32_t)len;
    h1 ^= h1 >> 16;
    h1 *= 0x85ebca6bu;
    h1 ^= h1 >> 13;
    h1 *= 0xc2b2ae35u;
    h1 ^= h1 >> 16;
    return h1;
}

static PyObject *token_columns(PyObject *self, PyObject *args)
{
    PyObject *tokens, *seq, *out;
    Py_ssize_t n_features;
    if (!PyArg_ParseTuple(args, "On:token_columns", &tokens, &n_features))
        return NULL;
    if (n_features < 1) {
        PyErr_Format(PyExc_ValueError, "n_features must be >= 1, got %zd", n_features);
        return NULL;
    }
    seq = PySequence_Fast(tokens, "token_columns: expected a sequence of str");
    if (seq == NULL)
        return NULL;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    PyObject **items = PySequence_Fast_ITEMS(seq);
    out = PyByteArray_FromStringAndSize(NULL, n * (Py_ssize_t)sizeof(int32_t));
    if (out == NULL)
        goto fail;
    int32_t *cols = (int32_t *)PyByteArray_AS_STRING(out);
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *tok = items[i];
        if (!PyUnicode_Check(tok)) {
            PyErr_Format(PyExc_TypeError, "token_columns: expected str tokens, got %.100s at %zd",
                         Py_TYPE(tok)->tp_name, i);
            goto fail;
        }
        Py_ssize_t len;
        /* The cached UTF-8 form (no copy for ASCII); a lone surrogate has none, and is
         * encoded as Python's "surrogatepass" does, as the pure-Python path does. */
        const char *utf8 = PyUnicode_AsUTF8AndSize(tok, &len);
        uint32_t h;
        if (utf8 != NULL) {
            h = murmur3_32((const unsigned char *)utf8, len, 0);
        } else {
            PyErr_Clear();
            PyObject *b = PyUnicode_AsEncodedString(tok, "utf-8", "surrogatepass");
            if (b == NULL)
                goto fail;
            h = murmur3_32((const unsigned char *)PyBytes_AS_STRING(b), PyBytes_GET_SIZE(b), 0);
            Py_DECREF(b);
        }
        /* |h| of the signed value, in 64 bits: |-2**31| stays exact. */
        long long signed_h = (int32_t)h;
        cols[i] = (int32_t)(llabs(signed_h) % n_features);
    }
    Py_DECREF(seq);
    return out;
fail:
    Py_XDECREF(out);
    Py_DECREF(seq);
    return NULL;
}

static PyObject *langid_counts(PyObject *self, PyObject *args)
{
    Py_buffer nextmove, rowbase, output, text;
    PyObject *counts = NULL;
    if (!PyArg_ParseTuple(args, "y*y*y*y*:langid_counts", &nextmove, &rowbase, &output, &text))
        return NULL;
    if (nextmove.itemsize != 4 || rowbase.itemsize != 8 || output.itemsize != 8) {
        PyErr_SetString(PyExc_TypeError,
                        "langid_counts: expected uint32 nextmove, int64 rowbase and output");
        goto done;
    }
    const uint32_t *nm = nextmove.buf;
    const int64_t *rb = rowbase.buf, *out = output.buf;
    const Py_ssize_t n_nm = nextmove.len / 4, n_rb = rowbase.len / 8, n_out = output.len / 8;
    const unsigned char *t = text.buf;
    counts = PyDict_New();
    if (counts == NULL)
        goto done;
    uint32_t state = 0;
    for (Py_ssize_t i = 0; i < text.len; i++) {
        if ((Py_ssize_t)state >= n_rb)
            goto bad_model;
        int64_t at = rb[state] + t[i];
        if (at < 0 || at >= n_nm)
            goto bad_model;
        state = nm[at];
        if ((Py_ssize_t)state >= n_out)
            goto bad_model;
        if (out[state] < 0)
            continue;
        /* feature -> times seen, keys in order of first sight, as collections.Counter */
        PyObject *key = PyLong_FromLongLong(out[state]);
        if (key == NULL)
            goto fail;
        PyObject *seen = PyDict_GetItemWithError(counts, key);
        long long c = 0;
        if (seen != NULL) {
            c = PyLong_AsLongLong(seen);
        } else if (PyErr_Occurred()) {
            Py_DECREF(key);
            goto fail;
        }
        PyObject *val = PyLong_FromLongLong(c + 1);
        int bad = val == NULL || PyDict_SetItem(counts, key, val) < 0;
        Py_XDECREF(val);
        Py_DECREF(key);
        if (bad)
            goto fail;
    }
    goto done;
bad_model:
    PyErr_SetString(PyExc_ValueError, "langid_counts: the automaton points outside its tables");
fail:
    Py_CLEAR(counts);
done:
    PyBuffer_Release(&nextmove);
    PyBuffer_Release(&rowbase);
    PyBuffer_Release(&output);
    PyBuffer_Release(&text);
    return counts;
}


/* 0 when ``text`` is a str ready to read (its kind and data), else -1 with a
 * TypeError naming ``fn``. */
static int ready_str(PyObject *text, const char *fn)
{
    if (!PyUnicode_Check(text)) {
        PyErr_Format(PyExc_TypeError, "%s: expected str, got %.100s", fn,
                     Py_TYPE(text)->tp_name);
        return -1;
    }
#if PY_VERSION_HEX < 0x030C0000
    if (PyUnicode_READY(text) < 0)
        return -1;
#endif
    return 0;
}

/* tokens._WORD, "[^\W_][\w'$@!|.{MARKS}-]*(?<![_'$@!|.-])", for code points below 256,
 * where MARKS has none: a word starts with a letter or digit (re's \w is
 * Py_UNICODE_ISALNUM or '_'), runs over word characters and ' $ @ ! | . -, and gives
 * back its trailing _ ' $ @ ! | . - (the regex backtracks to the last character the
 * look-behind allows; none of those can start a word, so the scan goes on after). */
static inline int trails(Py_UCS4 c)
{
    return c == '_' || c == '\'' || c == '$' || c == '@' || c == '!' || c == '|' || c == '.'
           || c == '-';
}

static PyObject *latin1_words(PyObject *self, PyObject *text)
{
    if (ready_str(text, "latin1_words") < 0)
        return NULL;
    if (PyUnicode_KIND(text) != PyUnicode_1BYTE_KIND)
        Py_RETURN_NONE;
    const Py_UCS1 *t = PyUnicode_1BYTE_DATA(text);
    const Py_ssize_t n = PyUnicode_GET_LENGTH(text);
    PyObject *out = PyList_New(0);
    if (out == NULL)
        return NULL;
    Py_ssize_t i = 0;
    while (i < n) {
        Py_UCS4 c = t[i];
        if (c == '_' || !Py_UNICODE_ISALNUM(c)) {
            i++;
            continue;
        }
        Py_ssize_t j = i + 1;
        while (j < n && (Py_UNICODE_ISALNUM(t[j]) || trails(t[j])))
            j++;
        Py_ssize_t e = j;
        while (trails(t[e - 1]))  /* t[i] is alphanumeric: stops there at the latest */
            e--;
        PyObject *w = PyUnicode_FromKindAndData(PyUnicode_1BYTE_KIND, t + i, e - i);
        if (w == NULL || PyList_Append(out, w) < 0) {
            Py_XDECREF(w);
            Py_DECREF(out);
            return NULL;
        }
        Py_DECREF(w);
        i = j;
    }
    return out;
}

/* tokens._TYPED, matched by hand: at each position, the URL, then the two money
 * patterns, then the phone pattern, each trying its choices in the order the regex
 * engine backtracks through them; the first to match wins and the scan goes on after
 * it (re.sub's leftmost, non-overlapping matches). re.IGNORECASE: a pattern letter
 * matches a character whose lower case it is, and "s" also LATIN SMALL LETTER LONG S
 * (sre's case equivalences; no other character folds to the letters used here). \d is
 * Py_UNICODE_ISDECIMAL, \s Py_UNICODE_ISSPACE, \w Py_UNICODE_ISALNUM or '_', as in sre. */
typedef struct {
    int kind;
    const void *data;
    Py_ssize_t n;
} Text;

#define AT(t, i) PyUnicode_READ((t)->kind, (t)->data, (i))

static inline int is_digit(const Text *t, Py_ssize_t i)
{
    return i < t->n && Py_UNICODE_ISDECIMAL(AT(t, i));
}

static inline int is_space(const Text *t, Py_ssize_t i)
{
    return i < t->n && Py_UNICODE_ISSPACE(AT(t, i));
}

static inline int is_word(Py_UCS4 c) { return c == '_' || Py_UNICODE_ISALNUM(c); }

/* The ASCII letters of `word` (lower case), case-insensitively, at i. */
static int iword(const Text *t, Py_ssize_t i, const char *word)
{
    for (; *word; word++, i++) {
        if (i >= t->n)
            return 0;
        Py_UCS4 c = AT(t, i);
        if (Py_UNICODE_TOLOWER(c) != (Py_UCS4)*word && !(*word == 's' && c == 0x17F))
            return 0;
    }
    return 1;
}

static inline int is_sep(const Text *t, Py_ssize_t i) /* [\s.-] */
{
    if (i >= t->n)
        return 0;
    Py_UCS4 c = AT(t, i);
    return c == '.' || c == '-' || Py_UNICODE_ISSPACE(c);
}

static inline int boundary_after_word(const Text *t, Py_ssize_t i) /* \b after a \w */
{
    return i >= t->n || !is_word(AT(t, i));
}

/* (?:https?://|ftp://|www\.)[^\s<>"']{1,2048} */
static Py_ssize_t match_url(const Text *t, Py_ssize_t i)
{
    Py_ssize_t j;
    if (iword(t, i, "https://"))
        j = i + 8;
    else if (iword(t, i, "http://"))
        j = i + 7;
    else if (iword(t, i, "ftp://"))
        j = i + 6;
    else if (iword(t, i, "www") && i + 3 < t->n && AT(t, i + 3) == '.')
        j = i + 4;
    else
        return -1;
    Py_ssize_t k = j;
    while (k < t->n && k - j < 2048) {
        Py_UCS4 c = AT(t, k);
        if (c == '<' || c == '>' || c == '"' || c == '\'' || Py_UNICODE_ISSPACE(c))
            break;
        k++;
    }
    return k > j ? k : -1;
}

/* [\d,]{0,15} after a digit at i - 1, greedy: where it stops. */
static Py_ssize_t digits_commas(const Text *t, Py_ssize_t i)
{
    Py_ssize_t k = i;
    while (k - i < 15 && k < t->n && (AT(t, k) == ',' || Py_UNICODE_ISDECIMAL(AT(t, k))))
        k++;
    return k;
}

/* [$€£¥]\s?\d[\d,]{0,15}(?:\.\d{1,2})?
 * | \d[\d,]{0,15}(?:\.\d{1,2})?\s?(?:usd|dollars|euro)\b */
static Py_ssize_t match_money(const Text *t, Py_ssize_t i)
{
    Py_UCS4 c = AT(t, i);
    if (c == '$' || c == 0x20AC || c == 0xA3 || c == 0xA5) {
        Py_ssize_t j = i + 1;
        if (is_space(t, j) && is_digit(t, j + 1))
            j++;
        if (!is_digit(t, j))
            return -1;
        j = digits_commas(t, j + 1);
        /* Nothing follows the optional cents that could fail: the greedy choice holds. */
        if (j < t->n && AT(t, j) == '.' && is_digit(t, j + 1))
            j += is_digit(t, j + 2) ? 3 : 2;
        return j;
    }
    if (!Py_UNICODE_ISDECIMAL(c))
        return -1;
    /* A shorter run of digits and commas leaves one of them next, which neither the
     * cents, a space nor a currency word can take: only the longest run can match. */
    Py_ssize_t run = digits_commas(t, i + 1);
    Py_ssize_t cents[3];
    int n_cents = 0;
    if (run < t->n && AT(t, run) == '.' && is_digit(t, run + 1)) {
        if (is_digit(t, run + 2))
            cents[n_cents++] = run + 3;
        cents[n_cents++] = run + 2;
    }
    cents[n_cents++] = run;
    static const char *words[] = {"usd", "dollars", "euro"};
    for (int a = 0; a < n_cents; a++) {
        for (int sp = 1; sp >= 0; sp--) {
            Py_ssize_t j = cents[a];
            if (sp) {
                if (!is_space(t, j))
                    continue;
                j++;
            }
            for (int w = 0; w < 3; w++) {
                Py_ssize_t len = (Py_ssize_t)strlen(words[w]);
                if (iword(t, j, words[w]) && boundary_after_word(t, j + len))
                    return j + len;
            }
        }
    }
    return -1;
}

/* (?:\+?1[\s.-]?)?\(?\d{3}\)?[\s.-]\d{3}[\s.-]\d{4}\b */
static Py_ssize_t match_phone_rest(const Text *t, Py_ssize_t i)
{
    for (int open = 1; open >= 0; open--) {
        Py_ssize_t j = i;
        if (open) {
            if (j >= t->n || AT(t, j) != '(')
                continue;
            j++;
        }
        if (!(is_digit(t, j) && is_digit(t, j + 1) && is_digit(t, j + 2)))
            continue;
        j += 3;
        for (int close = 1; close >= 0; close--) {
            Py_ssize_t k = j;
            if (close) {
                if (k >= t->n || AT(t, k) != ')')
                    continue;
                k++;
            }
            if (is_sep(t, k) && is_digit(t, k + 1) && is_digit(t, k + 2) && is_digit(t, k + 3)
                && is_sep(t, k + 4) && is_digit(t, k + 5) && is_digit(t, k + 6)
                && is_digit(t, k + 7) && is_digit(t, k + 8) && boundary_after_word(t, k + 9))
                return k + 9;
        }
    }
    return -1;
}

static Py_ssize_t match_phone(const Text *t, Py_ssize_t i)
{
    /* The optional country code, taken if it can be: "+1" or "1", then a separator if
     * one follows (taken first); else left out. */
    Py_ssize_t j = i;
    if (j < t->n && AT(t, j) == '+')
        j++;
    if (j < t->n && AT(t, j) == '1') {
        Py_ssize_t r;
        if (is_sep(t, j + 1) && (r = match_phone_rest(t, j + 2)) >= 0)
            return r;
        if ((r = match_phone_rest(t, j + 1)) >= 0)
            return r;
    }
    return match_phone_rest(t, i);
}

static PyObject *typed_spans(PyObject *self, PyObject *text)
{
    if (ready_str(text, "typed_spans") < 0)
        return NULL;
    Text t = {PyUnicode_KIND(text), PyUnicode_DATA(text), PyUnicode_GET_LENGTH(text)};
    PyObject *out = PyList_New(0);
    if (out == NULL)
        return NULL;
    Py_ssize_t i = 0;
    while (i < t.n) {
        Py_UCS4 c = AT(&t, i);
        Py_ssize_t end = -1;
        int kind = 0;
        /* The pattern's look-ahead: only these can start a match (no character beyond
         * ASCII folds to h, f or w). */
        Py_UCS4 lc = c | 0x20;
        int digit = c < 128 ? (c >= '0' && c <= '9') : Py_UNICODE_ISDECIMAL(c);
        if (lc == 'h' || lc == 'f' || lc == 'w')
            end = match_url(&t, i);
        else if (!digit && c != '$' && c != '(' && c != '+' && c < 128) {
            i++;
            continue;
        }
        if (end < 0 && (c == '$' || c == 0x20AC || c == 0xA3 || c == 0xA5 || digit)) {
            end = match_money(&t, i);
            kind = 1;
        }
        if (end < 0 && (c == '(' || c == '+' || digit)) {
            end = match_phone(&t, i);
            kind = 2;
        }
        if (end < 0) {
            i++;
            continue;
        }
        PyObject *span = Py_BuildValue("(nni)", i, end, kind);
        if (span == NULL || PyList_Append(out, span) < 0) {
            Py_XDECREF(span);
            Py_DECREF(out);
            return NULL;
        }
        Py_DECREF(span);
        i = end;
    }
    return out;
}

/* _NUMBER, "^\d[\d,.]*$", for a word of Latin-1 characters: its only decimal digits are
 * ASCII (a word holds no newline, which $ would also take). */
static int latin1_number(const Py_UCS1 *w, Py_ssize_t n)
{
    if (n < 1 || w[0] < '0' || w[0] > '9')
        return 0;
    for (Py_ssize_t i = 1; i < n; i++)
        if (!((w[i] >= '0' && w[i] <= '9') || w[i] == ',' || w[i] == '.'))
            return 0;
    return 1;
}

static int append_new(PyObject *out, PyObject *item)
{
    if (item == NULL)
        return -1;
    int r = PyList_Append(out, item);
    Py_DECREF(item);
    return r;
}

static PyObject *latin1_word_tokens(PyObject *self, PyObject *args)
{
    PyObject *words, *out, *prefix, *fold;
    int bigrams, long_words;
    Py_ssize_t min_word, max_word, max_compound;
    if (!PyArg_ParseTuple(args, "O!O!UppOnnn:latin1_word_tokens", &PyList_Type, &words,
                          &PyList_Type, &out, &prefix, &bigrams, &long_words, &fold,
                          &min_word, &max_word, &max_compound))
        return NULL;
    PyObject *prev = NULL; /* the last word kept, for bigrams; NULL: none */
    Py_ssize_t n = PyList_GET_SIZE(words);
    for (Py_ssize_t k = 0; k < n; k++) {
        PyObject *w = PyList_GET_ITEM(words, k);
        if (!PyUnicode_Check(w) || PyUnicode_KIND(w) != PyUnicode_1BYTE_KIND) {
            PyErr_SetString(PyExc_TypeError, "latin1_word_tokens: expected Latin-1 str words");
            goto fail;
        }
        const Py_UCS1 *c = PyUnicode_1BYTE_DATA(w);
        Py_ssize_t lw = PyUnicode_GET_LENGTH(w);
        if (lw < min_word) {
            Py_CLEAR(prev);
            continue;
        }
        int ascii = PyUnicode_IS_ASCII(w), alpha = 1;
        for (Py_ssize_t i = 0; i < lw && alpha; i++)
            alpha = Py_UNICODE_ISALPHA(c[i]);
        if (lw > max_word && !(long_words && lw <= max_compound && alpha)) {
            if (append_new(out, PyUnicode_FromFormat("%Uskip:%c%zd", prefix, (int)c[0],
                                                     lw / 10 * 10)) < 0)
                goto fail;
            Py_CLEAR(prev);
            continue;
        }
        PyObject *word; /* new reference */
        if (ascii && alpha) {
            word = Py_NewRef(w);
        } else if (latin1_number(c, lw)) {
            word = PyUnicode_FromFormat("#num%zd", lw < 9 ? lw : 9);
            if (word == NULL)
                goto fail;
        } else {
            PyObject *folded = PyObject_CallOneArg(fold, w);
            if (folded == NULL)
                goto fail;
            if (folded != Py_None) {
                int bad = append_new(out, PyUnicode_FromFormat("%Uobf:%S", prefix, folded)) < 0
                          || append_new(out, PyUnicode_FromString("obfuscated")) < 0;
                Py_DECREF(folded);
                if (bad)
                    goto fail;
            } else {
                Py_DECREF(folded);
            }
            word = Py_NewRef(w);
        }
        if (append_new(out, PyUnicode_Concat(prefix, word)) < 0
            || (bigrams && prev != NULL
                && append_new(out, PyUnicode_FromFormat("%Ubi:%U %U", prefix, prev, word)) < 0)) {
            Py_DECREF(word);
            goto fail;
        }
        Py_XSETREF(prev, word);
    }
    Py_XDECREF(prev);
    Py_RETURN_NONE;
fail:
    Py_XDECREF(prev);
    return NULL;
}

static PyMethodDef methods[] = {
    {"token_columns", token_columns, METH_VARARGS,
     "token_columns(tokens, n_features) -> bytearray of int32 columns (MurmurHash3, |h| mod n)."},
    {"langid_counts", langid_counts, METH_VARARGS,
     "langid_counts(nextmove, rowbase, output, text) -> {feature: count}, py3langid's walk."},
    {"typed_spans", typed_spans, METH_O,
     "typed_spans(text) -> [(start, end, kind)] where the tokeniser's typed pattern matches."},
    {"latin1_words", latin1_words, METH_O,
     "latin1_words(text) -> the tokeniser's words of a str below U+0100, else None."},
    {"latin1_word_tokens", latin1_word_tokens, METH_VARARGS,
     "latin1_word_tokens(words, out, prefix, bigrams, long_words, fold, min_word, max_word, "
     "max_compound): tokens._words' loop, appending to out."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "spamsift._speedups",
    "The per-token loops of featurising, in C (see the source's header).", -1, methods,
};

PyMODINIT_FUNC PyInit__speedups(void) { return PyModule_Create(&module); }
