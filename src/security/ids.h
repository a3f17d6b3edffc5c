/*
 * ids — checks of Vietnamese identifiers.
 *
 * Personal identification number (số định danh cá nhân, on the chip ID card,
 * CCCD): 12 digits = 3-digit code of the province where the birth was
 * registered ("0" + the pre-2025 2-digit province code: 001 Hà Nội, 033 Hưng
 * Yên, 034 Thái Bình ...), a digit for century and sex (0/1: 1900s male/female,
 * 2/3: 2000s, 4/5: 2100s, 6/7: 2200s, 8/9: 1800s), 2 digits of the birth year and
 * 6 random digits.
 *
 * Enterprise tax code (mã số thuế, MST): 10 digits, the last a check digit
 * (10 - (sum of the first nine weighted 31 29 23 19 17 13 7 5 3) mod 11), or
 * 13 digits: the 10 and a 3-digit branch number (001-999); a dash before the
 * branch number is accepted.
 */
#ifndef KHO_SECURITY_IDS_H
#define KHO_SECURITY_IDS_H

#include <stdbool.h>
#include <stddef.h>

typedef struct kho_cccd {
    char province[4]; /* "033" */
    int birth_year;
    bool female;
} kho_cccd_t;

/* True when s[0..n) is a well-formed personal ID number whose province code is
 * one of the 63 pre-2025 provinces and whose birth year is not after `this_year`.
 * info (optional) receives its parts. */
bool kho_ids_cccd(const char *s, size_t n, int this_year, kho_cccd_t *info);

/* True when s[0..n) is a valid tax code (10 digits, or 13 with a branch). */
bool kho_ids_tax_code(const char *s, size_t n);

/* The check digit of the first nine digits of a tax code (0-9), or -1 when no
 * digit can make it valid (the weighted sum is a multiple of 11). */
int kho_ids_tax_check_digit(const char *nine);

/* True for a Vietnamese mobile number: 0 followed by 3, 5, 7, 8 or 9 and eight
 * digits, or +84 / 84 instead of the 0 (spaces, dots and dashes ignored). */
bool kho_ids_phone(const char *s, size_t n);

#endif
