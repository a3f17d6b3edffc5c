/*
 * mask — masking of personal data for callers without the pii:read scope.
 *
 * A column holds personal data when its tags include `personal` (basic personal
 * data) or `sensitive` (sensitive personal data), the two classes of the Personal
 * Data Protection Law 2025. A `pii:<kind>` tag says how to mask it:
 *
 *   pii:id_number   001******789   first and last three characters kept
 *   pii:phone       *******678     last three digits kept
 *   pii:name        N. V. A.       initials
 *   pii:dob         1985           the year only
 *   pii:email       a***@example.vn
 *   pii:address     ***, Xã Nghĩa Trụ   only the last part (commune level) kept
 *   (none)          ***            nothing (not even the length)
 *
 * Masking happens server-side before any serialisation, in every format.
 */
#ifndef KHO_SECURITY_MASK_H
#define KHO_SECURITY_MASK_H

#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"

typedef enum {
    KHO_PII_GENERIC,
    KHO_PII_ID_NUMBER,
    KHO_PII_PHONE,
    KHO_PII_NAME,
    KHO_PII_DOB,
    KHO_PII_EMAIL,
    KHO_PII_ADDRESS,
} kho_pii_t;

/* True when a column's space-separated tags contain `tag` as a whole word. */
bool kho_tags_have(const char *tags, const char *tag);
/* True when the tags mark personal data (personal or sensitive). */
bool kho_tags_personal(const char *tags);
/* The masking kind from the tags (KHO_PII_GENERIC without a pii: tag). */
kho_pii_t kho_pii_from_tags(const char *tags);
/* The kind named by a tag value ("name", "id_number" ...); -1 when unknown. */
int kho_pii_parse(const char *kind);
const char *kho_pii_name(kho_pii_t kind);

/* Append the masked form of s[0..n) (valid UTF-8) to out. */
void kho_mask(kho_pii_t kind, const char *s, size_t n, kho_buf_t *out);

#endif
