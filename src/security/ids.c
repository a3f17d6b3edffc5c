/* ids — Vietnamese identifier checks (see ids.h). */
#include "security/ids.h"

#include <string.h>

/* The 63 pre-2025 provinces' 2-digit codes, which prefix ID numbers with a 0. */
static const char *const PROVINCES[] = {
    "01", "02", "04", "06", "08", "10", "11", "12", "14", "15", "17", "19", "20", "22", "24", "25",
    "26", "27", "30", "31", "33", "34", "35", "36", "37", "38", "40", "42", "44", "45", "46", "48",
    "49", "51", "52", "54", "56", "58", "60", "62", "64", "66", "67", "68", "70", "72", "74", "75",
    "77", "79", "80", "82", "83", "84", "86", "87", "89", "91", "92", "93", "94", "95", "96"};

static bool all_digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return n > 0;
}

bool kho_ids_cccd(const char *s, size_t n, int this_year, kho_cccd_t *info)
{
    if (n != 12 || !all_digits(s, n) || s[0] != '0')
        return false;
    bool known = false;
    for (size_t i = 0; i < sizeof PROVINCES / sizeof PROVINCES[0] && !known; i++)
        known = s[1] == PROVINCES[i][0] && s[2] == PROVINCES[i][1];
    if (!known)
        return false;
    static const int century[] = {1900, 1900, 2000, 2000, 2100, 2100, 2200, 2200, 1800, 1800};
    int d = s[3] - '0';
    int year = century[d] + (s[4] - '0') * 10 + (s[5] - '0');
    if (year > this_year)
        return false;
    if (info) {
        memcpy(info->province, s, 3);
        info->province[3] = '\0';
        info->birth_year = year;
        info->female = d % 2 == 1;
    }
    return true;
}

int kho_ids_tax_check_digit(const char *nine)
{
    static const int w[9] = {31, 29, 23, 19, 17, 13, 7, 5, 3};
    int sum = 0;
    for (int i = 0; i < 9; i++)
        sum += w[i] * (nine[i] - '0');
    int check = 10 - sum % 11;
    return check <= 9 ? check : -1;
}

bool kho_ids_tax_code(const char *s, size_t n)
{
    char d[13];
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '-' && k == 10 && i == 10 && n == 14)
            continue; /* 0123456789-001: one dash, and a branch after it */
        if (s[i] < '0' || s[i] > '9' || k == 13)
            return false;
        d[k++] = s[i];
    }
    if (k != 10 && k != 13)
        return false;
    if (memcmp(d + 2, "0000000", 7) == 0 || (k == 13 && memcmp(d + 10, "000", 3) == 0))
        return false;
    return kho_ids_tax_check_digit(d) == d[9] - '0';
}

bool kho_ids_phone(const char *s, size_t n)
{
    char d[16];
    size_t k = 0;
    size_t i = 0;
    bool plus = n > 0 && s[0] == '+';
    if (plus)
        i = 1;
    for (; i < n; i++) {
        if (s[i] == ' ' || s[i] == '.' || s[i] == '-')
            continue;
        if (s[i] < '0' || s[i] > '9' || k == sizeof d)
            return false;
        d[k++] = s[i];
    }
    const char *p = d;
    if (k == 11 && d[0] == '8' && d[1] == '4') { /* +84 9x... */
        p = d + 2;
        k = 9;
    } else if (k == 10 && d[0] == '0' && !plus) {
        p = d + 1;
        k = 9;
    } else
        return false;
    return k == 9 && strchr("35789", p[0]) != NULL;
}
