/*
 * recpipe — a reader running on its own thread, handing records over in batches.
 *
 * Reading (I/O, UTF-8 validation, hashing, CSV parsing) and what the caller does
 * with each record (classification in the first pass of an import) then run on
 * two cores at once. At most 4 batches are in flight, each of at most 1,024
 * records or 8 MiB of text (plus one record), so memory stays bounded.
 *
 * Only for CSV: its columns are fixed by the header before the thread starts, so
 * the caller may read labels (kho_reader_label) while the thread reads records.
 * (A JSON reader discovers columns as it goes; read JSON directly.)
 *
 * The same contract as kho_reader_next: records are borrowed until the next call.
 */
#ifndef KHO_WAREHOUSE_RECPIPE_H
#define KHO_WAREHOUSE_RECPIPE_H

#include "core/err.h"
#include "warehouse/reader.h"

typedef struct kho_recpipe kho_recpipe_t;

/* Start reading r on a new thread. r must be a CSV reader whose header was read
 * (kho_reader_open did). The pipe does not own r; free the pipe first. */
int kho_recpipe_start(kho_reader_t *r, kho_recpipe_t **out, kho_err_t *err) KHO_WUR;
/* Next record: 1 and *rec, 0 at the end, negative on the reader's error. */
int kho_recpipe_next(kho_recpipe_t *p, kho_record_t **rec, kho_err_t *err) KHO_WUR;
/* Stop the thread (if still reading) and free the pipe. NULL is allowed. */
void kho_recpipe_free(kho_recpipe_t *p);

#endif
