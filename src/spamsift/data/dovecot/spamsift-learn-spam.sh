#!/bin/sh
# Run by report-spam.sieve (Dovecot IMAPSieve, vnd.dovecot.pipe) with the message on
# stdin. Arguments: what the Dovecot service line adds (--data-dir DIR, or --api URL
# with the key in SPAMSIFT_API_KEY), then "--user NAME" from the sieve script.
# SPAMSIFT names the spamsift command when it is not on the default PATH (Dovecot
# passes no environment: set it in the service line, `script /usr/bin/env SPAMSIFT=...`).
# One BLAS thread: a learn needs no more, and under Dovecot's vsz_limit OpenBLAS
# spins forever when it cannot start the threads it wants (give it vsz_limit = 1G;
# 256M, the default, is too little to load SciPy at all).
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1
exec "${SPAMSIFT:-spamsift}" learn --spam --source imap "$@"
