/*
 * audit_append — how fast the audit trail appends (issue "Security and trust":
 * "audit append >= 50,000 entries/s with a checkpoint every 1,000").
 *
 *   make V=release bin bench-bin && bash bench/audit.sh
 *   build/release/bench/audit_append [--entries N] [--rate R] [--dir DIR]
 *
 * Entries are JSON objects like those the server writes for a read of restricted
 * rows (about 236 bytes). Each measurement writes a fresh database under DIR
 * (default bench/out/audit):
 *
 *  1. For batches of 1, 100 and 1000 entries per transaction, back to back:
 *     - baseline: the same entries inserted into a plain SQLite table
 *       entries(idx INTEGER PRIMARY KEY, data BLOB) through kho's store API
 *       (so the same settings: WAL, synchronous=NORMAL, 16 KiB pages), one
 *       transaction per batch, no hashing, no signing;
 *     - tlog: kho_tlog_append() of each batch (leaf and node hashes, the Merkle
 *       tree's nodes stored), and a signed checkpoint (kho_tlog_checkpoint) as
 *       soon as 1,000 entries have been added since the last one, the same rule
 *       as the audit writer's.
 *  2. The real path, flooded: kho_audit_open() in background mode (the server's)
 *     on a data directory DIR/audit-flood with audit_checkpoint_entries = 1000;
 *     two threads call kho_audit_record() N/2 times each as fast as they can
 *     (who, action, target and a details object, as the rows handler does), then
 *     kho_audit_flush() waits until the writer thread has committed them all.
 *     Entries/s = N / (first record to flush done): the writer's ceiling. Its
 *     batches (the whole queue every 5 ms) then hold far more than 1,000 entries,
 *     so it signs one checkpoint per batch, less often than every 1,000.
 *  3. The real path at the target rate: the same into DIR/audit-paced, the two
 *     threads recording R entries/s in all (default 50,000): does the writer keep
 *     up (the last entry committed within 50 ms of being recorded), how often does
 *     it sign a checkpoint, and how much CPU does it take (the process's CPU time
 *     minus the recording threads').
 * kho_audit_close() writes the final checkpoint; the logs stay for
 * `kho audit verify --data DIR/audit-flood` (bench/audit.sh runs it).
 *
 * The target counts as met when the flooded rate is >= 50,000/s and, fed 50,000/s,
 * the writer keeps up with a checkpoint at least every 2,000 entries. Lines
 * starting with "=" are the summary.
 */
#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/config.h"
#include "core/err.h"
#include "security/audit.h"
#include "security/tlog.h"
#include "store/store.h"

#define CHECKPOINT_EVERY 1000

typedef struct entry {
    char *data;
    size_t len;
} entry_t;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what, const kho_err_t *err)
{
    fprintf(stderr, "audit_append: %s: %s\n", what, err ? err->msg : strerror(errno));
    exit(1);
}

static const char *const ACTORS[] = {"analyst1", "nguyen.van.an", "tran.thi.binh", "le.hoang.cuong", "steward-syt"};
static const char *const ROLES[] = {"analyst", "analyst", "leader", "analyst", "steward"};
static const char *const TARGETS[] = {"doi-tuong-tro-cap-xa-hoi", "ho-so-dich-vu-cong", "doanh-nghiep-dang-ky-moi"};

/* Entry i, like the server's for a read of 100 rows of a restricted dataset. */
static entry_t make_entry(size_t i)
{
    char buf[512];
    unsigned ms = (unsigned)(i % 1000), s = (unsigned)(i / 1000 % 60), m = (unsigned)(i / 60000 % 60);
    int n = snprintf(buf, sizeof buf,
                     "{\"time\":\"2026-11-22T02:%02u:%02u.%03uZ\",\"actor\":\"%s\",\"role\":\"%s\",\"via\":\"key:%zu\","
                     "\"ip\":\"10.33.%zu.%zu\",\"action\":\"read\",\"target\":\"%s\",\"details\":{\"version\":1,"
                     "\"offset\":%zu,\"limit\":100,\"rows\":100,\"masked\":%s}}",
                     m, s, ms, ACTORS[i % 5], ROLES[i % 5], 10 + i % 7, i / 256 % 256, i % 256, TARGETS[i % 3],
                     (i * 100) % 100000, i % 4 ? "true" : "false");
    return (entry_t){strdup(buf), (size_t)n};
}

/* out = a followed by b */
static void path_of(char *out, size_t size, const char *a, const char *b)
{
    if (!kho_fmt(out, size, "%s%s", a, b)) {
        fprintf(stderr, "audit_append: path too long: %s\n", a);
        exit(2);
    }
}

