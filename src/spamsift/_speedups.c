/* spamsift._speedups: the per-token loops of featurising, in C.
 *
 * Built by `pip install` where a C compiler is found (setup.py marks it optional);
 * each function has a pure-Python twin that gives the same numbers, and the tests
 * compare the two (tests/features/test_hashing.py, test_language.py).
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
 * latin1_words(text) -> list of str, or None
 *     The words the tokeniser's word pattern finds (re.findall of spamsift.features.
 *     tokens._WORD) in a str whose characters are all below U+0100; None for any other
 *     str (the pattern's combining marks lie beyond). spamsift.features.tokens.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <stdlib.h>

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
    if (!PyUnicode_Check(text)) {
        PyErr_Format(PyExc_TypeError, "latin1_words: expected str, got %.100s",
                     Py_TYPE(text)->tp_name);
        return NULL;
    }
#if PY_VERSION_HEX < 0x030C0000
    if (PyUnicode_READY(text) < 0)
        return NULL;
#endif
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

static PyMethodDef methods[] = {
    {"token_columns", token_columns, METH_VARARGS,
     "token_columns(tokens, n_features) -> bytearray of int32 columns (MurmurHash3, |h| mod n)."},
    {"langid_counts", langid_counts, METH_VARARGS,
     "langid_counts(nextmove, rowbase, output, text) -> {feature: count}, py3langid's walk."},
    {"latin1_words", latin1_words, METH_O,
     "latin1_words(text) -> the tokeniser's words of a str below U+0100, else None."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "spamsift._speedups",
    "The per-token loops of featurising, in C (see the source's header).", -1, methods,
};

PyMODINIT_FUNC PyInit__speedups(void) { return PyModule_Create(&module); }