static void remove_db(const char *path)
{
    char p[PATH_MAX];
    unlink(path);
    path_of(p, sizeof p, path, "-wal");
    unlink(p);
    path_of(p, sizeof p, path, "-shm");
    unlink(p);
}

/* Baseline: plain table, one transaction per batch. Returns seconds. */
static double run_plain(const char *dir, const entry_t *e, size_t n, size_t batch)
{
    char path[PATH_MAX], name[32];
    snprintf(name, sizeof name, "/plain-%zu.db", batch);
    path_of(path, sizeof path, dir, name);
    remove_db(path);
    kho_err_t err;
    kho_store_t *s = NULL;
    if (kho_store_open(path, KHO_STORE_CREATE, NULL, &s, &err) != 0 ||
        kho_store_exec(s, "CREATE TABLE entries (idx INTEGER PRIMARY KEY, data BLOB NOT NULL)", &err) != 0)
        die(path, &err);
    double t0 = now_s();
    for (size_t i = 0; i < n;) {
        if (kho_store_begin(s, true, &err) != 0)
            die("begin", &err);
        size_t end = i + batch < n ? i + batch : n;
        for (; i < end; i++) {
            kho_stmt_t *st = NULL;
            if (kho_store_cached(s, "INSERT INTO entries(idx, data) VALUES (?, ?)", &st, &err) != 0)
                die("prepare", &err);
            kho_stmt_bind_int(st, 1, (int64_t)i);
            kho_stmt_bind_blob(st, 2, e[i].data, e[i].len);
            int rc = kho_stmt_step(st, &err);
            kho_stmt_reset(st);
            if (rc < 0)
                die("insert", &err);
        }
        if (kho_store_commit(s, &err) != 0)
            die("commit", &err);
    }
    double t = now_s() - t0;
    kho_store_close(s);
    remove_db(path);
    return t;
}

/* kho_tlog_append in batches, a signed checkpoint whenever 1,000 entries were
 * added since the last one (as audit.c's writer does). Returns seconds. */
static double run_tlog(const char *dir, const entry_t *e, size_t n, size_t batch, size_t *checkpoints)
{
    char path[PATH_MAX], name[32];
    snprintf(name, sizeof name, "/tlog-%zu.db", batch);
    path_of(path, sizeof path, dir, name);
    remove_db(path);
    unsigned char seed[32];
    randombytes_buf(seed, sizeof seed);
    kho_err_t err;
    kho_tlog_t *log = NULL;
    if (kho_tlog_open(path, "kho/audit", seed, &log, &err) != 0)
        die(path, &err);
    kho_tlog_entry_t *te = malloc(batch * sizeof *te);
    uint64_t last_cp = 0;
    *checkpoints = 0;
    double t0 = now_s();
    for (size_t i = 0; i < n;) {
        size_t k = 0;
        for (; k < batch && i < n; k++, i++)
            te[k] = (kho_tlog_entry_t){e[i].data, e[i].len};
        if (kho_tlog_append(log, te, k, NULL, &err) != 0)
            die("append", &err);
        uint64_t size = kho_tlog_size(log);
        if (size - last_cp >= CHECKPOINT_EVERY || i == n) {
            if (kho_tlog_checkpoint(log, NULL, &err) != 0)
                die("checkpoint", &err);
            last_cp = size;
            (*checkpoints)++;
        }
    }
    double t = now_s() - t0;
    if (kho_tlog_size(log) != n) {
        fprintf(stderr, "audit_append: the log holds %llu entries, not %zu\n", (unsigned long long)kho_tlog_size(log),
                n);
        exit(1);
    }
    free(te);
    kho_tlog_close(log);
    remove_db(path);
    return t;
}

/* ---- the real audit writer ---------------------------------------------------------- */

typedef struct producer {
    kho_audit_t *audit;
    size_t from, n;
    double rate;  /* entries/s of this thread; 0: as fast as it can */
    double start; /* when the run started */
    double done;  /* when its last record call returned */
    double cpu;   /* its CPU time (s) */
} producer_t;

static double cpu_s(int who)
{
    struct rusage ru;
    getrusage(who, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
           (double)ru.ru_stime.tv_usec / 1e6;
}

static void *produce(void *arg)
{
    producer_t *p = arg;
    char via[32], ip[32];
    for (size_t i = p->from; i < p->from + p->n; i++) {
        if (p->rate > 0 && (i - p->from) % 16 == 0) { /* paced: wait for the due time of entry i */
            double due = p->start + (double)(i - p->from) / p->rate, t = now_s();
            if (due > t) {
                struct timespec ts = {(time_t)(due - t), (long)((due - t - (double)(time_t)(due - t)) * 1e9)};
                nanosleep(&ts, NULL);
            }
        }
        snprintf(via, sizeof via, "key:%zu", 10 + i % 7);
        snprintf(ip, sizeof ip, "10.33.%zu.%zu", i / 256 % 256, i % 256);
        kho_audit_who_t who = {ACTORS[i % 5], ROLES[i % 5], via, ip};
        json_t *details =
            json_pack("{s:I,s:I,s:I,s:I,s:b}", "version", (json_int_t)1, "offset", (json_int_t)((i * 100) % 100000),
                      "limit", (json_int_t)100, "rows", (json_int_t)100, "masked", (int)(i % 4 != 0));
        if (kho_audit_record(p->audit, &who, "read", TARGETS[i % 3], details) != 0) {
            fprintf(stderr, "audit_append: kho_audit_record failed\n");
            exit(1);
        }
    }
    p->done = now_s();
    p->cpu = cpu_s(RUSAGE_THREAD);
    return NULL;
}

static int64_t count(const char *db, const char *sql)
{
    kho_err_t err;
    kho_store_t *s = NULL;
    int64_t v = -1;
    if (kho_store_open(db, KHO_STORE_READONLY, NULL, &s, &err) != 0 || kho_store_query_int(s, sql, &v, &err) != 0)
        die(db, &err);
    kho_store_close(s);
    return v;
}

typedef struct audit_run {
    double wall;       /* first record to flush done (s) */
    double enqueue;    /* first record to the last record call returned (s) */
    double lag;        /* last record call returned to flush done (s) */
    double writer_cpu; /* CPU time of the writer thread, as the process's minus the producers' (s) */
    double record_cpu; /* CPU time of the two recording threads (s) */
    int64_t checkpoints;
    double mean_gap; /* entries between consecutive checkpoints, on average */
} audit_run_t;

/* n entries through kho_audit_record from 2 threads, at `rate` entries/s in all
 * (0: as fast as they can), into a fresh log DIR/<name>. */
static audit_run_t run_audit(const char *dir, const char *name, size_t n, double rate)
{
    audit_run_t res = {0};
    char data[PATH_MAX], keys[PATH_MAX], key[PATH_MAX], db[PATH_MAX];
    path_of(data, sizeof data, dir, name);
    path_of(keys, sizeof keys, data, "/keys");
    path_of(key, sizeof key, keys, "/audit.key");
    path_of(db, sizeof db, data, "/audit.db");
    remove_db(db); /* a fresh log and a fresh signing key */
    unlink(key);
    if ((mkdir(data, 0700) != 0 && errno != EEXIST) || (mkdir(keys, 0700) != 0 && errno != EEXIST))
        die(keys, NULL);
    kho_config_t *cfg = kho_config_defaults();
    kho_err_t err;
    if (kho_config_set(cfg, "audit_checkpoint_entries", "1000", &err) != 0)
        die("setting", &err);
    kho_audit_t *a = NULL;
    if (kho_audit_open(data, cfg, true, true, &a, &err) != 0)
        die("kho_audit_open", &err);
    double cpu0 = cpu_s(RUSAGE_SELF), t0 = now_s();
    producer_t p[2] = {{a, 0, n / 2, rate / 2, t0, 0, 0}, {a, n / 2, n - n / 2, rate / 2, t0, 0, 0}};
    pthread_t tid[2];
    for (int i = 0; i < 2; i++)
        if (pthread_create(&tid[i], NULL, produce, &p[i]) != 0)
            die("pthread_create", NULL);
    for (int i = 0; i < 2; i++)
        pthread_join(tid[i], NULL);
    if (kho_audit_flush(a, &err) != 0)
        die("flush", &err);
    double t1 = now_s(), last = p[0].done > p[1].done ? p[0].done : p[1].done;
    res.record_cpu = p[0].cpu + p[1].cpu;
    res.writer_cpu = cpu_s(RUSAGE_SELF) - cpu0 - res.record_cpu;
    res.wall = t1 - t0;
    res.enqueue = last - t0;
    res.lag = t1 - last;
    uint64_t size = kho_tlog_size(kho_audit_log(a));
    kho_audit_close(a); /* the final checkpoint */
    kho_config_free(cfg);
    if (size != n) {
        fprintf(stderr, "audit_append: the audit log holds %llu entries, not %zu\n", (unsigned long long)size, n);
        exit(1);
    }
    res.checkpoints = count(db, "SELECT count(*) FROM checkpoints");
    int64_t lo = count(db, "SELECT min(size) FROM checkpoints"), hi = count(db, "SELECT max(size) FROM checkpoints");
    res.mean_gap = res.checkpoints > 1 ? (double)(hi - lo) / (double)(res.checkpoints - 1) : 0;
    return res;
}

int main(int argc, char **argv)
{
    size_t n = 200000;
    double rate = 50000;
    const char *dir = "bench/out/audit";
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--entries") == 0 && i + 1 < argc)
            n = strtoull(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc)
            dir = argv[++i];
        else if (strcmp(argv[i], "--rate") == 0 && i + 1 < argc)
            rate = strtod(argv[++i], NULL);
        else {
            fprintf(stderr, "usage: audit_append [--entries N] [--rate R] [--dir DIR]\n");
            return 2;
        }
    }
    if (n < 2 || !(rate > 0) || sodium_init() < 0)
        return 2;
    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        die(dir, NULL);
    entry_t *e = malloc(n * sizeof *e);
    size_t bytes = 0;
    for (size_t i = 0; i < n; i++) {
        e[i] = make_entry(i);
        bytes += e[i].len;
    }
    printf("%zu entries, %.0f bytes each on average, checkpoint every %d; databases in %s\n", n,
           (double)bytes / (double)n, CHECKPOINT_EVERY, dir);

    static const size_t BATCH[] = {1, 100, 1000};
    double rate_plain[3], rate_tlog[3];
    for (int b = 0; b < 3; b++) {
        size_t cps = 0;
        double tp = run_plain(dir, e, n, BATCH[b]);
        double tt = run_tlog(dir, e, n, BATCH[b], &cps);
        rate_plain[b] = (double)n / tp;
        rate_tlog[b] = (double)n / tt;
        printf("batch %4zu: plain SQLite %9.0f entries/s (%.2f s) | tlog %9.0f entries/s (%.2f s, %zu signed "
               "checkpoints)\n",
               BATCH[b], rate_plain[b], tp, rate_tlog[b], tt, cps);
    }
    /* the real path, flooded: its ceiling */
    audit_run_t fl = run_audit(dir, "/audit-flood", n, 0);
    double rate_flood = (double)n / fl.wall;
    printf("kho_audit flooded by 2 recording threads: %.0f entries/s (%.2f s to flush; recording %.2f s, %.2f us CPU "
           "per record call); %lld checkpoints, one every %.0f entries on average (one per batch: the batches are "
           "larger than 1000)\n",
           rate_flood, fl.wall, fl.enqueue, fl.record_cpu * 1e6 / (double)n, (long long)fl.checkpoints, fl.mean_gap);
    /* the real path at the target rate */
    audit_run_t pc = run_audit(dir, "/audit-paced", n, rate);
    double rate_paced = (double)n / pc.wall;
    bool kept_up = pc.lag < 0.05 && rate_paced >= 0.97 * rate;
    printf("kho_audit at %.0f entries/s from 2 recording threads: %.0f entries/s committed (%.2f s), the last one "
           "%.1f ms after it was recorded; writer thread CPU %.2f s = %.0f%% of one core (%.2f us per entry); "
           "%.2f us CPU per record call; %lld checkpoints, one every %.0f entries on average\n",
           rate, rate_paced, pc.wall, pc.lag * 1e3, pc.writer_cpu, pc.writer_cpu / pc.wall * 100,
           pc.writer_cpu * 1e6 / (double)n, pc.record_cpu * 1e6 / (double)n, (long long)pc.checkpoints, pc.mean_gap);

    for (int b = 0; b < 3; b++)
        printf("= batch %4zu, checkpoint every 1000: tlog %7.0f/s, plain SQLite %7.0f/s, ratio tlog/plain %.2f\n",
               BATCH[b], rate_tlog[b], rate_plain[b], rate_tlog[b] / rate_plain[b]);
    printf("= kho_audit, background writer, as fast as it goes: %.0f entries/s (ratio to plain SQLite in batches of "
           "1000: %.2f)\n",
           rate_flood, rate_flood / rate_plain[2]);
    printf("= kho_audit, background writer, fed %.0f entries/s: %s (last entry committed %.1f ms after it was "
           "recorded), a checkpoint every %.0f entries, writer %.0f%% of one core\n",
           rate, kept_up ? "keeps up" : "DOES NOT keep up", pc.lag * 1e3, pc.mean_gap, pc.writer_cpu / pc.wall * 100);
    bool met = rate_flood >= 50000 && kept_up && pc.mean_gap <= 2 * CHECKPOINT_EVERY;
    printf("= target >= 50000 entries/s with a checkpoint every 1000: %s\n", met ? "met" : "NOT met");
    printf("= logs left for verification: %s/audit-flood %s/audit-paced\n", dir, dir);
    for (size_t i = 0; i < n; i++)
        free(e[i].data);
    free(e);
    return 0;
}
